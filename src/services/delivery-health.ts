import type { Queryable } from '../db/client.ts';

/** `lastError` of an outbox row held back because the channel's message quota is used up. */
export const QUOTA_ERROR_PREFIX = 'quota: ';

export interface DeliveryProblems {
  /** Focal and leader officials of the campaign whose every linked account stopped working. */
  unreachable: { name: string; unit: string; reason: string }[];
  /** Messages waiting because a channel's quota is used up (Zalo Bot Platform: monthly). */
  quotaPending: number;
}

/**
 * What the admins should know about delivery for a campaign: people the bot can no longer reach
 * (blocked, outside Zalo's customer-service window, chat gone) and messages held by a quota.
 */
export async function deliveryProblems(db: Queryable, campaignId: string): Promise<DeliveryProblems> {
  const officials = await db.official.findMany({
    where: {
      role: { in: ['focal', 'leader'] },
      unit: { campaignUnits: { some: { campaignId } } },
      accounts: { some: {}, none: { active: true } },
    },
    select: {
      name: true,
      unit: { select: { name: true } },
      accounts: { orderBy: { deactivatedAt: 'desc' }, take: 1, select: { inactiveReason: true } },
    },
    orderBy: { name: 'asc' },
  });
  const quotaPending = await db.outboxMessage.count({
    where: { state: 'pending', lastError: { startsWith: QUOTA_ERROR_PREFIX } },
  });
  return {
    unreachable: officials.map((official) => ({
      name: official.name,
      unit: official.unit.name,
      reason: official.accounts[0]?.inactiveReason ?? '',
    })),
    quotaPending,
  };
}
