import type { ParseContext } from './context.ts';
import { collapse } from './text.ts';
import {
  APPROVAL,
  BLOCK_GAP,
  BLOCK_NEUTRAL_BEFORE,
  BLOCK_OVER_BEFORE,
  BLOCK_RESOLVED_AFTER,
  BLOCKERS,
  CANNOT,
  LACK_HEADS,
  LACK_HEADS_NEED_MIDDLE,
  LACK_MIDDLE,
  LIST_JOINERS,
  MAC,
  NEG_CHUA,
  NEG_KHONG,
  REASON_LEAD,
  RESOURCES,
  THIEU,
  WAITING,
} from './vocabulary.ts';

export type DifficultyKind = 'lack' | 'cannot' | 'plain';

export interface Difficulty {
  readonly start: number;
  readonly end: number;
  readonly kind: DifficultyKind;
}

/**
 * Stage 3a, cues of difficulty: "vướng mắc", "thiếu kinh phí", "chưa có hướng dẫn", "đang chờ
 * phê duyệt", "không thể tổ chức".
 *
 * Decisions on ambiguous wording applied here:
 * - a difficulty said to be absent or over ("không có khó khăn, vướng mắc gì", "k vướng gì",
 *   "khó khăn đã được tháo gỡ") is no difficulty; the negation covers a list of them.
 * - "chưa"/"không" + a resource needs a verb between ("chưa CÓ kinh phí"): "chưa hướng dẫn" is an
 *   action not taken, not a missing resource.
 * - a difficulty that is over ("đã tháo gỡ xong khó khăn", "không còn vướng", "hết vướng rồi",
 *   "vướng mắc đã được giải quyết") says the work goes on: in_progress when nothing else is said.
 *   One that never was ("không có khó khăn gì") says nothing about progress: null.
 * - paused, postponed or stalled ("tạm hoãn", "tạm dừng", "dừng lại vì mưa bão", "đình trệ",
 *   "ngừng triển khai") -> blocked.
 * - waiting on a decision, guidance or a resource, whoever is named ("đang chờ UBND huyện phê
 *   duyệt", "đang chờ ý kiến cấp trên", "chờ cấp trên chỉ đạo", "đang chờ kinh phí") -> blocked:
 *   the unit cannot go on by itself. Waiting that names none of these is a normal step
 *   ("đang chờ các xã gửi báo cáo"): in_progress (progress-cues.ts).
 */
export interface Difficulties {
  readonly found: readonly Difficulty[];
  /** a difficulty is said to be over ("đã tháo gỡ", "không còn vướng", "hết khó khăn") */
  readonly over: boolean;
}

export function readDifficulties(ctx: ParseContext): Difficulties {
  return new DifficultyReader(ctx).read();
}

/** How a difficulty is neutralised: it never was ("không có khó khăn") or it is over. */
type Neutralised = 'absent' | 'over' | null;

class DifficultyReader {
  private readonly found: Difficulty[] = [];
  private over = false;
  /** end of the last difficulty found neutralised, so "không có khó khăn, vướng mắc" covers both */
  private lastNeutralisedEnd = -2;
  private lastNeutralised: Neutralised = null;

  constructor(private readonly ctx: ParseContext) {}

  read(): Difficulties {
    const { ctx } = this;
    for (let i = 0; i < ctx.n; i++) {
      const t = ctx.at(i);
      if (!t || t.kind !== 'word' || ctx.consumed[i]) continue;
      const lackEnd = this.matchLack(i);
      if (lackEnd !== -1) this.add(i, lackEnd, 'lack', false);
      const thieu = ctx.matchTable(i, THIEU);
      if (thieu !== -1) {
        const r = ctx.matchTable(thieu, RESOURCES);
        if (r !== -1) this.add(i, r, 'lack', true);
      }
      const cannot = ctx.matchTable(i, CANNOT);
      if (cannot !== -1) this.add(i, cannot, 'cannot', false);
      const b = ctx.matchTable(i, BLOCKERS);
      if (b !== -1) this.add(i, ctx.wordMatches(ctx.at(b), MAC) ? b + 1 : b, 'plain', true);
    }
    return { found: this.found, over: this.over };
  }

  private add(start: number, end: number, kind: DifficultyKind, negatable: boolean): void {
    if (this.ctx.silent(start)) return;
    if (negatable) {
      const neutralised =
        this.neutralisedBefore(start) ??
        (this.coordinatedWithNeutralised(start) ? this.lastNeutralised : null) ??
        (this.resolvedAfter(end) ? 'over' : null);
      if (neutralised !== null) {
        this.lastNeutralisedEnd = end;
        this.lastNeutralised = neutralised;
        if (neutralised === 'over') this.over = true;
        return;
      }
    }
    this.found.push({ start, end, kind });
  }

