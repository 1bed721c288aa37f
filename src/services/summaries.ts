import type { Queryable } from '../db/client.ts';
import { Prisma } from '../generated/prisma/client.ts';
import type { Status } from '../domain/status.ts';
import {
  rollUpWithBreakdown,
  statusesFromLetters,
  type ChildBreakdown,
  type GroupedUnit,
  type Summary,
  type UnitRef,
} from '../domain/summary.ts';
import { isUuid, notFound } from './errors.ts';
import { formerUnits } from './unit-lineage.ts';
import { listedTaskPlaces, progressLayout, tasksDigest } from './unit-progress.ts';

/*
 * The read side of campaigns' progress: the roll-up, the summary and the latest reports. The tables it
 * reads, CurrentStatus and UnitProgress, are kept by unit-progress.ts.
 */

export interface CampaignSummary extends Summary {
  campaign: { id: string; docNumber: string; title: string };
  scope: { code: string; name: string } | null;
  block: string | null;
  /** How the block is named to people, when friendlier than its code ("CUM1 (xã, phường, thị trấn)"). */
  blockName?: string;
  /** Per child unit of the scope: the chart's bars and the drill-down buttons. */
  children: ChildBreakdown[];
  /** By code: the units a participant was formed from during the campaign (shown as "(trước đây: …)"). */
  formerly?: Record<string, UnitRef[]>;
}

interface LatestRow {
  taskId: string;
  unitId: string;
  status: Status;
  percent: number | null;
  note: string | null;
  createdAt: Date;
  reportedBy: string;
}

function latestRows(db: Queryable, campaignId: string): Promise<LatestRow[]> {
  return db.$queryRaw<LatestRow[]>`
    SELECT DISTINCT ON (r."taskId", r."unitId")
      r."taskId", r."unitId", r.status::text AS status, r.percent, r.note, r."createdAt", o.code AS "reportedBy"
    FROM "StatusReport" r
    JOIN "Task" t ON t.id = r."taskId"
    JOIN "Official" o ON o.id = r."officialId"
    WHERE t."campaignId" = ${campaignId}::uuid AND r."undoneAt" IS NULL
    ORDER BY r."taskId", r."unitId", r."createdAt" DESC, r.id DESC`;
}

async function findCampaign(db: Queryable, id: string) {
  if (!isUuid(id)) throw notFound('campaign', id);
  const campaign = await db.campaign.findUnique({
    where: { id },
    include: { tasks: { orderBy: { position: 'asc' } } },
  });
  if (!campaign) throw notFound('campaign', id);
  return campaign;
}

export interface SummaryScope {
  /** A unit's subtree (default: every participant). */
  unitCode?: string | undefined;
  /** Only units of this emulation block (khối/cụm thi đua). */
  block?: string | undefined;
}

/** What the roll-up query returns for one participating unit: latest status per task, in task order. */
export interface RolledUnit extends GroupedUnit {
  /** Present when the details were asked for, aligned with the tasks. */
  details?: (ReportDetail | null)[];
}

export interface ReportDetail {
  percent: number | null;
  note: string | null;
  reportedAt: Date;
  reportedBy: string;
  reportedByName: string;
}

export interface CampaignRollUp {
  campaign: {
    id: string;
    docNumber: string;
    title: string;
    startsOn: Date;
    endsOn: Date;
    issuerUnitId: string;
    state: string;
  };
  tasks: { id: string; key: string; title: string; dueOn: Date }[];
  scope: { code: string; name: string; path: string } | null;
  units: RolledUnit[];
  /** By code: the units a participant was formed from during the campaign (unit-lineage.ts). */
  formerly: Record<string, UnitRef[]>;
}

interface ReportDetailRow {
  p: number | null;
  n: string | null;
  at: string;
  by: string;
  byName: string;
}

interface RollUpRow {
  id: string;
  code: string;
  name: string;
  path: string;
  acknowledged: boolean;
  registered: boolean;
  childCode: string | null;
  childName: string | null;
  /**
   * "place:status" per task with a current status, comma-separated, where place is the task's 1-based
   * place in the task list ("3:done,1:in_progress"); null when none. One string rather than two arrays:
   * building and decoding arrays took about a third of the query's time for a district.
   */
  statuses: string | null;
  details: (ReportDetailRow & { place: number })[] | null;
}

/** What a roll-up query reads: the campaign, its tasks in order, the scope, the breakdown root, a block. */
interface RollUpQueryInput {
  campaignId: string;
  taskIds: string[];
  scopePath: string | null;
  rootPath: string;
  block: string | null;
}

