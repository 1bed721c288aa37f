import { randomUUID } from 'node:crypto';
import { parse as parseCsv } from 'csv-parse/sync';
import type ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import type { Db, Tx } from '../db/client.ts';
import {
  describeColumns,
  detectSheetKind,
  HEADERS,
  mapColumns,
  planImport,
  readOfficialRows,
  readUnitRows,
  REQUIRED_HEADERS,
  SHEET_NAMES,
  sheetKindByName,
  type Cell,
  type Counts,
  type ImportPlan,
  type OfficialRow,
  type RawTable,
  type RowError,
  type SheetKind,
  type UnitRow,
} from '../domain/import-rows.ts';
import { recordAudit, SYSTEM_CALLER, type Caller } from './audit.ts';
import { DomainError } from './errors.ts';
import { loadExcel } from './excel.ts';
import { importAudit } from './import-audit.ts';
import { requireAdmin } from './scope.ts';

/** Uploads above this are refused before they are read. */
export const IMPORT_MAX_BYTES = 20 * 1024 * 1024;
/** Rows per sheet; a larger organisation imports in several files. */
export const IMPORT_MAX_ROWS = 100_000;
/** Errors listed in an answer (all are counted). */
const MAX_LISTED_ERRORS = 500;
/** Rows per bulk statement. */
const BATCH = 5_000;

export interface ImportResult {
  dryRun: boolean;
  units: Counts;
  officials: Counts;
}

export interface ImportOptions {
  dryRun?: boolean | undefined;
  /** Ids of new units and officials (tests inject them); random UUIDs by default. */
  newId?: (() => string) | undefined;
  /** Who imports: an admin, whose subtree bounds every row; the audit rows are theirs. */
  caller?: Caller | undefined;
}

const invalid = (code: string, message: string, details: unknown = null) =>
  new DomainError(code, message, details);

// ---------------------------------------------------------------------------------------------------
// Reading: bytes -> tables of cells

const ZIP = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const OLE = Buffer.from([0xd0, 0xcf, 0x11, 0xe0]);

/** Reads an XLSX workbook or a CSV file into tables of cells; refuses anything else with a clear code. */
export async function readSpreadsheet(file: Buffer): Promise<RawTable[]> {
  if (file.length > IMPORT_MAX_BYTES)
    throw invalid('file_too_large', `the file is larger than ${IMPORT_MAX_BYTES / 1024 / 1024} MB`);
  if (file.length === 0) throw invalid('empty_file', 'the file is empty');
  if (file.subarray(0, 4).equals(ZIP)) return readWorkbook(file);
  if (file.subarray(0, 4).equals(OLE))
    throw invalid(
      'unsupported_format',
      'this is an old Excel file (.xls); save it as Excel Workbook (.xlsx) or CSV UTF-8',
    );
  return [readCsv(decodeText(file))];
}

/** UTF-8 (with or without BOM), UTF-16 with BOM, else the Vietnamese Windows code page (1258). */
export function decodeText(file: Buffer): string {
  if (file[0] === 0xff && file[1] === 0xfe) return file.subarray(2).toString('utf16le');
  if (file[0] === 0xfe && file[1] === 0xff) return iconv.decode(file.subarray(2), 'utf16be');
  const body = file[0] === 0xef && file[1] === 0xbb && file[2] === 0xbf ? file.subarray(3) : file;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    // Not UTF-8: a legacy Windows export. Windows-1258 is Windows-1252 with Vietnamese letters and
    // combining tone marks in place of some symbols; NFC composes the marks.
    text = iconv.decode(body, 'windows-1258');
  }
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0e-\x1f]/.test(text.slice(0, 65_536)))
    throw invalid('not_a_spreadsheet', 'the file is neither an XLSX workbook nor a CSV text file');
  return text.normalize('NFC');
}

