import { readClauses } from './clauses.ts';
import { ParseContext } from './context.ts';
import { parseStatusReply, type ParsedReply } from './index.ts';
import { readTaskReferences } from './task-references.ts';
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
  const groups: MutableGroup[] = [];
  /** a reference that starts at or before this token joins the group before it ("nv1, nv3") */
  let joinsUpTo = -1;
  for (const ref of references) {
    const first = ctx.at(ref.start);
    const last = ctx.at(ref.end - 1);
    if (!first || !last) continue;
    let group = groups[groups.length - 1];
    // ", nv3" does not join a reference that words before it already gave a status ("xong nv1, nv2 ...")
    const leadingWords = groups.length === 1 && ctx.nfc.slice(0, group?.startChar ?? 0).trim() !== '';
    if (group && ref.start <= joinsUpTo && !leadingWords) {
      group.numbers.push(ref.number);
      group.endChar = last.end;
    } else {
      group = { startChar: first.start, endChar: last.end, numbers: [ref.number] };
      groups.push(group);
    }
    joinsUpTo = extendList(ctx, ref.end, group);
  }
  return groups;
}

type MutableGroup = { startChar: number; endChar: number; numbers: number[] };

const LIST_MARKS = new Set([',', '&', '+', '/']);

/**
 * Numbers listed from token `from` on ("nhiệm vụ 2 VÀ 3", "nv 1, 2, 3") join the group. Returns the
 * index of a further task reference that the list goes on with ("nv1, nv3"), or -1.
 */
function extendList(ctx: ParseContext, from: number, group: MutableGroup): number {
  for (let j = from; ;) {
    const mark = ctx.at(j);
    const joinerEnd = ctx.matchTable(j, TASK_LIST_JOINERS);
    const next =
      joinerEnd !== -1 ? joinerEnd : mark?.kind === 'punct' && LIST_MARKS.has(mark.raw) ? j + 1 : -1;
    if (next === -1) return -1;
    if (ctx.matchTable(next, TASK_HEADS) !== -1) return next;
    const num = ctx.at(next);
    if (!num || num.kind !== 'num' || !num.int || num.value < 1 || num.value > 999 || isFigure(ctx, next)) {
      return -1;
    }
    group.numbers.push(num.value);
    group.endChar = num.end;
    j = next + 1;
  }
}

/** "nv1 và 60%", "nv 2, 3/5 xã": the number after the joiner is a figure, not a task */
function isFigure(ctx: ParseContext, i: number): boolean {
  const unit = ctx.at(i + 1);
  if (unit?.kind === 'punct' && (unit.raw === '%' || unit.raw === '/')) return true;
  return ctx.matchTable(i + 1, PERCENT_WORDS) !== -1 || ctx.matchTable(i + 1, FRACTION_WORDS) !== -1;
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
