import type ExcelJS from 'exceljs';
import type { Queryable } from '../db/client.ts';
import {
  CADENCE_LABELS,
  KIND_LABELS,
  parsePlanWorkbook,
  PLAN_FIELDS,
  PLAN_HEADER,
  PLAN_SHEETS,
  TASK_HEADERS,
  UNIT_HEADERS,
  type PlanCampaign,
  type PlanError,
  type PlanRows,
  type PlanSheet,
} from '../domain/plan-workbook.ts';
import { DEFAULT_DUE_DAYS } from '../domain/policy.ts';
import { dateFromIso, formatDate } from '../domain/time.ts';
import type { Caller } from './audit.ts';
import { campaignProblems, campaignReferenceProblems, type CampaignInput } from './campaigns.ts';
import { DomainError } from './errors.ts';
import { loadExcel } from './excel.ts';
import { excelCell } from './import.ts';
import { requireAdmin } from './scope.ts';

/** A plan workbook is a few sheets of text: anything larger is not one. */
export const PLAN_MAX_BYTES = 5 * 1024 * 1024;
const ROWS_MAX = 25_000;
const ZIP = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

export type PlanPreview =
  | {
      ok: true;
      campaign: PlanCampaign;
      issuer: { code: string; name: string };
      units: { code: string; name: string }[];
    }
  | { ok: false; errors: PlanError[] };

/** The worksheets of an XLSX file as rows of cells (a file that is no workbook is refused). */
export async function readPlanSheets(file: Buffer): Promise<PlanSheet[]> {
  if (file.length === 0) throw new DomainError('empty_file', 'the file is empty');
  if (file.length > PLAN_MAX_BYTES)
    throw new DomainError('file_too_large', `the file is larger than ${PLAN_MAX_BYTES / 1024 / 1024} MB`);
  if (!file.subarray(0, 4).equals(ZIP))
    throw new DomainError('not_a_workbook', 'the file is not an Excel workbook (.xlsx)');
  const workbook = new (await loadExcel()).Workbook();
  try {
    await workbook.xlsx.load(file as unknown as ExcelJS.Buffer);
  } catch {
    throw new DomainError('not_a_workbook', 'the file is not a readable Excel workbook (.xlsx)');
  }
  return workbook.worksheets.map((sheet) => {
    if (sheet.rowCount > ROWS_MAX)
      throw new DomainError('too_many_rows', `sheet ${sheet.name} has more than ${ROWS_MAX} rows`);
    const rows: PlanSheet['rows'] = [];
    sheet.eachRow({ includeEmpty: false }, (row, number) => {
      const cells = [];
      for (let column = 1; column <= row.cellCount; column++)
        cells.push(excelCell(row.getCell(column).value));
      rows.push({ row: number, cells });
    });
    return { name: sheet.name, rows };
  });
}

/** A reason the service gave for refusing the campaign, on the row that holds the value it names. */
function problemRows(problem: DomainError, rows: PlanRows): PlanError[] {
  const details = (problem.details ?? {}) as { taskKeys?: string[]; unitCodes?: string[] };
  const label = (field: (typeof PLAN_FIELDS)[number]['field']) =>
    PLAN_FIELDS.find((entry) => entry.field === field)?.label;
  const onField = (field: (typeof PLAN_FIELDS)[number]['field'], code: string): PlanError => ({
    sheet: PLAN_SHEETS.plan,
    row: rows.fields[field],
    column: label(field),
    code,
  });
  switch (problem.code) {
    case 'unknown_units':
      return (details.unitCodes ?? []).map((code) => ({
        sheet: PLAN_SHEETS.units,
        row: rows.units[code],
        column: UNIT_HEADERS[0],
        code: 'unknown_unit',
        values: { value: code },
      }));
    case 'task_due_outside_campaign':
    case 'duplicate_task_key':
      return (details.taskKeys ?? []).map((key) => ({
        sheet: PLAN_SHEETS.tasks,
        row: rows.tasks[key],
        column: problem.code === 'duplicate_task_key' ? TASK_HEADERS[0] : TASK_HEADERS[2],
        code: problem.code === 'duplicate_task_key' ? 'duplicate_task_key' : 'due_outside_campaign',
        values: { value: key },
      }));
    case 'unknown_issuer':
      return [onField('issuerUnitCode', 'unknown_issuer')];
    case 'duplicate_doc_number':
      return [onField('docNumber', 'duplicate_doc_number')];
    case 'invalid_dates':
      return [onField('endsOn', 'ends_before_start')];
    default:
      return [{ sheet: PLAN_SHEETS.plan, code: problem.code }];
  }
}

/**
 * Reads a filled plan workbook and says what would be created from it, or every problem with it (each on
 * its sheet and row): the workbook's own rows first, then what createCampaign would refuse (unknown units or
 * issuer, a number already used). Nothing is saved; only an admin may ask.
 */
