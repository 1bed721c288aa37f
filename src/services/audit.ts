import { v7 as uuidv7 } from 'uuid';
import type { Queryable } from '../db/client.ts';
import { Prisma } from '../generated/prisma/client.ts';
import type { Principal } from '../domain/scope.ts';

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
  at: Date;
}

/**
 * Writes audit rows in the caller's transaction, so a change and its record commit or fail together. Raw
 * SQL, so that it also runs on the dialogue's plain `pg` transactions (db/raw-transactions.ts).
 */
export async function recordAudit(tx: Queryable, ...entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map((entry) => ({
    id: uuidv7(),
    at: entry.at.toISOString(),
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
    SELECT id, (at AT TIME ZONE 'UTC'), "actorKind"::"AuditActorKind", "actorId", "actorLabel", action,
      "targetKind", "targetId", "targetCode", "unitId", "campaignId", changes
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      AS r(id uuid, at timestamptz, "actorKind" text, "actorId" uuid, "actorLabel" text, action text,
           "targetKind" text, "targetId" text, "targetCode" text, "unitId" uuid, "campaignId" uuid, changes jsonb)`;
}

export interface AuditFilter {
  since?: Date;
  until?: Date;
  /** An official's code or a token's name. */
  actor?: string;
  /** A target's code or id. */
  target?: string;
  campaignId?: string;
  /** At most this many rows (newest first). */
  limit?: number;
}

export interface AuditView {
  at: Date;
  actor: { kind: 'official' | 'token' | 'system'; code?: string; name?: string };
  action: string;
  target: { kind: string; code?: string; id?: string };
  changes?: unknown;
}

interface AuditRow {
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
  const root = principal.root?.path ?? null;
  const rows = await db.$queryRaw<AuditRow[]>`
    SELECT a.at, a."actorKind"::text AS "actorKind", a."actorLabel", o.code AS "officialCode",
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
    ORDER BY a.at DESC, a.id DESC
    LIMIT ${Prisma.raw(String(Math.max(1, Math.min(filter.limit ?? 1000, 10_000))))}`;
  return rows.map((row) => ({
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
  }));
}
