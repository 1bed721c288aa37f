import { v7 as uuidv7 } from 'uuid';
import type { Queryable } from '../db/client.ts';
import { Prisma } from '../generated/prisma/client.ts';
import type { Principal, Role } from '../domain/scope.ts';
import { officialPrincipal, WHOLE_ORGANISATION } from './scope.ts';

/**
 * Who did something: an official (in chat, or signed in to the console), an API token (an operator's named
 * token, or the break-glass ADMIN_API_TOKEN with no id), or the service itself (a scheduled job).
 */
export type Actor =
  | { kind: 'official'; officialId: string }
  | { kind: 'token'; tokenId: string | null; name: string }
  | { kind: 'system'; name: string };

/** The break-glass token as an actor. */
export const ADMIN_TOKEN_ACTOR: Actor = { kind: 'token', tokenId: null, name: 'ADMIN_API_TOKEN' };

/**
 * Who asks for a change and how far they reach: what the admin API, the console and scripts hand to every
 * service that changes something. The service checks the principal's scope and writes the actor into the
 * audit row of the change.
 */
export interface Caller {
  actor: Actor;
  principal: Principal;
}

/** The break-glass ADMIN_API_TOKEN: the whole organisation. */
export const ADMIN_TOKEN_CALLER: Caller = { actor: ADMIN_TOKEN_ACTOR, principal: WHOLE_ORGANISATION };

/** An official (signed in to the console) as a caller: their role over their unit's subtree. */
export function officialCaller(official: {
  id: string;
  role: Role;
  unitId: string;
  unit: { path: string };
}): Caller {
  return { actor: { kind: 'official', officialId: official.id }, principal: officialPrincipal(official) };
}

/**
 * The service itself, for changes no person asked for through the API (the demo's sample data, seeding
 * scripts, tests): what a mutating service assumes when it is given no caller. The admin API and the
 * console always pass theirs.
 */
export const SYSTEM_CALLER: Caller = {
  actor: { kind: 'system', name: 'service' },
  principal: WHOLE_ORGANISATION,
};

export interface AuditTarget {
  kind: string;
  id?: string | null;
  code?: string | null;
}

export interface AuditEntry {
  actor: Actor;
  /** `<target kind>.<verb>`: "campaign.launch", "report.create", "account.link", "console.sign_in"… */
  action: string;
  target: AuditTarget;
  /** The unit the change concerns (whose subtree's audit shows it). */
  unitId?: string | null;
  campaignId?: string | null;
  /** What changed: new values, or `{ field: [before, after] }`; never phone numbers, chat ids or secrets. */
  changes?: Record<string, unknown> | null;
  /** When: the caller's clock; absent, the transaction's time (services that take no clock). */
  at?: Date | undefined;
}

/**
 * Writes audit rows in the caller's transaction, so a change and its record commit or fail together. Raw
 * SQL, so that it also runs on the dialogue's plain `pg` transactions (db/raw-transactions.ts).
 */
export async function recordAudit(tx: Queryable, ...entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map((entry) => ({
    id: uuidv7(),
    at: entry.at?.toISOString() ?? null,
    actorKind: entry.actor.kind,
    actorId:
      entry.actor.kind === 'official'
        ? entry.actor.officialId
        : entry.actor.kind === 'token'
          ? entry.actor.tokenId
          : null,
    actorLabel: entry.actor.kind === 'official' ? null : entry.actor.name,
    action: entry.action,
    targetKind: entry.target.kind,
    targetId: entry.target.id ?? null,
    targetCode: entry.target.code ?? null,
    unitId: entry.unitId ?? null,
    campaignId: entry.campaignId ?? null,
    changes: entry.changes ?? null,
  }));
  await tx.$executeRaw`
    INSERT INTO "AuditEvent" (id, at, "actorKind", "actorId", "actorLabel", action, "targetKind", "targetId",
      "targetCode", "unitId", "campaignId", changes)
    SELECT id, COALESCE(at, now()) AT TIME ZONE 'UTC', "actorKind"::"AuditActorKind", "actorId", "actorLabel", action,
      "targetKind", "targetId", "targetCode", "unitId", "campaignId", changes
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      AS r(id uuid, at timestamptz, "actorKind" text, "actorId" uuid, "actorLabel" text, action text,
           "targetKind" text, "targetId" text, "targetCode" text, "unitId" uuid, "campaignId" uuid, changes jsonb)`;
}

/**
 * `{ field: [before, after] }` for each of `fields` whose value differs (compared as JSON), or null when
 * none does.
 */
export function fieldChanges<T extends object>(
  before: T,
  after: T,
  fields: readonly (keyof T & string)[],
): Record<string, [unknown, unknown]> | null {
  const changes: Record<string, [unknown, unknown]> = {};
  for (const field of fields) {
    const was = before[field] ?? null;
    const is = after[field] ?? null;
    if (JSON.stringify(was) !== JSON.stringify(is)) changes[field] = [was, is];
  }
  return Object.keys(changes).length > 0 ? changes : null;
}

/**
 * The INSERT of one audit row by an official whose other values are SQL over the caller's statement (a CTE's
 * rows, `from`): for a change that is written with its audit row in one statement (a status report is the
 * commonest write there is, and each statement costs it CPU).
 */
