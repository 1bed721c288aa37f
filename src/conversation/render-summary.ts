import { formatDate } from '../domain/time.ts';
import type { CampaignSummary } from '../services/summaries.ts';

/**
 * The text of a /tonghop answer and of its "late units only" answer, kept readable at a province's scale
 * (1,500 units): counts, each task, the worst child units, and at most SUMMARY_NAMES names of units that
 * have not reported or are late, the rest counted ("… và N đơn vị khác") and left to the workbook. The
 * API and the workbook keep the full lists; only what is read in a chat is cut.
 */

/** A catalogue text in the reader's language. */
export type Say = (key: string, vars?: Record<string, unknown>) => string;

/** Names of units not reported or late that one answer shows, both lists together. */
export const SUMMARY_NAMES = 20;
/**
 * The most characters of a summary's text: with the chart's caption the answer stays under 6,000, which
 * Telegram carries as at most two text messages (4,096 each) and the picture.
 */
export const SUMMARY_TEXT_CHARS = 5_600;

/** How much of each part the text shows; tighter levels are tried until the text fits. */
interface Caps {
  tasks: number;
  title: number;
  children: number;
  names: number;
  name: number;
}

const LEVELS: readonly Caps[] = [
  { tasks: 20, title: 80, children: 15, names: SUMMARY_NAMES, name: 60 },
  { tasks: 20, title: 60, children: 10, names: SUMMARY_NAMES, name: 50 },
  { tasks: 15, title: 50, children: 8, names: 16, name: 40 },
  { tasks: 10, title: 40, children: 5, names: 10, name: 40 },
];

/** `text` cut to `max` characters, an ellipsis marking the cut (before escaping: no entity is split). */
export const cut = (text: string, max: number): string =>
  text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;

/**
 * A unit as a summary names it: its name, cut to `max`, then what it was formed from during the campaign
 * ("(trước đây: …)", rendered by the caller into `formerly`), which is never cut: it is why the unit is
 * named at all by someone who knew the old units.
 */
export const unitLabel = (unit: { name: string; formerly?: string | undefined }, max: number): string =>
  `${cut(unit.name, max)}${unit.formerly ?? ''}`;

/** How many names each of two lists shows out of `total`: half each, and what one does not use to the other. */
export function shareNames(first: number, second: number, total: number): [number, number] {
  const shown = Math.min(first, Math.max(Math.floor(total / 2), total - second));
  return [shown, Math.min(second, total - shown)];
}

/** The summary's text, at the first level of detail that fits SUMMARY_TEXT_CHARS. */
export function summaryText(
  t: Say,
  summary: CampaignSummary,
  input: { asOf: string; exemplars?: number | undefined },
): string {
  let text = '';
  for (const caps of LEVELS) {
    text = summaryAt(t, summary, input, caps);
    if (text.length <= SUMMARY_TEXT_CHARS) break;
  }
  return text;
}

function summaryAt(
  t: Say,
  summary: CampaignSummary,
  input: { asOf: string; exemplars?: number | undefined },
  caps: Caps,
): string {
  const lines = [
    t('summary.header', {
      docNumber: cut(summary.campaign.docNumber, 60),
      title: cut(summary.campaign.title, 200),
    }),
    t('summary.scope', { scope: cut(summary.scope?.name ?? t('summary.scopeAll'), 100) }),
    ...(summary.block ? [t('summary.block', { block: cut(summary.blockName ?? summary.block, 100) })] : []),
    t('summary.asOf', { time: input.asOf }),
    '',
    t('summary.units', summary.units),
  ];
  // Exemplars reported in the scope: shown only when there are some, as raw material for commendation.
  if (input.exemplars !== undefined && input.exemplars > 0)
    lines.push(t('summary.exemplars', { count: input.exemplars }));
  if (summary.tasks.length > 0) {
    lines.push('', t('summary.tasks'));
    summary.tasks.slice(0, caps.tasks).forEach((task, index) =>
      lines.push(
        t('summary.task', {
          ...task,
          title: cut(task.title, caps.title),
          n: index + 1,
          due: formatDate(new Date(`${task.dueOn}T00:00:00Z`)),
          overdue: task.overdue > 0 ? t('summary.taskOverdue', { count: task.overdue }) : '',
        }),
      ),
    );
    if (summary.tasks.length > caps.tasks)
      lines.push(t('summary.tasksMore', { count: summary.tasks.length - caps.tasks }));
  }
  lines.push(...childLines(t, summary, caps));
  lines.push('', ...nameLines(t, summary, caps));
  return lines.join('\n');
}

