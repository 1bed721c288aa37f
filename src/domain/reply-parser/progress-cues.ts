import type { ParseContext } from './context.ts';
import {
  CANNOT,
  CHUA,
  DANG,
  DEADLINE_AFTER,
  DONE,
  HT,
  HT_LEADS,
  IP_AFTER_DANG,
  IP_STRONG,
  IP_WEAK,
  JUST,
  BEGIN_VERBS,
  NEAR,
  NO_LONGER_BEFORE,
  PARTLY,
  PART,
  DIGIT_WORDS,
  FEW,
  FRACTION_WORDS,
  PERCENT_WORDS,
  RESOLVE_VERBS,
  STILL_TO_DO,
  WAITING,
  NEG_CHUA,
  NEG_KHONG,
  NOT_YET_AFTER,
  NOT_YET_BEFORE,
  TIME_NOUNS,
  WILL_NOT_AFTER,
  WILL_NOT_BEFORE,
  NS_PHRASES,
  OVERACHIEVED,
  PARTIAL_FOLLOWERS,
  PAST_MARKERS,
  QUESTION_WORDS,
  ROI,
  START,
  START_VERBS,
  WEAK_VERBS,
} from './vocabulary.ts';

/** What the words say about how far the work is, before any figure is read. */
export interface ProgressCues {
  /** an explicit, un-negated completion: "đã xong", "hoàn thành", "vượt chỉ tiêu" */
  strongDone: boolean;
  /** a plan's verb in the past: "đã triển khai", "quán triệt rồi" */
  weakDone: boolean;
  /** under way for sure: "đang triển khai", "một phần", "sắp xong", "bắt đầu rồi" */
  ipStrong: boolean;
  /** "đúng tiến độ": under way unless something says more */
  ipWeak: boolean;
  /** token indices of "chưa <start verb>", "sẽ triển khai", "chưa có gì" */
  notStarted: number[];
  /** "chưa xong", "chưa triển khai hết" */
  negChua: boolean;
  /** "không hoàn thành" */
  negKhong: boolean;
  /** "chưa" alone, or with particles only */
  bareChua: boolean;
}

/**
 * Stage 3b, cues of progress: completion words, "đang <verb>", "chưa <verb>", a plan's verbs in the
 * past or the future.
 *
 * Decisions on ambiguous wording applied here:
 * - "chưa hoàn thành" / "chưa xong" with nothing else -> in_progress: the unit is telling us
 *   it has not finished, which in these campaigns means it started and is still working.
 * - "không hoàn thành" / "ko xong" with nothing else -> null: it says the work did not or will
 *   not finish, not whether it ever started.
 * - "đã <verb>" for the verbs of a plan (quán triệt, triển khai, tổ chức, ban hành, gửi, nộp,
 *   đăng ký, sơ kết, tổng kết, ...) -> done, unless something says it is partial ("một phần",
 *   a percent below 100, "đang ...", "chưa ..." for another step).
 * - a completion under a future marker ("sẽ xong", "dự kiến hoàn thành") -> in_progress; a start
 *   verb under one ("sẽ triển khai", "dự kiến tổ chức") -> not_started.
 * - a completion followed by a deadline word ("hoàn thành trước 30/10") without "đã"/"rồi" is a
 *   promise or the task text pasted back, not a report -> no status from it.
 * - "chưa" alone (with politeness particles) -> not_started; "rồi" alone -> null.
 * - a completion or a final act (nộp, gửi, báo cáo, ...) in the future ("mai mới xong", "thứ 6
 *   này nộp", "sẽ báo cáo sau") -> in_progress: promised, not done. A start in the future ("tuần
 *   sau mới triển khai", "mai em làm") -> not_started.
 * - only part of it ("cơ bản hoàn thành", "phần lớn đã xong", "xong gần hết") -> in_progress.
 *   "Cơ bản hoàn thành" is the administration's "substantially complete": something is left, so
 *   the unit is still chased until it says it is done.
 * - some parts ("xong 2 phần", "xong phần 1", "đã làm được vài phần") -> in_progress, like "một phần".
 * - work still to do ("còn phần phụ", "chỉ còn khâu tổng hợp", "còn một ít") -> in_progress;
 *   "còn" before a percent is left to the figures ("còn 40%": null), "không còn" is no longer.
 * - just started ("vừa triển khai", "mới làm", "vừa phát động") -> in_progress, although "vừa"
 *   otherwise marks the past; "vừa triển khai xong" is done.
 * - waiting that names no decision or resource ("đang chờ các xã gửi báo cáo") is a normal step
 *   of the work -> in_progress; waiting on one is a difficulty (see difficulties.ts).
 * - a completion right after a verb of resolving ("đã tháo gỡ xong khó khăn") is about the
 *   difficulty, not the task.
 * - rhetorical negation: "đã xong đâu", "đâu đã xong", "làm gì đã xong" -> like "chưa xong"
 *   (in_progress); "hoàn thành sao được", "khó mà xong" -> like "không xong" (null).
 * - a date just before a completion with no "đã"/"rồi" ("tháng 12 xong") is a deadline, like
 *   "hoàn thành trước 30/10": no status from it.
 * - "ht" is "hoàn thành" only where the shape says so ("đã ht", "ht rồi", "ht 80%", "ht" alone),
 *   since it is also "hệ thống" and "hiệu trưởng".
 */
