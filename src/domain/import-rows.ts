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
