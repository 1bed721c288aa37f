import { parseStatusReply } from '../../src/domain/reply-parser.ts';
import type { Expected, LabelledLine } from './reply-parser-heldout.ts';

export interface LineResult {
  readonly line: string;
  readonly expected: Expected;
  readonly expectedPercent: number | null;
  readonly got: Expected;
  readonly gotPercent: number | null;
  readonly right: boolean;
  /** read as done although the line does not say done: the worst mistake */
  readonly falseDone: boolean;
}

export interface ClassScore {
  readonly total: number;
  readonly right: number;
  readonly falseDone: number;
  readonly accuracy: number;
  readonly wrong: readonly LineResult[];
}

export function scoreLine([line, expected, expectedPercent]: LabelledLine): LineResult {
  const r = parseStatusReply(line);
  // Read through a widened type, so this also scores a parser without the acknowledgement field.
  const acknowledged = (r as { acknowledgement?: boolean }).acknowledgement === true;
  const got: Expected = r.status === null && acknowledged ? 'acknowledgement' : r.status;
  const right = got === expected && r.percent === expectedPercent;
  return {
    line,
    expected,
    expectedPercent,
    got,
    gotPercent: r.percent,
    right,
    falseDone: r.status === 'done' && expected !== 'done',
  };
}

export function scoreLines(lines: readonly LabelledLine[]): ClassScore {
  const results = lines.map(scoreLine);
  const right = results.filter((r) => r.right).length;
  return {
    total: results.length,
    right,
    falseDone: results.filter((r) => r.falseDone).length,
    accuracy: results.length === 0 ? 0 : right / results.length,
    wrong: results.filter((r) => !r.right),
  };
}
