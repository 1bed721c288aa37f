import { createHash, timingSafeEqual } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { Db, Queryable } from '../db/client.ts';
import { sessionExpiry, sessionState, shouldTouch } from '../domain/console-session.ts';
import { isSupervisor, type Principal, type Role } from '../domain/scope.ts';
import { ADMIN_TOKEN_ACTOR, recordAudit, type Actor } from './audit.ts';
import type { Random } from './ports.ts';
import { officialPrincipal, WHOLE_ORGANISATION } from './scope.ts';

/** Bytes of a session cookie's secret (256 bits). */
const SECRET_BYTES = 32;

export type SignInMethod = 'code' | 'link' | 'token';

export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** Who holds a console session: an official (admin or leader) or the break-glass token. */
export interface ConsoleIdentity {
  sessionId: string;
  official: {
    id: string;
    code: string;
    name: string;
    role: Role;
    locale: string;
    unitId: string;
    unit: { code: string; name: string; path: string };
  } | null;
  principal: Principal;
  actor: Actor;
  locale: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface OpenedSession {
  id: string;
  /** The cookie's value: shown to the browser once, never stored. */
  secret: string;
  expiresAt: Date;
}

export interface SessionOrigin {
  userAgent?: string | undefined;
  address?: string | undefined;
}

/** Opens a session in the caller's transaction (with the sign-in's audit row) and returns its secret. */
export async function openSession(
  tx: Queryable,
  input: { officialId: string | null; method: SignInMethod; now: Date; random: Random } & SessionOrigin,
): Promise<OpenedSession> {
  const secret = Buffer.from(input.random.bytes(SECRET_BYTES)).toString('base64url');
  const id = uuidv7();
  const expiresAt = sessionExpiry(input.now);
  await tx.consoleSession.create({
    data: {
      id,
      secretHash: hashSecret(secret),
      officialId: input.officialId,
      createdAt: input.now,
      lastSeenAt: input.now,
      expiresAt,
      method: input.method,
      userAgent: input.userAgent?.slice(0, 300) ?? null,
      address: input.address?.slice(0, 64) ?? null,
    },
  });
  return { id, secret, expiresAt };
}

/** The actor and the unit whose audit shows a session's events. */
export function sessionActor(officialId: string | null): Actor {
  return officialId === null ? ADMIN_TOKEN_ACTOR : { kind: 'official', officialId };
}

/** Signs the break-glass token in (the caller has checked it): a session and its audit row. */
export async function openTokenSession(
  db: Db,
  input: { now: Date; random: Random } & SessionOrigin,
): Promise<OpenedSession> {
  return db.$transaction(async (tx) => {
    const session = await openSession(tx, { ...input, officialId: null, method: 'token' });
    await recordAudit(tx, {
      actor: ADMIN_TOKEN_ACTOR,
      action: 'console.sign_in',
      target: { kind: 'console_session', id: session.id },
      changes: { method: 'token', address: input.address ?? null },
      at: input.now,
    });
    return session;
  });
}

/**
 * The identity behind a cookie, or null when the session is unknown, signed out, past its working day,
 * idle too long, or its official may no longer use the console (their role changed, or they were
 * deactivated). Opening a page (`touch`) records the use, at most once a minute; background refreshes pass
 * touch: false.
 */
export async function resolveSession(
  db: Queryable,
  secret: string,
  now: Date,
  { touch = true }: { touch?: boolean } = {},
): Promise<ConsoleIdentity | null> {
  if (secret.length === 0 || secret.length > 100) return null;
  const hash = hashSecret(secret);
  const session = await db.consoleSession.findUnique({
    where: { secretHash: hash },
    include: { official: { include: { unit: { select: { code: true, name: true, path: true } } } } },
  });
  // The unique index found it by hash; compared again in constant time for good measure.
  if (!session || !timingSafeEqual(Buffer.from(session.secretHash), Buffer.from(hash))) return null;
  if (sessionState(session, now) !== 'active') return null;
  const official = session.official;
  // A deactivated (or erased) official's access is taken back everywhere, the console included.
  if (session.officialId !== null && (!official || !official.active || !isSupervisor(official.role)))
    return null;
  if (touch && shouldTouch(session, now)) {
    await db.consoleSession.updateMany({
      where: { id: session.id, endedAt: null },
      data: { lastSeenAt: now },
    });
  }
  const base = { sessionId: session.id, createdAt: session.createdAt, expiresAt: session.expiresAt };
  if (!official) {
    return { ...base, official: null, principal: WHOLE_ORGANISATION, actor: ADMIN_TOKEN_ACTOR, locale: 'vi' };
  }
  const { id, code, name, role, locale, unitId, unit } = official;
  return {
    ...base,
    official: { id, code, name, role, locale, unitId, unit },
    principal: officialPrincipal(official),
    actor: { kind: 'official', officialId: id },
    locale,
  };
}

/** Signs this browser out: the session ends and the audit says so. */
export async function endSession(db: Db, identity: ConsoleIdentity, now: Date): Promise<void> {
  await db.$transaction(async (tx) => {
    const ended = await tx.consoleSession.updateMany({
      where: { id: identity.sessionId, endedAt: null },
      data: { endedAt: now },
    });
    if (ended.count === 0) return;
    await recordAudit(tx, {
      actor: identity.actor,
      action: 'console.sign_out',
      target: { kind: 'console_session', id: identity.sessionId },
      unitId: identity.official?.unitId ?? null,
      at: now,
    });
  });
}

/**
 * Ends every open session of an official (or, with null, of the break-glass token): "sign out
 * everywhere", or an admin ending the sessions of an official of their subtree. Returns how many ended.
 */
export async function endAllSessions(
  db: Db,
  input: {
    officialId: string | null;
    /** The official's code and unit, for the audit row (absent for the token). */
    target?: { code: string; unitId: string };
    actor: Actor;
    now: Date;
  },
): Promise<number> {
  return db.$transaction(async (tx) => {
    const ended = await tx.consoleSession.updateMany({
      where: { officialId: input.officialId, endedAt: null },
      data: { endedAt: input.now },
    });
    await recordAudit(tx, {
      actor: input.actor,
      action: 'console.sign_out_everywhere',
      target: input.target
        ? { kind: 'official', id: input.officialId, code: input.target.code }
        : { kind: 'token', code: 'ADMIN_API_TOKEN' },
      unitId: input.target?.unitId ?? null,
      changes: { sessions: ended.count },
      at: input.now,
    });
    return ended.count;
  });
}

export interface SessionView {
  id: string;
  method: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  userAgent: string | null;
}

/** The sessions still open of an official (or of the token), newest first. */
export async function openSessions(
  db: Queryable,
  officialId: string | null,
  now: Date,
): Promise<SessionView[]> {
  const rows = await db.consoleSession.findMany({
    where: { officialId, endedAt: null, expiresAt: { gt: now } },
    orderBy: { createdAt: 'desc' },
    take: 50,
  });
  return rows
    .filter((row) => sessionState(row, now) === 'active')
    .map(({ id, method, createdAt, lastSeenAt, expiresAt, userAgent }) => ({
      id,
      method,
      createdAt,
      lastSeenAt,
      expiresAt,
      userAgent,
    }));
}
