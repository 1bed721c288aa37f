import { DateTime } from 'luxon';
import type { Attachment, Choice, OutboundMessage } from '../domain/message.ts';
import { STATUSES, type Status } from '../domain/status.ts';
import { nameWithFormer, withFormerSuffixes } from '../domain/summary.ts';
import { formatDate, isOverdue } from '../domain/time.ts';
import type { Translate } from '../i18n.ts';
import type { DeliveryProblems } from '../services/delivery-health.ts';
import type {
  CampaignNews,
  ChaseRenderer,
  CurrentStatus,
  EscalationNews,
  NewsRenderer,
  ReminderNews,
  DigestRenderer,
  RoundDigestNews,
  RoundNews,
  RoundTask,
  UnitChangeNews,
  WeeklyDigestNews,
} from '../services/ports.ts';
import type { UnitTask } from '../services/reports.ts';
import type { ChartText } from '../services/summary-chart.ts';
import type { CampaignSummary } from '../services/summaries.ts';
import { plainLines } from '../services/summary-workbook.ts';
import { buttonChoice, encodeButton, fitsInButton } from './buttons.ts';
import { unitChangeMessage } from './render-organisation.ts';
import { currentLabel, periodName, roundMessage, roundVars } from './render-rounds.ts';
import { lateUnitsText, summaryText, type LateUnit, type Say } from './render-summary.ts';

/** A task recorded by a message about several tasks, as its confirmation lists it. */
export interface GroupItem {
  /** Its number in the unit's list. */
  n: number;
  title: string;
  docNumber: string;
  status: Status;
  percent: number | null;
  note: string | null;
}