function readCsv(text: string): RawTable {
  if (text.trim() === '') throw invalid('empty_file', 'the file has no rows');
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const delimiter = [';', '\t', ','].reduce((best, candidate) =>
    firstLine.split(candidate).length > firstLine.split(best).length ? candidate : best,
  );
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parseCsv(text, {
      delimiter,
      info: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (error) {
    throw invalid('not_a_spreadsheet', `the CSV cannot be read: ${(error as Error).message}`);
  }
  const [head, ...rest] = records;
  if (!head) throw invalid('empty_file', 'the file has no rows');
  const header = head.record.map(textCell);
  const kind = detectSheetKind(header);
  if (!kind)
    throw invalid(
      'missing_columns',
      `the first row must hold the headers of units (${describeColumns('units')}) or of officials (${describeColumns('officials')})`,
      { found: head.record },
    );
  if (rest.length > IMPORT_MAX_ROWS)
    throw invalid('too_many_rows', `more than ${IMPORT_MAX_ROWS} rows; split the file`);
  return {
    kind,
    sheet: 'CSV',
    headerRow: head.info.lines,
    header,
    rows: rest.map(({ record, info }) => ({ row: info.lines, cells: record.map(textCell) })),
  };
}

const textCell = (value: string): Cell => (value.trim() === '' ? { kind: 'empty' } : { kind: 'text', value });

/** An exceljs cell value as one of our cells: formulas, dates and errors stay recognisable. */
export function excelCell(value: ExcelJS.CellValue): Cell {
  if (value === null || value === undefined) return { kind: 'empty' };
  if (typeof value === 'string') return textCell(value);
  if (typeof value === 'number') return { kind: 'number', value };
  if (typeof value === 'boolean') return { kind: 'boolean', value };
  if (value instanceof Date) return { kind: 'date', value };
  if ('formula' in value || 'sharedFormula' in value) {
    const formula = 'formula' in value ? value.formula : value.sharedFormula;
    return { kind: 'formula', formula: String(formula) };
  }
  if ('richText' in value) return textCell(value.richText.map((part) => part.text).join(''));
  if ('error' in value) return { kind: 'error', value: String(value.error) };
  if ('text' in value) return textCell(String(value.text));
  return { kind: 'empty' };
}

async function readWorkbook(file: Buffer): Promise<RawTable[]> {
  const workbook = new (await loadExcel()).Workbook();
  try {
    await workbook.xlsx.load(file as unknown as ExcelJS.Buffer);
  } catch (error) {
    throw invalid(
      'not_a_spreadsheet',
      `the file is not a readable XLSX workbook: ${(error as Error).message}`,
    );
  }
  const tables: RawTable[] = [];
  const found = new Set<SheetKind>();
  for (const sheet of workbook.worksheets) {
    if (sheet.rowCount - 1 > IMPORT_MAX_ROWS)
      throw invalid('too_many_rows', `sheet ${sheet.name} has more than ${IMPORT_MAX_ROWS} rows; split it`);
    // The header row is the first row (within the first 10) that names a sheet's columns,
    // so a title line above the table is fine.
    let headerRow = 0;
    let header: Cell[] = [];
    let kind: SheetKind | undefined;
    for (let number = 1; number <= Math.min(10, sheet.rowCount); number++) {
      const cells = rowCells(sheet.getRow(number));
      kind = detectSheetKind(cells);
      if (kind) {
        headerRow = number;
        header = cells;
        break;
      }
    }
    const named = sheetKindByName(sheet.name);
    if (named && kind && named !== kind)
      throw invalid(
        'missing_columns',
        `sheet ${sheet.name} has the columns of the ${SHEET_NAMES[kind]} sheet`,
        { sheet: sheet.name },
      );
    kind ??= named;
    if (!kind) continue;
    if (found.has(kind))
      throw invalid('duplicate_sheet', `two sheets hold ${SHEET_NAMES[kind]}; keep one`, {
        sheet: sheet.name,
      });
    found.add(kind);
    if (headerRow === 0)
      throw invalid('missing_columns', `sheet ${sheet.name}: no header row with ${describeColumns(kind)}`, {
        sheet: sheet.name,
        missing: REQUIRED_HEADERS[kind],
      });
    const rows: RawTable['rows'] = [];
    sheet.eachRow({ includeEmpty: false }, (row, number) => {
      if (number > headerRow) rows.push({ row: number, cells: rowCells(row) });
    });
    tables.push({ kind, sheet: sheet.name, headerRow, header, rows });
  }
  if (tables.length === 0)
    throw invalid(
      'missing_columns',
      `the workbook has no sheet "${SHEET_NAMES.units}" or "${SHEET_NAMES.officials}" with their header row`,
      { sheets: workbook.worksheets.map((sheet) => sheet.name) },
    );
  return tables;
}

function rowCells(row: ExcelJS.Row): Cell[] {
  const cells: Cell[] = [];
  for (let column = 1; column <= row.cellCount; column++) cells.push(excelCell(row.getCell(column).value));
  return cells;
}

// ---------------------------------------------------------------------------------------------------
// Validating and applying

/** The rows of every table, validated one by one (the cross-row checks come in planImport). */
export function readRows(tables: RawTable[]): {
  units: UnitRow[];
  officials: OfficialRow[];
  unitSheet: string;
  officialSheet: string;
  errors: RowError[];
} {
  const result = {
    units: [] as UnitRow[],
    officials: [] as OfficialRow[],
    unitSheet: SHEET_NAMES.units,
    officialSheet: SHEET_NAMES.officials,
    errors: [] as RowError[],
  };
  for (const table of tables) {
    const { columns, missing } = mapColumns(table.kind, table.header);
    if (missing.length > 0)
      throw invalid(
        'missing_columns',
        `${table.sheet}: missing required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} in the header row (columns: ${describeColumns(table.kind)})`,
        { sheet: table.sheet, row: table.headerRow, missing },
      );
    if (table.kind === 'units') {
      const read = readUnitRows(table, columns);
      result.units = read.rows;
      result.unitSheet = table.sheet;
      result.errors.push(...read.errors);
    } else {
      const read = readOfficialRows(table, columns);
      result.officials = read.rows;
      result.officialSheet = table.sheet;
      result.errors.push(...read.errors);
    }
  }
  return result;
}

function rejectRows(errors: RowError[]): DomainError {
  return invalid(
    'import_invalid',
    `${errors.length} error${errors.length > 1 ? 's' : ''} in the file; nothing was imported`,
    { errorCount: errors.length, errors: errors.slice(0, MAX_LISTED_ERRORS) },
  );
}

/**
 * Imports units and officials from an XLSX or CSV file: every row is validated first, then all the
 * changes are written in one transaction (bulk statements), or none. Re-importing a file changes nothing.
 */
export async function importSpreadsheet(
  db: Db,
  file: Buffer,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const caller = options.caller ?? SYSTEM_CALLER;
  requireAdmin(caller.principal);
  const rows = readRows(await readSpreadsheet(file));
  const empty = rows.units.length === 0 && rows.officials.length === 0;
  if (rows.errors.length === 0 && empty) throw invalid('empty_file', 'the file has a header but no rows');
  const newId = options.newId ?? randomUUID;
  const dryRun = options.dryRun ?? false;

  return db.$transaction(
    async (tx) => {
      // The same lock as a single unit upsert: the tree does not move under us while we plan.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('unit-tree'))`;
      const [units, officials] = await Promise.all([
        tx.unit.findMany({
          select: { id: true, code: true, name: true, parentId: true, path: true, blockCodes: true },
        }),
        tx.official.findMany({
          select: { id: true, code: true, name: true, unitId: true, role: true, phone: true },
        }),
      ]);
      const { errors, plan } = planImport(
        rows,
        { units, officials },
        newId,
        caller.principal.root?.path ?? null,
      );
      const rank = (sheet: string) => (sheet === rows.unitSheet ? 0 : 1);
      const allErrors = [...rows.errors, ...errors].sort(
        (a, b) => rank(a.sheet) - rank(b.sheet) || a.row - b.row,
      );
      if (allErrors.length > 0 || !plan) throw rejectRows(allErrors);
      if (!dryRun) {
        const createdOfficialIds = await applyPlan(tx, plan, newId);
        for (const batch of chunks(importAudit(plan, { units, officials }, createdOfficialIds, caller)))
          await recordAudit(tx, ...batch);
      }
      return { dryRun, units: plan.counts.units, officials: plan.counts.officials };
    },
    { timeout: 120_000, maxWait: 30_000 },
  );
}

function chunks<T>(items: T[]): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += BATCH) result.push(items.slice(start, start + BATCH));
  return result;
}

