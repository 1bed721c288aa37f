/**
 * The organisation import's first step, as pure functions: spreadsheet cells -> validated rows (each row
 * on its own; the rows against each other and the database are import-rows.ts). Nothing here reads a file.
 */

/** One spreadsheet cell, as the reader found it (CSV cells are always text). */
export type Cell =
  | { kind: 'empty' }
  | { kind: 'text'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'date'; value: Date }
  | { kind: 'formula'; formula: string }
  | { kind: 'error'; value: string };

export type SheetKind = 'units' | 'officials';
export type OfficialRole = 'member' | 'focal' | 'leader' | 'admin';

/** Sheet names of the workbook and the exact column headers of each sheet (any order, any case). */
export const SHEET_NAMES: Record<SheetKind, string> = { units: 'Đơn vị', officials: 'Cán bộ' };
export const UNIT_HEADERS = ['mã đơn vị', 'tên đơn vị', 'mã đơn vị cấp trên', 'khối thi đua'] as const;
export const OFFICIAL_HEADERS = ['mã cán bộ', 'họ tên', 'mã đơn vị', 'vai trò', 'điện thoại'] as const;
export const HEADERS: Record<SheetKind, readonly string[]> = {
  units: UNIT_HEADERS,
  officials: OFFICIAL_HEADERS,
};
/**
 * Columns a sheet may leave out: what they hold is often not at hand when a list is exported from another
 * system. Without the column the stored values are kept (a new row has none); an empty cell clears them.
 */
export const OPTIONAL_HEADERS: Record<SheetKind, readonly string[]> = {
  units: ['khối thi đua'],
  officials: ['điện thoại'],
};
/** The columns a sheet must have. */
export const REQUIRED_HEADERS: Record<SheetKind, readonly string[]> = {
  units: UNIT_HEADERS.filter((name) => !OPTIONAL_HEADERS.units.includes(name)),
  officials: OFFICIAL_HEADERS.filter((name) => !OPTIONAL_HEADERS.officials.includes(name)),
};
/**
 * Columns a sheet may have besides the template's: "sáp nhập vào" names the code of the unit a unit of the
 * units sheet is merged into (import-merges.ts).
 */
export const MERGE_INTO_HEADER = 'sáp nhập vào';
export const EXTRA_HEADERS: Record<SheetKind, readonly string[]> = {
  units: [MERGE_INTO_HEADER],
  officials: [],
};

/** Rows read from one sheet (or one CSV file); `row` numbers are the spreadsheet's own, from 1. */
export interface RawTable {
  kind: SheetKind;
  sheet: string;
  headerRow: number;
  header: Cell[];
  rows: { row: number; cells: Cell[] }[];
}

export interface RowError {
  sheet: string;
  row: number;
  column?: string | undefined;
  code: string;
  message: string;
}

export interface UnitRow {
  row: number;
  code: string;
  name: string;
  parentCode: string | null;
  /** Undefined when the sheet has no "khối thi đua" column: the stored blocks are kept. */
  blockCodes: string[] | undefined;
  /** The code of the unit this one is merged into ("sáp nhập vào"); null or absent: none. */
  mergeInto?: string | null;
}

export interface OfficialRow {
  row: number;
  code: string;
  name: string;
  unitCode: string;
  role: OfficialRole;
  /** Undefined when the sheet has no "điện thoại" column: the stored phone is kept. */
  phone: string | null | undefined;
}

const CODE = /^[\p{L}\p{N}_.\-/]+$/u;
const PHONE = /^\+?[0-9 .-]{8,20}$/;

/** Lower case, NFC, single spaces, without the "*" some templates put on required columns. */
export function normaliseHeader(text: string): string {
  return text.normalize('NFC').replace(/\*/g, '').replace(/\s+/g, ' ').trim().toLowerCase();
}

/** Without diacritics (đ -> d), lower case: for matching words people type in many ways. */
export function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

/** Which sheet a header row belongs to: officials have "mã cán bộ"; units have "tên đơn vị". */
export function detectSheetKind(header: Cell[]): SheetKind | undefined {
  const names = new Set(header.map((cell) => (cell.kind === 'text' ? normaliseHeader(cell.value) : '')));
  if (names.has('mã cán bộ')) return 'officials';
  if (names.has('tên đơn vị') || names.has('mã đơn vị cấp trên')) return 'units';
  return undefined;
}

