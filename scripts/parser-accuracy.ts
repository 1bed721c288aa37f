// Prints how the reply parser does on the held-out lines of issue 16, per class: right, total,
// accuracy and false "done" (a line read as done that does not say done), for each held-out batch
// and both together. Usage: npx tsx scripts/parser-accuracy.ts [--dev] [--wrong]
//   --dev    the development lines (the ones tuned on) instead
//   --wrong  also list every line read wrong, with what it was read as
import { DEV_LINES } from '../test/unit/reply-parser-dev.ts';
import {
  HELD_OUT,
  HELD_OUT_CLASSES,
  HELD_OUT_ROUND_2,
  type LabelledLine,
  type LineClass,
} from '../test/unit/reply-parser-heldout.ts';
import { scoreLines } from '../test/unit/reply-parser-score.ts';

type Tables = Readonly<Record<LineClass, readonly LabelledLine[]>>;

const showWrong = process.argv.includes('--wrong');

function report(title: string, tables: Tables): void {
  let right = 0;
  let total = 0;
  let falseDone = 0;
  console.log(title);
  const row = (name: string, r: number, n: number, f: number): string =>
    `  ${name.padEnd(18)} ${String(r).padStart(3)}/${String(n).padEnd(3)} ${((100 * r) / n).toFixed(1).padStart(5)}%  false done: ${f}`;
  for (const name of HELD_OUT_CLASSES) {
    const score = scoreLines(tables[name]);
    right += score.right;
    total += score.total;
    falseDone += score.falseDone;
    console.log(row(name, score.right, score.total, score.falseDone));
    if (showWrong) {
      for (const w of score.wrong) {
        const want = `${String(w.expected)} ${String(w.expectedPercent)}`;
        console.log(
          `      ${JSON.stringify(w.line)}: want ${want}, got ${String(w.got)} ${String(w.gotPercent)}`,
        );
      }
    }
  }
  console.log(row('all', right, total, falseDone));
}

if (process.argv.includes('--dev')) report('development lines', DEV_LINES);
else {
  const both = {} as Record<LineClass, readonly LabelledLine[]>;
  for (const name of HELD_OUT_CLASSES) both[name] = [...HELD_OUT[name], ...HELD_OUT_ROUND_2[name]];
  report('held-out lines, first batch', HELD_OUT);
  report('held-out lines, second batch', HELD_OUT_ROUND_2);
  report('held-out lines, both batches', both);
}
