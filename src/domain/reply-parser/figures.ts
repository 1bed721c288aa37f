import type { ParseContext } from './context.ts';
import type { ProgressCues } from './progress-cues.ts';
import {
  CHANGE_BEFORE,
  COUNTED_NOUNS,
  DATE_OR_DOC_BEFORE,
  DIGIT_WORDS,
  HUNDRED,
  PART,
  TEN,
  TENS,
  FRACTION_BEFORE,
  FRACTION_WORDS,
  HALF,
  MEASURE_AFTER,
  NEAR,
  NEGATED_REACH,
  OVER_DONE_BEFORE,
  PARTIAL_SUBJECT,
  PERCENT_WORDS,
  REACH_GAP,
  REMAINING,
  START_VERBS,
  TARGET_BEFORE,
  VUOT,
  WEAK_VERBS,
} from './vocabulary.ts';

interface PercentHit {
  readonly index: number;
  readonly value: number;
}

export interface Figures {
  /** the distinct percents read, in order of the text */
  readonly values: readonly number[];
  /** a figure that cannot be filed as the unit's progress ("còn 40%", "3/5 xã chưa triển khai") */
  readonly ambiguous: boolean;
  /** "đạt 120%", "vượt 10%" */
  readonly overDone: boolean;
  /** a figure that says the work started without saying how far ("chưa đạt 50%", "gần 100%") */
  readonly startedWithoutFigure: boolean;
}

/**
 * Nearest integer, except that only a true 0 or 100 may become 0 or 100: "99,6%" and
 * "199/200" are not finished, "0,4%" has started.
 */
export function roundPercent(x: number): number {
  if (x <= 0) return 0;
  if (x >= 100) return 100;
  return Math.min(99, Math.max(1, Math.round(x)));
}

/**
 * Stage 4: figures. Percents ("70%", "70 phần trăm", "bảy mươi phần trăm"), fractions ("3/5",
 * "3 trên 5 xã", "hai phần ba") and "một nửa".
 *
 * Decisions on ambiguous wording applied here:
 * - "hoàn thành 80%", "xong 80%" -> in_progress 80: the percent says how much is complete.
 * - a percent above 100 is refused (null); "đạt/vượt 120%" still counts as done.
 * - percents and fractions round to the nearest integer but never onto 0 or 100 unless exact:
 *   "99,6%" -> 99 in_progress, not done.
 * - a bare number ("80") is not a percent; a bare fraction ("3/5") is, dates and document
 *   numbers excluded ("30/10/2023", "ngày 3/5", "01/KH-HĐTĐKT", "6/2023").
 * - a target or a change is not progress ("chỉ tiêu 80%", "doanh thu tăng 20%"): no percent.
 * - a percent in the future ("dự kiến cuối năm đạt 100%", "sẽ đạt 90%") is a plan: in_progress,
 *   no percent.
 * - number words count only before "phần trăm" or as "<n> phần <m>" ("bảy mươi phần trăm" 70,
 *   "hai phần ba" 67, "một phần tư" 25): alone they are too often a year, a date or another word
 *   ("năm" is also "year", "tám" is "tạm" typed plain).
 * - a count of units that have NOT done it ("3/5 xã chưa triển khai", "còn 40%") -> null.
 */
export function readFigures(ctx: ParseContext, cues: ProgressCues): Figures {
  const reader = new FigureReader(ctx);
  reader.read();
  if (countsWhatIsNotDone(ctx, reader.hits, cues.notStarted)) reader.ambiguous = true;
  return {
    values: [...new Set(reader.hits.map((h) => h.value))],
    ambiguous: reader.ambiguous,
    overDone: reader.overDone,
    startedWithoutFigure: reader.startedWithoutFigure,
  };
}

class FigureReader {
  readonly hits: PercentHit[] = [];
  ambiguous = false;
  overDone = false;
  startedWithoutFigure = false;

  constructor(private readonly ctx: ParseContext) {}

  read(): void {
    const { ctx } = this;
    for (let i = 0; i < ctx.n; i++) {
      const t = ctx.at(i);
      if (!t || ctx.consumed[i] || ctx.silent(i)) continue;
      if (t.kind === 'word') {
        if (ctx.matchTable(i, HALF) !== -1) this.add(i, 50);
        else i = this.readNumberWords(i) - 1;
        continue;
      }
      if (t.kind !== 'num' || !Number.isFinite(t.value)) continue;
      const next = ctx.at(i + 1);
      if ((next?.kind === 'punct' && next.raw === '%') || ctx.matchTable(i + 1, PERCENT_WORDS) !== -1) {
        this.readPercent(i, t.value);
        continue;
      }
      const frac = this.readFraction(i);
      if (frac) {
        this.add(i, frac.value);
        i = frac.end - 1;
      }
    }
  }

