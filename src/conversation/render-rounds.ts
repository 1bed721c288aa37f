import type { Choice, OutboundMessage } from '../domain/message.ts';
import { STATUSES, type Status } from '../domain/status.ts';
import { formatDate } from '../domain/time.ts';
import type { CurrentStatus, RoundNews, RoundTask } from '../services/ports.ts';
import { buttonChoice } from './buttons.ts';
import { cut, type Say } from './render-summary.ts';

/**
 * What a collection round says to a unit: ONE message for all the tasks it is asked about (or reminded
 * of), each task a row of four short status buttons named by the task's number in the unit's list, so
 * a tap answers one task and a line such as "NV1 xong, NV2 được 50%" answers several.
 */

/**
 * Tasks that get a row of buttons: four buttons each stays within what Telegram takes in one keyboard
 * (about 100). The others are listed and answered in words.
 */
export const ROUND_BUTTON_TASKS = 20;

/** "tháng 7/2026", "quý III/2026", "6 tháng đầu năm 2026", "năm 2026", "tổng kết". */
export function periodName(t: Say, periodKey: string): string {
  const [year = '', part = ''] = periodKey.split('-');
  if (periodKey === 'closing') return t('period.closing');
  if (/^\d{2}$/.test(part)) return t('period.monthly', { index: Number(part), year });
  if (part.startsWith('Q')) {
    const index = Number(part.slice(1));
    return t('period.quarterly', { index, roman: ['I', 'II', 'III', 'IV'][index - 1], year });
  }
  if (part.startsWith('H')) return t(`period.half-yearly-${part.slice(1)}`, { year });
  return t('period.yearly', { year });
}

export function roundVars(t: Say, round: RoundNews) {
  return {
    period: periodName(t, round.periodKey),
    from: formatDate(round.startsOn),
    to: formatDate(round.endsOn),
    due: formatDate(round.dueOn),
    docNumber: round.docNumber,
  };
}

/** "Hoàn thành", "Đang thực hiện (40%)", "Chưa báo cáo". */
export function currentLabel(t: Say, current: CurrentStatus | null): string {
  if (!current) return t('status.none');
  const percent = current.percent !== null && current.status !== 'done' ? ` (${current.percent}%)` : '';
  return `${t(`status.${current.status}`)}${percent}`;
}

/** The four status buttons of one task in one row, labelled with its number. */
function taskRow(t: Say, task: RoundTask): Choice[] {
  return STATUSES.map((status: Status) =>
    buttonChoice(t(`buttons.taskStatus.${status}`, { n: task.number }), {
      kind: 'status',
      taskId: task.taskId,
      status,
    }),
  );
}

/**
 * The question (`ask`) or the reminder (`remind`) to one unit about `tasks`. A single task keeps the one-task
 * wording with the four full buttons; several are listed, each with its row of numbered buttons.
 */
export function roundMessage(
  t: Say,
  mode: 'ask' | 'remind',
  round: RoundNews,
  tasks: RoundTask[],
  statusChoices: (taskId: string) => Choice[][],
): OutboundMessage {
  const vars = roundVars(t, round);
  const closing = round.kind === 'closing';
  const [only] = tasks;
  if (only && tasks.length === 1) {
    const key = mode === 'remind' ? 'round.remind' : closing ? 'round.askClosing' : 'round.ask';
    return {
      text: t(key, { ...vars, title: only.title, current: currentLabel(t, only.current) }),
      choices: statusChoices(only.taskId),
    };
  }
  const header = mode === 'remind' ? 'round.remindMany' : closing ? 'round.askClosingMany' : 'round.askMany';
  const lines = [t(header, { ...vars, count: tasks.length })];
  for (const task of tasks) {
    lines.push(
      t(mode === 'ask' ? 'round.taskLine' : 'round.taskLineShort', {
        n: task.number,
        title: cut(task.title, 120),
        current: currentLabel(t, task.current),
      }),
    );
  }
  const [first, second] = tasks;
  lines.push(
    '',
    t('round.howToAnswer', { first: first?.number ?? 1, second: second?.number ?? 2 }),
    ...(tasks.length > ROUND_BUTTON_TASKS ? [t('round.moreInWords', { count: ROUND_BUTTON_TASKS })] : []),
  );
  return {
    text: lines.join('\n'),
    choices: tasks.slice(0, ROUND_BUTTON_TASKS).map((task) => taskRow(t, task)),
  };
}
