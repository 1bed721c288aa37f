import type { Queryable } from '../db/client.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import { campaignView, type CampaignView, type Principal, type Role } from '../domain/scope.ts';
import { isUuid } from './errors.ts';

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
  campaign: { id: string; docNumber: string; title: string; issuerUnitId: string };
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
  const { id, docNumber, title, issuerUnitId } = row;
  return { campaign: { id, docNumber, title, issuerUnitId }, view };
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