export function readProgressCues(ctx: ParseContext): ProgressCues {
  const cues: ProgressCues = {
    strongDone: false,
    weakDone: false,
    ipStrong: false,
    ipWeak: false,
    notStarted: [],
    negChua: false,
    negKhong: false,
    bareChua: isBareChua(ctx),
  };
  for (let i = 0; i < ctx.n; i++) {
    const t = ctx.at(i);
    if (!t || t.kind !== 'word' || ctx.consumed[i] || ctx.silent(i)) continue;
    readCompletion(ctx, cues, i);
    readUnderWay(ctx, cues, i);
    readPlanVerb(ctx, cues, i);
  }
  return cues;
}

function readCompletion(ctx: ParseContext, cues: ProgressCues, i: number): void {
  let doneEnd = ctx.matchTable(i, DONE);
  if (doneEnd === -1 && ctx.wordMatches(ctx.at(i), HT) && htMeansCompleted(ctx, i)) doneEnd = i + 1;
  if (doneEnd !== -1) classifyCompletion(ctx, cues, i, doneEnd);
  if (
    ctx.matchTable(i, OVERACHIEVED) !== -1 &&
    !ctx.before(i, 3, (j) => ctx.endsAt(j, NEG_KHONG) || ctx.endsAt(j, NEG_CHUA))
  ) {
    cues.strongDone = true;
  }
}

function htMeansCompleted(ctx: ParseContext, i: number): boolean {
  const t = ctx.at(i);
  const prev = ctx.at(i - 1);
  const next = ctx.at(i + 1);
  return (
    (prev !== undefined && prev.clause === t?.clause && HT_LEADS.has(prev.c)) ||
    (next !== undefined && (next.c === 'roi' || next.kind === 'num' || next.raw === '%')) ||
    ctx.isBareClause(i, i + 1)
  );
}

/** A completion word at [i, end): asked about, negated, near, promised, or reported. */
function classifyCompletion(ctx: ParseContext, cues: ProgressCues, i: number, end: number): void {
  const k = ctx.clauseOf(i);
  const next = ctx.at(end);
  const nextInClause = next !== undefined && next.clause === k;
  if (ctx.before(i, 4, (j) => ctx.endsAt(j, QUESTION_WORDS))) return;
  if (nextInClause && next.c === 'chua') return; // "xong chưa" asks
  if (nextInClause && next.c === 'khong' && ctx.restIsIgnorable(end + 1, 4)) return; // "xong không ạ"
  if (ctx.before(i, 2, (j) => ctx.endsAt(j, CANNOT))) return; // the difficulty speaks for it
  if (ctx.before(i, 1, (j) => ctx.endsAt(j, RESOLVE_VERBS))) return; // "tháo gỡ xong khó khăn"
  if (
    ctx.before(i, 4, (j) => ctx.endsAt(j, NEG_CHUA) || ctx.endsAt(j, NOT_YET_BEFORE)) ||
    notYetAfter(ctx, end)
  ) {
    cues.negChua = true;
    return;
  }
  if (
    ctx.before(i, 4, (j) => ctx.endsAt(j, NEG_KHONG) || ctx.endsAt(j, WILL_NOT_BEFORE)) ||
    ctx.after(end, 3, (j) => ctx.matchTable(j, WILL_NOT_AFTER) !== -1)
  ) {
    cues.negKhong = true;
    return;
  }
  if (ctx.before(i, 3, (j) => ctx.endsAt(j, NEAR)) || ctx.future[i]) {
    cues.ipStrong = true;
    return;
  }
  if (ctx.matchTable(end, DEADLINE_AFTER) !== -1 && !ctx.hasPast[k]) return;
  if (dateBefore(ctx, i) && !ctx.hasPast[k]) return;
  cues.strongDone = true;
}

