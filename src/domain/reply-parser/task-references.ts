import type { ParseContext } from './context.ts';
import {
  FRACTION_WORDS,
  PERCENT_WORDS,
  TASK_HEADS,
  TASK_HEADS_NEED_ORDINAL,
  TASK_ORDINAL,
} from './vocabulary.ts';

/** "nv2", "nhiệm vụ số 2", "#2": tokens [start, end) name task `number` */
export interface TaskReference {
  readonly start: number;
  readonly end: number;
  readonly number: number;
}

export interface TaskReferences {
  readonly references: readonly TaskReference[];
  /** the one task the reply names ("nv2 xong" -> 2), null when none or several */
  readonly taskNumber: number | null;
  /** the reply names several tasks, or one it cannot pin down ("nhiệm vụ 1.2") */
  readonly multiTask: boolean;
}

/**
 * Stage 2: task references ("nv2", "nhiệm vụ số 2", "#2", "chỉ tiêu số 2"). Their tokens are
 * consumed so that no later stage reads "2" as a figure; then every token is marked ignorable or
 * not, counted per clause, so "is this clause just '3/5'" is answered without rescanning it.
 *
 * Decisions on ambiguous wording applied here:
 * - several tasks named in one message ("nv1 xong, nv2 50%", "nhiệm vụ 1, 2 đã xong") -> the
 *   reply cannot be filed against one task: everything null (see the decision stage).
 * - "chỉ tiêu"/"việc" name a task only with an ordinal ("chỉ tiêu số 2"): "được 4/5 chỉ tiêu" counts.
 */
export function readTaskReferences(ctx: ParseContext): TaskReferences {
  const taskNumbers = new Set<number>();
  const references: TaskReference[] = [];
  let taskUnclear = false;
  for (let i = 0; i < ctx.n; i++) {
    const t = ctx.at(i);
    if (!t || ctx.consumed[i]) continue;
    let e: number;
    let needOrdinal = false;
    if (t.kind === 'punct' && t.raw === '#') e = i + 1;
    else {
      e = ctx.matchTable(i, TASK_HEADS);
      if (e === -1) {
        e = ctx.matchTable(i, TASK_HEADS_NEED_ORDINAL);
        needOrdinal = e !== -1;
      }
    }
    if (e === -1) continue;
    let j = e;
    let sawOrdinal = false;
    for (let skip = 0; skip < 2; skip++) {
      const s = ctx.at(j);
      const ord = ctx.matchTable(j, TASK_ORDINAL);
      if (s?.kind === 'punct' && (s.raw === '.' || s.raw === ':' || s.raw === '-' || s.raw === '#')) j++;
      else if (ord !== -1) {
        j = ord;
        sawOrdinal = true;
      }
    }
    if (needOrdinal && !sawOrdinal) continue;
    const num = ctx.at(j);
    if (!num || num.kind !== 'num' || looksLikePercentOrFraction(ctx, j)) continue;
    if (!num.int || num.value < 1 || num.value > 999) {
      // "nhiệm vụ 1.2", "nv 1,2": a sub-item or a list; either way not one task.
      taskUnclear = true;
      continue;
    }
    taskNumbers.add(num.value);
    references.push({ start: i, end: j + 1, number: num.value });
    for (let k = i; k <= j; k++) ctx.consumed[k] = 1;
    // "nhiệm vụ 1, 2 đã xong", "nv 1 và 3": a list of tasks.
    const sep = ctx.at(j + 1);
    const isSep =
      sep !== undefined &&
      ((sep.kind === 'punct' && [',', '&', '+', '-', '/'].includes(sep.raw)) || sep.c === 'va');
    const other = ctx.at(j + 2);
    if (isSep && other?.kind === 'num' && !looksLikePercentOrFraction(ctx, j + 2)) taskUnclear = true;
    i = j;
  }
  markIgnorable(ctx);
  const multiTask = taskUnclear || taskNumbers.size > 1;
  const taskNumber = !multiTask && taskNumbers.size === 1 ? ([...taskNumbers][0] ?? null) : null;
  return { references, taskNumber, multiTask };
}

function looksLikePercentOrFraction(ctx: ParseContext, j: number): boolean {
  const next = ctx.at(j + 1);
  if (next?.kind === 'punct' && (next.raw === '%' || next.raw === '/')) return true;
  return ctx.matchTable(j + 1, PERCENT_WORDS) !== -1 || ctx.matchTable(j + 1, FRACTION_WORDS) !== -1;
}

function markIgnorable(ctx: ParseContext): void {
  ctx.contentPerClause = new Uint32Array(ctx.clauseCount);
  for (let i = 0; i < ctx.n; i++) {
    const t = ctx.at(i);
    if (!t) continue;
    const ign =
      ctx.consumed[i] === 1 ||
      (t.kind === 'punct' && t.raw !== '/' && t.raw !== '%') ||
      (t.kind === 'word' && ctx.filler[i] === 1);
    ctx.ignorable[i] = ign ? 1 : 0;
    if (!ign) ctx.contentPerClause[t.clause] = (ctx.contentPerClause[t.clause] ?? 0) + 1;
  }
}
