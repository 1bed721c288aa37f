import { createHash, createHmac } from 'node:crypto';
import { DateTime } from 'luxon';
import type { Db, Queryable } from '../db/client.ts';
import type { Role } from '../generated/prisma/enums.ts';
import { LINK_CODE_TTL_HOURS, linkCodeFromBytes, normaliseLinkCode } from '../domain/link-code.ts';
import type { OutboundMessage } from '../domain/message.ts';
import type { DigestSchedule } from '../domain/weekly-digest.ts';
import { covers, type Principal } from '../domain/scope.ts';
import { fieldChanges, recordAudit, SYSTEM_CALLER, type Caller } from './audit.ts';
import { DomainError, notFound } from './errors.ts';
import { writeOutbox } from './outbox.ts';
import type { Clock, Random } from './ports.ts';
import { requireAdmin, requireSupervisor, unitInScope, WHOLE_ORGANISATION } from './scope.ts';
import { inTransaction } from './transactions.ts';

export interface OfficialInput {
  name: string;
  unitCode: string;
  role: Role;
  phone?: string | null | undefined;
  locale?: 'vi' | 'en' | undefined;
  preferredChannel?: string | null | undefined;
  /** The weekly summary digest's weekday and time; null: none; absent: unchanged (Monday 08:00 when new). */
  digest?: DigestSchedule | null | undefined;
  /** false: deactivated (every chat unlinked, nothing more sent); true: may link again; absent: unchanged. */
  active?: boolean | undefined;
}

export interface OfficialView {
  code: string;
  name: string;
  unitCode: string;
  role: Role;
  phone: string | null;
  locale: string;
  preferredChannel: string | null;
  digest: DigestSchedule | null;
  active: boolean;
  channels: { channel: string; active: boolean }[];
}

type StoredOfficial = {
  name: string;
  role: Role;
  phone: string | null;
  locale: string;
  preferredChannel: string | null;
  digestWeekday: number | null;
  digestTime: string;
  active: boolean;
  accounts: { channel: string; active: boolean }[];
};

function viewOf(code: string, unitCode: string, official: StoredOfficial): OfficialView {
  return {
    code,
    name: official.name,
    unitCode,
    role: official.role,
    phone: official.phone,
    locale: official.locale,
    preferredChannel: official.preferredChannel,
    digest:
      official.digestWeekday === null ? null : { weekday: official.digestWeekday, time: official.digestTime },
    active: official.active,
    channels: official.accounts.map((account) => ({ channel: account.channel, active: account.active })),
  };
}

/** An official of the principal's subtree (404 outside it), for leaders and admins. */
export async function getOfficial(
  db: Queryable,
  code: string,
  principal: Principal = WHOLE_ORGANISATION,
): Promise<OfficialView> {
  requireSupervisor(principal);
  const official = await db.official.findUnique({
    where: { code },
    include: { accounts: true, unit: { select: { code: true, path: true } } },
  });
  if (!official || !covers(principal, official.unit.path)) throw notFound('official', code);
  return viewOf(code, official.unit.code, official);
}

/**
 * Creates or updates an official by code. The caller must be an admin, and the official (when they exist)
 * and their unit must lie in the caller's subtree (else unknown to them). `active: false` takes their access
 * away (deactivateOfficial); an erased code stays anonymous. The audit row names the fields that changed,
 * never a phone number (only that it was set, changed or removed).
 */
