/**
 * The plan workbook (kế hoạch phát động) as pure functions: the cells of its three sheets -> a campaign to
 * create, or every problem found, each naming its sheet and row. The service (services/plan-workbook.ts)
 * reads the file into sheets and checks what needs the database (units, issuer, document number).
 */
import { campaignDateProblems } from './campaign-rules.ts';
import { fold, type Cell } from './import-rows.ts';
import { CADENCES, maxDueDays, type Cadence } from './periods.ts';
import { isValidIsoDate } from './time.ts';

export const PLAN_SHEETS = { plan: 'Kế hoạch', tasks: 'Nhiệm vụ', units: 'Đơn vị' } as const;
export type PlanSheetKey = keyof typeof PLAN_SHEETS;

export type PlanField =
  'docNumber' | 'title' | 'theme' | 'kind' | 'issuerUnitCode' | 'startsOn' | 'endsOn' | 'cadence' | 'dueDay';

/** The rows of sheet "Kế hoạch" (label in column A, value in B), in the template's order. */
export const PLAN_FIELDS: readonly { field: PlanField; label: string; required: boolean }[] = [
  { field: 'docNumber', label: 'Số kế hoạch', required: true },
  { field: 'title', label: 'Tên phong trào', required: true },
  { field: 'theme', label: 'Chủ đề', required: false },
  { field: 'kind', label: 'Loại phong trào', required: false },
  { field: 'issuerUnitCode', label: 'Mã đơn vị ban hành', required: true },
  { field: 'startsOn', label: 'Ngày bắt đầu', required: true },
  { field: 'endsOn', label: 'Ngày kết thúc', required: true },
  { field: 'cadence', label: 'Kỳ báo cáo', required: false },
  { field: 'dueDay', label: 'Hạn báo cáo (số ngày sau ngày chốt)', required: false },
];
export const PLAN_HEADER = ['Trường', 'Giá trị', 'Ghi chú'] as const;
export const TASK_HEADERS = ['Mã nhiệm vụ', 'Nội dung nhiệm vụ', 'Hạn hoàn thành'] as const;
export const UNIT_HEADERS = ['Mã đơn vị', 'Tên đơn vị'] as const;

/** How the template names a campaign's kinds and report cadences. */
export const KIND_LABELS = { regular: 'thường xuyên', thematic: 'chuyên đề', special: 'đột xuất' } as const;
export const CADENCE_LABELS: Record<Cadence | 'none', string> = {
  none: 'không',
  monthly: 'hằng tháng',
  quarterly: 'hằng quý',
  'half-yearly': '6 tháng',
  yearly: 'hằng năm',
};

/** The words accepted for a campaign's kind and report cadence, with or without diacritics. */
const KIND_WORDS: Record<string, 'regular' | 'thematic' | 'special'> = {
  'thuong xuyen': 'regular',
  regular: 'regular',
  'chuyen de': 'thematic',
  'theo chuyen de': 'thematic',
  thematic: 'thematic',
  'dot xuat': 'special',
  'dac biet': 'special',
  special: 'special',
};
const CADENCE_WORDS: Record<string, Cadence | 'none'> = {
  khong: 'none',
  none: 'none',
  'hang thang': 'monthly',
  thang: 'monthly',
  'hang quy': 'quarterly',
  quy: 'quarterly',
  '6 thang': 'half-yearly',
  'sau thang': 'half-yearly',
  'nua nam': 'half-yearly',
  'hang nam': 'yearly',
  nam: 'yearly',
  ...Object.fromEntries(CADENCES.map((cadence) => [cadence, cadence])),
};

export const PLAN_MAX_TASKS = 200;
export const PLAN_MAX_UNITS = 20_000;

/** One worksheet as read: its name and its non-empty rows, numbered as the spreadsheet numbers them. */
export interface PlanSheet {
  name: string;
  rows: { row: number; cells: Cell[] }[];
}

/** A problem with the workbook: `code` names the message (console catalogue `plan.errors.<code>`). */
export interface PlanError {
  sheet: string;
  /** Absent for a sheet that is missing or has no header row. */
  row?: number | undefined;
  column?: string | undefined;
  code: string;
  values?: Record<string, string | number> | undefined;
}

export interface PlanCampaign {
  docNumber: string;
  title: string;
  theme: string | null;
  kind: 'regular' | 'thematic' | 'special';
  issuerUnitCode: string;
  startsOn: string;
  endsOn: string;
  unitCodes: string[];
  tasks: { key: string; title: string; dueOn: string }[];
  reportSchedule: { cadence: Cadence; dueDay?: number } | null;
}