/** One INSERT or UPDATE … FROM unnest(…) per batch of rows. Answers the ids of the officials created. */
async function applyPlan(tx: Tx, plan: ImportPlan, newId: () => string): Promise<string[]> {
  const createdOfficialIds = plan.createOfficials.map(() => newId());
  // Raw INSERT … unnest: Prisma's createMany costs about ten times more for thousands of rows.
  for (const batch of chunks(plan.createUnits)) {
    await tx.$executeRaw`
      INSERT INTO "Unit" (id, code, name, "parentId", path, "blockCodes", "updatedAt")
      SELECT v.id, v.code, v.name, v.parent_id, v.path, ARRAY(SELECT jsonb_array_elements_text(v.blocks)), now()
      FROM unnest(${batch.map((u) => u.id)}::uuid[], ${batch.map((u) => u.code)}::text[],
                  ${batch.map((u) => u.name)}::text[], ${batch.map((u) => u.parentId)}::uuid[],
                  ${batch.map((u) => u.path)}::text[], ${batch.map((u) => JSON.stringify(u.blockCodes))}::jsonb[])
        AS v(id, code, name, parent_id, path, blocks)`;
  }
  for (const batch of chunks(plan.updateUnits)) {
    // Arrays of arrays cannot be unnested into rows; block codes travel as JSON arrays.
    await tx.$executeRaw`
      UPDATE "Unit" AS u
      SET name = v.name, "parentId" = v.parent_id, path = v.path,
          "blockCodes" = ARRAY(SELECT jsonb_array_elements_text(v.blocks)), "updatedAt" = now()
      FROM unnest(${batch.map((u) => u.id)}::uuid[], ${batch.map((u) => u.name)}::text[],
                  ${batch.map((u) => u.parentId)}::uuid[], ${batch.map((u) => u.path)}::text[],
                  ${batch.map((u) => JSON.stringify(u.blockCodes))}::jsonb[])
        AS v(id, name, parent_id, path, blocks)
      WHERE u.id = v.id`;
  }
  for (const [index, batch] of chunks(plan.createOfficials).entries()) {
    const ids = createdOfficialIds.slice(index * BATCH, (index + 1) * BATCH);
    await tx.$executeRaw`
      INSERT INTO "Official" (id, code, name, "unitId", role, phone, "updatedAt")
      SELECT v.id, v.code, v.name, v.unit_id, v.role::"Role", v.phone, now()
      FROM unnest(${ids}::uuid[], ${batch.map((o) => o.code)}::text[],
                  ${batch.map((o) => o.name)}::text[], ${batch.map((o) => o.unitId)}::uuid[],
                  ${batch.map((o) => o.role)}::text[], ${batch.map((o) => o.phone)}::text[])
        AS v(id, code, name, unit_id, role, phone)`;
  }
  for (const batch of chunks(plan.updateOfficials)) {
    await tx.$executeRaw`
      UPDATE "Official" AS o
      SET name = v.name, "unitId" = v.unit_id, role = v.role::"Role", phone = v.phone, "updatedAt" = now()
      FROM unnest(${batch.map((o) => o.id ?? '')}::uuid[], ${batch.map((o) => o.name)}::text[],
                  ${batch.map((o) => o.unitId)}::uuid[], ${batch.map((o) => o.role)}::text[],
                  ${batch.map((o) => o.phone)}::text[])
        AS v(id, name, unit_id, role, phone)
      WHERE o.id = v.id`;
  }
  return createdOfficialIds;
}