  /** A part after "còn" is what remains, not what is done. */
  private add(index: number, value: number): void {
    if (this.ctx.before(index, 3, (j) => this.ctx.endsAt(j, REMAINING))) this.ambiguous = true;
    else this.hits.push({ index, value });
  }

  /**
   * "bảy mươi lăm phần trăm", "hai phần ba": reads the figure at `i` if there is one, and returns
   * where reading goes on (past the figure, or `i + 1`).
   */
  private readNumberWords(i: number): number {
    const { ctx } = this;
    const number = readNumberWords(ctx, i);
    if (!number) return i + 1;
    const percentEnd = ctx.matchTable(number.end, PERCENT_WORDS);
    if (percentEnd !== -1) {
      this.readPercent(i, number.value);
      return percentEnd;
    }
    if (!ctx.wordMatches(ctx.at(number.end), PART)) return i + 1;
    const whole = digitAt(ctx, number.end + 1);
    if (number.end !== i + 1 || whole === null || whole < 2 || number.value >= whole) return i + 1;
    this.add(i, roundPercent((number.value * 100) / whole));
    return number.end + 2;
  }

  private readPercent(i: number, value: number): void {
    const { ctx } = this;
    const t = ctx.at(i);
    if (!t) return;
    if (ctx.future[i]) {
      this.startedWithoutFigure = true;
      return;
    }
    if (ctx.before(i, 3, (j) => ctx.endsAt(j, TARGET_BEFORE))) return;
    if (ctx.before(i, 2, (j) => ctx.endsAt(j, CHANGE_BEFORE))) return;
    if (value > 100) {
      if (ctx.before(i, 2, (j) => ctx.endsAt(j, OVER_DONE_BEFORE))) this.overDone = true;
      return;
    }
    if (ctx.before(i, 2, (j) => ctx.wordMatches(ctx.at(j), VUOT))) {
      this.overDone = true;
      return;
    }
    if (ctx.before(i, 3, (j) => ctx.endsAt(j, REMAINING))) {
      this.ambiguous = true;
      return;
    }
    const p1 = ctx.at(i - 1);
    const reachNegated =
      (p1?.clause === t.clause && ctx.endsAt(i - 1, NEGATED_REACH)) ||
      (p1 !== undefined &&
        p1.clause === t.clause &&
        REACH_GAP.has(p1.c) &&
        ctx.at(i - 2)?.clause === t.clause &&
        ctx.endsAt(i - 2, NEGATED_REACH));
    if (reachNegated) {
      // "chưa đạt 50%", "dưới 30%": started, but no exact figure
      this.startedWithoutFigure = true;
      return;
    }
    const rounded = roundPercent(value);
    if (rounded === 100 && ctx.before(i, 2, (j) => ctx.endsAt(j, NEAR))) {
      this.startedWithoutFigure = true;
      return;
    }
    this.hits.push({ index: i, value: rounded });
    // "60-70%": a range, recorded as two different figures
    const low = ctx.at(i - 2);
    if (
      p1?.kind === 'punct' &&
      p1.raw === '-' &&
      low?.kind === 'num' &&
      Number.isFinite(low.value) &&
      low.value <= 100 &&
      !ctx.consumed[i - 2]
    ) {
      this.hits.push({ index: i - 2, value: roundPercent(low.value) });
    }
  }

  private readFraction(i: number): { value: number; end: number } | null {
    const { ctx } = this;
    const a = ctx.at(i);
    if (!a || !a.int || ctx.consumed[i]) return null;
    const slash = ctx.at(i + 1);
    let bIndex = -1;
    let explicitWords = false;
    if (slash?.kind === 'punct' && slash.raw === '/') bIndex = i + 2;
    else {
      const w = ctx.matchTable(i + 1, FRACTION_WORDS);
      if (w !== -1) {
        bIndex = w;
        explicitWords = true;
      }
    }
    const b = ctx.at(bIndex);
    if (!b || b.kind !== 'num' || !b.int || ctx.consumed[bIndex]) return null;
    if (a.value > b.value || b.value < 1 || b.value >= 1000) return null;
    if (!explicitWords && looksLikeDateOrDocument(ctx, i, bIndex)) return null;
    if (ctx.matchTable(bIndex + 1, MEASURE_AFTER) !== -1) return null;
    const counted = countedNounAt(ctx, bIndex + 1);
    // "ngày 3/5", "số 12/15" – but "đến 7/10 xã" counts communes
    if (!counted && ctx.before(i, 1, (j) => ctx.endsAt(j, DATE_OR_DOC_BEFORE))) return null;
    const contextual =
      explicitWords ||
      counted ||
      ctx.before(i, 2, (j) => ctx.endsAt(j, FRACTION_BEFORE)) ||
      ctx.isBareClause(i, bIndex + 1);
    if (!contextual) return null;
    return { value: roundPercent((a.value * 100) / b.value), end: bIndex + 1 };
  }
}

