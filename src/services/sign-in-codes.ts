import { createHash, timingSafeEqual } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { Db } from '../db/client.ts';
import type { OutboundMessage } from '../domain/message.ts';
import { isSupervisor, type Role } from '../domain/scope.ts';
import {
  checkSignInCode,
  normaliseSignInCode,
  SIGN_IN_CODE_TTL_MS,
  signInCodeFromBytes,
  triesLeftAfterWrong,
} from '../domain/sign-in-code.ts';
import { recordAudit } from './audit.ts';
import { hashSecret, openSession, type OpenedSession, type SessionOrigin } from './console-sessions.ts';
import { writeOutbox } from './outbox.ts';
import type { Clock, Random } from './ports.ts';

export interface SignInDeps {
  db: Db;
  clock: Clock;
  random: Random;
}

/** The chat message carrying a code, in the official's language (rendered from locales/ by the caller). */
export type SignInMessage = (
  locale: string,
  vars: { code: string; link: string; minutes: number },
) => OutboundMessage;

/** The code's hash, salted with its row id: equal codes of two rows hash differently. */
const hashCode = (id: string, code: string): string =>
  createHash('sha256').update(`${id}:${code}`).digest('hex');

const sameHash = (left: string, right: string): boolean =>
  left.length === right.length && timingSafeEqual(Buffer.from(left), Buffer.from(right));

interface Claimant {
  id: string;
  code: string;
  role: Role;
  unitId: string;
  locale: string;
  accounts: { id: string; channel: string; chatId: string }[];
}

/**
 * The official a typed code names (exactly, or in capitals, as codes are printed), with their active chats.
 * One statement, whatever was typed, so a request for nobody costs what a request for an operator does.
 */
async function findClaimant(db: Db, typed: string): Promise<Claimant | null> {
  const rows = await db.$queryRaw<(Omit<Claimant, 'accounts'> & { accounts: Claimant['accounts'] })[]>`
    SELECT o.id, o.code, o.role::text AS role, o."unitId", o.locale,
      COALESCE((SELECT json_agg(json_build_object('id', a.id, 'channel', a.channel, 'chatId', a."chatId")
                  ORDER BY a."linkedAt" DESC)
                FROM "ChannelAccount" a WHERE a."officialId" = o.id AND a.active), '[]'::json) AS accounts
    FROM "Official" o
    WHERE o.code = ${typed} OR o.code = ${typed.toUpperCase()}
    ORDER BY o.code = ${typed} DESC
    LIMIT 1`;
  return rows[0] ?? null;
}

/**
 * Sends a sign-in code and a one-tap link to every linked chat of an `admin` or `leader` official, through
 * the outbox, in their language; for anybody else (unknown code, focal or member official, nobody linked)
 * nothing is stored or sent. The caller answers the same in both cases, and the work has the same shape:
 * the same statements run, and only the rows they touch differ. A new code supersedes the official's
 * older ones. `linkBase` is the console's address the link points to.
 */
export async function requestSignInCode(
  deps: SignInDeps,
  input: { officialCode: string; linkBase: string; message: SignInMessage } & SessionOrigin,
): Promise<void> {
  const now = deps.clock.now();
  const claimant = await findClaimant(deps.db, input.officialCode.trim());
  const eligible =
    claimant !== null && isSupervisor(claimant.role) && claimant.accounts.length > 0 ? claimant : null;
  const id = uuidv7();
  const code = signInCodeFromBytes(deps.random.bytes(64));
  const token = Buffer.from(deps.random.bytes(32)).toString('base64url');
  const link = `${input.linkBase}/console/login/link#${token}`;
  const minutes = SIGN_IN_CODE_TTL_MS / 60_000;
  const expiresAt = new Date(now.getTime() + SIGN_IN_CODE_TTL_MS);
  const eligibleId = eligible?.id ?? null;
  await deps.db.$transaction(async (tx) => {
    await tx.$executeRaw`
      UPDATE "SignInCode" SET "expiresAt" = ${now}
      WHERE "officialId" = ${eligibleId}::uuid AND "usedAt" IS NULL AND "expiresAt" > ${now}`;
    await tx.$executeRaw`
      INSERT INTO "SignInCode" (id, "officialId", "codeHash", "tokenHash", "createdAt", "expiresAt")
      SELECT ${id}::uuid, o.id, ${hashCode(id, code)}, ${hashSecret(token)}, ${now}, ${expiresAt}
      FROM "Official" o WHERE o.id = ${eligibleId}::uuid`;
    const accounts = eligible?.accounts ?? [];
    await writeOutbox(
      tx,
      accounts.map((account) => ({
        // "reply:": sent ahead of queued news (a launch to thousands must not hold a sign-in for minutes),
        // and not re-routed to another chat: every linked chat gets its own copy already.
        dedupeKey: `reply:console-sign-in:${id}:${account.id}`,
        channel: account.channel,
        chatId: account.chatId,
        channelAccountId: account.id,
        officialId: eligibleId,
        message: input.message(eligible?.locale ?? 'vi', { code, link, minutes }),
      })),
    );
    if (eligible)
      await recordAudit(tx, {
        actor: { kind: 'official', officialId: eligible.id },
        action: 'console.code_sent',
        target: { kind: 'official', id: eligible.id, code: eligible.code },
        unitId: eligible.unitId,
        changes: { channels: accounts.map((account) => account.channel), address: input.address ?? null },
        at: now,
      });
  });
}

