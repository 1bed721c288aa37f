import type ExcelJS from 'exceljs';
import type { Status } from '../domain/status.ts';
import { nameWithFormer } from '../domain/summary.ts';
import { daysLate, formatDate, formatInstant, isOverdue } from '../domain/time.ts';
import { loadExcel } from './excel.ts';
import type { CampaignRollUp } from './summaries.ts';
import type { OrganisationChange } from './unit-lineage.ts';

/** A catalogue lookup in the asker's language, as plain text (no HTML): the workbook is not a chat. */
export type PlainText = (key: string, vars?: Record<string, unknown>) => string;

export interface ExemplarRow {
  who: string;
  what: string;
  unitName: string;
  reportedBy: string;
  createdAt: Date;
}

export interface WorkbookInput {
  rolled: CampaignRollUp;
  /** The summary as the chat shows it, one line per row. */
  summaryLines: string[];
  exemplars: ExemplarRow[];
  /** The changes of the organisation during the campaign (merges, dissolutions, renames, moves). */
  changes?: OrganisationChange[] | undefined;
  t: PlainText;
  statusLabel: (status: Status | null) => string;
  now: Date;
  timeZone: string;
}

export type Row = (string | number | null)[];

/** A sheet with a bold, frozen, filterable header row and columns as wide as their text (up to 60). */
export function addTable(
  workbook: ExcelJS.Workbook,
  name: string,
  headers: string[],
  rows: Row[],
  empty: string,
) {
  const sheet = workbook.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.addRow(headers).font = { bold: true };
  if (rows.length === 0) sheet.addRow([empty]);
  else for (const row of rows) sheet.addRow(row);
  sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: headers.length } };
  headers.forEach((header, index) => {
    const longest = Math.max(header.length, ...rows.map((row) => String(row[index] ?? '').length));
    sheet.getColumn(index + 1).width = Math.min(Math.max(longest + 2, 8), 60);
  });
  return sheet;
}

/**
 * One workbook a supervisor can attach to a paper report: the summary as the text (with the period),
 * every unit × task, the late items, and the exemplars. Dates as dd/MM/yyyy (HH:mm) in the time zone.
 */
export async function buildSummaryWorkbook(input: WorkbookInput): Promise<Buffer> {
  const { t, timeZone } = input;
  const stamp = (date: Date) => formatInstant(date, timeZone);
  const h = (key: string) => t(`workbook.${key}`);
  const workbook = new (await loadExcel()).Workbook();
  workbook.creator = 'thidua-bot';
  workbook.created = input.now;

  addSummarySheet(workbook, input);
  const { reported, late } = unitTaskRows(input, stamp);
  addTable(workbook, h('detailSheet'), REPORTED_COLUMNS.map(h), reported, h('noReports'));
  addTable(workbook, h('lateSheet'), LATE_COLUMNS.map(h), late, h('noLate'));
  addTable(
    workbook,
    h('exemplarSheet'),
    ['who', 'what', 'unitName', 'reporter', 'at'].map(h),
    input.exemplars.map((row) => [row.who, row.what, row.unitName, row.reportedBy, stamp(row.createdAt)]),
    h('noExemplars'),
  );
  // Only when the organisation changed during the campaign: most campaigns never see a change.
  if (input.changes && input.changes.length > 0)
    addTable(
      workbook,
      h('changesSheet'),
      CHANGE_COLUMNS.map(h),
      changeRows(input.changes, t, stamp),
      h('noChanges'),
    );
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

const REPORTED_COLUMNS = [
  'unitCode',
  'unitName',
  'taskKey',
  'taskTitle',
  'due',
  'status',
  'percent',
  'note',
  'reportedAt',
  'reportedBy',
];
const LATE_COLUMNS = ['unitCode', 'unitName', 'taskKey', 'taskTitle', 'due', 'status', 'daysLate'];
const CHANGE_COLUMNS = [
  'effectiveOn',
  'recordedAt',
  'change',
  'unitCode',
  'unitName',
  'changeFrom',
  'changeTo',
  'actor',
];

/** The summary as the chat shows it, its campaign's period under the first line, in one wide column. */
function addSummarySheet(workbook: ExcelJS.Workbook, input: WorkbookInput): void {
  const { rolled, t } = input;
  const summary = workbook.addWorksheet(t('workbook.summarySheet'));
  const period = t('workbook.period', {
    from: formatDate(rolled.campaign.startsOn),
    to: formatDate(rolled.campaign.endsOn),
  });
  const [first = '', ...rest] = input.summaryLines;
  for (const line of [first, period, ...rest]) summary.addRow([line]);
  summary.getRow(1).font = { bold: true, size: 13 };
  summary.getColumn(1).width = Math.min(
    Math.max(...input.summaryLines.map((line) => line.length), period.length, 20) + 2,
    120,
  );
}

/**
 * One row per unit × task: every reported status (with the report's details), and every task not done
 * after its due day (with how many days late). A unit formed by a merge during the campaign is named with
 * what it was formed from.
 */
function unitTaskRows(input: WorkbookInput, stamp: (date: Date) => string): { reported: Row[]; late: Row[] } {
  const { rolled, now, timeZone } = input;
  const reported: Row[] = [];
  const late: Row[] = [];
  for (const unit of rolled.units) {
    const unitName = nameWithFormer(unit, rolled.formerly, (names) => input.t('summary.formerly', { names }));
    rolled.tasks.forEach((task, index) => {
      const status = unit.statuses[index] ?? null;
      const info = unit.details?.[index] ?? null;
      const row = [
        unit.code,
        unitName,
        task.key,
        task.title,
        formatDate(task.dueOn),
        input.statusLabel(status),
      ];
      if (status !== null)
        reported.push([
          ...row,
          info?.percent ?? null,
          info?.note ?? '',
          info ? stamp(info.reportedAt) : '',
          info ? `${info.reportedByName} (${info.reportedBy})` : '',
        ]);
      if (status !== 'done' && isOverdue(task.dueOn, now, timeZone))
        late.push([...row, daysLate(task.dueOn, now, timeZone)]);
    });
  }
  return { reported, late };
}

/** The organisation's changes during the campaign, the kind of change in the reader's words. */
function changeRows(changes: OrganisationChange[], t: PlainText, stamp: (date: Date) => string): Row[] {
  return changes.map((change) => [
    formatDate(change.effectiveOn ?? change.at),
    stamp(change.at),
    t(`workbook.changeKinds.${change.kind}`),
    change.unitCode,
    change.unitName,
    change.from ?? '',
    change.to ?? '',
    change.actor,
  ]);
}

/** Chat text to workbook text: tags dropped, the escapes undone. */
export function plainLines(html: string): string[] {
  return html
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .split('\n');
}