/** "đã xong ĐÂU", "xong đâu mà xong": "đâu" right after the completion, in its clause */
function notYetAfter(ctx: ParseContext, end: number): boolean {
  const next = ctx.at(end);
  return (
    next !== undefined && next.clause === ctx.at(end - 1)?.clause && ctx.matchTable(end, NOT_YET_AFTER) !== -1
  );
}

/** "tháng 12 xong", "ngày 15/12 hoàn thành": a date just before the completion */
function dateBefore(ctx: ParseContext, i: number): boolean {
  let j = i - 1;
  while (ctx.at(j)?.kind === 'num' || ctx.at(j)?.raw === '/' || ctx.at(j)?.raw === '-') j--;
  return j < i - 1 && ctx.endsAt(j, TIME_NOUNS);
}

/** "đang <verb>", "một phần", "tiếp tục", "bắt đầu", "chưa <verb>", "chưa có gì" */
function readUnderWay(ctx: ParseContext, cues: ProgressCues, i: number): void {
  if (ctx.wordMatches(ctx.at(i), DANG) && ctx.matchTable(i + 1, IP_AFTER_DANG) !== -1) cues.ipStrong = true;
  if (ctx.matchTable(i, IP_STRONG) !== -1 && !ctx.before(i, 2, (j) => ctx.endsAt(j, NEG_CHUA))) {
    cues.ipStrong = true;
  }
  if (ctx.matchTable(i, IP_WEAK) !== -1) cues.ipWeak = true;
  if (ctx.matchTable(i, PARTLY) !== -1 || isStillToDo(ctx, i) || isSomeParts(ctx, i)) cues.ipStrong = true;
  // waiting is under way when nothing else is said, but "xong rồi, đang chờ ..." stays done
  if (ctx.matchTable(i, WAITING) !== -1) cues.ipWeak = true;
  if (isJustStarted(ctx, i)) cues.ipStrong = true;

  // "bắt đầu": started, unless not yet or only planned
  if (ctx.matchTable(i, START) !== -1) {
    if (ctx.before(i, 2, (j) => ctx.endsAt(j, NEG_CHUA)) || ctx.future[i]) cues.notStarted.push(i);
    else cues.ipStrong = true;
  }

  // "chưa <verb>"; "chưa <verb> hết/xong" means part of it is done
  if (ctx.matchTable(i, NEG_CHUA) !== -1) {
    const j = ctx.at(i + 1)?.c === 'duoc' ? i + 2 : i + 1;
    const v = ctx.matchTable(j, START_VERBS);
    if (v !== -1 && ctx.matchTable(j, START) === -1) {
      if (ctx.after(v, 4, (k) => ctx.matchTable(k, PARTIAL_FOLLOWERS) !== -1)) cues.negChua = true;
      else cues.notStarted.push(i);
    }
  }
  if (ctx.matchTable(i, NS_PHRASES) !== -1) cues.notStarted.push(i);
}

