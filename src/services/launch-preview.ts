import type { Queryable } from '../db/client.ts';
import type { CampaignState } from '../generated/prisma/enums.ts';
import type { Caller } from './audit.ts';
import { launchDedupeKey, launchRecipients } from './campaigns.ts';
import { unreachableBecause, type UnreachableReason } from './console-reads.ts';
import { notFound } from './errors.ts';
import { campaignToManage } from './scope.ts';

/** An official a launch cannot reach, and why. */
export interface UnreachableRecipient {
  code: string;
  name: string;
  role: string;
  unitCode: string;
  unitName: string;
  reason: UnreachableReason;
  /** The channel of their last chat (none: never linked), and what its platform said. */
  channel: string | null;
  detail: string | null;
}

export interface LaunchPreview {
  campaign: { id: string; docNumber: string; title: string; state: CampaignState };
  /** Officials the launch would reach, by the channel it would reach each on (most first). */
  byChannel: { channel: string; officials: number }[];
  reachable: number;
  /** Of those, how many already have it (a running campaign launched again sends only to the others). */
  alreadySent: number;
  unreachable: UnreachableRecipient[];
}

/**
 * What launching a campaign now would do, for the confirmation an operator sees first: the recipients are
 * launchCampaign's own (launchRecipients: every focal and leader official of the participants, on the
 * chat a launch picks), counted by channel; those with no working chat are listed with the reason. Only
 * the admins who may launch it see this (403 for a leader, 404 outside the subtree).
 */
export async function launchPreview(db: Queryable, id: string, caller: Caller): Promise<LaunchPreview> {
  await campaignToManage(db, caller.principal, id);
  const campaign = await db.campaign.findUnique({
    where: { id },
    select: { id: true, docNumber: true, title: true, state: true },
  });
  if (!campaign) throw notFound('campaign', id);
  const recipients = await launchRecipients(db, { campaignId: id });
  const reachable = recipients.filter((recipient) => recipient.accountId !== null);
  const channels = new Map<string, number>();
  for (const recipient of reachable)
    if (recipient.channel) channels.set(recipient.channel, (channels.get(recipient.channel) ?? 0) + 1);
  const keys = reachable.map((recipient) => launchDedupeKey(id, recipient.officialId));
  const [sent] = await db.$queryRaw<{ count: number }[]>`
    SELECT count(*)::int AS count FROM "OutboxMessage" WHERE "dedupeKey" = ANY(${keys}::text[])`;
  const unreachableIds = recipients
    .filter((recipient) => recipient.accountId === null)
    .map((recipient) => recipient.officialId);
  return {
    campaign,
    byChannel: [...channels]
      .map(([channel, officials]) => ({ channel, officials }))
      .sort((a, b) => b.officials - a.officials || a.channel.localeCompare(b.channel)),
    reachable: reachable.length,
    alreadySent: sent?.count ?? 0,
    unreachable: await unreachableDetails(db, unreachableIds),
  };
}

/** Who the officials without a working chat are, and what their last chat's platform said, if any. */
async function unreachableDetails(db: Queryable, officialIds: string[]): Promise<UnreachableRecipient[]> {
  if (officialIds.length === 0) return [];
  const rows = await db.$queryRaw<(Omit<UnreachableRecipient, 'reason'> & { active: boolean })[]>`
    SELECT o.code, o.name, o.role::text AS role, u.code AS "unitCode", u.name AS "unitName",
      last.channel, last."inactiveReason" AS detail, o.active
    FROM "Official" o
    JOIN "Unit" u ON u.id = o."unitId"
    LEFT JOIN LATERAL (
      SELECT a.channel, a."inactiveReason" FROM "ChannelAccount" a
      WHERE a."officialId" = o.id ORDER BY a."deactivatedAt" DESC NULLS LAST LIMIT 1
    ) last ON true
    WHERE o.id = ANY(${officialIds}::uuid[])
    ORDER BY u.path, o.name`;
  return rows.map(({ active, ...row }) => ({ ...row, reason: unreachableBecause({ active, ...row }) }));
}