export async function previewPlanWorkbook(db: Queryable, file: Buffer, caller: Caller): Promise<PlanPreview> {
  requireAdmin(caller.principal);
  const reading = parsePlanWorkbook(await readPlanSheets(file));
  if (!reading.ok) {
    // The units and issuer it names are checked too, so one upload lists every problem.
    const references = await campaignReferenceProblems(db, reading.references, caller);
    return {
      ok: false,
      errors: [...reading.errors, ...references.flatMap((p) => problemRows(p, reading.rows))],
    };
  }
  const input: CampaignInput = reading.campaign;
  const problems = await campaignProblems(db, input, caller);
  if (problems.length > 0)
    return { ok: false, errors: problems.flatMap((p) => problemRows(p, reading.rows)) };
  const units = await db.unit.findMany({
    where: { code: { in: [input.issuerUnitCode, ...input.unitCodes] } },
    select: { code: true, name: true, path: true },
  });
  const byCode = new Map(units.map((unit) => [unit.code, unit]));
  const named = (code: string) => ({ code, name: byCode.get(code)?.name ?? code });
  return {
    ok: true,
    campaign: reading.campaign,
    issuer: named(input.issuerUnitCode),
    units: input.unitCodes
      .map(named)
      .sort((a, b) => (byCode.get(a.code)?.path ?? '').localeCompare(byCode.get(b.code)?.path ?? '')),
  };
}

/**
 * The plan workbook's template: sheet "Kế hoạch" with every field's label, an example value and a note,
 * "Nhiệm vụ" and "Đơn vị" with their headers and example rows; headers frozen, codes and dates as text.
 */
export async function buildPlanTemplate(
  example: PlanCampaign,
  unitNames: Record<string, string>,
): Promise<Buffer> {
  const workbook = new (await loadExcel()).Workbook();
  workbook.creator = 'thidua-bot';
  const bold = (sheet: ExcelJS.Worksheet) => (sheet.getRow(1).font = { bold: true });
  const cadence = example.reportSchedule?.cadence ?? 'none';
  const date = (iso: string) => formatDate(dateFromIso(iso));
  const examples: Record<string, [string | null, string]> = {
    docNumber: [example.docNumber, 'Bắt buộc; số, ký hiệu văn bản phát động'],
    title: [example.title, 'Bắt buộc'],
    theme: [example.theme ?? null, 'Không bắt buộc'],
    kind: [KIND_LABELS[example.kind], Object.values(KIND_LABELS).join(', ')],
    issuerUnitCode: [example.issuerUnitCode, 'Bắt buộc; mã đơn vị trong cây tổ chức'],
    startsOn: [date(example.startsOn), 'Bắt buộc; ngày/tháng/năm'],
    endsOn: [date(example.endsOn), 'Bắt buộc; ngày/tháng/năm'],
    cadence: [
      CADENCE_LABELS[cadence],
      `${Object.values(CADENCE_LABELS).join(', ')} (kỳ chốt theo Nghị định 09/2019/NĐ-CP)`,
    ],
    dueDay: [
      example.reportSchedule?.dueDay === undefined ? null : String(example.reportSchedule.dueDay),
      `Số ngày sau ngày chốt kỳ; để trống: ${DEFAULT_DUE_DAYS} ngày`,
    ],
  };
  const plan = workbook.addWorksheet(PLAN_SHEETS.plan, { views: [{ state: 'frozen', ySplit: 1 }] });
  plan.columns = [
    { header: PLAN_HEADER[0], width: 36 },
    { header: PLAN_HEADER[1], width: 70, style: { numFmt: '@', alignment: { wrapText: true } } },
    { header: PLAN_HEADER[2], width: 50 },
  ];
  for (const entry of PLAN_FIELDS) {
    const [value, note] = examples[entry.field] ?? [null, ''];
    plan.addRow([entry.required ? `${entry.label} *` : entry.label, value, note]);
  }
  bold(plan);
  const tasks = workbook.addWorksheet(PLAN_SHEETS.tasks, { views: [{ state: 'frozen', ySplit: 1 }] });
  tasks.columns = TASK_HEADERS.map((header, index) => ({
    header,
    width: [16, 80, 18][index] ?? 20,
    style: { numFmt: '@' },
  }));
  for (const task of example.tasks) tasks.addRow([task.key, task.title, date(task.dueOn)]);
  bold(tasks);
  const units = workbook.addWorksheet(PLAN_SHEETS.units, { views: [{ state: 'frozen', ySplit: 1 }] });
  units.columns = UNIT_HEADERS.map((header, index) => ({
    header,
    width: [20, 50][index] ?? 20,
    style: { numFmt: '@' },
  }));
  for (const code of example.unitCodes) units.addRow([code, unitNames[code] ?? null]);
  bold(units);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
