import type { Queryable } from '../db/client.ts';
import type { RawQueries } from '../db/raw-transactions.ts';
import { foldVietnamese } from '../domain/reply-parser.ts';
import { isSupervisor, type Role } from '../domain/scope.ts';
import {
  campaignInView,
  campaignsInReach,
  officialPrincipal,
  unitOfView,
  type CampaignInView,
} from './scope.ts';

/**
 * Which part of a campaign's summary an official may see, and which of its emulation blocks: decided here
 * for the bot's /tonghop and its buttons, so that the console and the admin API can ask the same. The
 * rules themselves are domain/scope.ts.
 */

/** An official asking, with their unit. */
export interface Asker {
  role: Role;
  unitId: string;
  unit: { code: string; path: string };
}

export type SummaryAccess =
  /** `unitCode`: the subtree to show; undefined for the whole campaign. */
  | { kind: 'granted'; campaign: CampaignInView['campaign']; unitCode: string | undefined }
  /** Only leaders and admins read summaries. */
  | { kind: 'not_supervisor' }
  /** No such campaign. */
  | { kind: 'missing' }
  /** A campaign, or a unit, outside what the asker may see: shown exactly like nothing at all. */
  | { kind: 'out_of_scope' };

/**
 * A member sees nothing; an admin of the issuer the whole campaign (or any unit it involves); anyone else
 * their own unit's subtree (services/scope.ts, the rule the admin API and the console use too). `unitCode`
 * asks for one unit's subtree (a drill-down); undefined, the asker's default.
 */
export async function summaryAccess(
  db: Queryable,
  asker: Asker,
  campaignId: string,
  unitCode: string | undefined,
): Promise<SummaryAccess> {
  if (!isSupervisor(asker.role)) return { kind: 'not_supervisor' };
  const principal = officialPrincipal(asker);
  const found = await campaignInView(db, principal, campaignId);
  if (!('view' in found)) return { kind: found.kind };
  const unit = await unitOfView(db, principal, found, unitCode);
  return unit === null
    ? { kind: 'out_of_scope' }
    : { kind: 'granted', campaign: found.campaign, unitCode: unit };
}

/** The running campaigns whose summary an official may ask for, latest launched first. */
export async function campaignsToSummarise(
  db: Queryable,
  asker: Asker,
): Promise<{ id: string; docNumber: string }[]> {
  return db.campaign.findMany({
    where: { state: 'running', ...campaignsInReach(officialPrincipal(asker)) },
    orderBy: { launchedAt: 'desc' },
    select: { id: true, docNumber: true },
  });
}

/**
 * The campaign a document number names, typed any way (folded: no diacritics, lower case, as
 * domain/intents.ts reads it), or null. Whether the asker may see it is summaryAccess's to say.
 */
export async function campaignByDocNumber(
  db: RawQueries,
  foldedDocNumber: string,
): Promise<{ id: string; docNumber: string } | null> {
  const campaigns = await db.$queryRaw<{ id: string; docNumber: string }[]>`
    SELECT id, "docNumber" FROM "Campaign"`;
  return campaigns.find((campaign) => foldVietnamese(campaign.docNumber) === foldedDocNumber) ?? null;
}

/** An emulation block among a campaign's participants, with the kinds of unit it holds. */
export interface CampaignBlock {
  code: string;
  kinds: (string | null)[];
}

/**
 * The emulation blocks of the campaign's participants within a unit's subtree (every participant when
 * `unitCode` is undefined), in code order.
 */
export async function campaignBlocks(
  db: RawQueries,
  campaignId: string,
  unitCode: string | undefined,
): Promise<CampaignBlock[]> {
  return db.$queryRaw<CampaignBlock[]>`
    WITH scope AS (SELECT (SELECT path FROM "Unit" WHERE code = ${unitCode ?? null}::text) AS path)
    SELECT b.code, array_agg(DISTINCT u.kind) AS kinds
    FROM "CampaignUnit" cu
    JOIN "Unit" u ON u.id = cu."unitId"
    CROSS JOIN LATERAL unnest(u."blockCodes") AS b(code)
    CROSS JOIN scope
    WHERE cu."campaignId" = ${campaignId}::uuid AND (scope.path IS NULL OR u.path LIKE scope.path || '%')
    GROUP BY b.code
    ORDER BY b.code`;
}

/** The block a person named, matched without case or diacritics; undefined for none (or nothing named). */
export function findBlock(blocks: readonly CampaignBlock[], asked: string): CampaignBlock | undefined {
  const wanted = foldVietnamese(asked);
  return wanted === '' ? undefined : blocks.find((block) => foldVietnamese(block.code) === wanted);
}