/**
 * One line per direct child of the scope (items reported of all items, overdue items), the worst first
 * (most late units, most overdue items, least reported); the rest is counted, the chart and workbook
 * have them.
 */
function childLines(t: Say, summary: CampaignSummary, caps: Caps): string[] {
  const children = summary.children
    .filter((child) => child.code !== summary.scope?.code)
    .sort(
      (a, b) =>
        b.lateUnits - a.lateUnits ||
        b.overdue - a.overdue ||
        b.noReport - a.noReport ||
        a.name.localeCompare(b.name, 'vi') ||
        a.code.localeCompare(b.code),
    );
  if (children.length === 0) return [];
  const lines = ['', t('summary.children')];
  for (const child of children.slice(0, caps.children)) {
    const items = child.done + child.inProgress + child.blocked + child.notStarted + child.noReport;
    const late =
      child.overdue > 0
        ? `${t('summary.childLate', { count: child.overdue })}${
            child.units > 1 ? t('summary.childLateUnits', { count: child.lateUnits, units: child.units }) : ''
          }`
        : '';
    lines.push(
      t('summary.child', {
        name: unitLabel(child, caps.name),
        reported: items - child.noReport,
        items,
        late,
      }),
    );
  }
  if (children.length > caps.children)
    lines.push(t('summary.childrenMore', { count: children.length - caps.children }));
  return lines;
}

/**
 * The units that have not reported and the late ones, by name, at most `caps.names` names in all. When the
 * lists must be cut, the late list skips the units the first already names (most late units of a young
 * campaign have reported nothing), so the names shown are as many different units as fit.
 */
function nameLines(t: Say, summary: CampaignSummary, caps: Caps): string[] {
  const { unreportedUnits: unreported, lateUnits: late } = summary;
  const cutting = unreported.length + late.length > caps.names;
  const [unreportedShown] = shareNames(unreported.length, late.length, caps.names);
  const named = new Set(unreported.slice(0, unreportedShown).map((unit) => unit.code));
  const lateCandidates = cutting ? late.filter((unit) => !named.has(unit.code)) : late;
  const lateShown = Math.min(lateCandidates.length, caps.names - unreportedShown);
  const listed = (units: { name: string; formerly?: string | undefined }[], shown: number) =>
    units
      .slice(0, shown)
      .map((unit) => unitLabel(unit, caps.name))
      .join(', ');
  const more = (count: number, shown: number) =>
    count > shown ? t('summary.namesMore', { count: count - shown }) : '';
  const lines = [
    unreported.length > 0
      ? `${t('summary.unreported', { count: unreported.length, names: listed(unreported, unreportedShown) })}${more(unreported.length, unreportedShown)}`
      : t('summary.allReported'),
  ];
  if (late.length > 0)
    lines.push(
      `${t('summary.late', { count: late.length, names: listed(lateCandidates, lateShown) })}${more(late.length, lateShown)}`,
    );
  if (cutting) lines.push(t('summary.fullList'));
  return lines;
}

/** A late unit and the titles of its late tasks. */
export interface LateUnit {
  name: string;
  /** What the unit was formed from during the campaign, as unitLabel shows it. */
  formerly?: string | undefined;
  tasks: string[];
}

/** Late tasks named per unit; beyond them, counted. */
const LATE_TASKS_NAMED = 3;

/** Only the late units (the first SUMMARY_NAMES by name), each with its late tasks; the rest counted. */
export function lateUnitsText(t: Say, summary: CampaignSummary, late: LateUnit[]): string {
  const scope = cut(summary.scope?.name ?? t('summary.scopeAll'), 100);
  if (late.length === 0) return t('summary.lateNone', { scope });
  const lines = [t('summary.lateHeader', { docNumber: cut(summary.campaign.docNumber, 60), scope })];
  for (const unit of late.slice(0, SUMMARY_NAMES)) {
    const named = unit.tasks.slice(0, LATE_TASKS_NAMED).map((title) => cut(title, 32));
    const rest = unit.tasks.length - named.length;
    lines.push(
      `${t('summary.lateItem', { name: unitLabel(unit, 60), tasks: named.join('; ') })}${
        rest > 0 ? t('summary.lateTasksMore', { count: rest }) : ''
      }`,
    );
  }
  if (late.length > SUMMARY_NAMES) {
    lines.push(t('summary.lateMore', { count: late.length - SUMMARY_NAMES }), t('summary.fullList'));
  }
  return lines.join('\n');
}