export async function upsertOfficial(
  db: Db,
  code: string,
  input: OfficialInput,
  caller: Caller = SYSTEM_CALLER,
  options: { now?: Date } = {},
): Promise<OfficialView> {
  requireAdmin(caller.principal);
  const now = options.now ?? new Date();
  return db.$transaction(async (tx) => {
    const existing = await tx.official.findUnique({
      where: { code },
      include: { unit: { select: { code: true, path: true } } },
    });
    if (existing && !covers(caller.principal, existing.unit.path)) throw notFound('official', code);
    // Writing a name and a phone back would undo the erasure: an erased code stays anonymous.
    if (existing?.erasedAt)
      throw new DomainError('official_erased', `official ${code} was erased`, { code }, 'conflict');
    const unit = await unitInScope(tx, caller.principal, input.unitCode);
    if (!unit) {
      throw new DomainError('unknown_unit', `unit ${input.unitCode} does not exist`, {
        unitCode: input.unitCode,
      });
    }
    const data = {
      name: input.name,
      unitId: unit.id,
      role: input.role,
      phone: input.phone ?? null,
      ...(input.locale ? { locale: input.locale } : {}),
      ...(input.preferredChannel !== undefined ? { preferredChannel: input.preferredChannel } : {}),
      ...(input.digest === null ? { digestWeekday: null } : {}),
      ...(input.digest ? { digestWeekday: input.digest.weekday, digestTime: input.digest.time } : {}),
    };
    const { id } = await tx.official.upsert({
      where: { code },
      create: { code, ...data, ...(input.active === false ? { active: false, deactivatedAt: now } : {}) },
      update: data,
      select: { id: true },
    });
    if (existing && input.active === false && existing.active) await deactivateOfficial(tx, id, now);
    if (existing && input.active === true && !existing.active)
      await tx.official.update({ where: { id }, data: { active: true, deactivatedAt: null } });
    const official = await tx.official.findUniqueOrThrow({ where: { id }, include: { accounts: true } });
    const after = viewOf(code, unit.code, official);
    const before = existing ? viewOf(code, existing.unit.code, { ...existing, accounts: [] }) : null;
    const changes = officialChanges(before, after);
    if (changes)
      await recordAudit(tx, {
        actor: caller.actor,
        action: officialAction(before, after),
        target: { kind: 'official', id, code },
        unitId: unit.id,
        changes,
        at: now,
      });
    return after;
  });
}

const AUDITED_OFFICIAL_FIELDS = [
  'unitCode',
  'role',
  'locale',
  'preferredChannel',
  'digest',
  'active',
] as const;

function officialAction(before: OfficialView | null, after: OfficialView): string {
  if (!before) return 'official.create';
  if (before.active !== after.active) return after.active ? 'official.reactivate' : 'official.deactivate';
  return 'official.update';
}

/** How a personal field changed, without its value: "set", "changed" or "removed" (or unchanged). */
function personalChange(before: string | null | undefined, after: string | null): string | undefined {
  if ((before ?? null) === after) return undefined;
  if (after === null) return 'removed';
  return before ? 'changed' : 'set';
}

/**
 * What an upsert changed, for the audit trail. The trail is append-only and outlives an erasure (it names
 * officials when it is read), so personal data never goes in it: of a name or a phone number it says only
 * that it was set, changed or removed.
 */
function officialChanges(before: OfficialView | null, after: OfficialView): Record<string, unknown> | null {
  const personal = Object.fromEntries(
    (['name', 'phone'] as const)
      .map((field) => [field, personalChange(before?.[field], after[field])] as const)
      .filter(([, change]) => change !== undefined),
  );
  if (!before) {
    const fields = Object.fromEntries(AUDITED_OFFICIAL_FIELDS.map((field) => [field, after[field]]));
    return { ...fields, ...personal };
  }
  const changes = fieldChanges(before, after, AUDITED_OFFICIAL_FIELDS);
  if (!changes && Object.keys(personal).length === 0) return null;
  return { ...changes, ...personal };
}

/**
 * Takes an official's access away: what still waits to be sent to them fails, every chat account of theirs is
 * removed (their chats are unlinked: writing again gets the "not linked" answer, never a silent reactivation,
 * which is kept for accounts the platform reported blocked), their unused link codes are void and their
 * console sessions end (a later reactivation brings none back).
 */
