import { v7 as uuidv7 } from 'uuid';
import type { Queryable } from '../db/client.ts';
import { covers, type Principal } from '../domain/scope.ts';
import { isoDate } from '../domain/time.ts';
import type { Actor } from './audit.ts';
import { notFound } from './errors.ts';
import { requireSupervisor } from './scope.ts';

/*
 * The history of the organisation tree (UnitEvent, append-only): written in the transaction of every change
 * of a unit (created, renamed, moved, merged, dissolved) with its actor, and read per unit.
 */

export type UnitEventKind = 'created' | 'renamed' | 'moved' | 'merged' | 'dissolved';

export interface UnitEventInput {
  unitId: string;
  kind: UnitEventKind;
  /** renamed: the names; moved: the parents' codes; merged, dissolved: the unit's code and its successor's. */
  from?: string | null | undefined;
  to?: string | null | undefined;
  /** created, moved: the new parent; merged, dissolved: the successor. */
  relatedUnitId?: string | null | undefined;
  /** merged, dissolved: the campaigns whose participation passed to the successor. */
  campaignIds?: string[] | undefined;
  /** YYYY-MM-DD; absent: the day it was recorded. */
  effectiveOn?: string | null | undefined;
}

/** The columns of an actor, as the audit trail stores them. */
function actorColumns(actor: Actor) {
  return {
    actorKind: actor.kind,
    actorId: actor.kind === 'official' ? actor.officialId : actor.kind === 'token' ? actor.tokenId : null,
    actorLabel: actor.kind === 'official' ? null : actor.name,
  };
}

/**
 * Appends events in the caller's transaction, in the order given (their `seq`). `at`: the caller's clock;
 * absent, the transaction's time.
 */
export async function recordUnitEvents(
  tx: Queryable,
  actor: Actor,
  events: UnitEventInput[],
  at?: Date,
): Promise<void> {
  if (events.length === 0) return;
  const { actorKind, actorId, actorLabel } = actorColumns(actor);
  const rows = events.map((event, n) => ({
    n,
    id: uuidv7(),
    unitId: event.unitId,
    kind: event.kind,
    fromValue: event.from ?? null,
    toValue: event.to ?? null,
    relatedUnitId: event.relatedUnitId ?? null,
    campaignIds: event.campaignIds ?? [],
    effectiveOn: event.effectiveOn ?? null,
  }));
  await tx.$executeRaw`
    INSERT INTO "UnitEvent" (id, "unitId", kind, at, "effectiveOn", "actorKind", "actorId", "actorLabel",
      "fromValue", "toValue", "relatedUnitId", "campaignIds")
    SELECT r.id, r."unitId", r.kind::"UnitEventKind", COALESCE(${at?.toISOString() ?? null}::timestamptz, now())
        AT TIME ZONE 'UTC', r."effectiveOn", ${actorKind}::"AuditActorKind", ${actorId}::uuid, ${actorLabel},
      r."fromValue", r."toValue", r."relatedUnitId",
      ARRAY(SELECT jsonb_array_elements_text(r."campaignIds"))::uuid[]
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      AS r(n int, id uuid, "unitId" uuid, kind text, "fromValue" text, "toValue" text, "relatedUnitId" uuid,
           "campaignIds" jsonb, "effectiveOn" date)
    ORDER BY r.n`;
}

export interface HistoryEntry {
  at: string;
  kind: UnitEventKind;
  from?: string | null;
  to?: string | null;
  /** merged, dissolved: the names of the unit that went and of the one it went into, as they are now. */
  fromName?: string;
  toName?: string;
  /** created: where it was created. */
  parentCode?: string | null;
  /** The day it took effect, when it was given (a merge's effectiveOn). */
  effectiveOn?: string;
  actor: { kind: 'official' | 'token' | 'system'; code?: string; name?: string };
}

interface HistoryRow {
  at: Date;
  kind: UnitEventKind;
  fromValue: string | null;
  toValue: string | null;
  relatedCode: string | null;
  fromName: string | null;
  toName: string | null;
  effectiveOn: Date | null;
  actorKind: 'official' | 'token' | 'system';
  actorLabel: string | null;
  officialCode: string | null;
  officialName: string | null;
}