  /** "không có gì vướng mắc" (absent), "đã khắc phục được khó khăn", "không còn vướng" (over) */
  private neutralisedBefore(start: number): Neutralised {
    const { ctx } = this;
    const k = ctx.clauseOf(start);
    let j = start - 1;
    let still = false;
    for (let hops = 0; hops < 3; hops++) {
      const t = ctx.at(j);
      if (!t || t.kind !== 'word' || t.clause !== k || !BLOCK_GAP.has(t.c)) break;
      if (t.c === 'con') still = true;
      j--;
    }
    if (ctx.clauseOf(j) !== k) return null;
    if (ctx.endsAt(j, BLOCK_OVER_BEFORE)) return 'over';
    // "đã giải quyết xong khó khăn", "tháo gỡ hết vướng mắc"
    const done = ctx.at(j)?.c;
    if ((done === 'xong' || done === 'het') && ctx.endsAt(j - 1, BLOCK_OVER_BEFORE)) return 'over';
    if (ctx.endsAt(j, BLOCK_NEUTRAL_BEFORE)) return still ? 'over' : 'absent';
    return null;
  }

  /** "không có khó khăn, vướng mắc": the negation covers the whole list. */
  private coordinatedWithNeutralised(start: number): boolean {
    const { ctx } = this;
    let j = start - 1;
    for (let hops = 0; hops < 2 && j >= this.lastNeutralisedEnd; hops++) {
      const t = ctx.at(j);
      if (!t) return false;
      const joiner =
        (t.kind === 'punct' && [',', '/', '-', '&'].includes(t.raw)) ||
        (t.kind === 'word' && LIST_JOINERS.has(t.c));
      if (!joiner) break;
      j--;
    }
    return j === this.lastNeutralisedEnd - 1;
  }

  /** "khó khăn đã được tháo gỡ" */
  private resolvedAfter(e: number): boolean {
    const { ctx } = this;
    // the difficulty's object may stand between: "khó khăn về kinh phí và nhân lực đã được tháo gỡ"
    for (let j = e; j < ctx.n && j < e + 10; j++) {
      const t = ctx.at(j);
      if (!t || t.brk) return false;
      if (ctx.matchTable(j, NEG_CHUA) !== -1 || ctx.matchTable(j, NEG_KHONG) !== -1) return false;
      const prev = ctx.at(j - 1);
      if (ctx.matchTable(j, BLOCK_RESOLVED_AFTER) !== -1 && (prev?.c === 'da' || prev?.c === 'duoc'))
        return true;
    }
    return false;
  }

  /** "chưa có kinh phí", "hết kinh phí", "đang chờ hướng dẫn": the end of the resource, or -1. */
  private matchLack(i: number): number {
    const { ctx } = this;
    const h = ctx.matchTable(i, LACK_HEADS);
    if (h === -1) return -1;
    let j = h;
    const needMiddle = LACK_HEADS_NEED_MIDDLE.has(ctx.at(i)?.c ?? '') && h === i + 1;
    for (let mid = 0; mid <= 3; mid++) {
      if (mid > 0 || !needMiddle) {
        const r = ctx.matchTable(j, RESOURCES);
        if (r !== -1) return r;
        const a = ctx.matchTable(j, APPROVAL);
        if (a !== -1) return a;
      }
      const m = ctx.matchTable(j, LACK_MIDDLE);
      if (m === -1) break;
      j = m;
    }
    // "đang chờ UBND huyện phê duyệt": whoever is named, waiting on approval holds the work up
    if (ctx.matchTable(i, WAITING) !== -1) {
      for (let k = h; k < h + 4; k++) {
        if (ctx.clauseOf(k) !== ctx.clauseOf(i)) break;
        const a = ctx.matchTable(k, APPROVAL);
        if (a !== -1) return a;
      }
    }
    return -1;
  }
}

/** The words after the difficulty, or the missing resource: "kinh phí", "thiếu nhân lực". */
export function difficultyReason(ctx: ParseContext, found: readonly Difficulty[]): string | null {
  const cue = found.find((c) => c.kind === 'lack') ?? found[0];
  if (!cue || cue.kind === 'cannot') return null;
  const k = ctx.clauseOf(cue.start);
  let from = cue.kind === 'lack' ? cue.start : cue.end;
  let to = from;
  while (to < ctx.n && ctx.at(to)?.clause === k && !ctx.at(to)?.brk) to++;
  while (from < to) {
    const t = ctx.at(from);
    if (t && (t.kind === 'punct' || (t.kind === 'word' && !t.syn && REASON_LEAD.has(t.c)))) from++;
    else break;
  }
  while (to > from && ctx.ignorable[to - 1]) to--;
  const a = ctx.at(from);
  const z = ctx.at(to - 1);
  if (from >= to || !a || !z) return null;
  return collapse(ctx.nfc.slice(a.start, z.end));
}
