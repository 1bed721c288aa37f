import type { Tx } from '../db/client.ts';
import type { MergePlan } from '../domain/reorganisation.ts';
import type { Status } from '../domain/status.ts';
import { furthestStatus, type StatusHolding } from '../domain/succession.ts';
import { lockProgressForSuccession, rebuildProgressOfSuccessor } from './unit-progress.ts';

/*
 * Carrying out a merge plan (domain/reorganisation.ts) in the caller's transaction, under the unit-tree
 * lock: the successor takes its place, the predecessors' subtrees move under it (one path rewrite), and
 * everything the predecessors had passes to it, each table by one statement:
 * - officials (with their chat links and pending link codes, which belong to the official), API tokens;
 * - the campaigns they issued (issuer) and took part in (participation);
 * - acknowledgements and registrations: the earliest of each campaign is copied to the successor, the
 *   originals stay as the old units' history;
 * - statuses: per task, the furthest status any of them (or an existing successor) had reached becomes the
 *   successor's CurrentStatus, pointing to the report that reached it (reports stay attributed to the unit
 *   that made them); the predecessors' own rows stay, frozen, for an undo to fall back on; progress rows
 *   are laid out afresh;
 * - reminders already sent (ReminderSent keys) are copied to the successor, so a reminder one of them got
 *   is not sent again to the same people for the same slot;
 * - exemplars reported from them are filed under the successor.
 * Then the predecessors leave the tree (retiredAt, successorId). Their reports, audit rows and history stay.
 */

export interface TransferResult {
  /** The officials who now belong to the successor. */
  officials: { id: string; fromUnitId: string }[];
  /** The campaigns each predecessor took part in (whose participation passed to the successor). */
  campaignsOf: Map<string, string[]>;
  /** The live units that were children of a predecessor and now stand under the successor. */
  movedChildren: { id: string; fromUnitId: string }[];
}

/** The successor's own row: created, or renamed and moved (with its subtree) as the plan says. */
async function placeSuccessor(tx: Tx, plan: MergePlan): Promise<void> {
  const { successor, predecessors } = plan;
  if (!successor.existing) {
    const kinds = [...new Set(predecessors.map((unit) => unit.kind))];
    const blockCodes = [...new Set(predecessors.flatMap((unit) => unit.blockCodes))].sort();
    await tx.$executeRaw`
      INSERT INTO "Unit" (id, code, name, kind, "parentId", path, "blockCodes", "updatedAt")
      VALUES (${successor.id}::uuid, ${successor.code}, ${successor.name},
        ${kinds.length === 1 ? (kinds[0] ?? null) : null}, ${successor.parentId}::uuid, ${successor.path},
        ${blockCodes}::text[], now())`;
    return;
  }
  await tx.$executeRaw`
    UPDATE "Unit" SET name = ${successor.name}, "parentId" = ${successor.parentId}::uuid, path = ${successor.path},
      "updatedAt" = now()
    WHERE id = ${successor.id}::uuid`;
  const moved = successor.movedFrom;
  if (moved) {
    await tx.$executeRaw`
      UPDATE "Unit" SET path = ${successor.path}::text || substring(path FROM ${moved.path.length + 1}::int)
      WHERE path LIKE ${moved.path + '%'} AND id <> ${successor.id}::uuid`;
  }
}

/** The predecessors' children stand under the successor, and every unit below them follows (paths). */
async function moveSubtrees(tx: Tx, plan: MergePlan, predecessorIds: string[]) {
  const children = await tx.$queryRaw<{ id: string; fromUnitId: string; live: boolean }[]>`
    UPDATE "Unit" c SET "parentId" = ${plan.successor.id}::uuid, "updatedAt" = now()
    FROM "Unit" old
    WHERE old.id = c.id AND c."parentId" = ANY(${predecessorIds}::uuid[])
    RETURNING c.id, old."parentId" AS "fromUnitId", c."retiredAt" IS NULL AS live`;
  await tx.$executeRaw`
    UPDATE "Unit" u SET path = m.to_path || substring(u.path FROM length(m.from_path) + 1)
    FROM unnest(${plan.moves.map((move) => move.fromPath)}::text[], ${plan.moves.map((move) => move.toPath)}::text[])
      AS m(from_path, to_path)
    WHERE u.path LIKE m.from_path || '%' AND u.path <> m.from_path`;
  return children.filter((child) => child.live).map(({ id, fromUnitId }) => ({ id, fromUnitId }));
}

/** Participation, issued campaigns, acknowledgements and registrations pass to the successor. */
async function transferCampaigns(tx: Tx, successorId: string, predecessorIds: string[]) {
  const participation = await tx.$queryRaw<{ campaignId: string; unitId: string }[]>`
    SELECT "campaignId", "unitId" FROM "CampaignUnit" WHERE "unitId" = ANY(${predecessorIds}::uuid[])`;
  await tx.$executeRaw`
    INSERT INTO "CampaignUnit" ("campaignId", "unitId")
    SELECT DISTINCT "campaignId", ${successorId}::uuid FROM "CampaignUnit"
    WHERE "unitId" = ANY(${predecessorIds}::uuid[])
    ON CONFLICT DO NOTHING`;
  await tx.$executeRaw`DELETE FROM "CampaignUnit" WHERE "unitId" = ANY(${predecessorIds}::uuid[])`;
  await tx.$executeRaw`
    UPDATE "Campaign" SET "issuerUnitId" = ${successorId}::uuid, "updatedAt" = now()
    WHERE "issuerUnitId" = ANY(${predecessorIds}::uuid[])`;
  for (const table of ['Acknowledgement', 'Registration'] as const) {
    // The earliest of the predecessors' acknowledgements (registrations) of each campaign counts for the
    // successor; an own one of an existing successor stays.
    await tx.$executeRawUnsafe(
      `INSERT INTO "${table}" ("campaignId", "unitId", "officialId", channel, "createdAt")
       SELECT DISTINCT ON (a."campaignId") a."campaignId", $1::uuid, a."officialId", a.channel, a."createdAt"
       FROM "${table}" a WHERE a."unitId" = ANY($2::uuid[])
       ORDER BY a."campaignId", a."createdAt", a."unitId"
       ON CONFLICT DO NOTHING`,
      successorId,
      predecessorIds,
    );
  }
  const campaignsOf = new Map<string, string[]>();
  for (const { campaignId, unitId } of participation)
    campaignsOf.set(unitId, [...(campaignsOf.get(unitId) ?? []), campaignId]);
  return campaignsOf;
}

