/**
 * The organisation import, as pure functions: spreadsheet cells -> validated rows -> a plan of bulk
 * changes against what the database holds. Nothing here reads a file or a database; the service
 * (services/import.ts) reads the workbook or CSV into `RawTable`s and applies the plan.
 */
import { isWithin, unitPath } from './unit-tree.ts';

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
  return `${REQUIRED_HEADERS[kind].join(', ')}; optional: ${OPTIONAL_HEADERS[kind].join(', ')}`;
}

/** Column index of every expected header found, and the required headers that are missing. */
export function mapColumns(
  kind: SheetKind,
  header: Cell[],
): { columns: Map<string, number>; missing: string[] } {
  const columns = new Map<string, number>();
  header.forEach((cell, index) => {
    if (cell.kind !== 'text') return;
    const name = normaliseHeader(cell.value);
    if (HEADERS[kind].includes(name) && !columns.has(name)) columns.set(name, index);
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
    errors.push(...reader.errors);
    if (reader.errors.length === 0 && code !== null && name !== null)
      rows.push({ row: raw.row, code, name, parentCode, blockCodes });
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

export interface ExistingUnit {
  id: string;
  code: string;
  name: string;
  parentId: string | null;
  path: string;
  blockCodes: string[];
}

export interface ExistingOfficial {
  id: string;
  code: string;
  name: string;
  unitId: string;
  role: OfficialRole;
  phone: string | null;
}

export interface UnitWrite {
  id: string;
  code: string;
  name: string;
  parentId: string | null;
  path: string;
  blockCodes: string[];
}

export interface OfficialWrite {
  id: string | undefined;
  code: string;
  name: string;
  unitId: string;
  role: OfficialRole;
  phone: string | null;
}

export interface Counts {
  created: number;
  updated: number;
  unchanged: number;
}

export interface ImportPlan {
  /** New units, parents before children. */
  createUnits: UnitWrite[];
  /** Units of the file that change, and units outside the file whose path changes with a moved ancestor. */
  updateUnits: UnitWrite[];
  createOfficials: OfficialWrite[];
  updateOfficials: OfficialWrite[];
  counts: { units: Counts; officials: Counts };
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Checks the rows against each other and against what exists (duplicates, unknown parents and units,
 * cycles) and works out every write. Parents may come after their children in the file; a unit of the
 * file keeps its id, so a moved unit carries its subtree (paths recomputed) as a single upsert does.
 */
export function planImport(
  input: { units: UnitRow[]; officials: OfficialRow[]; unitSheet: string; officialSheet: string },
  existing: { units: ExistingUnit[]; officials: ExistingOfficial[] },
  newId: () => string,
  scopePath: string | null = null,
): { errors: RowError[]; plan: ImportPlan | undefined } {
  // An importer whose scope is a subtree (scopePath) sees nothing outside it: a parent or unit there is
  // unknown to them, and a row that would change or place anything there is refused.
  const inScope = (path: string) => scopePath === null || isWithin(path, scopePath);
  const outOfScope = (what: string) =>
    `${what} is outside your part of the organisation: only units and officials of your subtree can be imported`;
  const errors: RowError[] = [];
  const unitError = (row: number, column: string, code: string, message: string) =>
    errors.push({ sheet: input.unitSheet, row, column, code, message });

  // Duplicates within the file: the first row wins, later ones are errors.
  const fileUnits = new Map<string, UnitRow>();
  for (const row of input.units) {
    const first = fileUnits.get(row.code);
    if (first)
      unitError(
        row.row,
        'mã đơn vị',
        'duplicate_code',
        `mã đơn vị ${row.code} already appears on row ${first.row}`,
      );
    else fileUnits.set(row.code, row);
  }

  const byCode = new Map(existing.units.map((unit) => [unit.code, unit]));
  const codeById = new Map(existing.units.map((unit) => [unit.id, unit.code]));
  const idOf = new Map<string, string>();
  for (const unit of existing.units) idOf.set(unit.code, unit.id);
  for (const code of fileUnits.keys()) if (!idOf.has(code)) idOf.set(code, newId());

  // The tree after the import: the file's parent for the file's units, the stored one for the others.
  const parentOf = new Map<string, string | null>();
  for (const unit of existing.units)
    parentOf.set(unit.code, unit.parentId ? (codeById.get(unit.parentId) ?? null) : null);
  const storedById = new Map(existing.units.map((unit) => [unit.id, unit]));
  const hiddenParent = (row: UnitRow) => {
    if (row.parentCode === null || fileUnits.has(row.parentCode)) return false;
    const parent = byCode.get(row.parentCode);
    // Its own current parent is fine (renaming the root of one's subtree).
    return parent !== undefined && !inScope(parent.path) && byCode.get(row.code)?.parentId !== parent.id;
  };
  for (const row of fileUnits.values()) {
    if (row.parentCode !== null && (!idOf.has(row.parentCode) || hiddenParent(row))) {
      unitError(
        row.row,
        'mã đơn vị cấp trên',
        'unknown_parent',
        `mã đơn vị cấp trên ${row.parentCode} is neither in the file nor in the database`,
      );
      parentOf.set(row.code, null);
      continue;
    }
    if (row.parentCode === row.code) {
      unitError(row.row, 'mã đơn vị cấp trên', 'cycle', `unit ${row.code} cannot be its own parent`);
      parentOf.set(row.code, null);
      continue;
    }
    parentOf.set(row.code, row.parentCode);
  }

  // Cycles: walk up from every unit; a walk that meets itself is a cycle, reported on the file's rows.
  const state = new Map<string, 'walking' | 'done'>();
  const inCycle = new Set<string>();
  for (const start of parentOf.keys()) {
    const chain: string[] = [];
    let code: string | null = start;
    while (code !== null && !state.has(code)) {
      state.set(code, 'walking');
      chain.push(code);
      code = parentOf.get(code) ?? null;
    }
    if (code !== null && state.get(code) === 'walking')
      for (const member of chain.slice(chain.indexOf(code))) inCycle.add(member);
    for (const member of chain) state.set(member, 'done');
  }
  for (const code of inCycle) {
    const row = fileUnits.get(code);
    if (row)
      unitError(
        row.row,
        'mã đơn vị cấp trên',
        'cycle',
        `unit ${code} would be placed under itself or its own descendant`,
      );
    parentOf.set(code, null);
  }

  // Materialised paths of the whole tree after the import, computed top-down.
  const paths = new Map<string, string>();
  const pathOf = (code: string): string => {
    const chain: string[] = [];
    let current: string | null = code;
    while (current !== null && !paths.has(current)) {
      chain.push(current);
      current = parentOf.get(current) ?? null;
    }
    let parentPath = current === null ? null : (paths.get(current) ?? null);
    for (const member of chain.reverse()) {
      const path = unitPath(parentPath, idOf.get(member) ?? '');
      paths.set(member, path);
      parentPath = path;
    }
    return paths.get(code) ?? '';
  };

  const createUnits: UnitWrite[] = [];
  const updateUnits: UnitWrite[] = [];
  const unitCounts: Counts = { created: 0, updated: 0, unchanged: 0 };
  const rowsInError = new Set(errors.map((error) => error.row));
  for (const row of fileUnits.values()) {
    const stored = byCode.get(row.code);
    if (!rowsInError.has(row.row) && (!inScope(pathOf(row.code)) || (stored && !inScope(stored.path))))
      unitError(row.row, 'mã đơn vị', 'out_of_scope', outOfScope(`mã đơn vị ${row.code}`));
    const parentCode = parentOf.get(row.code) ?? null;
    const write: UnitWrite = {
      id: idOf.get(row.code) ?? '',
      code: row.code,
      name: row.name,
      parentId: parentCode === null ? null : (idOf.get(parentCode) ?? null),
      path: pathOf(row.code),
      blockCodes: row.blockCodes ?? byCode.get(row.code)?.blockCodes ?? [],
    };
    if (!stored) {
      createUnits.push(write);
      unitCounts.created++;
    } else if (
      stored.name !== write.name ||
      stored.parentId !== write.parentId ||
      stored.path !== write.path ||
      !sameList(stored.blockCodes, write.blockCodes)
    ) {
      updateUnits.push(write);
      unitCounts.updated++;
    } else unitCounts.unchanged++;
  }
  // Units outside the file under a moved unit: only their path changes.
  for (const stored of existing.units) {
    if (fileUnits.has(stored.code)) continue;
    const path = pathOf(stored.code);
    if (path !== stored.path) updateUnits.push({ ...stored, path });
  }
  const depth = (path: string) => path.split('/').length;
  createUnits.sort((a, b) => depth(a.path) - depth(b.path));

  // Officials.
  const officialError = (row: number, column: string, code: string, message: string) =>
    errors.push({ sheet: input.officialSheet, row, column, code, message });
  const storedOfficials = new Map(existing.officials.map((official) => [official.code, official]));
  const seen = new Map<string, number>();
  const createOfficials: OfficialWrite[] = [];
  const updateOfficials: OfficialWrite[] = [];
  const officialCounts: Counts = { created: 0, updated: 0, unchanged: 0 };
  for (const row of input.officials) {
    const first = seen.get(row.code);
    if (first !== undefined) {
      officialError(
        row.row,
        'mã cán bộ',
        'duplicate_code',
        `mã cán bộ ${row.code} already appears on row ${first}`,
      );
      continue;
    }
    seen.set(row.code, row.row);
    const unitId = idOf.get(row.unitCode);
    const storedUnit = byCode.get(row.unitCode);
    if (!unitId || (!fileUnits.has(row.unitCode) && storedUnit && !inScope(storedUnit.path))) {
      officialError(
        row.row,
        'mã đơn vị',
        'unknown_unit',
        `mã đơn vị ${row.unitCode} is neither in the file nor in the database`,
      );
      continue;
    }
    const stored = storedOfficials.get(row.code);
    const storedAt = stored ? storedById.get(stored.unitId)?.path : undefined;
    if (!inScope(pathOf(row.unitCode)) || (storedAt !== undefined && !inScope(storedAt))) {
      officialError(row.row, 'mã cán bộ', 'out_of_scope', outOfScope(`mã cán bộ ${row.code}`));
      continue;
    }
    const write: OfficialWrite = {
      id: stored?.id,
      code: row.code,
      name: row.name,
      unitId,
      role: row.role,
      phone: row.phone === undefined ? (stored?.phone ?? null) : row.phone,
    };
    if (!stored) {
      createOfficials.push(write);
      officialCounts.created++;
    } else if (
      stored.name !== write.name ||
      stored.unitId !== write.unitId ||
      stored.role !== write.role ||
      stored.phone !== write.phone
    ) {
      updateOfficials.push(write);
      officialCounts.updated++;
    } else officialCounts.unchanged++;
  }

  const sheetRank = (sheet: string) => (sheet === input.unitSheet ? 0 : 1);
  errors.sort((a, b) => sheetRank(a.sheet) - sheetRank(b.sheet) || a.row - b.row);
  if (errors.length > 0) return { errors, plan: undefined };
  return {
    errors,
    plan: {
      createUnits,
      updateUnits,
      createOfficials,
      updateOfficials,
      counts: { units: unitCounts, officials: officialCounts },
    },
  };
}