export async function deactivateOfficial(tx: Queryable, officialId: string, now: Date): Promise<void> {
  // audit: official.deactivate (no chat ids in the row)
  await tx.$executeRaw`
    UPDATE "OutboxMessage" SET state = 'failed', "lastError" = 'official deactivated'
    WHERE state = 'pending' AND ("officialId" = ${officialId}::uuid
      OR "channelAccountId" IN (SELECT id FROM "ChannelAccount" WHERE "officialId" = ${officialId}::uuid))`;
  await tx.$executeRaw`
    UPDATE "OutboxMessage" SET "channelAccountId" = NULL
    WHERE "channelAccountId" IN (SELECT id FROM "ChannelAccount" WHERE "officialId" = ${officialId}::uuid)`;
  await tx.$executeRaw`
    DELETE FROM "PendingReply"
    WHERE "channelAccountId" IN (SELECT id FROM "ChannelAccount" WHERE "officialId" = ${officialId}::uuid)`;
  await tx.$executeRaw`
    DELETE FROM "OfferedChoice" c USING "ChannelAccount" a
    WHERE a."officialId" = ${officialId}::uuid AND c.channel = a.channel AND c."chatId" = a."chatId"`;
  await tx.$executeRaw`DELETE FROM "ChannelAccount" WHERE "officialId" = ${officialId}::uuid`;
  await tx.$executeRaw`DELETE FROM "LinkCode" WHERE "officialId" = ${officialId}::uuid AND "usedAt" IS NULL`;
  await tx.$executeRaw`
    UPDATE "ConsoleSession" SET "endedAt" = ${now} WHERE "officialId" = ${officialId}::uuid AND "endedAt" IS NULL`;
  await tx.official.update({ where: { id: officialId }, data: { active: false, deactivatedAt: now } });
}

/**
 * The server-side keys link codes are hashed with: `current` for new codes; every key is tried when one is
 * redeemed (a rotated SECRETS_KEY, or the admin-token key used before SECRETS_KEY was set).
 */
export interface LinkCodeKeys {
  current: Buffer;
  previous: readonly Buffer[];
}

/** The keys, or a refusal when the service has none (neither SECRETS_KEY nor an admin token is set). */
export function requireLinkCodeKeys(keys: LinkCodeKeys | undefined): LinkCodeKeys {
  if (!keys)
    throw new DomainError(
      'link_codes_unavailable',
      'no key to hash link codes with: set SECRETS_KEY',
      {},
      'conflict',
    );
  return keys;
}

/** HMAC-SHA256 of a code under a server-side key: without the key, the stored hashes cannot be tried. */
export function hashLinkCode(code: string, key: Buffer): string {
  return createHmac('sha256', key).update(code).digest('hex');
}

/**
 * Every hash a code may be stored under. Plain SHA-256 is how codes were stored before keys: such a code
 * keeps working until it expires (72 h), and no code is stored that way any more.
 */
function storedHashes(code: string, keys: LinkCodeKeys): string[] {
  return [
    ...[keys.current, ...keys.previous].map((key) => hashLinkCode(code, key)),
    createHash('sha256').update(code).digest('hex'),
  ];
}

export interface IssuedLinkCode {
  code: string;
  expiresAt: Date;
}

/**
 * Issues a one-time code to an active official of the caller's subtree; only its keyed hash is stored, so
 * the code is shown this once (and never written to the audit trail, which records only that one was issued).
 */
export async function issueLinkCode(
  db: Queryable,
  officialCode: string,
  deps: { clock: Clock; random: Random; linkCodeKeys?: LinkCodeKeys | undefined },
  caller: Caller = SYSTEM_CALLER,
): Promise<IssuedLinkCode> {
  requireAdmin(caller.principal);
  return inTransaction(db, async (tx) => {
    const official = await tx.official.findUnique({
      where: { code: officialCode },
      include: { unit: { select: { path: true } } },
    });
    if (!official || !covers(caller.principal, official.unit.path)) throw notFound('official', officialCode);
    if (!official.active) throw inactive(officialCode);
    const keys = requireLinkCodeKeys(deps.linkCodeKeys);
    const code = linkCodeFromBytes(deps.random.bytes(32));
    const now = deps.clock.now();
    const expiresAt = new Date(now.getTime() + LINK_CODE_TTL_HOURS * 3600_000);
    await tx.linkCode.create({
      data: { officialId: official.id, codeHash: hashLinkCode(code, keys.current), expiresAt },
    });
    await recordAudit(tx, {
      actor: caller.actor,
      action: 'official.link_code',
      target: { kind: 'official', id: official.id, code: official.code },
      unitId: official.unitId,
      changes: { expiresAt: expiresAt.toISOString() },
      at: now,
    });
    return { code, expiresAt };
  });
}

export const inactive = (officialCode: string): DomainError =>
  new DomainError(
    'official_inactive',
    `official ${officialCode} is deactivated: set "active": true first`,
    { code: officialCode },
    'conflict',
  );