/** Where each value came from, to name the row of a problem found later (an unknown unit…). */
export interface PlanRows {
  fields: Partial<Record<PlanField, number>>;
  tasks: Record<string, number>;
  units: Record<string, number>;
}

/** What a workbook names that only the organisation can confirm (checked even when other rows are wrong). */
export interface PlanReferences {
  docNumber?: string | undefined;
  issuerUnitCode?: string | undefined;
  unitCodes: string[];
}

export type PlanReading =
  | { ok: true; campaign: PlanCampaign; rows: PlanRows }
  | { ok: false; errors: PlanError[]; references: PlanReferences; rows: PlanRows };

const CODE = /^[\p{L}\p{N}_.\-/]+$/u;

/** A label or header as compared: without "*", without what follows "(", without diacritics. */
const labelKey = (text: string): string => fold(text.replace(/\*/g, '').split('(')[0] ?? '');

type Read<T> = { value: T } | { code: string; values?: Record<string, string | number> };

function readText(cell: Cell | undefined): Read<string | null> {
  switch (cell?.kind) {
    case undefined:
    case 'empty':
      return { value: null };
    case 'text': {
      const value = cell.value.normalize('NFC').replace(/\s+/g, ' ').trim();
      return { value: value === '' ? null : value };
    }
    case 'number':
      return Number.isSafeInteger(cell.value) ? { value: String(cell.value) } : { code: 'bad_text' };
    case 'formula':
      return { code: 'formula' };
    case 'error':
      return { code: 'cell_error', values: { value: cell.value } };
    default:
      return { code: 'bad_text' };
  }
}

/** An Excel date, or text as dd/mm/yyyy (d/m too) or yyyy-mm-dd: the calendar date as YYYY-MM-DD. */
export function readPlanDate(cell: Cell | undefined): Read<string | null> {
  if (cell?.kind === 'date') return { value: cell.value.toISOString().slice(0, 10) };
  const text = readText(cell);
  if (!('value' in text) || text.value === null) return text;
  const dmy = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(text.value);
  const iso = dmy ? `${dmy[3]}-${dmy[2]?.padStart(2, '0')}-${dmy[1]?.padStart(2, '0')}` : text.value;
  return isValidIsoDate(iso) ? { value: iso } : { code: 'bad_date', values: { value: text.value } };
}

class SheetReader {
  readonly errors: PlanError[] = [];
  constructor(readonly sheet: string) {}

  fail(row: number | undefined, column: string | undefined, code: string, values?: PlanError['values']) {
    this.errors.push({ sheet: this.sheet, row, column, code, ...(values ? { values } : {}) });
    return undefined;
  }

  text(row: number, column: string, cell: Cell | undefined, options: { required?: boolean; max: number }) {
    const read = readText(cell);
    if (!('value' in read)) return this.fail(row, column, read.code, read.values);
    if (read.value === null) return options.required ? this.fail(row, column, 'required') : null;
    if (read.value.length > options.max) return this.fail(row, column, 'too_long', { max: options.max });
    return read.value;
  }

  code(row: number, column: string, cell: Cell | undefined, required = true) {
    const value = this.text(row, column, cell, { required, max: 64 });
    if (value && !CODE.test(value)) return this.fail(row, column, 'bad_code', { value });
    return value;
  }

  date(row: number, column: string, cell: Cell | undefined) {
    const read = readPlanDate(cell);
    if (!('value' in read)) return this.fail(row, column, read.code, read.values);
    return read.value ?? this.fail(row, column, 'required');
  }
}

const findSheet = (sheets: PlanSheet[], key: PlanSheetKey) =>
  sheets.find((sheet) => fold(sheet.name) === fold(PLAN_SHEETS[key]));

/** The header row of a table sheet (the first of its first 10 rows naming the columns) and each column. */
function tableColumns(sheet: PlanSheet, headers: readonly string[], required: readonly string[]) {
  for (const { row, cells } of sheet.rows.slice(0, 10)) {
    const columns = new Map<string, number>();
    cells.forEach((cell, index) => {
      const header = headers.find((name) => cell.kind === 'text' && labelKey(cell.value) === labelKey(name));
      if (header && !columns.has(header)) columns.set(header, index);
    });
    if (required.every((name) => columns.has(name))) return { headerRow: row, columns };
  }
  return undefined;
}

