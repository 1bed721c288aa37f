import { MERGE_INTO_HEADER, type OfficialRow, type RowError, type UnitRow } from './import-cells.ts';
import type { ExistingUnit, ImportPlan } from './import-rows.ts';
import { isWithin } from './unit-tree.ts';

/**
 * Merges in the organisation import, as pure checks: a row of the units sheet whose "sáp nhập vào" names
 * another unit's code is not upserted: the unit is merged into that one (its successor) after the rest of
 * the file is applied, as POST /api/units/merge does. Every row naming the same successor goes into it
 * together. And any row that names a unit which has already left the tree (merged or dissolved) is refused,
 * saying where it went.
 */

/** The rows that merge units into one successor. */
export interface ImportMerge {
  into: string;
  from: { row: number; code: string }[];
}

/** The unit rows split: those upserted as before, and those that merge their unit into another. */
export function splitMergeRows(units: UnitRow[]): { upserted: UnitRow[]; merging: UnitRow[] } {
  return {
    upserted: units.filter((row) => !row.mergeInto),
    merging: units.filter((row) => row.mergeInto),
  };
}

/**
 * Rows naming a unit that has left the tree: its code, its parent, its successor (units sheet) or its unit
 * (officials sheet). `retired`: code -> the code of the unit it went into.
 */
export function retiredReferences(
  input: { units: UnitRow[]; officials: OfficialRow[]; unitSheet: string; officialSheet: string },
  retired: ReadonlyMap<string, string | null>,
): RowError[] {
  const errors: RowError[] = [];
  const check = (sheet: string, row: number, column: string, code: string | null | undefined) => {
    if (!code || !retired.has(code)) return;
    const successor = retired.get(code);
    errors.push({
      sheet,
      row,
      column,
      code: 'unit_retired',
      message: `${column} ${code} has left the organisation${successor ? `: it went into ${successor}` : ''}`,
    });
  };
  for (const row of input.units) {
    check(input.unitSheet, row.row, 'mã đơn vị', row.code);
    check(input.unitSheet, row.row, 'mã đơn vị cấp trên', row.parentCode);
    check(input.unitSheet, row.row, MERGE_INTO_HEADER, row.mergeInto);
  }
  for (const row of input.officials) check(input.officialSheet, row.row, 'mã đơn vị', row.unitCode);
  return errors;
}

/**
 * Checks the merging rows against the units as the rest of the file leaves them (`plan`) and groups them by
 * successor. A merged unit must exist, lie in the importer's subtree and not be merged into itself, into a
 * unit of its own subtree, or into a unit that is itself merged by the file; a successor must exist or be
 * created by the file; one merged unit must not lie within another.
 */
export function planImportMerges(
  merging: UnitRow[],
  context: {
    unitSheet: string;
    existing: ExistingUnit[];
    upserted: UnitRow[];
    plan: ImportPlan | undefined;
    scopePath: string | null;
  },
): { merges: ImportMerge[]; errors: RowError[] } {
  const { unitSheet, existing, upserted, plan, scopePath } = context;
  const errors: RowError[] = [];
  const error = (row: UnitRow, column: string, code: string, message: string) =>
    errors.push({ sheet: unitSheet, row: row.row, column, code, message });
  const stored = new Map(existing.map((unit) => [unit.code, unit]));
  // Paths once the rest of the file is applied: what it creates or moves, else what is stored.
  const pathOf = new Map(existing.map((unit) => [unit.code, unit.path]));
  for (const write of [...(plan?.createUnits ?? []), ...(plan?.updateUnits ?? [])])
    pathOf.set(write.code, write.path);
  const inScope = (path: string | undefined) =>
    path !== undefined && (scopePath === null || isWithin(path, scopePath));
  const fileRows = new Map(upserted.map((row) => [row.code, row.row]));
  const fileCodes = new Set(fileRows.keys());
  const mergedCodes = new Set(merging.map((row) => row.code));
  const seen = new Map<string, number>();
  const merges = new Map<string, ImportMerge>();
  for (const row of merging) {
    const into = row.mergeInto ?? '';
    const first = seen.get(row.code) ?? fileRows.get(row.code);
    if (first !== undefined) {
      error(row, 'mã đơn vị', 'duplicate_code', `mã đơn vị ${row.code} already appears on row ${first}`);
      continue;
    }
    seen.set(row.code, row.row);
    const unit = stored.get(row.code);
    if (!unit || !inScope(unit.path)) {
      error(row, 'mã đơn vị', 'unknown_unit', `mã đơn vị ${row.code}: only a unit that exists can be merged`);
      continue;
    }
    if (into === row.code) {
      error(row, MERGE_INTO_HEADER, 'merge_into_itself', `unit ${row.code} cannot be merged into itself`);
      continue;
    }
    if (mergedCodes.has(into)) {
      error(
        row,
        MERGE_INTO_HEADER,
        'merge_chain',
        `${into} is merged too: name the unit it goes into instead`,
      );
      continue;
    }
    const successorPath = pathOf.get(into);
    if (!fileCodes.has(into) && (!stored.has(into) || !inScope(successorPath))) {
      error(
        row,
        MERGE_INTO_HEADER,
        'unknown_unit',
        `${MERGE_INTO_HEADER} ${into} is neither in the file nor in the database`,
      );
      continue;
    }
    const unitPath = pathOf.get(row.code) ?? unit.path;
    if (successorPath !== undefined && isWithin(successorPath, unitPath)) {
      error(
        row,
        MERGE_INTO_HEADER,
        'merge_into_descendant',
        `${into} lies within ${row.code}: a unit cannot be merged into its own descendant`,
      );
      continue;
    }
    const group = merges.get(into) ?? { into, from: [] };
    group.from.push({ row: row.row, code: row.code });
    merges.set(into, group);
  }
  for (const row of merging) {
    const path = pathOf.get(row.code);
    const outer = merging.find(
      (other) => other !== row && path !== undefined && isWithin(path, pathOf.get(other.code) ?? '\u0000'),
    );
    if (outer)
      error(
        row,
        'mã đơn vị',
        'nested_units',
        `${row.code} lies within ${outer.code}, which is merged too: merge ${outer.code} alone`,
      );
  }
  const sorted = errors.sort((a, b) => a.row - b.row);
  return { merges: sorted.length > 0 ? [] : [...merges.values()], errors: sorted };
}