export type RedeemResult =
  { kind: 'linked'; officialId: string; accountId: string } | { kind: 'invalid' | 'used' | 'expired' };

/** Renders a message from the catalogues (the dialogue's Renderer is one). */
export interface TextRenderer {
  text(locale: string, key: string, vars?: Record<string, unknown>): OutboundMessage;
}

export interface RedeemDeps {
  linkCodeKeys: LinkCodeKeys;
  /** Tells the official's chats already linked that another one was (link.linkedElsewhere). */
  render: TextRenderer;
  timeZone: string;
}

/**
 * Links a chat to the official a code was issued to. The code is spent atomically, so two chats
 * racing with the same code cannot both win. A chat that was linked to someone else is moved over.
 * The official's other chats are told in the same transaction, so a link nobody expected is noticed.
 */
export function redeemLinkCode(
  db: Queryable,
  input: { channel: string; chatId: string; code: string; now: Date },
  deps: RedeemDeps,
): Promise<RedeemResult> {
  return inTransaction(db, (tx) => redeem(tx, input, deps));
}

async function redeem(
  tx: Queryable,
  input: { channel: string; chatId: string; code: string; now: Date },
  deps: RedeemDeps,
): Promise<RedeemResult> {
  const code = normaliseLinkCode(input.code);
  if (!code) return { kind: 'invalid' };
  const stored = await tx.linkCode.findFirst({
    where: { codeHash: { in: storedHashes(code, deps.linkCodeKeys) } },
    include: { official: { select: { active: true, locale: true, code: true, unitId: true } } },
  });
  // A deactivated official's codes are deleted; one issued while the flag changed is refused all the same.
  if (!stored?.official.active) return { kind: 'invalid' };
  if (stored.usedAt) return { kind: 'used' };
  if (stored.expiresAt.getTime() <= input.now.getTime()) return { kind: 'expired' };
  const spent = await tx.linkCode.updateMany({
    where: { id: stored.id, usedAt: null },
    data: { usedAt: input.now, usedBy: `${input.channel}:${input.chatId}` },
  });
  if (spent.count === 0) return { kind: 'used' };
  const account = await tx.channelAccount.upsert({
    where: { channel_chatId: { channel: input.channel, chatId: input.chatId } },
    create: { channel: input.channel, chatId: input.chatId, officialId: stored.officialId },
    update: {
      officialId: stored.officialId,
      active: true,
      inactiveReason: null,
      deactivatedAt: null,
      linkedAt: input.now,
    },
  });
  // The chat id stays out of the trail (personal data); the channel says where.
  await recordAudit(tx, {
    actor: { kind: 'official', officialId: stored.officialId },
    action: 'account.link',
    target: { kind: 'official', id: stored.officialId, code: stored.official.code },
    unitId: stored.official.unitId,
    changes: { channel: input.channel },
    at: input.now,
  });
  await tellOtherChats(tx, { ...input, officialId: stored.officialId, accountId: account.id }, deps, {
    linkCodeId: stored.id,
    locale: stored.official.locale,
  });
  return { kind: 'linked', officialId: stored.officialId, accountId: account.id };
}

async function tellOtherChats(
  tx: Queryable,
  link: { channel: string; now: Date; officialId: string; accountId: string },
  deps: RedeemDeps,
  meta: { linkCodeId: string; locale: string },
): Promise<void> {
  const others = await tx.channelAccount.findMany({
    where: { officialId: link.officialId, active: true, id: { not: link.accountId } },
  });
  if (others.length === 0) return;
  const at = DateTime.fromJSDate(link.now, { zone: deps.timeZone }).toFormat('HH:mm dd/MM/yyyy');
  const channelName = deps.render.text(meta.locale, `channels.${link.channel}`).text;
  const message = deps.render.text(meta.locale, 'link.linkedElsewhere', { channel: channelName, at });
  await writeOutbox(
    tx,
    others.map((other) => ({
      // One notice per chat per code: a code links once.
      dedupeKey: `link-notice:${meta.linkCodeId}:${other.id}`,
      channel: other.channel,
      chatId: other.chatId,
      channelAccountId: other.id,
      officialId: link.officialId,
      message,
    })),
  );
}
