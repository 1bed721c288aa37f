import type { Queryable } from '../db/client.ts';
import type { Status } from '../domain/status.ts';
import { summarise, type Summary } from '../domain/summary.ts';
import { isUuid, notFound } from './errors.ts';

export interface CampaignSummary extends Summary {
  campaign: { id: string; docNumber: string; title: string };
  scope: { code: string; name: string } | null;
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

/**
 * The roll-up over the participants inside a unit's subtree (every participant when no unit is given).
 * The subtree is a prefix range on the materialised path.
 */
export async function campaignSummary(
  db: Queryable,
  campaignId: string,
  options: { unitCode?: string | undefined; now: Date; timeZone: string },
): Promise<CampaignSummary> {
  const campaign = await findCampaign(db, campaignId);
  let scope: { code: string; name: string; path: string } | null = null;
  if (options.unitCode !== undefined) {
    scope = await db.unit.findUnique({
      where: { code: options.unitCode },
      select: { code: true, name: true, path: true },
    });
    if (!scope) throw notFound('unit', options.unitCode);
  }
  const units = await db.unit.findMany({
    where: {
      campaignUnits: { some: { campaignId } },
      ...(scope ? { path: { startsWith: scope.path } } : {}),
    },
    select: { id: true, code: true, name: true },
  });
  // Sequential on purpose: inside a transaction the queries share one connection.
  const latest = await latestRows(db, campaignId);
  const acks = await db.acknowledgement.findMany({ where: { campaignId }, select: { unitId: true } });
  const regs = await db.registration.findMany({ where: { campaignId }, select: { unitId: true } });
  const summary = summarise({
    units,
    tasks: campaign.tasks,
    latest,
    acknowledgedUnitIds: acks.map((row) => row.unitId),
    registeredUnitIds: regs.map((row) => row.unitId),
    now: options.now,
    timeZone: options.timeZone,
  });
  return {
    campaign: { id: campaign.id, docNumber: campaign.docNumber, title: campaign.title },
    scope: scope ? { code: scope.code, name: scope.name } : null,
    ...summary,
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