/**
 * The workbook's roll-up: the participants inside the scope (as progressQuery) with each current status's
 * details (percent, note, who and when), one row per unit. Statuses come from CurrentStatus, each unit's
 * from one range of its (unitId, taskId, status, reportId) index, tagged with the task's place in the list,
 * in a lateral subquery of its own: aggregating a CTE of every (unit, task) item per unit made PostgreSQL
 * rescan the whole CTE once per unit (quadratic: minutes at 10,000 units). Details come from the report
 * itself, by primary key.
 */
function detailedRollUpQuery(db: Queryable, input: RollUpQueryInput): Promise<RollUpRow[]> {
  const { campaignId, taskIds, scopePath, rootPath, block } = input;
  return db.$queryRaw<RollUpRow[]>`
    WITH scope AS (
      SELECT u.id, u.code, u.name, u.path
      FROM "CampaignUnit" cu JOIN "Unit" u ON u.id = cu."unitId"
      WHERE cu."campaignId" = ${campaignId}::uuid
        AND (${scopePath}::text IS NULL OR u.path LIKE ${scopePath}::text || '%')
        AND (${block}::text IS NULL OR ${block}::text = ANY(u."blockCodes"))
    )
    SELECT s.id, s.code, s.name, s.path,
      EXISTS (SELECT 1 FROM "Acknowledgement" a WHERE a."campaignId" = ${campaignId}::uuid AND a."unitId" = s.id)
        AS acknowledged,
      EXISTS (SELECT 1 FROM "Registration" g WHERE g."campaignId" = ${campaignId}::uuid AND g."unitId" = s.id)
        AS registered,
      c.code AS "childCode", c.name AS "childName",
      items.statuses, items.details
    FROM scope s
    CROSS JOIN LATERAL (
      SELECT string_agg(array_position(${taskIds}::uuid[], cs."taskId") || ':' || cs.status::text, ',') AS statuses,
        json_agg(json_build_object('place', array_position(${taskIds}::uuid[], cs."taskId"),
          'p', r.percent, 'n', r.note, 'at', r."createdAt", 'by', o.code, 'byName', o.name)) AS details
      FROM "CurrentStatus" cs
      JOIN "StatusReport" r ON r.id = cs."reportId" JOIN "Official" o ON o.id = r."officialId"
      WHERE cs."unitId" = s.id AND cs."taskId" = ANY(${taskIds}::uuid[])
    ) items
    LEFT JOIN "Unit" c ON c.id = CASE
      WHEN s.path LIKE ${rootPath}::text || '_%' THEN split_part(substr(s.path, length(${rootPath}::text) + 1), '/', 1)::uuid
      ELSE s.id END`;
}

interface ProgressRow {
  /** Codes and names of the scope's participants as JSON arrays (any text survives), by name. */
  codes: string[] | null;
  names: string[] | null;
  /**
   * The rest, same order, comma-separated: 'A' or '-' (acknowledged), 'R' or '-' (registered), the id of
   * the breakdown root's child the unit lies under (empty when it is that root or outside it), ':', then
   * the statuses string.
   */
  units: string | null;
  /** The breakdown root's direct children. */
  children: { id: string; code: string; name: string }[] | null;
}

const UUID_LENGTH = 36;

/**
 * ONE query over the subtree for the summary: the participants inside the scope (a prefix range on the
 * materialised path, optionally one emulation block), each with the child of the breakdown root it lies
 * under and its UnitProgress row (letters, acknowledged, registered): one short row per unit, not one per
 * (unit, task), and no join to Acknowledgement and Registration (a fifth of the query at the root). The
 * counting is left to domain/summary.ts, over the letters.
 *
 * Rows come back as three aggregates rather than 10,000 rows: mapping rows and columns cost more than the
 * query at the root. They are sorted by name (byte order) once, in the subquery, so the summary's sort by
 * Vietnamese name finds them nearly in order. A row laid out for another task list (a report that raced a
 * change of the campaign's tasks) is never counted: it is laid out afresh from CurrentStatus for the task
 * list read here, by the same layout the upkeep writes.
 */
