import { createHash } from 'node:crypto';
import type { Db, Queryable } from '../db/client.ts';
import { Prisma } from '../generated/prisma/client.ts';
import { dueInstant, dateFromIso, localDate, isoDate } from '../domain/time.ts';
import { safeEqual } from '../secrets.ts';
import { ADMIN_TOKEN_CALLER, recordAudit, type Caller } from './audit.ts';
import { DomainError, isUuid, notFound } from './errors.ts';
import type { Clock, Random } from './ports.ts';
import { requireAdmin, unitInScope } from './scope.ts';

/**
 * Operators' API tokens: named, scoped (admin or leader over a unit's subtree), revocable, optionally
 * expiring. The secret is `thidua_` and 43 characters of base64url (256 random bits), shown once when the
 * token is made; only its SHA-256 is kept. A plain hash is enough for a random secret of that length (there is
 * nothing to guess from it); the prefix lets secret scanners recognise a leaked token and lets a request
 * with anything else skip the database.
 */
const SECRET_PREFIX = 'thidua_';
const SECRET_SHAPE = /^thidua_[A-Za-z0-9_-]{43}$/;
/** A token's last use is written at most this often: a busy script should not write on every call. */
const LAST_USE_PRECISION_MS = 60_000;

export type TokenRole = 'admin' | 'leader';

export interface ApiTokenInput {
  name: string;
  role: TokenRole;
  unitCode: string;
  /** The last day it works (YYYY-MM-DD in the time zone); absent: until revoked. */
  expiresOn?: string | null | undefined;
}

export interface ApiTokenView {
  id: string;
  name: string;
  role: TokenRole;
  unitCode: string;
  createdAt: string;
  expiresOn: string | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  state: 'active' | 'expired' | 'revoked';
}

/** The audit trail's name for the break-glass token: no operator's token may take it. */
const BREAK_GLASS_NAME = 'ADMIN_API_TOKEN';

const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

interface StoredToken {
  id: string;
  name: string;
  role: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  unit: { code: string };
}

function viewOf(token: StoredToken, now: Date, timeZone: string): ApiTokenView {
  return {
    id: token.id,
    name: token.name,
    role: token.role as TokenRole,
    unitCode: token.unit.code,
    createdAt: token.createdAt.toISOString(),
    // The last day it works: the day before the instant it stops.
    expiresOn: token.expiresAt ? isoDate(localDate(new Date(token.expiresAt.getTime() - 1), timeZone)) : null,
    expiresAt: token.expiresAt?.toISOString() ?? null,
    lastUsedAt: token.lastUsedAt?.toISOString() ?? null,
    revokedAt: token.revokedAt?.toISOString() ?? null,
    state: token.revokedAt
      ? 'revoked'
      : token.expiresAt && token.expiresAt.getTime() <= now.getTime()
        ? 'expired'
        : 'active',
  };
}

const tokenSelect = {
  id: true,
  name: true,
  role: true,
  createdAt: true,
  expiresAt: true,
  lastUsedAt: true,
  revokedAt: true,
  unit: { select: { code: true } },
} as const;

interface TokenDeps {
  clock: Clock;
  random: Random;
  timeZone: string;
}

/**
 * Makes a token no wider than its maker: only admins make tokens, for a unit of their own subtree. Answers
 * the secret this once.
 */
export async function createApiToken(
  db: Db,
  input: ApiTokenInput,
  deps: TokenDeps,
  caller: Caller,
): Promise<ApiTokenView & { token: string }> {
  requireAdmin(caller.principal);
  const now = deps.clock.now();
  if (input.name === BREAK_GLASS_NAME)
    throw new DomainError('reserved_name', `${input.name} names the break-glass token`, { name: input.name });
  let expiresAt: Date | null = null;
  if (input.expiresOn) {
    if (input.expiresOn < isoDate(localDate(now, deps.timeZone)))
      throw new DomainError('expires_in_past', 'expiresOn is in the past', { expiresOn: input.expiresOn });
    expiresAt = dueInstant(dateFromIso(input.expiresOn), deps.timeZone);
  }
  const secret = SECRET_PREFIX + Buffer.from(deps.random.bytes(32)).toString('base64url');
  return db.$transaction(async (tx) => {
    const unit = await unitInScope(tx, caller.principal, input.unitCode);
    if (!unit)
      throw new DomainError('unknown_unit', `unit ${input.unitCode} does not exist`, {
        unitCode: input.unitCode,
      });
    const token = await tx.apiToken
      .create({
        data: {
          name: input.name,
          role: input.role,
          unitId: unit.id,
          secretHash: hashSecret(secret),
          createdAt: now,
          expiresAt,
        },
        select: tokenSelect,
      })
      .catch((error: unknown) => {
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002')
          throw new DomainError(
            'duplicate_name',
            `a token named ${input.name} already exists (names are never reused)`,
            { name: input.name },
            'conflict',
          );
        throw error;
      });
    await recordAudit(tx, {
      actor: caller.actor,
      action: 'token.create',
      target: { kind: 'token', id: token.id, code: token.name },
      unitId: unit.id,
      changes: {
        name: token.name,
        role: input.role,
        unitCode: unit.code,
        ...(input.expiresOn ? { expiresOn: input.expiresOn } : {}),
      },
      at: now,
    });
    return { ...viewOf(token, now, deps.timeZone), token: secret };
  });
}

