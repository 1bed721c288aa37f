import { createHash } from 'node:crypto';
import type { Db, Queryable } from '../db/client.ts';
import type { Role } from '../generated/prisma/enums.ts';
import { LINK_CODE_TTL_HOURS, linkCodeFromBytes, normaliseLinkCode } from '../domain/link-code.ts';
import type { DigestSchedule } from '../domain/weekly-digest.ts';
import { DomainError, notFound } from './errors.ts';
import type { Clock, Random } from './ports.ts';

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

export async function getOfficial(db: Queryable, code: string): Promise<OfficialView> {
  const official = await db.official.findUnique({
    where: { code },
    include: { accounts: true, unit: { select: { code: true } } },
  });
  if (!official) throw notFound('official', code);
  return viewOf(code, official.unit.code, official);
}

export async function upsertOfficial(db: Db, code: string, input: OfficialInput): Promise<OfficialView> {
  const unit = await db.unit.findUnique({ where: { code: input.unitCode } });
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
  const official = await db.official.upsert({
    where: { code },
    create: { code, ...data },
    update: data,
    include: { accounts: true },
  });
  return viewOf(code, unit.code, official);
}

export function hashLinkCode(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}

export interface IssuedLinkCode {
  code: string;
  expiresAt: Date;
}

/** Issues a one-time code; only its hash is stored, so the code is shown this once. */
export async function issueLinkCode(
  db: Queryable,
  officialCode: string,
  deps: { clock: Clock; random: Random },
): Promise<IssuedLinkCode> {
  const official = await db.official.findUnique({ where: { code: officialCode } });
  if (!official) throw notFound('official', officialCode);
  const code = linkCodeFromBytes(deps.random.bytes(32));
  const expiresAt = new Date(deps.clock.now().getTime() + LINK_CODE_TTL_HOURS * 3600_000);
  await db.linkCode.create({ data: { officialId: official.id, codeHash: hashLinkCode(code), expiresAt } });
  return { code, expiresAt };
}

export type RedeemResult =
  { kind: 'linked'; officialId: string; accountId: string } | { kind: 'invalid' | 'used' | 'expired' };

/**
 * Links a chat to the official a code was issued to. The code is spent atomically, so two chats
 * racing with the same code cannot both win. A chat that was linked to someone else is moved over.
 */
export async function redeemLinkCode(
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
  return { kind: 'linked', officialId: stored.officialId, accountId: account.id };
}