export type SignInOutcome =
  | { kind: 'signed_in'; session: OpenedSession; officialId: string }
  | { kind: 'refused'; reason: 'wrong' | 'expired' | 'used' | 'exhausted' | 'none' | 'unknown' };

/**
 * Checks a typed code against the official's newest code and, when it matches, spends it and opens a
 * session, in one transaction with the audit row. Tries are counted under the code's row lock, so five
 * guesses at once get five tries, not more. A wrong or dead code, a code for somebody who is not an
 * operator and an unknown official are all the same refusal to the caller; the audit tells them apart.
 */
export async function verifySignInCode(
  deps: SignInDeps,
  input: { officialCode: string; code: string } & SessionOrigin,
): Promise<SignInOutcome> {
  const now = deps.clock.now();
  const typed = normaliseSignInCode(input.code);
  return deps.db.$transaction(async (tx) => {
    const official = await tx.official.findFirst({
      where: { OR: [{ code: input.officialCode.trim() }, { code: input.officialCode.trim().toUpperCase() }] },
      select: { id: true, code: true, role: true, unitId: true },
    });
    if (!official) return { kind: 'refused', reason: 'unknown' } as const;
    const [stored] = isSupervisor(official.role)
      ? await tx.$queryRaw<
          { id: string; codeHash: string; attempts: number; expiresAt: Date; usedAt: Date | null }[]
        >`
          SELECT id, "codeHash", attempts, "expiresAt", "usedAt" FROM "SignInCode"
          WHERE "officialId" = ${official.id}::uuid
          ORDER BY "createdAt" DESC, id DESC LIMIT 1 FOR UPDATE`
      : [];
    const matches =
      stored !== undefined && typed !== null && sameHash(stored.codeHash, hashCode(stored.id, typed));
    const check = stored ? checkSignInCode(stored, matches, now) : 'none';
    const audit = {
      actor: { kind: 'official', officialId: official.id } as const,
      target: { kind: 'official', id: official.id, code: official.code },
      unitId: official.unitId,
      at: now,
    };
    if (check !== 'accepted') {
      if (check === 'wrong' && stored)
        await tx.signInCode.update({ where: { id: stored.id }, data: { attempts: { increment: 1 } } });
      await recordAudit(tx, {
        ...audit,
        action: 'console.sign_in_failed',
        changes: {
          method: 'code',
          reason: check,
          ...(check === 'wrong' && stored ? { triesLeft: triesLeftAfterWrong(stored) } : {}),
          address: input.address ?? null,
        },
      });
      return { kind: 'refused', reason: check } as const;
    }
    await tx.signInCode.update({ where: { id: stored!.id }, data: { usedAt: now } });
    const session = await openSession(tx, {
      officialId: official.id,
      method: 'code',
      now,
      random: deps.random,
      userAgent: input.userAgent,
      address: input.address,
    });
    await recordAudit(tx, {
      ...audit,
      action: 'console.sign_in',
      changes: { method: 'code', address: input.address ?? null },
    });
    return { kind: 'signed_in', session, officialId: official.id } as const;
  });
}

/**
 * Signs in with a one-tap link's token: spends the code it came with (once, whichever of the code and the
 * link is used first) and opens a session for the browser that opened it. A used or expired link is
 * refused, and the attempt is in the audit of the official it was sent to.
 */
export async function signInWithLink(
  deps: SignInDeps,
  input: { token: string } & SessionOrigin,
): Promise<SignInOutcome> {
  const now = deps.clock.now();
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(input.token)) return { kind: 'refused', reason: 'unknown' };
  const tokenHash = hashSecret(input.token);
  return deps.db.$transaction(async (tx) => {
    const spent = await tx.$queryRaw<{ officialId: string }[]>`
      UPDATE "SignInCode" SET "usedAt" = ${now}
      WHERE "tokenHash" = ${tokenHash} AND "usedAt" IS NULL AND "expiresAt" > ${now}
      RETURNING "officialId"`;
    const officialId =
      spent[0]?.officialId ??
      (await tx.signInCode.findUnique({ where: { tokenHash }, select: { officialId: true } }))?.officialId;
    if (!officialId) return { kind: 'refused', reason: 'unknown' } as const;
    const official = await tx.official.findUniqueOrThrow({
      where: { id: officialId },
      select: { id: true, code: true, role: true, unitId: true },
    });
    const audit = {
      actor: { kind: 'official', officialId } as const,
      target: { kind: 'official', id: officialId, code: official.code },
      unitId: official.unitId,
      at: now,
    };
    if (spent.length === 0 || !isSupervisor(official.role)) {
      const reason = spent.length === 0 ? 'used' : 'none';
      await recordAudit(tx, {
        ...audit,
        action: 'console.sign_in_failed',
        changes: { method: 'link', reason, address: input.address ?? null },
      });
      return { kind: 'refused', reason } as const;
    }
    const session = await openSession(tx, {
      officialId,
      method: 'link',
      now,
      random: deps.random,
      userAgent: input.userAgent,
      address: input.address,
    });
    await recordAudit(tx, {
      ...audit,
      action: 'console.sign_in',
      changes: { method: 'link', address: input.address ?? null },
    });
    return { kind: 'signed_in', session, officialId } as const;
  });
}