/** "đã <verb>", "vừa <verb>", "<verb> rồi"; a start verb under "sẽ" is not started yet */
function readPlanVerb(ctx: ParseContext, cues: ProgressCues, i: number): void {
  const verbEnd = ctx.matchTable(i, WEAK_VERBS);
  const isStartVerb = ctx.matchTable(i, START_VERBS) !== -1;
  if (verbEnd === -1) {
    if (ctx.future[i] && isStartVerb) cues.notStarted.push(i);
    return;
  }
  const t = ctx.at(i);
  const prev = ctx.at(i - 1);
  const prev2 = ctx.at(i - 2);
  const afterPast =
    (prev !== undefined &&
      prev.clause === t?.clause &&
      prev.c !== 'roi' &&
      ctx.matchTable(i - 1, PAST_MARKERS) !== -1) ||
    (prev?.c === 'duoc' &&
      prev2 !== undefined &&
      prev2.clause === t?.clause &&
      (prev2.c === 'da' || prev2.c === 'vua'));
  const thenRoi = ctx.after(verbEnd, 4, (k) => ctx.wordMatches(ctx.at(k), ROI));
  const negatedOrOngoing = ctx.before(
    i,
    2,
    (j) => ctx.endsAt(j, NEG_CHUA) || ctx.endsAt(j, NEG_KHONG) || ctx.wordMatches(ctx.at(j), DANG),
  );
  if (ctx.future[i]) {
    if (negatedOrOngoing) return;
    if (isStartVerb) cues.notStarted.push(i);
    else cues.ipStrong = true;
  } else if ((afterPast || thenRoi) && !negatedOrOngoing) cues.weakDone = true;
}

/** "còn phần phụ", "chỉ còn khâu in ấn"; not "không còn vướng", not "còn 40%" */
function isStillToDo(ctx: ParseContext, i: number): boolean {
  const e = ctx.matchTable(i, STILL_TO_DO);
  if (e === -1 || ctx.before(i, 1, (j) => ctx.endsAt(j, NO_LONGER_BEFORE))) return false;
  const next = ctx.at(e);
  if (!next || next.clause !== ctx.at(i)?.clause || next.brk) return false;
  if (next.kind !== 'num') return true;
  const unit = ctx.at(e + 1);
  return !(unit?.raw === '%' || ctx.matchTable(e + 1, PERCENT_WORDS) !== -1);
}

/** "xong 2 phần", "vài phần": some parts; not "phần trăm", "hai phần ba", "5/5 phần" */
function isSomeParts(ctx: ParseContext, i: number): boolean {
  if (!ctx.wordMatches(ctx.at(i), PART) || ctx.matchTable(i, PERCENT_WORDS) !== -1) return false;
  if (DIGIT_WORDS.some(([w]) => ctx.wordMatches(ctx.at(i + 1), w))) return false;
  const next = ctx.at(i + 1);
  if (next?.kind === 'num' || next?.c === 'thu') return true; // "xong phần 1", "phần thứ nhất"
  const prev = ctx.at(i - 1);
  if (prev?.kind === 'num') {
    const before = ctx.at(i - 2);
    return before?.raw !== '/' && !ctx.endsAt(i - 2, FRACTION_WORDS);
  }
  return ctx.endsAt(i - 1, FEW);
}

/** "vừa triển khai", "mới làm": begun, unless finished in the same breath or said of the future */
function isJustStarted(ctx: ParseContext, i: number): boolean {
  const verbEnd = ctx.matchTable(i, BEGIN_VERBS);
  if (verbEnd === -1 || ctx.future[i] || !ctx.before(i, 2, (j) => ctx.endsAt(j, JUST))) return false;
  return !ctx.after(verbEnd, 4, (k) => ctx.matchTable(k, DONE) !== -1);
}

/** "chưa" on its own, or with particles only */
function isBareChua(ctx: ParseContext): boolean {
  let sawChua = false;
  for (let i = 0; i < ctx.n; i++) {
    const t = ctx.at(i);
    if (!t || ctx.ignorable[i]) continue;
    if (!ctx.silent(i) && ctx.wordMatches(t, CHUA)) sawChua = true;
    else if (!ctx.silent(i) && t.c === 'not' && ctx.at(i + 1)?.c === 'yet') {
      sawChua = true;
      i++;
    } else return false;
  }
  return sawChua;
}