type HeldStatus = StatusHolding & { taskId: string; unitId: string };

/**
 * The successor's status of each task of the campaigns that passed to it: the furthest of what its
 * predecessors (and itself, when it existed) held. Rows it already holds are left as they are.
 */
async function inheritStatuses(tx: Tx, successorId: string, predecessorIds: string[], campaignIds: string[]) {
  const held = await tx.$queryRaw<HeldStatus[]>`
    SELECT cs."taskId", cs."unitId", cs."reportId", cs.status::text AS status, cs.percent, cs."reportedAt"
    FROM "CurrentStatus" cs JOIN "Task" t ON t.id = cs."taskId"
    WHERE t."campaignId" = ANY(${campaignIds}::uuid[])
      AND cs."unitId" = ANY(${[...predecessorIds, successorId]}::uuid[])`;
  const byTask = new Map<string, HeldStatus[]>();
  for (const row of held) byTask.set(row.taskId, [...(byTask.get(row.taskId) ?? []), row]);
  const inherited: {
    taskId: string;
    reportId: string;
    status: Status;
    percent: number | null;
    reportedAt: string;
  }[] = [];
  for (const [taskId, rows] of byTask) {
    const best = furthestStatus(rows) as HeldStatus | null;
    if (!best || best.unitId === successorId) continue;
    const { reportId, status, percent, reportedAt } = best;
    inherited.push({ taskId, reportId, status, percent, reportedAt: reportedAt.toISOString() });
  }
  if (inherited.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO "CurrentStatus" ("taskId", "unitId", "reportId", status, percent, "reportedAt")
    SELECT r."taskId", ${successorId}::uuid, r."reportId", r.status::"ReportStatus", r.percent,
      r."reportedAt" AT TIME ZONE 'UTC'
    FROM jsonb_to_recordset(${JSON.stringify(inherited)}::jsonb)
      AS r("taskId" uuid, "reportId" uuid, status text, percent int, "reportedAt" timestamptz)
    ON CONFLICT ("taskId", "unitId") DO UPDATE
      SET "reportId" = excluded."reportId", status = excluded.status, percent = excluded.percent,
        "reportedAt" = excluded."reportedAt"`;
}

/** Carries the plan out (see the module's note); answers who and what moved, for history and notices. */
export async function transferToSuccessor(tx: Tx, plan: MergePlan, now: Date): Promise<TransferResult> {
  const successorId = plan.successor.id;
  const predecessorIds = plan.predecessors.map((unit) => unit.id);
  // First: reports and undos of these units wait for this transaction from here on.
  await lockProgressForSuccession(tx, predecessorIds, plan.successor.existing ? successorId : null);
  await placeSuccessor(tx, plan);
  const movedChildren = await moveSubtrees(tx, plan, predecessorIds);
  const officials = await tx.$queryRaw<{ id: string; fromUnitId: string }[]>`
    UPDATE "Official" o SET "unitId" = ${successorId}::uuid, "updatedAt" = now()
    FROM "Official" old
    WHERE old.id = o.id AND o."unitId" = ANY(${predecessorIds}::uuid[])
    RETURNING o.id, old."unitId" AS "fromUnitId"`;
  await tx.$executeRaw`
    UPDATE "ApiToken" SET "unitId" = ${successorId}::uuid WHERE "unitId" = ANY(${predecessorIds}::uuid[])`;
  const campaignsOf = await transferCampaigns(tx, successorId, predecessorIds);
  const campaignIds = [...new Set([...campaignsOf.values()].flat())];
  await inheritStatuses(tx, successorId, predecessorIds, campaignIds);
  await rebuildProgressOfSuccessor(tx, successorId, campaignIds, predecessorIds);
  await tx.$executeRaw`
    INSERT INTO "ReminderSent" ("taskId", "unitId", kind, slot, recipients, "sentAt")
    SELECT "taskId", ${successorId}::uuid, kind, slot, recipients, "sentAt" FROM "ReminderSent"
    WHERE "unitId" = ANY(${predecessorIds}::uuid[])
    ON CONFLICT DO NOTHING`;
  await tx.$executeRaw`
    UPDATE "Exemplar" SET "unitId" = ${successorId}::uuid WHERE "unitId" = ANY(${predecessorIds}::uuid[])`;
  await tx.$executeRaw`
    UPDATE "Unit" SET "retiredAt" = ${now}, "successorId" = ${successorId}::uuid, "updatedAt" = now()
    WHERE id = ANY(${predecessorIds}::uuid[])`;
  return { officials, campaignsOf, movedChildren };
}