export function officialAuditSql(row: {
  officialId: string;
  action: string;
  at: Date;
  targetKind: string;
  targetId: Prisma.Sql;
  targetCode: Prisma.Sql;
  unitId: Prisma.Sql;
  campaignId: Prisma.Sql;
  changes: Prisma.Sql;
  from: Prisma.Sql;
}): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO "AuditEvent" (id, at, "actorKind", "actorId", action, "targetKind", "targetId", "targetCode",
      "unitId", "campaignId", changes)
    SELECT ${uuidv7()}::uuid, ${row.at}, 'official'::"AuditActorKind", ${row.officialId}::uuid, ${row.action},
      ${row.targetKind}, ${row.targetId}, ${row.targetCode}, ${row.unitId}, ${row.campaignId}, ${row.changes}
    FROM ${row.from}`;
}

export interface AuditFilter {
  since?: Date;
  until?: Date;
  /** An official's code or a token's name. */
  actor?: string;
  /** A target's code or id. */
  target?: string;
  campaignId?: string;
  /** Only this action ("campaign.launch"…). */
  action?: string;
  /** Rows strictly older than this position (the cursor of the previous page's last row). */
  before?: AuditPosition;
  /** At most this many rows (newest first). */
  limit?: number;
}

/** Where a row sits in the trail's order (newest first): its instant, then its id. */
export interface AuditPosition {
  at: Date;
  id: string;
}

/** Rows per page of GET /api/audit when none is asked for, and the most a page holds. */
export const AUDIT_PAGE_DEFAULT = 100;
export const AUDIT_PAGE_MAX = 1_000;

export interface AuditView {
  at: Date;
  actor: { kind: 'official' | 'token' | 'system'; code?: string; name?: string };
  action: string;
  target: { kind: string; code?: string; id?: string };
  changes?: unknown;
}

interface AuditRow {
  id: string;
  at: Date;
  actorKind: 'official' | 'token' | 'system';
  actorLabel: string | null;
  officialCode: string | null;
  officialName: string | null;
  action: string;
  targetKind: string;
  targetId: string | null;
  targetCode: string | null;
  changes: unknown;
}

/**
 * The trail as the principal may read it, newest first: everything for the whole organisation; for anyone
 * else the rows about units in their subtree (rows about no unit, such as a token's own sign-in, are for
 * the whole organisation only). Officials are named as they are now (an erased one anonymously).
 */
export async function listAudit(
  db: Queryable,
  principal: Principal,
  filter: AuditFilter = {},
): Promise<AuditView[]> {
  return (await auditPage(db, principal, filter)).rows;
}

/**
 * A page of listAudit, with the position to ask the next page from (`before`) when there may be more.
 */
export async function auditPage(
  db: Queryable,
  principal: Principal,
  filter: AuditFilter = {},
): Promise<{ rows: AuditView[]; next: AuditPosition | null }> {
  const root = principal.root?.path ?? null;
  const limit = Math.max(1, Math.min(filter.limit ?? 1000, 50_000));
  const beforeAt = filter.before?.at ?? null;
  const beforeId = filter.before?.id ?? null;
  const rows = await db.$queryRaw<AuditRow[]>`
    SELECT a.id, a.at, a."actorKind"::text AS "actorKind", a."actorLabel", o.code AS "officialCode",
      o.name AS "officialName", a.action, a."targetKind", a."targetId", a."targetCode", a.changes
    FROM "AuditEvent" a
    LEFT JOIN "Official" o ON a."actorKind" = 'official' AND o.id = a."actorId"
    LEFT JOIN "Unit" u ON u.id = a."unitId"
    WHERE (${root}::text IS NULL OR u.path LIKE ${root}::text || '%')
      AND (${filter.since ?? null}::timestamp IS NULL OR a.at >= ${filter.since ?? null}::timestamp)
      AND (${filter.until ?? null}::timestamp IS NULL OR a.at < ${filter.until ?? null}::timestamp)
      AND (${filter.actor ?? null}::text IS NULL OR o.code = ${filter.actor ?? null}::text
        OR a."actorLabel" = ${filter.actor ?? null}::text)
      AND (${filter.target ?? null}::text IS NULL OR a."targetCode" = ${filter.target ?? null}::text
        OR a."targetId" = ${filter.target ?? null}::text)
      AND (${filter.campaignId ?? null}::uuid IS NULL OR a."campaignId" = ${filter.campaignId ?? null}::uuid)
      AND (${filter.action ?? null}::text IS NULL OR a.action = ${filter.action ?? null}::text)
      AND (${beforeAt}::timestamp IS NULL OR (a.at, a.id) < (${beforeAt}::timestamp, ${beforeId}::uuid))
    ORDER BY a.at DESC, a.id DESC
    LIMIT ${Prisma.raw(String(limit + 1))}`;
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    rows: page.map(auditView),
    next: rows.length > limit && last ? { at: last.at, id: last.id } : null,
  };
}

function auditView(row: AuditRow): AuditView {
  return {
    at: row.at,
    actor: {
      kind: row.actorKind,
      ...(row.actorKind === 'official'
        ? {
            ...(row.officialCode ? { code: row.officialCode } : {}),
            ...(row.officialName ? { name: row.officialName } : {}),
          }
        : row.actorLabel
          ? { name: row.actorLabel }
          : {}),
    },
    action: row.action,
    target: {
      kind: row.targetKind,
      ...(row.targetCode ? { code: row.targetCode } : {}),
      ...(row.targetId ? { id: row.targetId } : {}),
    },
    ...(row.changes === null ? {} : { changes: row.changes }),
  };
}