function digitAt(ctx: ParseContext, i: number): number | null {
  const t = ctx.at(i);
  for (const [w, value] of DIGIT_WORDS) if (ctx.wordMatches(t, w)) return value;
  return null;
}

/** "bảy", "bảy mươi", "bảy mươi lăm", "mười lăm", "một trăm": the value and the end, or null */
export function readNumberWords(ctx: ParseContext, i: number): { value: number; end: number } | null {
  if (ctx.wordMatches(ctx.at(i), TEN)) {
    const ones = digitAt(ctx, i + 1);
    return ones === null ? { value: 10, end: i + 1 } : { value: 10 + ones, end: i + 2 };
  }
  if (ctx.wordMatches(ctx.at(i), HUNDRED)) return { value: 100, end: i + 1 };
  const first = digitAt(ctx, i);
  if (first === null) return null;
  if (ctx.wordMatches(ctx.at(i + 1), HUNDRED)) return { value: first * 100, end: i + 2 };
  const tens = ctx.matchTable(i + 1, TENS);
  if (tens === -1) return { value: first, end: i + 1 };
  const ones = digitAt(ctx, tens);
  return ones === null ? { value: first * 10, end: tens } : { value: first * 10 + ones, end: tens + 1 };
}

/** dates "30/10/2023", "03/5", document numbers "01/KH-HĐTĐKT" */
function looksLikeDateOrDocument(ctx: ParseContext, i: number, bIndex: number): boolean {
  const a = ctx.at(i);
  const b = ctx.at(bIndex);
  if (!a || !b) return true;
  if ((a.raw.length > 1 && a.raw.startsWith('0')) || (b.raw.length > 1 && b.raw.startsWith('0'))) return true;
  const prev = ctx.at(i - 1);
  if (prev?.kind === 'punct' && (prev.raw === '/' || prev.raw === '-')) return true;
  const nb = ctx.at(bIndex + 1);
  return nb?.kind === 'punct' && (nb.raw === '/' || nb.raw === '-');
}

/** "3/5 tổ" counts teams, "tháng 11 tổ chức" does not: a longer verb at the same spot wins. */
function countedNounAt(ctx: ParseContext, k: number): boolean {
  const noun = ctx.matchTable(k, COUNTED_NOUNS);
  return noun !== -1 && Math.max(ctx.matchTable(k, WEAK_VERBS), ctx.matchTable(k, START_VERBS)) <= noun;
}

/**
 * A figure followed by "chưa <verb>" counts the units that have NOT done it ("3/5 xã chưa triển
 * khai"); so does a count or a part as the subject ("còn 2 xã chưa triển khai", "một số xã chưa làm").
 */
function countsWhatIsNotDone(
  ctx: ParseContext,
  hits: readonly PercentHit[],
  notStarted: readonly number[],
): boolean {
  const lastNotStarted = new Int32Array(ctx.clauseCount).fill(-1);
  for (const idx of notStarted) {
    const k = ctx.clauseOf(idx);
    if (k >= 0 && idx > (lastNotStarted[k] ?? -1)) lastNotStarted[k] = idx;
  }
  for (const h of hits) {
    if (h.value !== 0 && (lastNotStarted[ctx.clauseOf(h.index)] ?? -1) > h.index) return true;
  }
  for (const idx of notStarted) {
    const partial = ctx.before(idx, 4, (j) => {
      const t = ctx.at(j);
      return (
        ctx.endsAt(j, PARTIAL_SUBJECT) ||
        (t?.kind === 'num' &&
          !ctx.consumed[j] &&
          countedNounAt(ctx, j + 1) &&
          !ctx.endsAt(j - 1, DATE_OR_DOC_BEFORE))
      );
    });
    if (partial) return true;
  }
  return false;
}
