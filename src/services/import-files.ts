import { parse as parseCsv } from 'csv-parse/sync';
import type ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import {
  detectSheetKind,
  describeColumns,
  REQUIRED_HEADERS,
  SHEET_NAMES,
  sheetKindByName,
  type Cell,
  type RawTable,
  type SheetKind,
} from '../domain/import-rows.ts';
import { DomainError } from './errors.ts';
import { loadExcel } from './excel.ts';

/*
 * The organisation import's files: the bytes of an XLSX workbook or a CSV file read into tables of cells
 * (services/import.ts validates and applies them).
 */

/** Uploads above this are refused before they are read. */
export const IMPORT_MAX_BYTES = 20 * 1024 * 1024;
/** Rows per sheet; a larger organisation imports in several files. */
export const IMPORT_MAX_ROWS = 100_000;

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
