import type { ParsedReply, TaskReply } from '../../domain/reply-parser.ts';
import type { Status } from '../../domain/status.ts';
import { takePendingReportForAll, type PendingReport } from '../../services/pending-replies.ts';
import { recordStatusGroup, undoReportGroup, type UnitTask } from '../../services/reports.ts';
import type { GroupItem } from '../render.ts';
import type { Middleware, TextEvent } from '../router.ts';
import type { ButtonTurn, LinkedTurn, Turn } from '../turn.ts';

/**
 * Reports about several tasks at once: "NV1 xong, NV2 được 50%, NV3 vướng kinh phí", a numbered list, "nhiệm
 * vụ 2 và 3 đã xong", or "Tất cả N nhiệm vụ" chosen under "which task?". The reports are written in the
 * turn's one transaction under one group, confirmed in one message listing each task, and taken back by
 * one undo. What cannot be recorded is said: a task number the unit does not have, a part whose status is
 * unclear (asked about alone, with the status buttons).
 */

type TextTurn = LinkedTurn<Turn<TextEvent>>;

/** A task and what is said of it. */
interface Said {
  n: number;
  task: UnitTask;
  report: PendingReport;
}

/**
 * Records `said` as one group and confirms it in one message (a single report keeps the one-task
 * confirmation, through `recordOne`). Tasks that no longer take reports are listed as not recorded.
 */
async function recordGroup(
  turn: LinkedTurn,
  said: Said[],
  recordOne: (taskId: string, report: PendingReport) => Promise<void>,
): Promise<void> {
  const [only] = said;
  if (!only) return;
  if (said.length === 1) {
    await recordOne(only.task.taskId, only.report);
    return;
  }
  const { groupId, results } = await recordStatusGroup(turn.sql, {
    officialId: turn.member.id,
    unitId: turn.member.unitId,
    channel: turn.event.channel,
    now: turn.now,
    reports: said.map(({ task, report }) => ({
      taskId: task.taskId,
      campaignId: task.campaignId,
      ...report,
    })),
  });
  const recorded: GroupItem[] = [];
  const refused: { n: number; title: string }[] = [];
  results.forEach((result, index) => {
    const { n, task, report } = said[index] as Said;
    if (result.kind === 'recorded') {
      recorded.push({ n, title: task.title, docNumber: task.docNumber, ...report, percent: result.percent });
    } else refused.push({ n, title: task.title });
  });
  if (recorded.length === 0) {
    turn.reply('report.notAllowed');
    return;
  }
  turn.notice = turn.text('report.toast');
  turn.replies.push(turn.render.recordedGroup(turn.locale, { groupId, recorded, refused }));
}

/**
 * A message about several tasks, read by parseTaskReplies: the parts that say a status are recorded as one
 * group; a task number the unit does not have is named back; a part with no clear status is asked about
 * alone, with the status buttons.
 */
export async function recordSeveral(
  turn: TextTurn,
  replies: TaskReply[],
  tasks: UnitTask[],
  recordOne: (taskId: string, report: PendingReport) => Promise<void>,
): Promise<void> {
  const clear: Said[] = [];
  const unclear: { n: number; task: UnitTask; reply: ParsedReply }[] = [];
  const unknown: number[] = [];
  for (const { task: n, reply } of replies) {
    if (n === 'all') continue;
    const task = tasks[n - 1];
    if (!task) unknown.push(n);
    else if (reply.status === null) unclear.push({ n, task, reply });
    else clear.push({ n, task, report: reportOf(reply.status, reply, turn.event.text) });
  }
  await recordGroup(turn, clear, recordOne);
  if (unknown.length > 0)
    turn.reply('report.unknownTasks', { numbers: unknown.join(', '), count: tasks.length });
  for (const { n, task, reply } of unclear) {
    const ask = turn.render.askStatus(turn.locale, task);
    const words = reply.note ?? '';
    const line = turn.text('report.partUnclear', {
      n,
      text: words.length > 100 ? `${words.slice(0, 99)}…` : words,
    });
    turn.replies.push({ ...ask, text: `${line}\n${ask.text}` });
  }
}

function reportOf(status: Status, reply: ParsedReply, sourceText: string): PendingReport {
  return { status, percent: reply.percent, note: reply.note, sourceText };
}

/**
 * "Tất cả N nhiệm vụ" under "which task?": the report kept with the question goes to every task it
 * offered, as one group.
 */
export function allTasks(
  recordOne: (turn: LinkedTurn, taskId: string, report: PendingReport) => Promise<void>,
  unitTasks: (turn: LinkedTurn) => Promise<UnitTask[]>,
): Middleware<LinkedTurn<ButtonTurn<'allTasks'>>> {
  return async (turn) => {
    const taken = await takePendingReportForAll(turn.sql, {
      id: turn.button.pendingId,
      accountId: turn.accountId,
      now: turn.now,
    });
    if (!taken) {
      turn.reply('report.expired');
      return;
    }
    const tasks = await unitTasks(turn);
    const said = taken.taskIds.flatMap((taskId) => {
      const index = tasks.findIndex((task) => task.taskId === taskId);
      const task = tasks[index];
      return task ? [{ n: index + 1, task, report: taken.report }] : [];
    });
    if (said.length === 0) turn.reply('report.notAllowed');
    else await recordGroup(turn, said, (taskId, report) => recordOne(turn, taskId, report));
  };
}

/** ↩️ under a confirmation of several tasks: every report of the group is taken back. */
export const undoGroup: Middleware<LinkedTurn<ButtonTurn<'undoGroup'>>> = async (turn) => {
  const result = await undoReportGroup(turn.prisma('undo a group'), {
    groupId: turn.button.groupId,
    by: turn.member,
    now: turn.now,
  });
  if (result.kind === 'undone') {
    turn.reply('report.undoneGroup', {
      count: result.taskTitles.length,
      titles: result.taskTitles.join('; '),
    });
  } else turn.reply(result.kind === 'already_undone' ? 'report.alreadyUndone' : 'stale');
};
