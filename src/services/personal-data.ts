import type { Db, Queryable } from '../db/client.ts';
import { covers } from '../domain/scope.ts';
import { recordAudit, SYSTEM_CALLER, type Caller } from './audit.ts';
import { notFound } from './errors.ts';
import { deactivateOfficial } from './officials.ts';
import { requireAdmin } from './scope.ts';

/**
 * Decree 13/2023/NĐ-CP on personal data: an official's data can be erased on request (their reports and the
 * audit trail keep their history under an anonymous name), and everything kept about them can be exported.
 */

/** The name an erased official is shown under, everywhere, from now on ("Cán bộ đã xóa 3"). */
export const erasedName = (n: number): string => `Cán bộ đã xóa ${n}`;

/** Vietnamese phone numbers as people type them (0 or +84, then 8 to 10 digits, maybe grouped). */
const PHONE_PATTERN = '(\\+?84|0)([ .-]?[0-9]){8,10}';

/** Serialises erasures, so that each gets the next number. */
const ERASE_LOCK = 127_991_793_612_130;

export interface ErasedOfficial {
  code: string;
  name: string;
  erasedAt: Date;
}

/**
 * Erases an official's personal data in one transaction: name → "Cán bộ đã xóa <n>", phone, chat accounts
 * (the chat ids), link codes, the words they typed (a report's source text) and the messages to them (chat
 * id and body) and their updates as the webhooks recorded them go; what waits to be sent to them fails. Reports, acknowledgements, exemplars and the audit
 * trail stay, and name them anonymously (the audit trail names officials when it is read). Erasing twice
 * changes nothing the second time.
 */
export async function eraseOfficial(
  db: Db,
  code: string,
  now: Date,
  caller: Caller = SYSTEM_CALLER,
): Promise<ErasedOfficial> {
  requireAdmin(caller.principal);
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ERASE_LOCK}::bigint)`;
    const [official] = await tx.$queryRaw<
      { id: string; name: string; active: boolean; erasedAt: Date | null; unitId: string; unitPath: string }[]
    >`SELECT o.id, o.name, o.active, o."erasedAt", o."unitId", u.path AS "unitPath"
      FROM "Official" o JOIN "Unit" u ON u.id = o."unitId" WHERE o.code = ${code} FOR UPDATE OF o`;
    if (!official || !covers(caller.principal, official.unitPath)) throw notFound('official', code);
    if (official.erasedAt) return { code, name: official.name, erasedAt: official.erasedAt };
    const chats = await tx.channelAccount.findMany({
      where: { officialId: official.id },
      select: { channel: true, chatId: true },
    });
    if (official.active) await deactivateOfficial(tx, official.id, now);
    // Messages about them keep their place in the outbox's history, without a chat id or a body.
    await tx.$executeRaw`
      UPDATE "OutboxMessage"
      SET "chatId" = 'erased', payload = '{"text":"","erased":true}'::jsonb, "channelAccountId" = NULL,
        state = CASE WHEN state = 'pending' THEN 'failed'::"OutboxState" ELSE state END,
        "lastError" = CASE WHEN state = 'pending' THEN 'official erased' ELSE "lastError" END
      WHERE "officialId" = ${official.id}::uuid
        OR (channel, "chatId") IN (SELECT * FROM unnest(${chats.map((chat) => chat.channel)}::text[],
          ${chats.map((chat) => chat.chatId)}::text[]))`;
    await tx.$executeRaw`DELETE FROM "LinkCode" WHERE "officialId" = ${official.id}::uuid`;
    // What their chats sent, as the webhooks recorded it (handled updates only: a waiting one is still work).
    await tx.$executeRaw`
      DELETE FROM "WebhookInbox" WHERE "processedAt" IS NOT NULL
        AND (channel, "chatId") IN (SELECT * FROM unnest(${chats.map((chat) => chat.channel)}::text[],
          ${chats.map((chat) => chat.chatId)}::text[]))`;
    const [counted] = await tx.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM "Official" WHERE "erasedAt" IS NOT NULL`;
    const name = erasedName((counted?.n ?? 0) + 1);
    // The words they typed go; a report's note is what the unit reported (the emulation law keeps it), so
    // only their name and phone numbers are taken out of it.
    await tx.$executeRaw`
      UPDATE "StatusReport"
      SET "sourceText" = NULL,
        note = regexp_replace(replace(note, ${official.name}, ${name}), ${PHONE_PATTERN}, '…', 'g')
      WHERE "officialId" = ${official.id}::uuid`;
    await tx.official.update({
      where: { id: official.id },
      data: { name, phone: null, preferredChannel: null, digestWeekday: null, erasedAt: now },
    });
    // No personal data in the row: the trail names them as `name` from now on.
    await recordAudit(tx, {
      actor: caller.actor,
      action: 'official.erase',
      target: { kind: 'official', id: official.id, code },
      unitId: official.unitId,
      at: now,
    });
    return { code, name, erasedAt: now };
  });
}

