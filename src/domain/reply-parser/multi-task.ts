import { readClauses } from './clauses.ts';
import { ParseContext } from './context.ts';
import { parseStatusReply, type ParsedReply } from './index.ts';
import { readTaskReferences, type TaskReference } from './task-references.ts';
import { INVISIBLE } from './text.ts';
import {
  ALL_OF,
  ALL_TAIL,
  DONE,
  FRACTION_WORDS,
  PERCENT_WORDS,
  TASK_HEADS,
  TASK_LIST_JOINERS,
} from './vocabulary.ts';

/** One task's part of a reply that speaks of several. */
export interface TaskReply {
  /** the task's number as the unit's list shows it (1-based), or 'all' for every open task */
  readonly task: number | 'all';
  /**
   * The reading of this task's part, as parseStatusReply gives it (taskNumber is the task's
   * number, null for 'all'). A part that cannot be read has status null: the dialogue asks about
   * that task alone and records the others.
   */
  readonly reply: ParsedReply;
}

/**
 * Reads a reply that speaks of several tasks at once, one reading per task:
 * - "NV1 xong, NV2 được 50%, NV3 vướng kinh phí": each task reference starts that task's part;
 *   words before the first reference belong to the first part ("xong nv1, nv2 đang làm").
 * - a numbered list, one task a line ("1. xong\n2. đang làm 60%"), when two lines or more start
 *   with a number followed by ".", ")", ":" or "-".
 * - "nhiệm vụ 2 và 3 đã xong", "nv1, nv3 xong": the tasks listed share the reading.
 * - "xong hết", "đã hoàn thành tất cả", "tất cả đều xong" with no task named: one reading for
 *   'all' (the dialogue offers "Tất cả N nhiệm vụ" first, since "hết" may still mean something else).
 *
 * Returns null when the reply names at most one task and not all of them: parseStatusReply
 * reads it. A task named twice with different readings gets status null (the bot asks).
 */
export function parseTaskReplies(text: string): TaskReply[] | null {
  // like parseStatusReply: a reader that throws would drop the official's message
  try {
    return typeof text === 'string' ? readTaskReplies(text) : null;
  } catch {
    return null;
  }
}

function readTaskReplies(text: string): TaskReply[] | null {
  const nfc = text.normalize('NFC').replace(INVISIBLE, '');
  const ctx = new ParseContext(nfc);
  readClauses(ctx);
  const groups = listItems(ctx) ?? referenceGroups(ctx);
  const tasks = new Set(groups.flatMap((g) => g.numbers));
  if (tasks.size < 2) {
    if (groups.length === 0 && speaksOfAll(ctx)) {
      const reply = parseStatusReply(nfc);
      return [{ task: 'all', reply: { ...reply, taskNumber: null } }];
    }
    return null;
  }
  const readings = new Map<number, ParsedReply>();
  const conflicting = new Set<number>();
  groups.forEach((group, k) => {
    const from = k === 0 ? 0 : group.startChar;
    const to = groups[k + 1]?.startChar ?? nfc.length;
    const part = `${nfc.slice(from, group.startChar)} ${nfc.slice(group.endChar, to)}`;
    const reply = parseStatusReply(part.replace(/^[\s,;.:–—-]+|[\s,;–—-]+$/g, ''));
    for (const number of group.numbers) {
      const earlier = readings.get(number);
      if (earlier && (earlier.status !== reply.status || earlier.percent !== reply.percent))
        conflicting.add(number);
      readings.set(number, { ...reply, taskNumber: number });
    }
  });
  return [...readings].map(([task, reply]) => ({
    task,
    reply: conflicting.has(task) ? { ...reply, status: null, percent: null } : reply,
  }));
}

interface Group {
  readonly startChar: number;
  readonly endChar: number;
  readonly numbers: readonly number[];
}