export interface UnitWithHistory {
  code: string;
  name: string;
  /** Where the unit went, when it has left the tree: the live unit that stands for it now. */
  now: { code: string; name: string } | null;
  history: HistoryEntry[];
}

/**
 * A unit's history, oldest first: its own changes, and the units that went into it (merged, or dissolved
 * into it as their parent). An old code stays readable: a unit that left the tree answers with its history
 * up to where it went. Leaders and admins read the units of their subtree, a unit that left it included
 * when it lay there or what took it over does; anything else is unknown (404).
 */
export async function unitHistory(
  db: Queryable,
  principal: Principal,
  code: string,
): Promise<UnitWithHistory> {
  requireSupervisor(principal);
  const [unit] = await db.$queryRaw<
    {
      id: string;
      code: string;
      name: string;
      path: string;
      liveCode: string;
      liveName: string;
      livePath: string;
    }[]
  >`
    WITH RECURSIVE chain AS (
      SELECT u.id, u."successorId", 0 AS depth FROM "Unit" u WHERE u.code = ${code}
      UNION ALL
      SELECT s.id, s."successorId", c.depth + 1 FROM chain c JOIN "Unit" s ON s.id = c."successorId"
      WHERE c.depth < 100
    )
    SELECT u.id, u.code, u.name, u.path, l.code AS "liveCode", l.name AS "liveName", l.path AS "livePath"
    FROM "Unit" u, (SELECT id FROM chain ORDER BY depth DESC LIMIT 1) last JOIN "Unit" l ON l.id = last.id
    WHERE u.code = ${code}`;
  if (!unit || !(covers(principal, unit.path) || covers(principal, unit.livePath)))
    throw notFound('unit', code);
  const rows = await db.$queryRaw<HistoryRow[]>`
    SELECT e.at, e.kind::text AS kind, e."fromValue", e."toValue", r.code AS "relatedCode",
      fu.name AS "fromName", tu.name AS "toName", e."effectiveOn", e."actorKind"::text AS "actorKind",
      e."actorLabel", o.code AS "officialCode", o.name AS "officialName"
    FROM "UnitEvent" e
    LEFT JOIN "Unit" r ON r.id = e."relatedUnitId"
    LEFT JOIN "Unit" fu ON e.kind IN ('merged', 'dissolved') AND fu.code = e."fromValue"
    LEFT JOIN "Unit" tu ON e.kind IN ('merged', 'dissolved') AND tu.code = e."toValue"
    LEFT JOIN "Official" o ON e."actorKind" = 'official' AND o.id = e."actorId"
    WHERE e."unitId" = ${unit.id}::uuid
      OR (e."relatedUnitId" = ${unit.id}::uuid AND e.kind IN ('merged', 'dissolved'))
    ORDER BY e.seq`;
  return {
    code: unit.code,
    name: unit.name,
    now: unit.liveCode === unit.code ? null : { code: unit.liveCode, name: unit.liveName },
    history: rows.map(historyEntry),
  };
}

function historyEntry(row: HistoryRow): HistoryEntry {
  const actor: HistoryEntry['actor'] = { kind: row.actorKind };
  if (row.actorKind === 'official') {
    if (row.officialCode) actor.code = row.officialCode;
    if (row.officialName) actor.name = row.officialName;
  } else if (row.actorLabel) actor.name = row.actorLabel;
  const entry: Omit<HistoryEntry, 'actor'> = { at: row.at.toISOString(), kind: row.kind };
  if (row.kind === 'created') {
    entry.to = row.toValue;
    entry.parentCode = row.relatedCode;
  } else {
    entry.from = row.fromValue;
    entry.to = row.toValue;
  }
  if (row.fromName) entry.fromName = row.fromName;
  if (row.toName) entry.toName = row.toName;
  if (row.effectiveOn) entry.effectiveOn = isoDate(row.effectiveOn);
  return { ...entry, actor };
}