/** Everything kept about one official (a subject-access request), as JSON-ready data. */
export async function exportOfficialData(
  db: Queryable,
  code: string,
  now: Date,
  caller: Caller = SYSTEM_CALLER,
): Promise<unknown> {
  requireAdmin(caller.principal);
  const official = await db.official.findUnique({
    where: { code },
    include: {
      unit: { select: { code: true, name: true, path: true } },
      accounts: { orderBy: { linkedAt: 'asc' } },
      linkCodes: { orderBy: { createdAt: 'asc' } },
    },
  });
  if (!official || !covers(caller.principal, official.unit.path)) throw notFound('official', code);
  // Handing out personal data is itself recorded: who asked for it, and when.
  await recordAudit(db, {
    actor: caller.actor,
    action: 'official.export',
    target: { kind: 'official', id: official.id, code },
    unitId: official.unitId,
    at: now,
  });
  const id = official.id;
  const chats = official.accounts;
  const [reports, acts, exemplars, messages, digests, audit, received] = await Promise.all([
    db.$queryRaw`
      SELECT c."docNumber", t.key AS "taskKey", t.title AS "taskTitle", u.code AS "unitCode", r.status::text AS status,
        r.percent, r.note, r."sourceText", r.channel, r."createdAt", r."undoneAt"
      FROM "StatusReport" r JOIN "Task" t ON t.id = r."taskId" JOIN "Campaign" c ON c.id = t."campaignId"
      JOIN "Unit" u ON u.id = r."unitId"
      WHERE r."officialId" = ${id}::uuid ORDER BY r."createdAt", r.id`,
    db.$queryRaw`
      SELECT 'acknowledgement' AS kind, c."docNumber", u.code AS "unitCode", a.channel, a."createdAt"
      FROM "Acknowledgement" a JOIN "Campaign" c ON c.id = a."campaignId" JOIN "Unit" u ON u.id = a."unitId"
      WHERE a."officialId" = ${id}::uuid
      UNION ALL
      SELECT 'registration', c."docNumber", u.code, g.channel, g."createdAt"
      FROM "Registration" g JOIN "Campaign" c ON c.id = g."campaignId" JOIN "Unit" u ON u.id = g."unitId"
      WHERE g."officialId" = ${id}::uuid
      ORDER BY "createdAt"`,
    db.$queryRaw`
      SELECT c."docNumber", e.subject, e.achievement, e."photoRef", e.channel, e."createdAt", e."withdrawnAt"
      FROM "Exemplar" e JOIN "Campaign" c ON c.id = e."campaignId"
      WHERE e."officialId" = ${id}::uuid ORDER BY e."createdAt"`,
    db.$queryRaw`
      SELECT channel, "chatId", payload->>'text' AS text, state::text AS state, "createdAt", "sentAt"
      FROM "OutboxMessage" WHERE "officialId" = ${id}::uuid ORDER BY seq`,
    db.$queryRaw`
      SELECT c."docNumber", w.week, w.sent, w.at
      FROM "WeeklyDigestSent" w JOIN "Campaign" c ON c.id = w."campaignId"
      WHERE w."officialId" = ${id}::uuid ORDER BY w.at`,
    db.$queryRaw`
      SELECT at, action, CASE WHEN "actorId" = ${id}::uuid THEN 'actor' ELSE 'target' END AS "as",
        "targetKind", "targetCode", changes
      FROM "AuditEvent"
      WHERE "actorId" = ${id}::uuid
        OR ("targetKind" = 'official' AND ("targetId" = ${id} OR "targetCode" = ${code}))
      ORDER BY at, id`,
    // What their chats sent, as the webhooks received it (kept until RETENTION_INBOUND_TEXT_DAYS).
    db.$queryRaw`
      SELECT channel, "chatId", body, "receivedAt", "processedAt"
      FROM "WebhookInbox"
      WHERE (channel, "chatId") IN (SELECT * FROM unnest(${chats.map((chat) => chat.channel)}::text[],
        ${chats.map((chat) => chat.chatId)}::text[]))
      ORDER BY "receivedAt", id`,
  ]);
  return {
    exportedAt: now,
    official: {
      code: official.code,
      name: official.name,
      unit: { code: official.unit.code, name: official.unit.name },
      role: official.role,
      phone: official.phone,
      locale: official.locale,
      preferredChannel: official.preferredChannel,
      digest:
        official.digestWeekday === null
          ? null
          : { weekday: official.digestWeekday, time: official.digestTime },
      active: official.active,
      deactivatedAt: official.deactivatedAt,
      erasedAt: official.erasedAt,
      createdAt: official.createdAt,
      updatedAt: official.updatedAt,
    },
    chatAccounts: official.accounts.map((account) => ({
      channel: account.channel,
      chatId: account.chatId,
      active: account.active,
      inactiveReason: account.inactiveReason,
      linkedAt: account.linkedAt,
      deactivatedAt: account.deactivatedAt,
    })),
    // Codes themselves are never stored: when each was issued, until when, and which chat used it.
    linkCodes: official.linkCodes.map((linkCode) => ({
      createdAt: linkCode.createdAt,
      expiresAt: linkCode.expiresAt,
      usedAt: linkCode.usedAt,
      usedBy: linkCode.usedBy,
    })),
    statusReports: reports,
    acknowledgementsAndRegistrations: acts,
    exemplars,
    messages,
    receivedUpdates: received,
    weeklyDigests: digests,
    audit,
  };
}