function progressQuery(db: Queryable, input: RollUpQueryInput): Promise<ProgressRow[]> {
  const { campaignId, taskIds, scopePath, rootPath, block } = input;
  return db.$queryRaw<ProgressRow[]>`
    SELECT json_agg(s.code) AS codes, json_agg(s.name) AS names,
      string_agg(s.acknowledged || s.registered || s.child || ':' || s.statuses, ',') AS units,
      (SELECT json_agg(json_build_object('id', c.id, 'code', c.code, 'name', c.name))
       FROM "Unit" r JOIN "Unit" c ON c."parentId" = r.id WHERE r.path = ${rootPath}::text) AS children
    FROM (
      SELECT u.code, u.name,
        CASE WHEN p.acknowledged THEN 'A' ELSE '-' END AS acknowledged,
        CASE WHEN p.registered THEN 'R' ELSE '-' END AS registered,
        CASE WHEN u.path LIKE ${rootPath}::text || '_%'
          THEN substr(u.path, length(${rootPath}::text) + 1, ${UUID_LENGTH}::int) ELSE '' END AS child,
        CASE
          WHEN p."tasksDigest" = ${tasksDigest(taskIds)} THEN p.statuses
          WHEN p."unitId" IS NULL THEN ''
          ELSE (SELECT l.statuses FROM (${progressLayout(listedTaskPlaces(taskIds), Prisma.sql`u.id`)}) l)
        END AS statuses
      FROM "CampaignUnit" cu
      JOIN "Unit" u ON u.id = cu."unitId"
      LEFT JOIN "UnitProgress" p ON p."campaignId" = cu."campaignId" AND p."unitId" = u.id
      WHERE cu."campaignId" = ${campaignId}::uuid
        AND (${scopePath}::text IS NULL OR u.path LIKE ${scopePath}::text || '%')
        AND (${block}::text IS NULL OR ${block}::text = ANY(u."blockCodes"))
      ORDER BY u.name COLLATE "C", u.id
    ) s`;
}

/**
 * A unit of a progressQuery answer: the summary counts its letters; its statuses array is made only when
 * asked for (the late list's tasks), not for each of 10,000 units.
 */
class ProgressUnit implements RolledUnit {
  #statuses: (Status | null)[] | undefined;

  constructor(
    readonly code: string,
    readonly name: string,
    readonly acknowledged: boolean,
    readonly registered: boolean,
    readonly child: UnitRef,
    readonly letters: string,
    private readonly taskCount: number,
  ) {}

  get statuses(): (Status | null)[] {
    this.#statuses ??= statusesFromLetters(this.letters, this.taskCount);
    return this.#statuses;
  }
}

/** The units of a progressQuery answer. */
function progressUnits(row: ProgressRow | undefined, taskCount: number): RolledUnit[] {
  if (!row?.codes || !row.names || row.units === null) return [];
  const { codes, names } = row;
  const childById = new Map((row.children ?? []).map(({ id, code, name }) => [id, { code, name }]));
  return row.units.split(',').map((record, i) => {
    const code = codes[i] as string;
    const name = names[i] as string;
    const colon = record.indexOf(':', 2);
    const child = (colon > 2 ? childById.get(record.slice(2, colon)) : undefined) ?? { code, name };
    return new ProgressUnit(
      code,
      name,
      record.charCodeAt(0) === 65, // A
      record.charCodeAt(1) === 82, // R
      child,
      record.slice(colon + 1),
      taskCount,
    );
  });
}

/** A unit's statuses (and details) laid out in task order, null where the task has no current status. */
function inTaskOrder(row: RollUpRow, taskCount: number) {
  const statuses: (Status | null)[] = new Array<Status | null>(taskCount).fill(null);
  for (const item of row.statuses ? row.statuses.split(',') : []) {
    const colon = item.indexOf(':');
    statuses[Number(item.slice(0, colon)) - 1] = item.slice(colon + 1) as Status;
  }
  const details: (ReportDetail | null)[] = new Array<ReportDetail | null>(taskCount).fill(null);
  for (const detail of row.details ?? []) {
    details[detail.place - 1] = {
      percent: detail.p,
      note: detail.n,
      reportedAt: new Date(detail.at),
      reportedBy: detail.by,
      reportedByName: detail.byName,
    };
  }
  return { statuses, details };
}

