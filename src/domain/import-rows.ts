/**
 * The organisation import, as pure functions: spreadsheet cells -> validated rows (import-cells.ts) -> a
 * plan of bulk changes against what the database holds. Nothing here reads a file or a database; the
 * service (services/import.ts) reads the workbook or CSV into `RawTable`s and applies the plan.
 */
import type { OfficialRole, RowError, UnitRow, OfficialRow } from './import-cells.ts';
import { isWithin, unitPath } from './unit-tree.ts';

export * from './import-cells.ts';

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

/** A unit as the import will store it: the fields of a stored one. */
export type UnitWrite = ExistingUnit;

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

/** Puts a problem on one row of one sheet. */
type Report = (row: number, column: string, code: string, message: string) => void;

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
  const errors: RowError[] = [];
  const reportOn =
    (sheet: string): Report =>
    (row, column, code, message) =>
      errors.push({ sheet, row, column, code, message });
  const onUnits = reportOn(input.unitSheet);
  const scope = importerScope(scopePath);
  const stored = indexUnits(existing.units);

  const fileUnits = firstRowPerCode(input.units, onUnits);
  const tree = treeAfterImport(fileUnits, stored, newId, scope, onUnits);
  const rowsInError = new Set(errors.map((error) => error.row));
  const units = planUnitWrites(fileUnits, stored, tree, scope, rowsInError, onUnits);
  const officials = planOfficialWrites(
    input.officials,
    { units: stored, officials: existing.officials },
    fileUnits,
    tree,
    scope,
    reportOn(input.officialSheet),
  );

  const sheetRank = (sheet: string) => (sheet === input.unitSheet ? 0 : 1);
  errors.sort((a, b) => sheetRank(a.sheet) - sheetRank(b.sheet) || a.row - b.row);
  if (errors.length > 0) return { errors, plan: undefined };
  return {
    errors,
    plan: {
      createUnits: units.create,
      updateUnits: units.update,
      createOfficials: officials.create,
      updateOfficials: officials.update,
      counts: { units: units.counts, officials: officials.counts },
    },
  };
}

/**
 * What an importer whose scope is a subtree (scopePath) may touch: they see nothing outside it, so a parent
 * or unit there is unknown to them, and a row that would change or place anything there is refused.
 */
interface ImporterScope {
  includes(path: string): boolean;
  refusal(what: string): string;
}

function importerScope(scopePath: string | null): ImporterScope {
  return {
    includes: (path) => scopePath === null || isWithin(path, scopePath),
    refusal: (what) =>
      `${what} is outside your part of the organisation: only units and officials of your subtree can be imported`,
  };
}

/** The units the database holds, found by code or by id. */
interface StoredUnits {
  all: readonly ExistingUnit[];
  byCode: ReadonlyMap<string, ExistingUnit>;
  byId: ReadonlyMap<string, ExistingUnit>;
}

function indexUnits(units: readonly ExistingUnit[]): StoredUnits {
  return {
    all: units,
    byCode: new Map(units.map((unit) => [unit.code, unit])),
    byId: new Map(units.map((unit) => [unit.id, unit])),
  };
}

/** The file's unit rows by code: the first row wins, a later one with the same code is an error. */
function firstRowPerCode(rows: readonly UnitRow[], report: Report): Map<string, UnitRow> {
  const fileUnits = new Map<string, UnitRow>();
  for (const row of rows) {
    const first = fileUnits.get(row.code);
    if (first)
      report(
        row.row,
        'mã đơn vị',
        'duplicate_code',
        `mã đơn vị ${row.code} already appears on row ${first.row}`,
      );
    else fileUnits.set(row.code, row);
  }
  return fileUnits;
}

/** The organisation as it will stand after the import: every unit's id, parent (by code) and path. */
interface TreeAfterImport {
  idOf: ReadonlyMap<string, string>;
  parentOf: ReadonlyMap<string, string | null>;
  pathOf(code: string): string;
}

/**
 * The file's parent for the file's units, the stored one for the others. A row whose parent is unknown (or
 * hidden from the importer), itself, or its own descendant is reported and its unit placed at the top, so
 * the remaining rows can still be checked.
 */
