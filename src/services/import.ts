import { randomUUID } from 'node:crypto';
import type ExcelJS from 'exceljs';
import { DateTime } from 'luxon';
import type { Db, Tx } from '../db/client.ts';
import { planMerge } from '../domain/reorganisation.ts';
import {
  planImportMerges,
  retiredReferences,
  splitMergeRows,
  type ImportMerge,
} from '../domain/import-merges.ts';
import { previewImport, type SheetPreview } from '../domain/import-preview.ts';
import {
  describeColumns,
  HEADERS,
  MERGE_INTO_HEADER,
  mapColumns,
  planImport,
  readOfficialRows,
  readUnitRows,
  SHEET_NAMES,
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
import { importAudit, importHistory } from './import-audit.ts';
import { readSpreadsheet } from './import-files.ts';
import type { NewsRenderer } from './ports.ts';
import { carryOut, loadNodes } from './reorganise.ts';
import { recordUnitEvents } from './unit-history.ts';
import { changeTree } from './units.ts';
import { requireAdmin } from './scope.ts';

export { decodeText, excelCell, IMPORT_MAX_BYTES, IMPORT_MAX_ROWS, readSpreadsheet } from './import-files.ts';

/** Errors listed in an answer (all are counted). */
const MAX_LISTED_ERRORS = 500;
/** Rows per bulk statement. */
const BATCH = 5_000;

export interface ImportResult {
  dryRun: boolean;
  /** Per sheet; a dry run adds, for each sheet of the file, its rows and renamed, moved, merged counts. */
  units: Counts | SheetPreview;
  officials: Counts | SheetPreview;
  /** The merges the file made ("sáp nhập vào"), when it made any. */
  merges?: ImportMerge[];
}

export interface ImportOptions {
  dryRun?: boolean | undefined;
  /** Ids of new units and officials (tests inject them); random UUIDs by default. */
  newId?: (() => string) | undefined;
  /** Who imports: an admin, whose subtree bounds every row; the audit rows are theirs. */
  caller?: Caller | undefined;
  /**
   * What merging units needs ("sáp nhập vào": the notices to the officials concerned, the day it takes
   * effect); without it a file with merges is refused.
   */
  reorganise?: { render: NewsRenderer; now: Date; timeZone: string } | undefined;
}

const invalid = (code: string, message: string, details: unknown = null) =>
  new DomainError(code, message, details);

// ---------------------------------------------------------------------------------------------------
// Validating and applying

/** The rows of every table, validated one by one (the cross-row checks come in planImport). */
export function readRows(tables: RawTable[]): {
  units: UnitRow[];
  officials: OfficialRow[];
  unitSheet: string;
  officialSheet: string;
  errors: RowError[];
  /** Which sheets the file has. */
  sheets: { units: boolean; officials: boolean };
} {
  const result = {
    units: [] as UnitRow[],
    officials: [] as OfficialRow[],
    unitSheet: SHEET_NAMES.units,
    officialSheet: SHEET_NAMES.officials,
    errors: [] as RowError[],
    sheets: { units: false, officials: false },
  };
  for (const table of tables) {
    const { columns, missing } = mapColumns(table.kind, table.header);
    if (missing.length > 0)
      throw invalid(
        'missing_columns',
        `${table.sheet}: missing required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} in the header row (columns: ${describeColumns(table.kind)})`,
        { sheet: table.sheet, row: table.headerRow, missing },
      );
    result.sheets[table.kind] = true;
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

  // Under the tree lock, as a single unit upsert: the tree does not move while we plan.
  return changeTree(db, async (tx) => {
    const { units, officials, retired } = await storedOrganisation(tx);
    const scopePath = caller.principal.root?.path ?? null;
    const { upserted, merging } = splitMergeRows(rows.units);
    const { errors, plan } = planImport({ ...rows, units: upserted }, { units, officials }, newId, scopePath);
    const merges = planImportMerges(merging, {
      unitSheet: rows.unitSheet,
      existing: units.filter((unit) => !retired.has(unit.code)),
      upserted,
      plan,
      scopePath,
    });
    const rank = (sheet: string) => (sheet === rows.unitSheet ? 0 : 1);
    const allErrors = [...rows.errors, ...errors, ...merges.errors, ...retiredReferences(rows, retired)].sort(
      (a, b) => rank(a.sheet) - rank(b.sheet) || a.row - b.row,
    );
    if (allErrors.length > 0 || !plan) throw rejectRows(allErrors);
    const counts = { units: plan.counts.units, officials: plan.counts.officials };
    if (dryRun) {
      const preview = previewImport(rows, { units, officials }, plan, merges.merges);
      return {
        dryRun,
        units: preview.units ?? counts.units,
        officials: preview.officials ?? counts.officials,
      };
    }
    const createdOfficialIds = await applyPlan(tx, plan, newId);
    for (const batch of chunks(importAudit(plan, { units, officials }, createdOfficialIds, caller)))
      await recordAudit(tx, ...batch);
    await recordUnitEvents(tx, caller.actor, importHistory(plan, units));
    if (merges.merges.length === 0) return { dryRun, ...counts };
    await applyMerges(tx, merges.merges, caller, options.reorganise);
    return { dryRun, ...counts, merges: merges.merges };
  });
}

/**
 * Every unit and official as the plan compares the file with them. Units that left the tree keep their place
 * (their paths follow a moved ancestor) but no row may name them: `retired` says where each went.
 */
async function storedOrganisation(tx: Tx) {
  const [stored, officials] = await Promise.all([
    tx.unit.findMany({
      select: {
        id: true,
        code: true,
        name: true,
        parentId: true,
        path: true,
        blockCodes: true,
        retiredAt: true,
        successor: { select: { code: true } },
      },
    }),
    tx.official.findMany({
      select: { id: true, code: true, name: true, unitId: true, role: true, phone: true },
    }),
  ]);
  const units = stored.map(({ retiredAt: _retiredAt, successor: _successor, ...unit }) => unit);
  const retired = new Map(
    stored.filter((unit) => unit.retiredAt).map((unit) => [unit.code, unit.successor?.code ?? null]),
  );
  return { units, officials, retired };
}

/** The file's merges, each as POST /api/units/merge would make it, after the rest of the file is applied. */
async function applyMerges(
  tx: Tx,
  merges: ImportMerge[],
  caller: Caller,
  reorganise: ImportOptions['reorganise'],
): Promise<void> {
  if (!reorganise) throw new Error('merging units needs the renderer, the clock and the time zone');
  const today = DateTime.fromJSDate(reorganise.now, { zone: reorganise.timeZone }).toISODate() ?? '';
  for (const merge of merges) {
    const from = merge.from.map((row) => row.code);
    const nodes = await loadNodes(tx, [...from, merge.into], caller.principal, reorganise.timeZone);
    const decision = planMerge({ from, into: { code: merge.into }, today }, nodes, randomUUID());
    if (!decision.ok)
      throw rejectRows(
        merge.from.map((row) => ({
          sheet: SHEET_NAMES.units,
          row: row.row,
          column: MERGE_INTO_HEADER,
          code: decision.refusal.code,
          message: decision.refusal.message,
        })),
      );
    await carryOut(tx, reorganise, decision.plan, 'merged', caller);
  }
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
