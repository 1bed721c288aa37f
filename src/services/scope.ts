import type { Queryable } from '../db/client.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import {
  campaignView,
  canManageCampaign,
  covers,
  viewIncludes,
  type CampaignView,
  type Principal,
  type Role,
} from '../domain/scope.ts';
import { forbidden, isUuid, notFound } from './errors.ts';

/** The whole organisation, as the break-glass ADMIN_API_TOKEN acts. */
export const WHOLE_ORGANISATION: Principal = { role: 'admin', root: null };

/** An official as a principal: their role over their unit's subtree. */
export function officialPrincipal(official: {
  role: Role;
  unitId: string;
  unit: { path: string };
}): Principal {
  return { role: official.role, root: { unitId: official.unitId, path: official.unit.path } };
}

export interface CampaignInView {
  campaign: { id: string; docNumber: string; title: string; issuerUnitId: string; issuerPath: string };
  view: CampaignView;
}

/**
 * A campaign as the principal may see it, or why not: `missing` when there is no such campaign,
 * `out_of_scope` when it exists but touches nothing of theirs (callers answering the outside world show
 * both the same way, so that nobody learns what exists outside their subtree).
 */
export async function campaignInView(
  db: Queryable,
  principal: Principal,
  campaignId: string,
): Promise<CampaignInView | { kind: 'missing' | 'out_of_scope' }> {
  if (!isUuid(campaignId)) return { kind: 'missing' };
  const rows = await db.$queryRaw<
    {
      id: string;
      docNumber: string;
      title: string;
      issuerUnitId: string;
      issuerPath: string;
      inSubtree: boolean;
    }[]
  >`
    SELECT c.id, c."docNumber", c.title, c."issuerUnitId", iu.path AS "issuerPath",
      (${principal.root?.path ?? null}::text IS NOT NULL AND EXISTS (
        SELECT 1 FROM "CampaignUnit" cu JOIN "Unit" u ON u.id = cu."unitId"
        WHERE cu."campaignId" = c.id AND u.path LIKE ${principal.root?.path ?? null}::text || '%')) AS "inSubtree"
    FROM "Campaign" c JOIN "Unit" iu ON iu.id = c."issuerUnitId"
    WHERE c.id = ${campaignId}::uuid`;
  const row = rows[0];
  if (!row) return { kind: 'missing' };
  const view = campaignView(principal, row, row.inSubtree);
  if (!view) return { kind: 'out_of_scope' };
  const { id, docNumber, title, issuerUnitId, issuerPath } = row;
  return { campaign: { id, docNumber, title, issuerUnitId, issuerPath }, view };
}

/**
 * Campaigns with something of the principal's subtree in them: issued there, or with a participant there
 * (the bot's "which campaign?" lists, the console's list). Everything for the whole organisation.
 */
export function campaignsInReach(principal: Principal): Prisma.CampaignWhereInput {
  const root = principal.root;
  if (root === null) return {};
  return {
    OR: [
      { issuerUnit: { path: { startsWith: root.path } } },
      { units: { some: { unit: { path: { startsWith: root.path } } } } },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------
// The checks the admin API's services make (and the console's, through the same services). Outside the
// caller's subtree a thing is answered exactly as one that does not exist; a leader asking for a change
// is refused (403) before anything is looked up, so the refusal says nothing about what exists.

/** Changes are for admins; a leader reads only. */
export function requireAdmin(principal: Principal): void {
  if (principal.role !== 'admin') throw forbidden('only an admin may change this; a leader may only read');
}

/** Reading summaries, audit and the organisation is for leaders and admins. */
export function requireSupervisor(principal: Principal): void {
  if (principal.role !== 'admin' && principal.role !== 'leader')
    throw forbidden('only leaders and admins may read this');
}

/** What acts on every unit at once (running a scheduled job by hand) is for the whole organisation's admins. */
export function requireWholeOrganisation(principal: Principal): void {
  requireAdmin(principal);
  if (principal.root !== null) throw forbidden('only an admin of the whole organisation may do this');
}

export interface ScopedUnit {
  id: string;
  code: string;
  name: string;
  path: string;
}

/**
 * A live unit by code when it lies in the principal's subtree; null when it does not exist, lies outside,
 * or has left the tree (merged or dissolved: nothing new is attached to it).
 */
export async function unitInScope(
  db: Queryable,
  principal: Principal,
  code: string,
): Promise<ScopedUnit | null> {
  const unit = await db.unit.findUnique({
    where: { code },
    select: { id: true, code: true, name: true, path: true, retiredAt: true },
  });
  if (!unit || unit.retiredAt || !covers(principal, unit.path)) return null;
  const { retiredAt: _retiredAt, ...live } = unit;
  return live;
}

/** A campaign the caller may launch, change or close: 404 when they cannot see it, 403 when they only see it. */
export async function campaignToManage(
  db: Queryable,
  principal: Principal,
  campaignId: string,
): Promise<CampaignInView['campaign']> {
  requireAdmin(principal);
  const found = await campaignInView(db, principal, campaignId);
  if (!('view' in found)) throw notFound('campaign', campaignId);
  if (!canManageCampaign(principal, found.campaign))
    throw forbidden('this campaign is managed by the admins of the unit that issued it');
  return found.campaign;
}

/** A campaign the caller may read (summary, reports, export, exemplars), with how much of it: else 404. */
export async function campaignToRead(
  db: Queryable,
  principal: Principal,
  campaignId: string,
): Promise<CampaignInView> {
  const found = await campaignInView(db, principal, campaignId);
  if (!('view' in found)) throw notFound('campaign', campaignId);
  return found;
}

/**
 * The unit whose subtree a summary (or export) covers, as the caller may see it: the asked unit when it lies
 * within their view of the campaign; by default every participant (undefined) for a whole view, or the
 * caller's own subtree. Null when the asked unit does not exist or lies outside that view.
 */
export async function unitOfView(
  db: Queryable,
  principal: Principal,
  found: CampaignInView,
  unitCode: string | undefined,
): Promise<string | undefined | null> {
  const { view } = found;
  if (unitCode === undefined) {
    if (view.kind === 'whole') return undefined;
    const root = await db.unit.findUnique({ where: { id: view.unitId }, select: { code: true } });
    return root ? root.code : null;
  }
  // Beyond their own subtree, a whole view reaches the units the campaign involves (a participant or one
  // of its ancestors), not every unit of the organisation.
  const [unit] = await db.$queryRaw<{ path: string; involved: boolean }[]>`
    SELECT u.path, EXISTS (
      SELECT 1 FROM "CampaignUnit" cu JOIN "Unit" p ON p.id = cu."unitId"
      WHERE cu."campaignId" = ${found.campaign.id}::uuid AND p.path LIKE u.path || '%') AS involved
    FROM "Unit" u WHERE u.code = ${unitCode}`;
  if (!unit || !viewIncludes(view, unit.path) || !(covers(principal, unit.path) || unit.involved))
    return null;
  return unitCode;
}

/** unitOfView for the API and the console: a unit outside the view is 404, as an unknown unit. */
export async function summaryUnit(
  db: Queryable,
  principal: Principal,
  found: CampaignInView,
  unitCode: string | undefined,
): Promise<string | undefined> {
  const unit = await unitOfView(db, principal, found, unitCode);
  if (unit === null) throw notFound('unit', unitCode ?? '');
  return unit;
}
