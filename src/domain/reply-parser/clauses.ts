import type { ParseContext } from './context.ts';
import {
  AHEAD_AFTER_WEEKDAY,
  CLAUSE_BREAK_WORDS,
  CONDITIONAL,
  DAYS,
  FILLERS,
  FUTURE,
  FUTURE_TIME,
  NUA,
  PAST_MARKERS,
  WEEKDAY,
} from './vocabulary.ts';

/**
 * Stage 1: clauses. Punctuation, new lines and "nhưng"/"nên" separate statements; negation,
 * future markers and questions only reach within one.
 *
 * Decisions on ambiguous wording applied here:
 * - a time ahead or a promise ("mai", "tuần sau", "cuối tháng", "thứ 6 này", "2 hôm nữa", "hẹn")
 *   puts its whole clause in the future, unless the clause says "đã", "rồi" or "vừa" ("tháng
 *   sau nộp" is a plan, "cuối tháng đã nộp" a report). Words after "sẽ", "dự kiến", ... are in the
 *   future too. What the future does to each cue is decided in the cue and figure stages.
 * - questions ("xong chưa?", any clause with "?") and conditionals ("nếu có kinh phí ...") say
 *   nothing: their clause is silent for every later stage.
 */
export function readClauses(ctx: ParseContext): void {
  let clause = 0;
  for (let i = 0; i < ctx.n; i++) {
    const t = ctx.at(i);
    if (!t) continue;
    if (t.kind === 'word' && ctx.matchTable(i, CLAUSE_BREAK_WORDS) !== -1) clause++;
    t.clause = clause;
    if (t.brk) clause++;
  }
  ctx.clauseCount = clause + 1;
  ctx.question = new Uint8Array(ctx.clauseCount);
  ctx.conditional = new Uint8Array(ctx.clauseCount);
  ctx.hasPast = new Uint8Array(ctx.clauseCount);
  for (let i = 0; i < ctx.n; i++) {
    const t = ctx.at(i);
    if (!t) continue;
    if (t.kind === 'punct' && t.raw === '?') ctx.question[t.clause] = 1;
    if (ctx.matchTable(i, CONDITIONAL) !== -1) ctx.conditional[t.clause] = 1;
    if (ctx.matchTable(i, PAST_MARKERS) !== -1) ctx.hasPast[t.clause] = 1;
    const f = ctx.matchTable(i, FILLERS);
    for (let k = i; k < f; k++) ctx.filler[k] = 1;
  }
  markFuture(ctx);
}

/**
 * Everything after "sẽ", "dự kiến", ... to the end of its clause speaks of the future; so does a
 * whole clause with a time ahead and no past marker.
 */
function markFuture(ctx: ParseContext): void {
  const ahead = new Uint8Array(ctx.clauseCount);
  for (let i = 0; i < ctx.n; i++) {
    const t = ctx.at(i);
    if (t && isTimeAhead(ctx, i)) ahead[t.clause] = 1;
  }
  let active = false;
  let k = -1;
  for (let i = 0; i < ctx.n; i++) {
    const t = ctx.at(i);
    if (!t) continue;
    if (t.clause !== k) {
      active = false;
      k = t.clause;
    }
    if (active || (ahead[k] === 1 && ctx.hasPast[k] !== 1)) ctx.future[i] = 1;
    if (ctx.matchTable(i, FUTURE) !== -1) active = true;
  }
}

/** "mai", "tuần sau", "thứ 6 này", "2 hôm nữa" */
function isTimeAhead(ctx: ParseContext, i: number): boolean {
  if (ctx.matchTable(i, FUTURE_TIME) !== -1) return true;
  if (ctx.wordMatches(ctx.at(i), WEEKDAY) && ctx.at(i + 1)?.kind === 'num') {
    return ctx.matchTable(i + 2, AHEAD_AFTER_WEEKDAY) !== -1;
  }
  return ctx.wordMatches(ctx.at(i), NUA) && ctx.before(i, 2, (j) => ctx.endsAt(j, DAYS));
}