/** Which sheet a worksheet's name designates ("Đơn vị", "don vi", "Cán bộ", "CAN BO"…). */
export function sheetKindByName(name: string): SheetKind | undefined {
  const folded = fold(name);
  if (folded === fold(SHEET_NAMES.units)) return 'units';
  if (folded === fold(SHEET_NAMES.officials)) return 'officials';
  return undefined;
}

/** The columns of a sheet as an error message lists them: "mã cán bộ, …, vai trò; optional: điện thoại". */
export function describeColumns(kind: SheetKind): string {
  return `${REQUIRED_HEADERS[kind].join(', ')}; optional: ${[...OPTIONAL_HEADERS[kind], ...EXTRA_HEADERS[kind]].join(', ')}`;
}

/** Column index of every expected header found (and extra one present), and the required headers missing. */
export function mapColumns(
  kind: SheetKind,
  header: Cell[],
): { columns: Map<string, number>; missing: string[] } {
  const columns = new Map<string, number>();
  header.forEach((cell, index) => {
    if (cell.kind !== 'text') return;
    const name = normaliseHeader(cell.value);
    const known = HEADERS[kind].includes(name) || EXTRA_HEADERS[kind].includes(name);
    if (known && !columns.has(name)) columns.set(name, index);
  });
  return { columns, missing: REQUIRED_HEADERS[kind].filter((name) => !columns.has(name)) };
}

const ROLE_WORDS: Record<string, OfficialRole> = {
  member: 'member',
  'thanh vien': 'member',
  'can bo': 'member',
  focal: 'focal',
  'dau moi': 'focal',
  'can bo dau moi': 'focal',
  leader: 'leader',
  'lanh dao': 'leader',
  admin: 'admin',
  'quan tri': 'admin',
  'quan tri vien': 'admin',
};

/** "đầu mối", "Dau moi", "focal" -> focal; undefined when the word is not a role. */
export function parseRole(text: string): OfficialRole | undefined {
  return ROLE_WORDS[fold(text)];
}

type Read<T> = { ok: true; value: T } | { ok: false; code: string; message: string };
const fail = (code: string, message: string): { ok: false; code: string; message: string } => ({
  ok: false,
  code,
  message,
});

/** The text of a cell where text is expected; integers are accepted (codes typed as numbers). */
function readText(cell: Cell | undefined): Read<string | null> {
  if (!cell) return { ok: true, value: null };
  switch (cell.kind) {
    case 'empty':
      return { ok: true, value: null };
    case 'text': {
      const value = cell.value.normalize('NFC').replace(/\s+/g, ' ').trim();
      if (value.startsWith('=')) return fail('formula', 'a formula; paste the values instead');
      return { ok: true, value: value === '' ? null : value };
    }
    case 'number':
      return Number.isSafeInteger(cell.value)
        ? { ok: true, value: String(cell.value) }
        : fail('number_not_text', `the number ${cell.value} where text is expected`);
    case 'date':
      return fail('date_not_text', 'an Excel date where text is expected; format the column as Text');
    case 'formula':
      return fail('formula', `a formula (=${cell.formula}); paste the values instead`);
    case 'boolean':
      return fail('boolean_not_text', 'TRUE/FALSE where text is expected');
    case 'error':
      return fail('cell_error', `the cell shows the error ${cell.value}`);
  }
}

/** A phone number cell: a number loses its leading 0 in Excel, so 9 digits get it back. */
function readPhone(cell: Cell | undefined): Read<string | null> {
  if (cell?.kind === 'number' && Number.isSafeInteger(cell.value) && cell.value > 0) {
    const digits = String(cell.value);
    return { ok: true, value: digits.length === 9 ? `0${digits}` : digits };
  }
  return readText(cell);
}

class RowReader {
  readonly errors: RowError[] = [];
  constructor(
    private readonly table: RawTable,
    private readonly columns: Map<string, number>,
    private readonly row: { row: number; cells: Cell[] },
  ) {}

  private error(column: string, code: string, message: string): undefined {
    this.errors.push({ sheet: this.table.sheet, row: this.row.row, column, code, message });
    return undefined;
  }

  private cell(column: string): Cell | undefined {
    const index = this.columns.get(column);
    return index === undefined ? undefined : this.row.cells[index];
  }

