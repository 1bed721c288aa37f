import { parseStatusReply, parseTaskReplies } from '../../domain/reply-parser.ts';
import { savePendingReport, takePendingReport, type PendingReport } from '../../services/pending-replies.ts';
import { recordStatus, tasksForUnit, undoReport, type UnitTask } from '../../services/reports.ts';
import { buttonChoice } from '../buttons.ts';
import type { Middleware, TextEvent } from '../router.ts';
import type { ButtonTurn, LinkedTurn, Turn } from '../turn.ts';
import { acknowledgeTyped } from './campaign-acts.ts';
import { allTasks, recordSeveral, undoGroup } from './several-tasks.ts';

/**
 * Status reports: /baocao asks with buttons, /nhiemvu lists the unit's tasks, a button or free text
 * ("đã xong", "nv2 đang làm 60%", "NV1 xong, NV2 được 50%") records a status, undo takes it back. The
 * commonest thing people send, so everything but undo is raw SQL (routes on the raw engine).
 */

/** How long a "which task?" question stays answerable. */
const PENDING_TTL_MS = 30 * 60_000;

type TextTurn = LinkedTurn<Turn<TextEvent>>;

async function record(turn: LinkedTurn, taskId: string, report: PendingReport): Promise<void> {
  const result = await recordStatus(turn.sql, {
    officialId: turn.member.id,
    unitId: turn.member.unitId,
    taskId,
    ...report,
    channel: turn.event.channel,
    now: turn.now,
  });
  if (result.kind !== 'recorded') {
    turn.reply('report.notAllowed');
    return;
  }
  turn.notice = turn.text('report.toast');
  turn.replies.push(
    turn.render.recorded(turn.locale, {
      title: result.task.title,
      docNumber: result.task.docNumber,
      status: report.status,
      percent: result.percent,
      note: report.note,
      reportId: result.reportId,
    }),
  );
}

/** Every task of the unit with its status buttons; `intro` first when given. */
async function askAll(turn: LinkedTurn, intro?: string): Promise<void> {
  const tasks = await tasksForUnit(turn.sql, turn.member.unitId);
  if (tasks.length === 0) {
    turn.reply('report.none');
    return;
  }
  if (intro) turn.reply(intro);
  for (const task of tasks) turn.replies.push(turn.render.askStatus(turn.locale, task));
}

/**
 * Keeps the report and asks which of the open tasks it is about, with buttons (valid 30 minutes). With
 * `offerAll` (the reply spoke of every task: "xong hết"), the first choice is "Tất cả N nhiệm vụ".
 */
async function askWhichTask(
  turn: TextTurn,
  report: PendingReport,
  candidates: UnitTask[],
  numbering: UnitTask[],
  offerAll = false,
): Promise<void> {
  const pendingId = await savePendingReport(turn.sql, {
    accountId: turn.accountId,
    report,
    taskIds: candidates.map((task) => task.taskId),
    expiresAt: new Date(turn.now.getTime() + PENDING_TTL_MS),
  });
  const choices = candidates.map((task, index) => [
    buttonChoice(
      turn.text('buttons.task', {
        n: numbering.indexOf(task) + 1,
        title: task.title.length > 48 ? `${task.title.slice(0, 47)}…` : task.title,
      }),
      { kind: 'whichTask', pendingId, index },
    ),
  ]);
  const words = turn.event.text;
  const all = buttonChoice(turn.text('buttons.allTasks', { count: candidates.length }), {
    kind: 'allTasks',
    pendingId,
  });
  turn.reply(
    offerAll ? 'report.whichTaskAll' : 'report.whichTask',
    {
      text: words.length > 200 ? `${words.slice(0, 199)}…` : words,
      status: turn.render.statusLabel(turn.locale, report.status),
      count: candidates.length,
    },
    offerAll ? [[all], ...choices] : choices,
  );
}