/** Campaign, scope and the one roll-up query; the math is left to domain/summary.ts. */
export async function campaignRollUp(
  db: Queryable,
  campaignId: string,
  scope: SummaryScope & { details?: boolean },
): Promise<CampaignRollUp> {
  if (!isUuid(campaignId)) throw notFound('campaign', campaignId);
  const campaign = await db.campaign.findUnique({
    where: { id: campaignId },
    include: {
      tasks: { orderBy: [{ position: 'asc' }, { id: 'asc' }] },
      issuerUnit: { select: { path: true } },
    },
  });
  if (!campaign) throw notFound('campaign', campaignId);
  let unit: { code: string; name: string; path: string } | null = null;
  if (scope.unitCode !== undefined) {
    unit = await db.unit.findUnique({
      where: { code: scope.unitCode },
      select: { code: true, name: true, path: true },
    });
    if (!unit) throw notFound('unit', scope.unitCode);
  }
  const taskIds = campaign.tasks.map((task) => task.id);
  const scopePath = unit?.path ?? null;
  const rootPath = unit?.path ?? campaign.issuerUnit.path;
  const block = scope.block ?? null;
  const units = scope.details
    ? (await detailedRollUpQuery(db, { campaignId, taskIds, scopePath, rootPath, block })).map((row) => {
        const { statuses, details } = inTaskOrder(row, taskIds.length);
        return {
          code: row.code,
          name: row.name,
          acknowledged: row.acknowledged,
          registered: row.registered,
          child: { code: row.childCode ?? row.code, name: row.childName ?? row.name },
          statuses,
          details,
        };
      })
    : progressUnits(
        (await progressQuery(db, { campaignId, taskIds, scopePath, rootPath, block }))[0],
        taskIds.length,
      );
  return {
    campaign: {
      id: campaign.id,
      docNumber: campaign.docNumber,
      title: campaign.title,
      startsOn: campaign.startsOn,
      endsOn: campaign.endsOn,
      issuerUnitId: campaign.issuerUnitId,
      state: campaign.state,
    },
    tasks: campaign.tasks.map(({ id, key, title, dueOn }) => ({ id, key, title, dueOn })),
    scope: unit,
    units,
    formerly: await formerUnits(
      db,
      campaignId,
      units.map((rolledUnit) => rolledUnit.code),
    ),
  };
}

/**
 * The roll-up over the participants inside a unit's subtree (every participant when no unit is given),
 * optionally one emulation block, with the per-child breakdown the chart and the drill-down use.
 */
export async function campaignSummary(
  db: Queryable,
  campaignId: string,
  options: SummaryScope & { now: Date; timeZone: string },
): Promise<CampaignSummary> {
  const rolled = await campaignRollUp(db, campaignId, options);
  return summaryFromRollUp(rolled, options);
}

export function summaryFromRollUp(
  rolled: CampaignRollUp,
  options: { block?: string | undefined; now: Date; timeZone: string },
): CampaignSummary {
  const { summary, children } = rollUpWithBreakdown({
    tasks: rolled.tasks,
    units: rolled.units,
    now: options.now,
    timeZone: options.timeZone,
  });
  return {
    campaign: {
      id: rolled.campaign.id,
      docNumber: rolled.campaign.docNumber,
      title: rolled.campaign.title,
    },
    scope: rolled.scope ? { code: rolled.scope.code, name: rolled.scope.name } : null,
    block: options.block ?? null,
    ...summary,
    children,
    formerly: rolled.formerly,
  };
}

export interface ReportView {
  unitCode: string;
  taskKey: string;
  status: Status;
  percent: number | null;
  note: string | null;
  reportedAt: string;
  reportedBy: string;
}

/** The latest status of every (unit, task) that has one. */
export async function latestReports(db: Queryable, campaignId: string): Promise<ReportView[]> {
  const campaign = await findCampaign(db, campaignId);
  const rows = await latestRows(db, campaignId);
  const unitIds = [...new Set(rows.map((row) => row.unitId))];
  const units = await db.unit.findMany({ where: { id: { in: unitIds } }, select: { id: true, code: true } });
  const unitCode = new Map(units.map((unit) => [unit.id, unit.code]));
  const taskKey = new Map(campaign.tasks.map((task) => [task.id, task.key]));
  const position = new Map(campaign.tasks.map((task) => [task.id, task.position]));
  return rows
    .map((row) => ({
      unitCode: unitCode.get(row.unitId) ?? '',
      taskKey: taskKey.get(row.taskId) ?? '',
      status: row.status,
      percent: row.percent,
      note: row.note,
      reportedAt: row.createdAt.toISOString(),
      reportedBy: row.reportedBy,
      order: position.get(row.taskId) ?? 0,
    }))
    .sort((a, b) => a.unitCode.localeCompare(b.unitCode) || a.order - b.order)
    .map(({ order: _order, ...report }) => report);
}