/** Every message text the bot sends is assembled here, from the catalogues in locales/. */
export class Renderer implements NewsRenderer, ChaseRenderer, DigestRenderer {
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
          buttonChoice(t('buttons.ack'), { kind: 'acknowledge', campaignId: news.campaignId }),
          buttonChoice(t('buttons.register'), { kind: 'register', campaignId: news.campaignId }),
        ],
      ],
    };
  }

  /** "Đơn vị của anh/chị đã được sáp nhập vào …; các nhiệm vụ đang theo dõi: …" */
  unitChanged(locale: string, news: UnitChangeNews): OutboundMessage {
    return unitChangeMessage((key, vars) => this.t(locale, key, vars), news);
  }

  text(locale: string, key: string, vars?: Record<string, unknown>, choices?: Choice[][]): OutboundMessage {
    return { text: this.t(locale, key, vars), ...(choices ? { choices } : {}) };
  }

  /** What a kind of unit is called ("commune" → "xã, phường, thị trấn"); null for a kind we have no words for. */
  unitKind(locale: string, kind: string): string | null {
    const key = `unitKinds.${kind}`;
    const name = this.t(locale, key);
    return name === key || /[.:]/.test(kind) ? null : name;
  }

  statusLabel(locale: string, status: Status | null): string {
    return this.t(locale, `status.${status ?? 'none'}`);
  }

  statusChoices(locale: string, taskId: string): Choice[][] {
    const button = (status: Status): Choice =>
      buttonChoice(this.t(locale, `buttons.${status}`), { kind: 'status', taskId, status });
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
      choices: [[buttonChoice(this.t(locale, 'buttons.undo'), { kind: 'undo', reportId: input.reportId })]],
    };
  }

  /**
   * The confirmation of one message about several tasks: each task (its number in the unit's list) with
   * the status and percent recorded, a difficulty's reason, the tasks that could not be recorded, and one
   * undo for the whole group.
   */
  recordedGroup(
    locale: string,
    input: { groupId: string; recorded: GroupItem[]; refused: { n: number; title: string }[] },
  ): OutboundMessage {
    const t = this.say(locale);
    const lines = [t('report.recordedGroup', { count: input.recorded.length })];
    for (const item of input.recorded) {
      const vars = { ...item, status: this.statusLabel(locale, item.status) };
      lines.push(t(item.percent === null ? 'report.groupItem' : 'report.groupItemPercent', vars));
      if (item.status === 'blocked' && item.note) lines.push(t('report.groupNote', { note: item.note }));
    }
    for (const task of input.refused) lines.push(t('report.groupRefused', task));
    const undo = buttonChoice(t('buttons.undoGroup', { count: input.recorded.length }), {
      kind: 'undoGroup',
      groupId: input.groupId,
    });
    return { text: lines.join('\n'), ...(input.recorded.length > 0 ? { choices: [[undo]] } : {}) };
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

  /** A catalogue text function in one language. */
  private say(locale: string): Say {
    return (key, vars) => this.t(locale, key, vars);
  }

  /** The catalogue's words around the names a unit was formed from (" (trước đây: …)"), as plain text. */
  private formerWords(locale: string): (names: string) => string {
    return (names) => this.plain(locale)('summary.formerly', { names });
  }

  /**
   * A unit's name as summaries show it, followed by the units it was formed from during the campaign
   * ("UBND xã Bình Lư (trước đây: UBND xã Bình Lư, UBND xã Bản Giang)"), as plain text: it is escaped where
   * it is put into a message.
   */
  unitName(locale: string, summary: CampaignSummary, unit: { code?: string; name: string }): string {
    return nameWithFormer(unit, summary.formerly, this.formerWords(locale));
  }

  /** The summary with every unit it lists carrying its "(trước đây: …)" (render-summary.ts unitLabel). */
  private withFormerNames(locale: string, summary: CampaignSummary): CampaignSummary {
    if (!summary.formerly || Object.keys(summary.formerly).length === 0) return summary;
    const words = this.formerWords(locale);
    return {
      ...summary,
      children: withFormerSuffixes(summary.children, summary.formerly, words),
      unreportedUnits: withFormerSuffixes(summary.unreportedUnits, summary.formerly, words),
      lateUnits: withFormerSuffixes(summary.lateUnits, summary.formerly, words),
    };
  }

  /** The summary's text, kept readable however many units it covers (render-summary.ts). */
  summary(locale: string, summary: CampaignSummary, now: Date, exemplars?: number): OutboundMessage {
    const asOf = DateTime.fromJSDate(now, { zone: this.timeZone }).toFormat('HH:mm dd/MM/yyyy');
    return {
      text: summaryText(this.say(locale), this.withFormerNames(locale, summary), { asOf, exemplars }),
    };
  }

  /** Catalogue text without markup and unescaped: for the workbook and the chart picture. */
  plain(locale: string): (key: string, vars?: Record<string, unknown>) => string {
    return (key, vars) => plainLines(this.t(locale, key, vars)).join('\n');
  }

  /** The words of the chart picture. */
  chartText(locale: string, summary: CampaignSummary, now: Date): ChartText {
    const t = this.plain(locale);
    return {
      title: t('chart.title', { docNumber: summary.campaign.docNumber }),
      subtitle: t('chart.subtitle', {
        scope: [
          summary.scope?.name ?? t('summary.scopeAll'),
          ...(summary.block ? [t('summary.block', { block: summary.blockName ?? summary.block })] : []),
        ].join(' · '),
        time: DateTime.fromJSDate(now, { zone: this.timeZone }).toFormat('HH:mm dd/MM/yyyy'),
      }),
      axis: t('chart.axis'),
      empty: t('chart.empty'),
      series: [
        t('status.done'),
        t('status.in_progress'),
        t('status.blocked'),
        t('status.not_started'),
        t('status.none'),
      ],
    };
  }

  /**
   * The chart picture's message: a caption, the buttons to drill into a child unit, to see only the late
   * units and to get the workbook. `ref` names the scope in the buttons' data ("-" for the default one).
   */
  summaryChart(
    locale: string,
    summary: CampaignSummary,
    input: { campaign: string; unit: string; attachment: Attachment },
  ): OutboundMessage {
    const t = (key: string, vars?: Record<string, unknown>) => this.t(locale, key, vars);
    // A block summary's buttons keep the block (the codec then compacts the campaign id to fit 64 bytes).
    const scope = (unit: string) => ({
      campaignId: input.campaign,
      ...(unit !== '-' ? { unitCode: unit } : {}),
      ...(summary.block ? { block: summary.block } : {}),
    });
    const drill = summary.children
      .filter((child) => child.code !== summary.scope?.code)
      .slice(0, 8)
      .map((child) => ({
        label: t('buttons.drill', {
          name: child.name.length > 30 ? `${child.name.slice(0, 29)}…` : child.name,
        }),
        data: encodeButton({ kind: 'drill', ...scope(child.code), unitCode: child.code }),
      }));
    const rows: Choice[][] = [];
    for (let i = 0; i < drill.length; i += 2) rows.push(drill.slice(i, i + 2));
    rows.push([
      buttonChoice(t('buttons.lateOnly'), { kind: 'lateUnits', ...scope(input.unit) }),
      buttonChoice(t('buttons.excel'), { kind: 'workbook', ...scope(input.unit) }),
    ]);
    const fits = (choice: Choice) => fitsInButton(choice.data);
    return {
      text: t('summary.chartCaption', { docNumber: summary.campaign.docNumber }),
      choices: rows.map((row) => row.filter(fits)).filter((row) => row.length > 0),
      attachment: input.attachment,
    };
  }

  /**
   * The /tonghop answer: the summary text, then the chart picture with its buttons. The picture is made at
   * send time for `chartUnitCode` (undefined: every participant) as of `now`; `unit` names the scope in the
   * buttons' data ("-" for the asker's default scope, which is what a later press re-checks).
   */
  summaryWithChart(
    locale: string,
    summary: CampaignSummary,
    input: { now: Date; unit: string; chartUnitCode: string | undefined; exemplars?: number },
  ): OutboundMessage[] {
    return [
      this.summary(locale, summary, input.now, input.exemplars),
      this.summaryChart(locale, summary, {
        campaign: summary.campaign.id,
        unit: input.unit,
        attachment: {
          kind: 'photo',
          ref: {
            type: 'chart',
            campaignId: summary.campaign.id,
            ...(input.chartUnitCode ? { unitCode: input.chartUnitCode } : {}),
            ...(summary.block ? { block: summary.block } : {}),
            locale,
            at: input.now.toISOString(),
          },
          fallback: this.t(locale, 'summary.chartUnavailable'),
        },
      }),
    ];
  }

  /** The weekly digest: the summary and chart of the recipient's default scope, under the week's heading. */
  weeklyDigest(locale: string, summary: CampaignSummary, week: WeeklyDigestNews): OutboundMessage[] {
    const [text, ...rest] = this.summaryWithChart(locale, summary, {
      now: week.now,
      unit: '-',
      chartUnitCode: summary.scope?.code,
      ...(week.exemplars !== undefined ? { exemplars: week.exemplars } : {}),
    });
    const heading = this.t(locale, 'summary.digestHeader', {
      from: DateTime.fromJSDate(week.monday, { zone: 'utc' }).toFormat('dd/MM'),
      to: DateTime.fromJSDate(week.sunday, { zone: 'utc' }).toFormat('dd/MM/yyyy'),
    });
    return text ? [{ ...text, text: `${heading}\n${text.text}` }, ...rest] : rest;
  }

  /** Only the late units, each with its late tasks (the first 20, the rest counted), and `choices`. */
  lateUnits(
    locale: string,
    summary: CampaignSummary,
    late: (LateUnit & { code?: string })[],
    choices?: Choice[][],
  ): OutboundMessage {
    const named = withFormerSuffixes(late, summary.formerly, this.formerWords(locale));
    return { text: lateUnitsText(this.say(locale), summary, named), ...(choices ? { choices } : {}) };
  }

  xlsxMessage(locale: string, docNumber: string, attachment: Attachment): OutboundMessage {
    return { text: this.t(locale, 'summary.xlsxCaption', { docNumber }), attachment };
  }

  private current(locale: string, current: CurrentStatus | null): string {
    return currentLabel(this.say(locale), current);
  }

  reminder(locale: string, news: ReminderNews): OutboundMessage {
    return {
      text: this.t(locale, `reminder.${news.kind}`, {
        title: news.title,
        docNumber: news.docNumber,
        due: formatDate(news.dueOn),
        days: news.days,
        current: this.current(locale, news.current),
      }),
      choices: this.statusChoices(locale, news.taskId),
    };
  }

  escalation(locale: string, news: EscalationNews): OutboundMessage {
    return {
      text: this.t(locale, 'reminder.escalation', {
        unit: news.unitName,
        title: news.title,
        docNumber: news.docNumber,
        due: formatDate(news.dueOn),
        days: news.days,
        current: this.current(locale, news.current),
      }),
    };
  }

  /** "tháng 7/2026", "quý III/2026", "6 tháng đầu năm 2026", "năm 2026", "tổng kết". */
  period(locale: string, periodKey: string): string {
    return periodName(this.say(locale), periodKey);
  }

  roundAsk(locale: string, round: RoundNews, tasks: RoundTask[]): OutboundMessage {
    return roundMessage(this.say(locale), 'ask', round, tasks, (taskId) =>
      this.statusChoices(locale, taskId),
    );
  }

  roundReminder(locale: string, round: RoundNews, tasks: RoundTask[]): OutboundMessage {
    return roundMessage(this.say(locale), 'remind', round, tasks, (taskId) =>
      this.statusChoices(locale, taskId),
    );
  }

  roundDigest(locale: string, digest: RoundDigestNews): OutboundMessage {
    const vars = { ...roundVars(this.say(locale), digest), title: digest.campaignTitle };
    const lines = [
      this.t(locale, 'round.digestHeader', vars),
      '',
      this.t(locale, 'round.digestCounts', { answered: digest.answered, total: digest.total }),
      this.t(locale, 'round.digestStatus', digest.byStatus),
      digest.missing.length > 0
        ? this.t(locale, 'round.digestMissing', {
            count: digest.missing.length,
            names: digest.missing.join(', '),
          })
        : this.t(locale, 'round.digestAll'),
      ...this.deliveryLines(locale, digest.delivery),
    ];
    return { text: lines.join('\n') };
  }

  /** People the bot cannot reach any more, and messages held by a quota: the admins must act on both. */
  deliveryLines(locale: string, delivery: DeliveryProblems | undefined): string[] {
    if (!delivery) return [];
    const lines: string[] = [];
    if (delivery.unreachable.length > 0) {
      lines.push(
        this.t(locale, 'delivery.unreachable', {
          count: delivery.unreachable.length,
          names: delivery.unreachable.map((person) => `${person.name} (${person.unit})`).join(', '),
        }),
      );
    }
    if (delivery.quotaPending > 0)
      lines.push(this.t(locale, 'delivery.quota', { count: delivery.quotaPending }));
    return lines.length > 0 ? ['', ...lines] : [];
  }
}