// ---------------------------------------------------------------------------------------------------
// The template

export interface TemplateExamples {
  unit: { code: string; name: string; parentCode: string | null; blockCodes: string[] };
  official: { code: string; name: string; unitCode: string; role: string; phone: string | null };
}

/** The import template: two sheets with the exact headers, one example row each, header row frozen. */
export async function buildImportTemplate(examples: TemplateExamples): Promise<Buffer> {
  const workbook = new (await loadExcel()).Workbook();
  workbook.creator = 'thidua-bot';
  const addSheet = (kind: SheetKind, widths: number[], example: (string | null)[]) => {
    const sheet = workbook.addWorksheet(SHEET_NAMES[kind], { views: [{ state: 'frozen', ySplit: 1 }] });
    sheet.columns = HEADERS[kind].map((header, index) => ({
      header,
      width: widths[index] ?? 20,
      // Codes and phone numbers as text, so Excel keeps leading zeros and never makes dates of them.
      style: { numFmt: '@' },
    }));
    sheet.getRow(1).font = { bold: true };
    sheet.addRow(example);
    return sheet;
  };
  addSheet(
    'units',
    [18, 40, 22, 24],
    [
      examples.unit.code,
      examples.unit.name,
      examples.unit.parentCode,
      examples.unit.blockCodes.join(', ') || null,
    ],
  );
  const officials = addSheet(
    'officials',
    [18, 30, 18, 16, 16],
    [
      examples.official.code,
      examples.official.name,
      examples.official.unitCode,
      examples.official.role,
      examples.official.phone,
    ],
  );
  // exceljs supports range validations at run time but does not declare them.
  const validations = (
    officials as unknown as {
      dataValidations: { add(range: string, validation: ExcelJS.DataValidation): void };
    }
  ).dataValidations;
  validations.add('D2:D100000', {
    type: 'list',
    allowBlank: false,
    formulae: ['"thành viên,đầu mối,lãnh đạo,quản trị"'],
    showErrorMessage: true,
    errorTitle: 'Vai trò',
    error: 'Chọn: thành viên, đầu mối, lãnh đạo hoặc quản trị',
  });
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
