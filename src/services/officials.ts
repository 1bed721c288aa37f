import { createHash } from 'node:crypto';
import type { Db, Queryable } from '../db/client.ts';
import type { Role } from '../generated/prisma/enums.ts';
import { LINK_CODE_TTL_HOURS, linkCodeFromBytes, normaliseLinkCode } from '../domain/link-code.ts';
import type { DigestSchedule } from '../domain/weekly-digest.ts';
import { covers, type Principal } from '../domain/scope.ts';
import { fieldChanges, recordAudit, SYSTEM_CALLER, type Caller } from './audit.ts';
import { DomainError, notFound } from './errors.ts';
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
 * and their unit must lie in the caller's subtree (else unknown to them). The audit row names the fields
 * that changed, never a phone number (only that it was set, changed or removed).
 */
export async function upsertOfficial(
  db: Db,
  code: string,
  input: OfficialInput,
  caller: Caller = SYSTEM_CALLER,
): Promise<OfficialView> {
  requireAdmin(caller.principal);
  return db.$transaction(async (tx) => {
    const existing = await tx.official.findUnique({
      where: { code },
      include: { unit: { select: { code: true, path: true } } },
    });
    if (existing && !covers(caller.principal, existing.unit.path)) throw notFound('official', code);
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
    const official = await tx.official.upsert({
      where: { code },
      create: { code, ...data },
      update: data,
      include: { accounts: true },
    });
    const after = viewOf(code, unit.code, official);
    const before = existing ? viewOf(code, existing.unit.code, { ...existing, accounts: [] }) : null;
    const changes = officialChanges(before, after);
    if (changes)
      await recordAudit(tx, {
        actor: caller.actor,
        action: before ? 'official.update' : 'official.create',
        target: { kind: 'official', id: official.id, code },
        unitId: unit.id,
        changes,
      });
    return after;
  });
}

const AUDITED_OFFICIAL_FIELDS = ['name', 'unitCode', 'role', 'locale', 'preferredChannel', 'digest'] as const;

/** What an upsert changed, for the audit trail: the phone number itself is never written there. */
function officialChanges(before: OfficialView | null, after: OfficialView): Record<string, unknown> | null {
  const phone =
    (before?.phone ?? null) === after.phone
      ? undefined
      : after.phone === null
        ? 'removed'
        : before?.phone
          ? 'changed'
          : 'set';
  if (!before) {
    const fields = Object.fromEntries(AUDITED_OFFICIAL_FIELDS.map((field) => [field, after[field]]));
    return { ...fields, ...(phone ? { phone } : {}) };
  }
  const changes = fieldChanges(before, after, AUDITED_OFFICIAL_FIELDS);
  if (!changes && !phone) return null;
  return { ...changes, ...(phone ? { phone } : {}) };
}

export function hashLinkCode(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}

export interface IssuedLinkCode {
  code: string;
  expiresAt: Date;
}

/**
 * Issues a one-time code to an official of the caller's subtree; only its hash is stored, so the code is
 * shown this once (and never written to the audit trail, which records only that one was issued).
 */
export async function issueLinkCode(
  db: Queryable,
  officialCode: string,
  deps: { clock: Clock; random: Random },
  caller: Caller = SYSTEM_CALLER,
): Promise<IssuedLinkCode> {
  requireAdmin(caller.principal);
  return inTransaction(db, async (tx) => {
    const official = await tx.official.findUnique({
      where: { code: officialCode },
      include: { unit: { select: { path: true } } },
    });
    if (!official || !covers(caller.principal, official.unit.path)) throw notFound('official', officialCode);
    const code = linkCodeFromBytes(deps.random.bytes(32));
    const now = deps.clock.now();
    const expiresAt = new Date(now.getTime() + LINK_CODE_TTL_HOURS * 3600_000);
    await tx.linkCode.create({ data: { officialId: official.id, codeHash: hashLinkCode(code), expiresAt } });
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

export type RedeemResult =
  { kind: 'linked'; officialId: string; accountId: string } | { kind: 'invalid' | 'used' | 'expired' };

/**
 * Links a chat to the official a code was issued to. The code is spent atomically, so two chats
 * racing with the same code cannot both win. A chat that was linked to someone else is moved over.
 */
export function redeemLinkCode(
  db: Queryable,
  input: { channel: string; chatId: string; code: string; now: Date },
): Promise<RedeemResult> {
  return inTransaction(db, (tx) => redeem(tx, input));
}

async function redeem(
  tx: Queryable,
  input: { channel: string; chatId: string; code: string; now: Date },
): Promise<RedeemResult> {
  const code = normaliseLinkCode(input.code);
  if (!code) return { kind: 'invalid' };
  const stored = await tx.linkCode.findUnique({ where: { codeHash: hashLinkCode(code) } });
  if (!stored) return { kind: 'invalid' };
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
  const official = await tx.official.findUniqueOrThrow({
    where: { id: stored.officialId },
    select: { code: true, unitId: true },
  });
  // The chat id stays out of the trail (personal data); the channel says where.
  await recordAudit(tx, {
    actor: { kind: 'official', officialId: stored.officialId },
    action: 'account.link',
    target: { kind: 'official', id: stored.officialId, code: official.code },
    unitId: official.unitId,
    changes: { channel: input.channel },
    at: input.now,
  });
  return { kind: 'linked', officialId: stored.officialId, accountId: account.id };
}