/** "1. xong\n2. đang làm 60%": lines that start with a number and a mark, two or more of them */
function listItems(ctx: ParseContext): Group[] | null {
  const items: Group[] = [];
  for (let i = 0; i < ctx.n; i++) {
    const t = ctx.at(i);
    const prev = ctx.at(i - 1);
    const atLineStart = i === 0 || (prev?.kind === 'punct' && prev.raw === '\n');
    if (!t || !atLineStart || t.kind !== 'num' || !t.int || t.value < 1 || t.value > 99) continue;
    const mark = ctx.at(i + 1);
    if (mark?.kind !== 'punct' || !['.', ')', ':', '-'].includes(mark.raw)) continue;
    items.push({ startChar: t.start, endChar: mark.end, numbers: [t.value] });
  }
  return items.length >= 2 ? items : null;
}

/** Task references, each with the numbers listed after it: "nhiệm vụ 2 và 3", "nv1, nv3". */
function referenceGroups(ctx: ParseContext): Group[] {
  const { references } = readTaskReferences(ctx);
  const groups: { startChar: number; endChar: number; numbers: number[] }[] = [];
  let listEnd = -1;
  for (const ref of references) {
    const start = ctx.at(ref.start);
    if (!start) continue;
    // ", nv3" joins the list only if the words before it are no status of their own
    const leading = groups.length === 1 && ctx.nfc.slice(0, groups[0]?.startChar ?? 0).trim() !== '';
    if (ref.start <= listEnd && groups.length > 0 && !leading) {
      // "nv1, nv3 xong": a reference right after a list joiner joins the group before it
      const group = groups[groups.length - 1];
      group?.numbers.push(ref.number);
      if (group) group.endChar = ctx.at(ref.end - 1)?.end ?? group.endChar;
    } else
      groups.push({
        startChar: start.start,
        endChar: ctx.at(ref.end - 1)?.end ?? start.end,
        numbers: [ref.number],
      });
    const group = groups[groups.length - 1];
    if (!group) continue;
    listEnd = extendList(ctx, ref, group);
  }
  return groups;
}

/**
 * Numbers listed after a reference ("nhiệm vụ 2 và 3", "nv 1, 2, 3") join its group; returns the
 * token index up to which a further reference also joins it ("nv1, nv3").
 */
function extendList(
  ctx: ParseContext,
  ref: TaskReference,
  group: { endChar: number; numbers: number[] },
): number {
  let j = ref.end;
  for (;;) {
    const joiner = ctx.at(j);
    const isJoiner =
      joiner !== undefined &&
      ((joiner.kind === 'punct' && [',', '&', '+', '/'].includes(joiner.raw)) ||
        ctx.matchTable(j, TASK_LIST_JOINERS) !== -1);
    if (!isJoiner) return j - 1;
    const afterJoiner =
      ctx.matchTable(j, TASK_LIST_JOINERS) !== -1 ? ctx.matchTable(j, TASK_LIST_JOINERS) : j + 1;
    const num = ctx.at(afterJoiner);
    if (ctx.matchTable(afterJoiner, TASK_HEADS) !== -1) return afterJoiner;
    if (!num || num.kind !== 'num' || !num.int || num.value < 1 || num.value > 999) return j - 1;
    const unit = ctx.at(afterJoiner + 1);
    if (unit?.raw === '%' || unit?.raw === '/' || ctx.matchTable(afterJoiner + 1, PERCENT_WORDS) !== -1)
      return j - 1;
    if (ctx.matchTable(afterJoiner + 1, FRACTION_WORDS) !== -1) return j - 1;
    group.numbers.push(num.value);
    group.endChar = num.end;
    j = afterJoiner + 1;
  }
}

/**
 * "xong hết", "đã hoàn thành tất cả", "tất cả đều xong", "cả 3 nhiệm vụ đã xong": a word for all
 * that stands alone or before "nhiệm vụ"/"đều"/particles, next to a completion. "Chưa triển khai
 * hết các thôn" counts the villages of one task, not the tasks.
 */
function speaksOfAll(ctx: ParseContext): boolean {
  let all = false;
  let done = false;
  for (let i = 0; i < ctx.n; i++) {
    if (ctx.matchTable(i, DONE) !== -1) done = true;
    const end = ctx.matchTable(i, ALL_OF);
    if (end === -1) continue;
    let j = end;
    if (ctx.at(j)?.kind === 'num') j++;
    const next = ctx.at(j);
    if (!next || next.brk || next.clause !== ctx.at(i)?.clause || ctx.matchTable(j, ALL_TAIL) !== -1)
      all = true;
  }
  return all && done;
}
