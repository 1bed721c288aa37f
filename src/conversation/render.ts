import { DateTime } from 'luxon';
import { compactUuid } from '../domain/compact-id.ts';
import type { Attachment, Choice, OutboundMessage } from '../domain/message.ts';
import { STATUSES, statusCode, type Status } from '../domain/status.ts';
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
  UnitChangeNews,
  WeeklyDigestNews,
} from '../services/ports.ts';
import type { UnitTask } from '../services/reports.ts';
import type { ChartText } from '../services/summary-chart.ts';
import type { CampaignSummary } from '../services/summaries.ts';
import { plainLines } from '../services/summary-workbook.ts';
import { unitChangeMessage } from './render-organisation.ts';

/** Lines of per-child figures under a summary; beyond them the rest is only counted. */
const CHILD_LINES = 15;

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
          { label: t('buttons.ack'), data: `ack:${news.campaignId}` },
          { label: t('buttons.register'), data: `reg:${news.campaignId}` },
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

  /**
   * A unit's name as summaries show it, followed by the units it was formed from during the campaign
   * ("UBND xã Bình Lư (trước đây: UBND xã Bình Lư, UBND xã Bản Giang)"), as plain text: it is escaped where
   * it is put into a message.
   */
  unitName(locale: string, summary: CampaignSummary, unit: { code?: string; name: string }): string {
    const former = unit.code === undefined ? undefined : summary.formerly?.[unit.code];
    if (!former || former.length === 0) return unit.name;
    const names = former.map((formerUnit) => formerUnit.name).join(', ');
    return `${unit.name}${this.plain(locale)('summary.formerly', { names })}`;
  }

  summary(locale: string, summary: CampaignSummary, now: Date, exemplars?: number): OutboundMessage {
    const t = (key: string, vars?: Record<string, unknown>) => this.t(locale, key, vars);
    const names = (units: { code: string; name: string }[]) =>
      units.map((unit) => this.unitName(locale, summary, unit)).join(', ');
    const lines = [
      t('summary.header', { docNumber: summary.campaign.docNumber, title: summary.campaign.title }),
      t('summary.scope', { scope: summary.scope?.name ?? t('summary.scopeAll') }),
      ...(summary.block ? [t('summary.block', { block: summary.blockName ?? summary.block })] : []),
      t('summary.asOf', {
        time: DateTime.fromJSDate(now, { zone: this.timeZone }).toFormat('HH:mm dd/MM/yyyy'),
      }),
      '',
      t('summary.units', summary.units),
    ];
    // Exemplars reported in the scope: shown only when there are some, as raw material for commendation.
    if (exemplars !== undefined && exemplars > 0) lines.push(t('summary.exemplars', { count: exemplars }));
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
    lines.push(...this.childLines(locale, summary));
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

  /**
   * One line per direct child of the scope (items reported of all items, overdue items), the late ones
   * first; a 100-commune district stays readable: the rest is counted, the chart and workbook have them.
   */
  private childLines(locale: string, summary: CampaignSummary): string[] {
    const t = (key: string, vars?: Record<string, unknown>) => this.t(locale, key, vars);
    const children = summary.children
      .filter((child) => child.code !== summary.scope?.code)
      .sort(
        (a, b) =>
          b.lateUnits - a.lateUnits ||
          b.overdue - a.overdue ||
          a.name.localeCompare(b.name, 'vi') ||
          a.code.localeCompare(b.code),
      );
    if (children.length === 0) return [];
    const lines = ['', t('summary.children')];
    for (const child of children.slice(0, CHILD_LINES)) {
      const items = child.done + child.inProgress + child.blocked + child.notStarted + child.noReport;
      const late =
        child.overdue > 0
          ? `${t('summary.childLate', { count: child.overdue })}${
              child.units > 1
                ? t('summary.childLateUnits', { count: child.lateUnits, units: child.units })
                : ''
            }`
          : '';
      const name = this.unitName(locale, summary, child);
      lines.push(t('summary.child', { name, reported: items - child.noReport, items, late }));
    }
    if (children.length > CHILD_LINES)
      lines.push(t('summary.childrenMore', { count: children.length - CHILD_LINES }));
    return lines;
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
    // A block summary's buttons keep the block; the campaign id is compacted so that it still fits 64 bytes.
    const data = (action: 'd' | 'l' | 'x', unit: string) =>
      summary.block
        ? `b${action}:${compactUuid(input.campaign) ?? input.campaign}:${unit}:${summary.block}`
        : `s${action}:${input.campaign}:${unit}`;
    const drill = summary.children
      .filter((child) => child.code !== summary.scope?.code)
      .slice(0, 8)
      .map((child) => ({
        label: t('buttons.drill', {
          name: child.name.length > 30 ? `${child.name.slice(0, 29)}…` : child.name,
        }),
        data: data('d', child.code),
      }));
    const rows: Choice[][] = [];
    for (let i = 0; i < drill.length; i += 2) rows.push(drill.slice(i, i + 2));
    rows.push([
      { label: t('buttons.lateOnly'), data: data('l', input.unit) },
      { label: t('buttons.excel'), data: data('x', input.unit) },
    ]);
    const fits = (choice: Choice) => Buffer.byteLength(choice.data) <= 64;
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

  /** Only the late units, each with its late tasks. */
  lateUnits(
    locale: string,
    summary: CampaignSummary,
    late: { code?: string; name: string; tasks: string[] }[],
  ): OutboundMessage {
    const t = (key: string, vars?: Record<string, unknown>) => this.t(locale, key, vars);
    const scope = summary.scope?.name ?? t('summary.scopeAll');
    if (late.length === 0) return { text: t('summary.lateNone', { scope }) };
    return {
      text: [
        t('summary.lateHeader', { docNumber: summary.campaign.docNumber, scope }),
        ...late.map((unit) =>
          t('summary.lateItem', { name: this.unitName(locale, summary, unit), tasks: unit.tasks.join('; ') }),
        ),
      ].join('\n'),
    };
  }

  xlsxMessage(locale: string, docNumber: string, attachment: Attachment): OutboundMessage {
    return { text: this.t(locale, 'summary.xlsxCaption', { docNumber }), attachment };
  }

  private current(locale: string, current: CurrentStatus | null): string {
    if (!current) return this.statusLabel(locale, null);
    const percent = current.percent !== null && current.status !== 'done' ? ` (${current.percent}%)` : '';
    return `${this.statusLabel(locale, current.status)}${percent}`;
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
    const [year = '', part = ''] = periodKey.split('-');
    if (periodKey === 'closing') return this.t(locale, 'period.closing');
    if (/^\d{2}$/.test(part)) return this.t(locale, 'period.monthly', { index: Number(part), year });
    if (part.startsWith('Q')) {
      const index = Number(part.slice(1));
      return this.t(locale, 'period.quarterly', { index, roman: ['I', 'II', 'III', 'IV'][index - 1], year });
    }
    if (part.startsWith('H')) return this.t(locale, `period.half-yearly-${part.slice(1)}`, { year });
    return this.t(locale, 'period.yearly', { year });
  }

  private roundVars(locale: string, round: RoundNews) {
    return {
      period: this.period(locale, round.periodKey),
      from: formatDate(round.startsOn),
      to: formatDate(round.endsOn),
      due: formatDate(round.dueOn),
      docNumber: round.docNumber,
    };
  }

  roundAsk(
    locale: string,
    round: RoundNews,
    task: { taskId: string; title: string; current: CurrentStatus | null },
  ): OutboundMessage {
    return {
      text: this.t(locale, round.kind === 'closing' ? 'round.askClosing' : 'round.ask', {
        ...this.roundVars(locale, round),
        title: task.title,
        current: this.current(locale, task.current),
      }),
      choices: this.statusChoices(locale, task.taskId),
    };
  }

  roundReminder(locale: string, round: RoundNews, task: { taskId: string; title: string }): OutboundMessage {
    return {
      text: this.t(locale, 'round.remind', { ...this.roundVars(locale, round), title: task.title }),
      choices: this.statusChoices(locale, task.taskId),
    };
  }

  roundDigest(locale: string, digest: RoundDigestNews): OutboundMessage {
    const vars = { ...this.roundVars(locale, digest), title: digest.campaignTitle };
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
