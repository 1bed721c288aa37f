import type { ParseContext } from './context.ts';
import { CLAUSE_BREAK_WORDS, CONDITIONAL, FILLERS, FUTURE, PAST_MARKERS } from './vocabulary.ts';

/**
 * Stage 1: clauses. Punctuation, new lines and "nhưng"/"nên" separate statements; negation,
 * future markers and questions only reach within one.
 *
 * Decisions on ambiguous wording applied here:
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

/** Everything after "sẽ", "dự kiến", ... to the end of its clause speaks of the future. */
function markFuture(ctx: ParseContext): void {
  let active = false;
  let k = -1;
  for (let i = 0; i < ctx.n; i++) {
    const t = ctx.at(i);
    if (!t) continue;
    if (t.clause !== k) {
      active = false;
      k = t.clause;
    }
    if (active) ctx.future[i] = 1;
    if (ctx.matchTable(i, FUTURE) !== -1) active = true;
  }
}
