import type { Queryable } from '../db/client.ts';
import type { Principal } from '../domain/scope.ts';
import { closingSummary } from './collection.ts';
import { listExemplars, type ExemplarView } from './exemplars.ts';
import { campaignToRead, summaryUnit } from './scope.ts';
import { campaignSummary, latestReports, type CampaignSummary, type ReportView } from './summaries.ts';

/**
 * What a caller reads of a campaign through the admin API, limited to their view of it (campaignInView):
 * the whole campaign, or the part inside their subtree. A campaign or unit outside it is unknown (404).
 */

export interface SummaryQuery {
  unitCode?: string | undefined;
  block?: string | undefined;
  now: Date;
  timeZone: string;
}

/** The summary of `GET /api/campaigns/:id/summary`, with the closing reports when the whole campaign is asked. */
export async function summaryInView(
  db: Queryable,
  principal: Principal,
  campaignId: string,
  query: SummaryQuery,
): Promise<
  Pick<CampaignSummary, 'campaign' | 'units' | 'tasks' | 'lateUnits'> & {
    closing?: Awaited<ReturnType<typeof closingSummary>>;
  }
> {
  const found = await campaignToRead(db, principal, campaignId);
  const unitCode = await summaryUnit(db, principal, found, query.unitCode);
  const summary = await campaignSummary(db, campaignId, { ...query, unitCode });
  // A closed campaign also shows its closing reports (tổng kết), to those who see all of it.
  const whole = unitCode === undefined && query.block === undefined;
  const closing = whole ? await closingSummary(db, campaignId) : undefined;
  // A late unit formed by a merge during the campaign says what it was formed from.
  const lateUnits = summary.lateUnits.map((unit) => {
    const formerly = summary.formerly?.[unit.code];
    return formerly ? { ...unit, formerly } : unit;
  });
  return {
    campaign: summary.campaign,
    units: summary.units,
    tasks: summary.tasks,
    lateUnits,
    ...(closing ? { closing } : {}),
  };
}

/** The unit code an export (workbook, chart) of the campaign covers for this caller; undefined: all of it. */
export async function exportUnitInView(
  db: Queryable,
  principal: Principal,
  campaignId: string,
  unitCode: string | undefined,
): Promise<string | undefined> {
  return summaryUnit(db, principal, await campaignToRead(db, principal, campaignId), unitCode);
}

/** The latest report of every (unit, task) in the caller's view. */
export async function reportsInView(
  db: Queryable,
  principal: Principal,
  campaignId: string,
): Promise<ReportView[]> {
  const found = await campaignToRead(db, principal, campaignId);
  const reports = await latestReports(db, campaignId);
  const { view } = found;
  if (view.kind === 'whole') return reports;
  const visible = await db.unit.findMany({
    where: {
      code: { in: [...new Set(reports.map((report) => report.unitCode))] },
      path: { startsWith: view.path },
    },
    select: { code: true },
  });
  const codes = new Set(visible.map((unit) => unit.code));
  return reports.filter((report) => codes.has(report.unitCode));
}

/** The exemplars of the campaign from units in the caller's view (optionally one unit's subtree of it). */
export async function exemplarsInView(
  db: Queryable,
  principal: Principal,
  campaignId: string,
  unitCode: string | undefined,
): Promise<ExemplarView[]> {
  const found = await campaignToRead(db, principal, campaignId);
  return listExemplars(db, campaignId, { unitCode: await summaryUnit(db, principal, found, unitCode) });
}
