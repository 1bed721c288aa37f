import type { Queryable, Tx } from '../db/client.ts';
import type { RawQueries } from '../db/raw-transactions.ts';
import { Prisma } from '../generated/prisma/client.ts';
import { recordAudit } from './audit.ts';
import { inTransaction } from './transactions.ts';
import { markUnitProgress } from './unit-progress.ts';

/*
 * What a unit says back to a launch: it received the plan ("đã nhận") and it registers to compete ("đăng ký
 * thi đua"), once per unit. Raw SQL only, so that a "👍" typed on the dialogue's hot path (a status-text
 * turn on a plain `pg` transaction) acknowledges without falling back to Prisma.
 */

export type CampaignAct = 'acknowledge' | 'register';

export type CampaignActResult =
  { kind: 'recorded' | 'already'; docNumber: string; title: string } | { kind: 'not_allowed' };

export interface CampaignActInput {
  campaignId: string;
  unitId: string;
  officialId: string;
  channel: string;
  now: Date;
}

/** Acknowledges ("đã nhận") or registers ("đăng ký thi đua") for a unit; the first official to do it counts. */
export function recordCampaignAct(
  db: RawQueries,
  act: CampaignAct,
  input: CampaignActInput,
): Promise<CampaignActResult> {
  // Only raw queries run below (markUnitProgress and recordAudit too), whatever their parameter types say.
  return inTransaction(db as Queryable, (tx) => campaignAct(tx, act, input));
}

const ACT_TABLES: Record<CampaignAct, Prisma.Sql> = {
  acknowledge: Prisma.raw('"Acknowledgement"'),
  register: Prisma.raw('"Registration"'),
};

async function campaignAct(tx: Tx, act: CampaignAct, input: CampaignActInput): Promise<CampaignActResult> {
  const [campaign] = await tx.$queryRaw<{ docNumber: string; title: string }[]>`
    SELECT c."docNumber", c.title FROM "Campaign" c
    JOIN "CampaignUnit" cu ON cu."campaignId" = c.id AND cu."unitId" = ${input.unitId}::uuid
    WHERE c.id = ${input.campaignId}::uuid AND c.state = 'running'`;
  if (!campaign) return { kind: 'not_allowed' };
  const count = await tx.$executeRaw`
    INSERT INTO ${ACT_TABLES[act]} ("campaignId", "unitId", "officialId", channel, "createdAt")
    VALUES (${input.campaignId}::uuid, ${input.unitId}::uuid, ${input.officialId}::uuid, ${input.channel},
      ${input.now})
    ON CONFLICT ("campaignId", "unitId") DO NOTHING`;
  if (count > 0) {
    await markUnitProgress(tx, act, input.campaignId, input.unitId);
    await recordAudit(tx, {
      actor: { kind: 'official', officialId: input.officialId },
      action: act === 'acknowledge' ? 'campaign.acknowledge' : 'campaign.register',
      target: { kind: 'campaign', id: input.campaignId, code: campaign.docNumber },
      unitId: input.unitId,
      campaignId: input.campaignId,
      changes: { channel: input.channel },
      at: input.now,
    });
  }
  return { kind: count > 0 ? 'recorded' : 'already', ...campaign };
}

export type LatestLaunchResult = CampaignActResult | { kind: 'none' };

/**
 * "👍", "ok", "đã nhận" typed on its own: acknowledges the latest launch (running, launched by now) that
 * the unit has not acknowledged yet. `none` when every launch of the unit's running campaigns is
 * acknowledged (nothing is recorded).
 */
export async function acknowledgeLatestLaunch(
  db: RawQueries,
  input: Omit<CampaignActInput, 'campaignId'>,
): Promise<LatestLaunchResult> {
  const [latest] = await db.$queryRaw<{ id: string }[]>`
    SELECT c.id FROM "CampaignUnit" cu
    JOIN "Campaign" c ON c.id = cu."campaignId"
    WHERE cu."unitId" = ${input.unitId}::uuid AND c.state = 'running' AND c."launchedAt" <= ${input.now}
      AND NOT EXISTS (
        SELECT 1 FROM "Acknowledgement" a WHERE a."campaignId" = c.id AND a."unitId" = cu."unitId")
    ORDER BY c."launchedAt" DESC, c.id DESC
    LIMIT 1`;
  if (!latest) return { kind: 'none' };
  return recordCampaignAct(db, 'acknowledge', { ...input, campaignId: latest.id });
}