  text(column: string, options: { required: boolean; max: number; code?: boolean }): string | null {
    const read = readText(this.cell(column));
    if (!read.ok) return this.error(column, read.code, `${column}: ${read.message}`) ?? null;
    const value = read.value;
    if (value === null) {
      if (options.required) this.error(column, 'required', `${column} is required`);
      return null;
    }
    if (value.length > options.max)
      return this.error(column, 'too_long', `${column} is longer than ${options.max} characters`) ?? null;
    if (options.code && !CODE.test(value))
      return (
        this.error(column, 'bad_code', `${column} "${value}": letters, digits, _ . - / only (no spaces)`) ??
        null
      );
    return value;
  }

  codes(column: string): string[] {
    const value = this.text(column, { required: false, max: 2000 });
    if (value === null) return [];
    const codes = [
      ...new Set(
        value
          .split(/[,;\n]/)
          .map((part) => part.trim())
          .filter(Boolean),
      ),
    ];
    const bad = codes.filter((code) => code.length > 64 || !CODE.test(code));
    if (bad.length > 0)
      this.error(column, 'bad_code', `${column}: not codes: ${bad.join(', ')} (separate codes with commas)`);
    if (codes.length > 50) this.error(column, 'too_many', `${column}: at most 50 codes`);
    return codes;
  }

  role(column: string): OfficialRole | undefined {
    const value = this.text(column, { required: true, max: 64 });
    if (value === null) return undefined;
    const role = parseRole(value);
    if (!role)
      this.error(
        column,
        'bad_role',
        `${column} "${value}": expected thành viên, đầu mối, lãnh đạo, quản trị (or member, focal, leader, admin)`,
      );
    return role;
  }

  phone(column: string): string | null {
    const read = readPhone(this.cell(column));
    if (!read.ok) return this.error(column, read.code, `${column}: ${read.message}`) ?? null;
    if (read.value !== null && !PHONE.test(read.value))
      return this.error(column, 'bad_phone', `${column} "${read.value}" is not a phone number`) ?? null;
    return read.value;
  }
}

const isBlank = (cells: Cell[]) =>
  cells.every((cell) => cell.kind === 'empty' || (cell.kind === 'text' && cell.value.trim() === ''));

/** Validates the rows of a units table; rows with any error are left out of `rows`. */
export function readUnitRows(
  table: RawTable,
  columns: Map<string, number>,
): { rows: UnitRow[]; errors: RowError[] } {
  const rows: UnitRow[] = [];
  const errors: RowError[] = [];
  for (const raw of table.rows) {
    if (isBlank(raw.cells)) continue;
    const reader = new RowReader(table, columns, raw);
    const code = reader.text('mã đơn vị', { required: true, max: 64, code: true });
    const name = reader.text('tên đơn vị', { required: true, max: 300 });
    const parentCode = reader.text('mã đơn vị cấp trên', { required: false, max: 64, code: true });
    const blockCodes = columns.has('khối thi đua') ? reader.codes('khối thi đua') : undefined;
    // Only a sheet with the column says anything of merges (as blocks and phones, read only when present).
    const mergeInto = columns.has(MERGE_INTO_HEADER)
      ? reader.text(MERGE_INTO_HEADER, { required: false, max: 64, code: true })
      : undefined;
    errors.push(...reader.errors);
    if (reader.errors.length === 0 && code !== null && name !== null)
      rows.push({
        row: raw.row,
        code,
        name,
        parentCode,
        blockCodes,
        ...(mergeInto === undefined ? {} : { mergeInto }),
      });
  }
  return { rows, errors };
}

/** Validates the rows of an officials table; rows with any error are left out of `rows`. */
export function readOfficialRows(
  table: RawTable,
  columns: Map<string, number>,
): { rows: OfficialRow[]; errors: RowError[] } {
  const rows: OfficialRow[] = [];
  const errors: RowError[] = [];
  for (const raw of table.rows) {
    if (isBlank(raw.cells)) continue;
    const reader = new RowReader(table, columns, raw);
    const code = reader.text('mã cán bộ', { required: true, max: 64, code: true });
    const name = reader.text('họ tên', { required: true, max: 200 });
    const unitCode = reader.text('mã đơn vị', { required: true, max: 64, code: true });
    const role = reader.role('vai trò');
    const phone = columns.has('điện thoại') ? reader.phone('điện thoại') : undefined;
    errors.push(...reader.errors);
    if (reader.errors.length === 0 && code !== null && name !== null && unitCode !== null && role)
      rows.push({ row: raw.row, code, name, unitCode, role, phone });
  }
  return { rows, errors };
}