function treeAfterImport(
  fileUnits: ReadonlyMap<string, UnitRow>,
  stored: StoredUnits,
  newId: () => string,
  scope: ImporterScope,
  report: Report,
): TreeAfterImport {
  const idOf = new Map<string, string>();
  for (const unit of stored.all) idOf.set(unit.code, unit.id);
  for (const code of fileUnits.keys()) if (!idOf.has(code)) idOf.set(code, newId());
  const parentOf = placeFileUnits(fileUnits, stored, idOf, scope, report);
  detachCycles(parentOf, fileUnits, report);
  return { idOf, parentOf, pathOf: pathsAfterImport(parentOf, idOf) };
}

function placeFileUnits(
  fileUnits: ReadonlyMap<string, UnitRow>,
  stored: StoredUnits,
  idOf: ReadonlyMap<string, string>,
  scope: ImporterScope,
  report: Report,
): Map<string, string | null> {
  const parentOf = new Map<string, string | null>();
  for (const unit of stored.all)
    parentOf.set(unit.code, unit.parentId ? (stored.byId.get(unit.parentId)?.code ?? null) : null);
  const hiddenParent = (row: UnitRow) => {
    if (row.parentCode === null || fileUnits.has(row.parentCode)) return false;
    const parent = stored.byCode.get(row.parentCode);
    // Its own current parent is fine (renaming the root of one's subtree).
    return (
      parent !== undefined &&
      !scope.includes(parent.path) &&
      stored.byCode.get(row.code)?.parentId !== parent.id
    );
  };
  for (const row of fileUnits.values()) {
    if (row.parentCode !== null && (!idOf.has(row.parentCode) || hiddenParent(row))) {
      report(
        row.row,
        'mã đơn vị cấp trên',
        'unknown_parent',
        `mã đơn vị cấp trên ${row.parentCode} is neither in the file nor in the database`,
      );
      parentOf.set(row.code, null);
      continue;
    }
    if (row.parentCode === row.code) {
      report(row.row, 'mã đơn vị cấp trên', 'cycle', `unit ${row.code} cannot be its own parent`);
      parentOf.set(row.code, null);
      continue;
    }
    parentOf.set(row.code, row.parentCode);
  }
  return parentOf;
}

/** Walks up from every unit; a walk that meets itself is a cycle, reported on the file's rows and cut. */
function detachCycles(
  parentOf: Map<string, string | null>,
  fileUnits: ReadonlyMap<string, UnitRow>,
  report: Report,
): void {
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
      report(
        row.row,
        'mã đơn vị cấp trên',
        'cycle',
        `unit ${code} would be placed under itself or its own descendant`,
      );
    parentOf.set(code, null);
  }
}

