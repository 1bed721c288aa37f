import type { OfficialRow, UnitRow } from './import-cells.ts';
import type { ImportMerge } from './import-merges.ts';
import type { ExistingOfficial, ExistingUnit, ImportPlan } from './import-rows.ts';

/**
 * What an import would change, row by row and sheet by sheet (POST /api/import?dryRun=true, the console's
 * preview): each row of the file is created, updated (renamed, moved, other fields), merged into another
 * unit, or unchanged, with the values before and after.
 */

export type RowChange = 'created' | 'updated' | 'merged' | 'unchanged';

export interface PreviewRow {
  row: number;
  code: string;
  change: RowChange;
  /** Units: renamed. Officials: the name changed. */
  name?: [string, string];
  /** Units: moved (the parent's code before and after). */
  parentCode?: [string | null, string | null];
  blockCodes?: [string[], string[]];
  /** Officials: moved to another unit. */
  unitCode?: [string, string];
  role?: [string, string];
  phone?: 'set' | 'changed' | 'removed';
  /** Merged: the code of the unit it goes into. */
  into?: string;
}

export interface SheetCounts {
  created: number;
  updated: number;
  unchanged: number;
  renamed: number;
  moved: number;
  merged: number;
}

/** What one sheet would change: the counts (renamed and moved are among the updated), then the rows. */
export interface SheetPreview extends SheetCounts {
  sheet: string;
  /** In file order; at most `limit` of them (`listed` says how many are, `total` how many there were). */
  rows: PreviewRow[];
  listed: number;
  total: number;
}

const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((item, i) => item === b[i]);

function count(rows: PreviewRow[]): SheetCounts {
  return {
    created: rows.filter((row) => row.change === 'created').length,
    updated: rows.filter((row) => row.change === 'updated').length,
    unchanged: rows.filter((row) => row.change === 'unchanged').length,
    renamed: rows.filter((row) => row.name !== undefined && row.change === 'updated').length,
    moved: rows.filter((row) => (row.parentCode ?? row.unitCode) !== undefined).length,
    merged: rows.filter((row) => row.change === 'merged').length,
  };
}

function sheet(name: string, rows: PreviewRow[], limit: number): SheetPreview {
  const sorted = rows.sort((a, b) => a.row - b.row);
  const listed = sorted.slice(0, limit);
  return { ...count(sorted), sheet: name, rows: listed, listed: listed.length, total: sorted.length };
}

/** The preview of a planned import: the units sheet and the officials sheet, each when the file has it. */
export function previewImport(
  input: {
    units: UnitRow[];
    officials: OfficialRow[];
    unitSheet: string;
    officialSheet: string;
    sheets: { units: boolean; officials: boolean };
  },
  existing: { units: ExistingUnit[]; officials: ExistingOfficial[] },
  plan: ImportPlan,
  merges: ImportMerge[],
  limit = 5_000,
): { units?: SheetPreview; officials?: SheetPreview } {
  const stored = new Map(existing.units.map((unit) => [unit.code, unit]));
  const codeById = new Map(existing.units.map((unit) => [unit.id, unit.code]));
  for (const unit of plan.createUnits) codeById.set(unit.id, unit.code);
  const parentCode = (id: string | null) => (id === null ? null : (codeById.get(id) ?? null));
  const writes = new Map([...plan.createUnits, ...plan.updateUnits].map((write) => [write.code, write]));
  const mergedInto = new Map(merges.flatMap((merge) => merge.from.map((from) => [from.code, merge.into])));

  const unitRows: PreviewRow[] = input.units.map((row) => {
    const into = mergedInto.get(row.code);
    if (into !== undefined) return { row: row.row, code: row.code, change: 'merged', into };
    const before = stored.get(row.code);
    const after = writes.get(row.code);
    if (!before) return { row: row.row, code: row.code, change: 'created' };
    if (!after) return { row: row.row, code: row.code, change: 'unchanged' };
    const preview: PreviewRow = { row: row.row, code: row.code, change: 'updated' };
    if (before.name !== after.name) preview.name = [before.name, after.name];
    if (before.parentId !== after.parentId)
      preview.parentCode = [parentCode(before.parentId), parentCode(after.parentId)];
    if (!sameList(before.blockCodes, after.blockCodes))
      preview.blockCodes = [before.blockCodes, after.blockCodes];
    return preview;
  });

  const storedOfficials = new Map(existing.officials.map((official) => [official.code, official]));
  const officialWrites = new Map(
    [...plan.createOfficials, ...plan.updateOfficials].map((write) => [write.code, write]),
  );
  const officialRows: PreviewRow[] = input.officials.map((row) => {
    const before = storedOfficials.get(row.code);
    const after = officialWrites.get(row.code);
    if (!before) return { row: row.row, code: row.code, change: 'created' };
    if (!after) return { row: row.row, code: row.code, change: 'unchanged' };
    const preview: PreviewRow = { row: row.row, code: row.code, change: 'updated' };
    if (before.name !== after.name) preview.name = [before.name, after.name];
    if (before.unitId !== after.unitId)
      preview.unitCode = [codeById.get(before.unitId) ?? '', codeById.get(after.unitId) ?? ''];
    if (before.role !== after.role) preview.role = [before.role, after.role];
    if (before.phone !== after.phone)
      preview.phone = after.phone === null ? 'removed' : before.phone === null ? 'set' : 'changed';
    return preview;
  });

  return {
    ...(input.sheets.units ? { units: sheet(input.unitSheet, unitRows, limit) } : {}),
    ...(input.sheets.officials ? { officials: sheet(input.officialSheet, officialRows, limit) } : {}),
  };
}
