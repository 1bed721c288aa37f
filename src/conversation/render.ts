import { DateTime } from 'luxon';
import type { Choice, OutboundMessage } from '../domain/message.ts';
import { STATUSES, statusCode, type Status } from '../domain/status.ts';
import { formatDate, isOverdue } from '../domain/time.ts';
import type { Translate } from '../i18n.ts';
import type { CampaignNews, NewsRenderer } from '../services/ports.ts';
import type { UnitTask } from '../services/reports.ts';
import type { CampaignSummary } from '../services/summaries.ts';

/** Every message text the bot sends is assembled here, from the catalogues in locales/. */
export class Renderer implements NewsRenderer {
  constructor(
    private readonly t: Translate,
    private readonly timeZone: string,
  ) {}

  launch(locale: string, news: CampaignNews): OutboundMessage {
    const t = (key: string, vars?: Record<string, unknown>) => this.t(locale, key, vars);
    const lines = [
      t('launch.header'),
      t('launch.doc', { docNumber: news.docNumber }),
      t('launch.title', { title: news.title }),
    ];
    if (news.theme) lines.push(t('launch.theme', { theme: news.theme }));
    if (news.tasks.length > 0) {
      lines.push('', t('launch.tasks'));
      news.tasks.forEach((task, index) =>
        lines.push(t('launch.task', { n: index + 1, title: task.title, due: formatDate(task.dueOn) })),
      );
    }
    lines.push('', t('launch.footer'));
    return {
      text: lines.join('\n'),
      choices: [
        [
          { label: t('buttons.ack'), data: `ack:${news.campaignId}` },
          { label: t('buttons.register'), data: `reg:${news.campaignId}` },
        ],
      ],
    };
  }

  text(locale: string, key: string, vars?: Record<string, unknown>, choices?: Choice[][]): OutboundMessage {
    return { text: this.t(locale, key, vars), ...(choices ? { choices } : {}) };
  }

  statusLabel(locale: string, status: Status | null): string {
    return this.t(locale, `status.${status ?? 'none'}`);
  }

  statusChoices(locale: string, taskId: string): Choice[][] {
    const button = (status: Status): Choice => ({
      label: this.t(locale, `buttons.${status}`),
      data: `st:${taskId}:${statusCode(status)}`,
    });
    const [done, inProgress, blocked, notStarted] = STATUSES;
    return [
      [button(done), button(inProgress)],
      [button(blocked), button(notStarted)],
    ];
  }

  askStatus(locale: string, task: UnitTask): OutboundMessage {
    const current = task.latest
      ? `${this.statusLabel(locale, task.latest.status)}${task.latest.percent !== null ? ` (${task.latest.percent}%)` : ''}`
      : this.statusLabel(locale, null);
    return {
      text: this.t(locale, 'report.ask', {
        title: task.title,
        docNumber: task.docNumber,
        due: formatDate(task.dueOn),
        current,
      }),
      choices: this.statusChoices(locale, task.taskId),
    };
  }

  recorded(
    locale: string,
    input: {
      title: string;
      docNumber: string;
      status: Status;
      percent: number | null;
      note: string | null;
      reportId: string;
    },
  ): OutboundMessage {
    const vars = {
      title: input.title,
      docNumber: input.docNumber,
      status: this.statusLabel(locale, input.status),
      percent: input.percent,
    };
    const lines = [
      this.t(locale, input.percent === null ? 'report.recorded' : 'report.recordedPercent', vars),
    ];
    if (input.note) lines.push(this.t(locale, 'report.note', { note: input.note }));
    if (input.status === 'in_progress' && input.percent === null)
      lines.push(this.t(locale, 'report.percentHint'));
    return {
      text: lines.join('\n'),
      choices: [[{ label: this.t(locale, 'buttons.undo'), data: `undo:${input.reportId}` }]],
    };
  }

  taskList(locale: string, unitName: string, tasks: UnitTask[], now: Date): OutboundMessage {
    if (tasks.length === 0) return this.text(locale, 'tasks.none');
    const lines = [this.t(locale, 'tasks.header', { unit: unitName })];
    tasks.forEach((task, index) => {
      const late = task.latest?.status !== 'done' && isOverdue(task.dueOn, now, this.timeZone);
      const status = `${this.statusLabel(locale, task.latest?.status ?? null)}${
        task.latest?.percent != null && task.latest.status !== 'done' ? ` ${task.latest.percent}%` : ''
      }`;
      lines.push(
        this.t(locale, 'tasks.item', {
          n: index + 1,
          title: task.title,
          docNumber: task.docNumber,
          due: formatDate(task.dueOn),
          status: late ? `${status} ${this.t(locale, 'tasks.overdue')}` : status,
        }),
      );
    });
    lines.push('', this.t(locale, 'tasks.footer'));
    return { text: lines.join('\n') };
  }

  summary(locale: string, summary: CampaignSummary, now: Date): OutboundMessage {
    const t = (key: string, vars?: Record<string, unknown>) => this.t(locale, key, vars);
    const names = (units: { name: string }[]) => units.map((unit) => unit.name).join(', ');
    const lines = [
      t('summary.header', { docNumber: summary.campaign.docNumber, title: summary.campaign.title }),
      t('summary.scope', { scope: summary.scope?.name ?? t('summary.scopeAll') }),
      t('summary.asOf', {
        time: DateTime.fromJSDate(now, { zone: this.timeZone }).toFormat('HH:mm dd/MM/yyyy'),
      }),
      '',
      t('summary.units', summary.units),
    ];
    if (summary.tasks.length > 0) {
      lines.push('', t('summary.tasks'));
      summary.tasks.forEach((task, index) =>
        lines.push(
          t('summary.task', {
            ...task,
            n: index + 1,
            due: formatDate(new Date(`${task.dueOn}T00:00:00Z`)),
            overdue: task.overdue > 0 ? t('summary.taskOverdue', { count: task.overdue }) : '',
          }),
        ),
      );
    }
    lines.push('');
    if (summary.unreportedUnits.length > 0) {
      lines.push(
        t('summary.unreported', {
          count: summary.unreportedUnits.length,
          names: names(summary.unreportedUnits),
        }),
      );
    } else {
      lines.push(t('summary.allReported'));
    }
    if (summary.lateUnits.length > 0) {
      lines.push(t('summary.late', { count: summary.lateUnits.length, names: names(summary.lateUnits) }));
    }
    return { text: lines.join('\n') };
  }
}