/** The tokens of the caller's subtree (revoked and expired ones too), newest first; never a secret. */
export async function listApiTokens(
  db: Queryable,
  deps: { clock: Clock; timeZone: string },
  caller: Caller,
): Promise<ApiTokenView[]> {
  requireAdmin(caller.principal);
  const root = caller.principal.root;
  const tokens = await db.apiToken.findMany({
    where: root ? { unit: { path: { startsWith: root.path } } } : {},
    select: tokenSelect,
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
  });
  const now = deps.clock.now();
  return tokens.map((token) => viewOf(token, now, deps.timeZone));
}

/** Revokes a token of the caller's subtree (404 outside it). Revoking a revoked token changes nothing. */
export async function revokeApiToken(
  db: Db,
  id: string,
  deps: { clock: Clock },
  caller: Caller,
): Promise<void> {
  requireAdmin(caller.principal);
  if (!isUuid(id)) throw notFound('token', id);
  const now = deps.clock.now();
  await db.$transaction(async (tx) => {
    const token = await tx.apiToken.findUnique({
      where: { id },
      select: { id: true, name: true, unitId: true, revokedAt: true, unit: { select: { path: true } } },
    });
    const root = caller.principal.root;
    if (!token || (root && !token.unit.path.startsWith(root.path))) throw notFound('token', id);
    const revoked = await tx.apiToken.updateMany({
      where: { id, revokedAt: null },
      data: { revokedAt: now },
    });
    if (revoked.count === 0) return;
    await recordAudit(tx, {
      actor: caller.actor,
      action: 'token.revoke',
      target: { kind: 'token', id: token.id, code: token.name },
      unitId: token.unitId,
      at: now,
    });
  });
}

/**
 * Who a bearer secret is: the break-glass ADMIN_API_TOKEN (compared in constant time), an operator's token
 * that is neither revoked nor expired, or nobody (null). An operator's token is looked up by the SHA-256 of
 * what was sent, so the lookup's timing depends on that hash and tells nothing about how close a guess came.
 * Only a valid token's last use is written.
 */
export async function callerForSecret(
  db: Queryable,
  secret: string,
  options: { adminToken: string | undefined; now: Date },
): Promise<Caller | null> {
  if (options.adminToken && safeEqual(secret, options.adminToken)) return ADMIN_TOKEN_CALLER;
  if (!SECRET_SHAPE.test(secret)) return null;
  const [token] = await db.$queryRaw<
    {
      id: string;
      name: string;
      role: 'admin' | 'leader';
      unitId: string;
      path: string;
      expiresAt: Date | null;
      revokedAt: Date | null;
      lastUsedAt: Date | null;
    }[]
  >`
    SELECT t.id, t.name, t.role::text AS role, t."unitId", u.path, t."expiresAt", t."revokedAt", t."lastUsedAt"
    FROM "ApiToken" t JOIN "Unit" u ON u.id = t."unitId"
    WHERE t."secretHash" = ${hashSecret(secret)}`;
  const now = options.now;
  if (!token || token.revokedAt || (token.expiresAt && token.expiresAt.getTime() <= now.getTime()))
    return null;
  if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() >= LAST_USE_PRECISION_MS)
    await db.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: now } });
  return {
    actor: { kind: 'token', tokenId: token.id, name: token.name },
    principal: { role: token.role, root: { unitId: token.unitId, path: token.path } },
  };
}