function readPlanSheet(sheet: PlanSheet, reader: SheetReader) {
  const values: Partial<Record<PlanField, { row: number; cell: Cell | undefined }>> = {};
  for (const { row, cells } of sheet.rows) {
    const label = readText(cells[0]);
    if (!('value' in label) || label.value === null) {
      if (cells.slice(1, 2).some((cell) => cell.kind !== 'empty')) reader.fail(row, 'A', 'unknown_field');
      continue;
    }
    if (labelKey(label.value) === labelKey(PLAN_HEADER[0])) continue;
    const known = PLAN_FIELDS.find((entry) => labelKey(entry.label) === labelKey(label.value ?? ''));
    if (!known) {
      reader.fail(row, 'A', 'unknown_field', { label: label.value });
      continue;
    }
    const first = values[known.field];
    if (first) reader.fail(row, 'A', 'duplicate_field', { label: known.label, first: first.row });
    else values[known.field] = { row, cell: cells[1] };
  }
  const fields: Partial<Record<PlanField, number>> = {};
  for (const entry of PLAN_FIELDS) {
    const found = values[entry.field];
    if (found) fields[entry.field] = found.row;
    else if (entry.required) reader.fail(undefined, entry.label, 'missing_field', { label: entry.label });
  }
  return { values, fields };
}

function planFields(sheet: PlanSheet, reader: SheetReader) {
  const { values, fields } = readPlanSheet(sheet, reader);
  const label = (field: PlanField) => PLAN_FIELDS.find((entry) => entry.field === field)?.label ?? field;
  const text = (field: PlanField, max: number) => {
    const found = values[field];
    return found ? reader.text(found.row, label(field), found.cell, { required: true, max }) : undefined;
  };
  const optional = (field: PlanField, max: number) => {
    const found = values[field];
    return found ? reader.text(found.row, label(field), found.cell, { max }) : null;
  };
  const date = (field: PlanField) => {
    const found = values[field];
    return found ? reader.date(found.row, label(field), found.cell) : undefined;
  };
  const word = <T>(field: PlanField, words: Record<string, T>, code: string): T | null | undefined => {
    const value = optional(field, 100);
    if (!value) return null;
    return words[fold(value)] ?? reader.fail(fields[field], label(field), code, { value });
  };
  const issuer = values.issuerUnitCode;
  const docNumber = text('docNumber', 100);
  const title = text('title', 500);
  const theme = optional('theme', 1000);
  const kind = word('kind', KIND_WORDS, 'bad_kind');
  const issuerUnitCode = issuer ? reader.code(issuer.row, label('issuerUnitCode'), issuer.cell) : undefined;
  const startsOn = date('startsOn');
  const endsOn = date('endsOn');
  const cadence = word('cadence', CADENCE_WORDS, 'bad_cadence');
  let dueDay: number | undefined;
  const dueText = optional('dueDay', 10);
  if (dueText !== null && dueText !== undefined) {
    const parsed = /^\d{1,3}$/.test(dueText) ? Number(dueText) : undefined;
    if (parsed === undefined) reader.fail(fields.dueDay, label('dueDay'), 'bad_number', { value: dueText });
    else if (cadence === null || cadence === 'none')
      reader.fail(fields.dueDay, label('dueDay'), 'due_day_without_cadence');
    // (An unreadable cadence is reported once, as itself.)
    else if (cadence !== undefined && parsed > maxDueDays(cadence))
      reader.fail(fields.dueDay, label('dueDay'), 'due_day_too_large', { max: maxDueDays(cadence) });
    else dueDay = parsed;
  }
  if (startsOn && endsOn && startsOn > endsOn)
    reader.fail(fields.endsOn, label('endsOn'), 'ends_before_start');
  return {
    fields,
    values: { docNumber, title, theme, kind: kind ?? 'regular', issuerUnitCode, startsOn, endsOn },
    reportSchedule:
      cadence && cadence !== 'none' ? { cadence, ...(dueDay !== undefined ? { dueDay } : {}) } : null,
  };
}

function planTasks(sheet: PlanSheet, reader: SheetReader) {
  const found = tableColumns(sheet, TASK_HEADERS, TASK_HEADERS);
  if (!found)
    return reader.fail(undefined, undefined, 'missing_columns', { columns: TASK_HEADERS.join(', ') });
  const [keyHeader, titleHeader, dueHeader] = TASK_HEADERS;
  const tasks: { row: number; key: string; title: string; dueOn: string }[] = [];
  const firstRow: Record<string, number> = {};
  for (const { row, cells } of sheet.rows) {
    if (row <= found.headerRow || cells.every((cell) => cell.kind === 'empty')) continue;
    const cell = (header: string) => cells[found.columns.get(header) ?? -1];
    const key = reader.code(row, keyHeader, cell(keyHeader));
    const title = reader.text(row, titleHeader, cell(titleHeader), { required: true, max: 1000 });
    const dueOn = reader.date(row, dueHeader, cell(dueHeader));
    if (key && firstRow[key] !== undefined)
      reader.fail(row, keyHeader, 'duplicate_task_key', { value: key, first: firstRow[key] });
    else if (key) firstRow[key] = row;
    if (key && title && dueOn) tasks.push({ row, key, title, dueOn });
  }
  if (tasks.length > PLAN_MAX_TASKS)
    reader.fail(undefined, undefined, 'too_many_tasks', { max: PLAN_MAX_TASKS });
  return tasks;
}