/** Materialised paths of the whole tree after the import, computed top-down and remembered. */
function pathsAfterImport(
  parentOf: ReadonlyMap<string, string | null>,
  idOf: ReadonlyMap<string, string>,
): (code: string) => string {
  const paths = new Map<string, string>();
  return (code) => {
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
}

/** Writes sorted into creates and updates, counted with the rows that change nothing. */
interface Writes<T> {
  create: T[];
  update: T[];
  counts: Counts;
}

function noWrites<T>(): Writes<T> {
  return { create: [], update: [], counts: { created: 0, updated: 0, unchanged: 0 } };
}

function sortWrite<T>(writes: Writes<T>, write: T, found: 'new' | 'changed' | 'same'): void {
  if (found === 'new') {
    writes.create.push(write);
    writes.counts.created++;
  } else if (found === 'changed') {
    writes.update.push(write);
    writes.counts.updated++;
  } else writes.counts.unchanged++;
}

/**
 * The file's units as creates (parents before children) and updates, and the units outside the file whose
 * path changes because an ancestor moved. A unit that would stand, or stands, outside the importer's scope
 * is reported, unless its row is already in error.
 */
function planUnitWrites(
  fileUnits: ReadonlyMap<string, UnitRow>,
  stored: StoredUnits,
  tree: TreeAfterImport,
  scope: ImporterScope,
  rowsInError: ReadonlySet<number>,
  report: Report,
): Writes<UnitWrite> {
  const writes = noWrites<UnitWrite>();
  for (const row of fileUnits.values()) {
    const before = stored.byCode.get(row.code);
    const path = tree.pathOf(row.code);
    if (!rowsInError.has(row.row) && (!scope.includes(path) || (before && !scope.includes(before.path))))
      report(row.row, 'mã đơn vị', 'out_of_scope', scope.refusal(`mã đơn vị ${row.code}`));
    const parentCode = tree.parentOf.get(row.code) ?? null;
    const write: UnitWrite = {
      id: tree.idOf.get(row.code) ?? '',
      code: row.code,
      name: row.name,
      parentId: parentCode === null ? null : (tree.idOf.get(parentCode) ?? null),
      path,
      blockCodes: row.blockCodes ?? before?.blockCodes ?? [],
    };
    sortWrite(writes, write, !before ? 'new' : unitChanged(before, write) ? 'changed' : 'same');
  }
  for (const unit of stored.all) {
    if (fileUnits.has(unit.code)) continue;
    const path = tree.pathOf(unit.code);
    if (path !== unit.path) writes.update.push({ ...unit, path });
  }
  const depth = (path: string) => path.split('/').length;
  writes.create.sort((a, b) => depth(a.path) - depth(b.path));
  return writes;
}

const unitChanged = (stored: ExistingUnit, write: UnitWrite) =>
  stored.name !== write.name ||
  stored.parentId !== write.parentId ||
  stored.path !== write.path ||
  !sameList(stored.blockCodes, write.blockCodes);

/**
 * The file's officials as creates and updates. A repeated code, a unit neither in the file nor in the
 * database (nor visible to the importer), or an official who would be, or is, outside the importer's scope
 * is reported and the row left out.
 */
function planOfficialWrites(
  rows: readonly OfficialRow[],
  stored: { units: StoredUnits; officials: readonly ExistingOfficial[] },
  fileUnits: ReadonlyMap<string, UnitRow>,
  tree: TreeAfterImport,
  scope: ImporterScope,
  report: Report,
): Writes<OfficialWrite> {
  const storedOfficials = new Map(stored.officials.map((official) => [official.code, official]));
  const seen = new Map<string, number>();
  const writes = noWrites<OfficialWrite>();
  for (const row of rows) {
    const first = seen.get(row.code);
    if (first !== undefined) {
      report(row.row, 'mã cán bộ', 'duplicate_code', `mã cán bộ ${row.code} already appears on row ${first}`);
      continue;
    }
    seen.set(row.code, row.row);
    const unitId = tree.idOf.get(row.unitCode);
    const storedUnit = stored.units.byCode.get(row.unitCode);
    if (!unitId || (!fileUnits.has(row.unitCode) && storedUnit && !scope.includes(storedUnit.path))) {
      report(
        row.row,
        'mã đơn vị',
        'unknown_unit',
        `mã đơn vị ${row.unitCode} is neither in the file nor in the database`,
      );
      continue;
    }
    const before = storedOfficials.get(row.code);
    const storedAt = before ? stored.units.byId.get(before.unitId)?.path : undefined;
    if (!scope.includes(tree.pathOf(row.unitCode)) || (storedAt !== undefined && !scope.includes(storedAt))) {
      report(row.row, 'mã cán bộ', 'out_of_scope', scope.refusal(`mã cán bộ ${row.code}`));
      continue;
    }
    const write: OfficialWrite = {
      id: before?.id,
      code: row.code,
      name: row.name,
      unitId,
      role: row.role,
      phone: row.phone === undefined ? (before?.phone ?? null) : row.phone,
    };
    sortWrite(writes, write, !before ? 'new' : officialChanged(before, write) ? 'changed' : 'same');
  }
  return writes;
}

const officialChanged = (stored: ExistingOfficial, write: OfficialWrite) =>
  stored.name !== write.name ||
  stored.unitId !== write.unitId ||
  stored.role !== write.role ||
  stored.phone !== write.phone;
