import type { ParseContext } from './context.ts';
import type { Difficulties } from './difficulties.ts';
import type { Figures } from './figures.ts';
import type { ProgressCues } from './progress-cues.ts';
import { ACKNOWLEDGEMENTS, ROI } from './vocabulary.ts';

export type Status = 'done' | 'in_progress' | 'blocked' | 'not_started';

export interface Reading {
  readonly difficulties: Difficulties;
  readonly cues: ProgressCues;
  readonly figures: Figures;
}

/** The one percent the reply gives, or null when it gives none, several, or one it cannot file. */
export function decidePercent(figures: Figures): number | null {
  return figures.ambiguous || figures.values.length !== 1 ? null : (figures.values[0] ?? null);
}

/**
 * Stage 5: the decision. The bot never records a guess, so every rule prefers `null` (the bot asks
 * again with buttons) over a plausible but uncertain reading.
 *
 * Decisions on ambiguous wording applied here:
 * - an explicit, un-negated completion ("đã xong", "hoàn thành", 100%) beats a difficulty
 *   mentioned alongside it ("đã xong nhưng gặp khó khăn về kinh phí" -> done): the work is
 *   finished, chasing the unit would be wrong, and the difficulty stays in the note.
 *   Otherwise a difficulty wins over every other status, percent kept.
 * - several different percents ("quán triệt 100%, triển khai 50%") -> in_progress, percent null.
 * - 100% beside "chưa"/"đang" contradicts itself -> null.
 */
export function decideStatus({ difficulties, cues, figures }: Reading): Status | null {
  const percent = decidePercent(figures);
  const mixed = figures.values.length > 1;
  const done = cues.strongDone || figures.overDone;
  const blocked = difficulties.found.length > 0;
  const hasNotStarted = cues.notStarted.length > 0;
  const ipStrong = cues.ipStrong || figures.startedWithoutFigure;

  if (figures.ambiguous && !blocked) return null;
  const cleanDone =
    (done || percent === 100) &&
    !cues.negChua &&
    !cues.negKhong &&
    !ipStrong &&
    !hasNotStarted &&
    !mixed &&
    (percent === null || percent === 100);
  if (cleanDone) return 'done';
  if (blocked) return 'blocked';
  if (mixed) return 'in_progress';
  if (percent === 100) return null;
  if (percent !== null && percent > 0) return 'in_progress';
  if (percent === 0) return 'not_started';
  if (cues.negChua || ipStrong) return 'in_progress';
  if (hasNotStarted) return cues.weakDone || done ? 'in_progress' : 'not_started';
  if (cues.negKhong || done) return null;
  if (cues.ipWeak || difficulties.over) return 'in_progress';
  if (cues.weakDone) return 'done';
  if (cues.bareChua) return 'not_started';
  return null;
}

/**
 * The reply only says the message arrived: "👍", "ok", "oke anh", "đã nhận ạ". No status: "👍" after
 * a launch is the acknowledgement the launch asks for, and "ok" to "how far is the task?" does not
 * say done. The dialogue decides what an acknowledgement answers.
 */
export function isBareAcknowledgement(ctx: ParseContext): boolean {
  let acknowledged = false;
  for (let i = 0; i < ctx.n; i++) {
    const end = ctx.matchTable(i, ACKNOWLEDGEMENTS);
    if (end !== -1 && !ctx.silent(i)) {
      acknowledged = true;
      i = end - 1;
    } else if (!ctx.ignorable[i] && !ctx.wordMatches(ctx.at(i), ROI)) return false;
  }
  return acknowledged;
}