/** /baocao (/report). */
const ask: Middleware<LinkedTurn> = (turn) => askAll(turn);

/** /nhiemvu (/tasks). */
const list: Middleware<LinkedTurn> = async (turn) => {
  const tasks = await tasksForUnit(turn.sql, turn.member.unitId);
  turn.replies.push(turn.render.taskList(turn.locale, turn.member.unit.name, tasks, turn.now));
};

/** ✅ ⏳ ⚠️ ❌ under a task. */
const button: Middleware<LinkedTurn<ButtonTurn<'status'>>> = (turn) =>
  record(turn, turn.button.taskId, {
    status: turn.button.status,
    percent: null,
    note: null,
    sourceText: null,
  });

/** The answer to "which task?". */
const whichTask: Middleware<LinkedTurn<ButtonTurn<'whichTask'>>> = async (turn) => {
  const taken = await takePendingReport(turn.sql, {
    id: turn.button.pendingId,
    accountId: turn.accountId,
    index: turn.button.index,
    now: turn.now,
  });
  if (!taken) turn.reply('report.expired');
  else await record(turn, taken.taskId, taken.report);
};

/** ↩️ under a recorded report. */
const undo: Middleware<LinkedTurn<ButtonTurn<'undo'>>> = async (turn) => {
  const result = await undoReport(turn.prisma('undo'), {
    reportId: turn.button.reportId,
    by: turn.member,
    now: turn.now,
  });
  if (result.kind === 'undone') turn.reply('report.undone', { title: result.taskTitle });
  else turn.reply(result.kind === 'already_undone' ? 'report.alreadyUndone' : 'stale');
};

/**
 * Free text read as a status reply. "👍"/"ok"/"đã nhận" alone acknowledges the latest launch. A reply about
 * several tasks records each (several-tasks.ts). Otherwise the task is the one named ("nv2 …"), or the only
 * open one; else the chat is asked which, with buttons ("xong hết" first offers all of them). A reply whose
 * status is unclear records nothing and shows the buttons. Nothing is ever guessed.
 */
const text: Middleware<TextTurn> = async (turn) => {
  const words = turn.event.text;
  const parsed = parseStatusReply(words);
  if (parsed.acknowledgement) {
    await acknowledgeTyped(turn);
    return;
  }
  const tasks = turn.opening.tasks ?? (await tasksForUnit(turn.sql, turn.member.unitId));
  if (tasks.length === 0) {
    turn.reply('report.none');
    return;
  }
  const several = parseTaskReplies(words);
  const [first] = several ?? [];
  if (several && first?.task !== 'all') {
    await recordSeveral(turn, several, tasks, (taskId, report) => record(turn, taskId, report));
    return;
  }
  const open = tasks.filter((task) => task.latest?.status !== 'done');
  if (first?.reply.status === 'done' && open.length > 1) {
    const { status, percent, note } = first.reply;
    await askWhichTask(turn, { status, percent, note, sourceText: words }, open, tasks, true);
    return;
  }
  const named = parsed.taskNumber !== null ? tasks[parsed.taskNumber - 1] : undefined;
  if (parsed.status === null) {
    if (named) {
      turn.reply('report.unclear');
      turn.replies.push(turn.render.askStatus(turn.locale, named));
    } else await askAll(turn, 'report.unclear');
    return;
  }
  const report = { status: parsed.status, percent: parsed.percent, note: parsed.note, sourceText: words };
  const target = named ?? (open.length === 1 ? open[0] : tasks.length === 1 ? tasks[0] : undefined);
  if (target) await record(turn, target.taskId, report);
  else if (open.length === 0) turn.reply('report.allDone');
  else await askWhichTask(turn, report, open, tasks);
};

export const statusReports = {
  ask,
  list,
  button,
  whichTask,
  allTasks: allTasks(record, (turn) => tasksForUnit(turn.sql, turn.member.unitId)),
  undo,
  undoGroup,
  text,
};
