import type { Queryable } from '../db/client.ts';
import type { RetentionPolicy } from '../config.ts';

export type { RetentionPolicy };

/** The defaults of RETENTION_MESSAGE_DAYS, RETENTION_INBOUND_TEXT_DAYS and RETENTION_LINK_CODE_DAYS. */
export const DEFAULT_RETENTION: RetentionPolicy = { messageDays: 30, inboundTextDays: 90, linkCodeDays: 30 };

const DAY_MS = 24 * 3600_000;

export interface RetentionCounts {
  /** Bodies of messages sent or failed before the message period, emptied. */
  messageBodies: number;
  /** Source texts of reports (the words typed) older than the inbound-text period, removed. */
  inboundTexts: number;
  /** Link codes that expired before the link-code period (used or not: a used one names its chat), deleted. */
  linkCodes: number;
  /** Webhook updates as received (what people sent, whole) older than the inbound-text period, deleted. */
  webhookUpdates: number;
}

/**
 * Purges personal data kept past its period (Decree 13/2023/NĐ-CP: no longer than needed). What a report
 * says (status, percent, note), who made it and when stay: that is the record. With `dryRun`, only counts.
 */
export async function purgeExpired(
  db: Queryable,
  policy: RetentionPolicy,
  at: Date,
  dryRun: boolean,
): Promise<RetentionCounts> {
  const messagesBefore = new Date(at.getTime() - policy.messageDays * DAY_MS);
  const textsBefore = new Date(at.getTime() - policy.inboundTextDays * DAY_MS);
  const codesBefore = new Date(at.getTime() - policy.linkCodeDays * DAY_MS);
  if (dryRun) {
    const [counts] = await db.$queryRaw<RetentionCounts[]>`
      SELECT
        (SELECT count(*)::int FROM "OutboxMessage" WHERE state <> 'pending'
          AND COALESCE("sentAt", "createdAt") < ${messagesBefore} AND payload->>'text' <> '') AS "messageBodies",
        (SELECT count(*)::int FROM "StatusReport"
          WHERE "sourceText" IS NOT NULL AND "createdAt" < ${textsBefore}) AS "inboundTexts",
        (SELECT count(*)::int FROM "LinkCode" WHERE "expiresAt" < ${codesBefore}) AS "linkCodes",
        (SELECT count(*)::int FROM "WebhookInbox" WHERE "receivedAt" < ${textsBefore}) AS "webhookUpdates"`;
    return counts ?? { messageBodies: 0, inboundTexts: 0, linkCodes: 0, webhookUpdates: 0 };
  }
  // audit: retention.purge (system actor, the counts)
  const messageBodies = await db.$executeRaw`
    UPDATE "OutboxMessage" SET payload = '{"text":"","purged":true}'::jsonb
    WHERE state <> 'pending' AND COALESCE("sentAt", "createdAt") < ${messagesBefore}
      AND payload->>'text' <> ''`;
  const inboundTexts = await db.$executeRaw`
    UPDATE "StatusReport" SET "sourceText" = NULL
    WHERE "sourceText" IS NOT NULL AND "createdAt" < ${textsBefore}`;
  const linkCodes = await db.$executeRaw`DELETE FROM "LinkCode" WHERE "expiresAt" < ${codesBefore}`;
  // Handled or not: an update that could not be handled within the period is past any use (an operator
  // sees a failed one within hours), and what it says is personal data like the typed texts.
  const webhookUpdates = await db.$executeRaw`
    DELETE FROM "WebhookInbox" WHERE "receivedAt" < ${textsBefore}`;
  return { messageBodies, inboundTexts, linkCodes, webhookUpdates };
}