function planUnits(sheet: PlanSheet, reader: SheetReader) {
  const [codeHeader] = UNIT_HEADERS;
  const found = tableColumns(sheet, UNIT_HEADERS, [codeHeader]);
  if (!found) return reader.fail(undefined, undefined, 'missing_columns', { columns: codeHeader });
  const units: Record<string, number> = {};
  for (const { row, cells } of sheet.rows) {
    if (row <= found.headerRow) continue;
    const cell = cells[found.columns.get(codeHeader) ?? -1];
    if (!cell || cell.kind === 'empty') continue;
    const code = reader.code(row, codeHeader, cell);
    // A unit named twice takes part once; the first row is the one named in any later problem.
    if (code && units[code] === undefined) units[code] = row;
  }
  if (Object.keys(units).length === 0) reader.fail(undefined, codeHeader, 'no_units');
  if (Object.keys(units).length > PLAN_MAX_UNITS)
    reader.fail(undefined, undefined, 'too_many_units', { max: PLAN_MAX_UNITS });
  return units;
}

/**
 * Reads a filled plan workbook: "Kế hoạch" (a label and a value per row), "Nhiệm vụ" (task code, task,
 * due date) and "Đơn vị" (participating unit codes). Every row is checked and every problem reported; a
 * campaign comes back only when there is none. Due dates outside the campaign and repeated task codes are
 * the rules of campaign-rules.ts, reported on each task's row.
 */
export function parsePlanWorkbook(sheets: PlanSheet[]): PlanReading {
  const errors: PlanError[] = [];
  const missing = (Object.keys(PLAN_SHEETS) as PlanSheetKey[]).filter((key) => !findSheet(sheets, key));
  for (const key of missing) errors.push({ sheet: PLAN_SHEETS[key], code: 'missing_sheet' });
  const [planSheet, taskSheet, unitSheet] = (['plan', 'tasks', 'units'] as const).map((key) =>
    findSheet(sheets, key),
  );
  if (!planSheet || !taskSheet || !unitSheet)
    return { ok: false, errors, references: { unitCodes: [] }, rows: { fields: {}, tasks: {}, units: {} } };

  const planReader = new SheetReader(planSheet.name);
  const taskReader = new SheetReader(taskSheet.name);
  const unitReader = new SheetReader(unitSheet.name);
  const plan = planFields(planSheet, planReader);
  const tasks = planTasks(taskSheet, taskReader) ?? [];
  const units = planUnits(unitSheet, unitReader) ?? {};
  const { startsOn, endsOn } = plan.values;
  if (startsOn && endsOn && startsOn <= endsOn) {
    for (const problem of campaignDateProblems(startsOn, endsOn, tasks))
      if (problem.code === 'task_due_outside_campaign')
        for (const task of tasks.filter((candidate) => problem.taskKeys.includes(candidate.key)))
          taskReader.fail(task.row, TASK_HEADERS[2], 'due_outside_campaign', { startsOn, endsOn });
  }
  errors.push(...planReader.errors, ...taskReader.errors, ...unitReader.errors);
  const { docNumber, title, theme, kind, issuerUnitCode } = plan.values;
  const rows: PlanRows = {
    fields: plan.fields,
    tasks: Object.fromEntries(tasks.map((task) => [task.key, task.row])),
    units,
  };
  if (errors.length > 0 || !docNumber || !title || !issuerUnitCode || !startsOn || !endsOn)
    return {
      ok: false,
      errors,
      references: {
        docNumber: docNumber ?? undefined,
        issuerUnitCode: issuerUnitCode ?? undefined,
        unitCodes: Object.keys(units),
      },
      rows,
    };
  return {
    ok: true,
    campaign: {
      docNumber,
      title,
      theme: theme ?? null,
      kind,
      issuerUnitCode,
      startsOn,
      endsOn,
      unitCodes: Object.keys(units),
      tasks: tasks.map(({ key, title: taskTitle, dueOn }) => ({ key, title: taskTitle, dueOn })),
      reportSchedule: plan.reportSchedule,
    },
    rows,
  };
}
