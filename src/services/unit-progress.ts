import { createHash } from 'node:crypto';
import type { Tx } from '../db/client.ts';
import { Prisma } from '../generated/prisma/client.ts';
import type { Status } from '../domain/status.ts';
import { statusAfterWithdrawal, type StatusHolding } from '../domain/succession.ts';
import { STATUS_LETTERS } from '../domain/summary.ts';

/**
 * The upkeep of CurrentStatus (task, unit → the latest report not undone) and UnitProgress (campaign, unit →
 * one letter per task, the digest of the task list, acknowledged, registered), in the transaction of every
 * report, undo, acknowledgement, registration and task edit. The read side is in summaries.ts.
 *
 * The locking order is correctness: a report or undo locks the unit's UnitProgress row (lockUnitProgress)
 * in a statement before it touches CurrentStatus, and lays the row out in a statement after, so two writers
 * of one unit (two tasks, or a report and an undo) run one after the other and the second sees the first's
 * letters.
 */

/** The letter of a status (STATUS_LETTERS), '-' for none. */
const letterOf = (status: Prisma.Sql) =>
  Prisma.sql`CASE ${status} WHEN 'done' THEN ${STATUS_LETTERS.done}
    WHEN 'in_progress' THEN ${STATUS_LETTERS.in_progress} WHEN 'blocked' THEN ${STATUS_LETTERS.blocked}
    WHEN 'not_started' THEN ${STATUS_LETTERS.not_started} ELSE '-' END`;

/** A campaign's tasks (`id`, `place` from 1) in task order, position then id: what rows are laid out for. */
const campaignTaskPlaces = (campaignId: Prisma.Sql): Prisma.Sql =>
  Prisma.sql`SELECT id, row_number() OVER (ORDER BY position, id) AS place
    FROM "Task" WHERE "campaignId" = ${campaignId}`;

/** Task ids (`id`, `place` from 1) in the order given: a task list read earlier, laid out as it was read. */
export const listedTaskPlaces = (taskIds: string[]): Prisma.Sql =>
  Prisma.sql`SELECT id, place FROM unnest(${taskIds}::uuid[]) WITH ORDINALITY AS k(id, place)`;

/**
 * THE layout of a UnitProgress row, one row of two columns: `statuses`, the unit's letter for each of
 * `tasks` (campaignTaskPlaces or listedTaskPlaces) in place order from CurrentStatus, and `digest`, the md5
 * of the task ids in that order, comma-separated (tasksDigest in JavaScript). The unit_progress
 * migration's backfill writes the same. `newer`: the name of a relation of (taskId, status) written by the
 * same statement, whose snapshot does not see it in CurrentStatus yet; its statuses win.
 */
export function progressLayout(tasks: Prisma.Sql, unitId: Prisma.Sql, newer?: Prisma.Sql): Prisma.Sql {
  const status = newer ? Prisma.sql`COALESCE(n.status, cs.status)` : Prisma.sql`cs.status`;
  return Prisma.sql`
    SELECT COALESCE(string_agg(${letterOf(status)}, '' ORDER BY k.place), '') AS statuses,
      md5(COALESCE(string_agg(k.id::text, ',' ORDER BY k.place), '')) AS digest
    FROM (${tasks}) k
    LEFT JOIN "CurrentStatus" cs ON cs."taskId" = k.id AND cs."unitId" = ${unitId}
    ${newer ? Prisma.sql`LEFT JOIN ${newer} n ON n."taskId" = k.id` : Prisma.empty}`;
}

/** The digest of a task list as progressLayout writes it: md5 of the ids in task order, comma-separated. */
export function tasksDigest(taskIds: string[]): string {
  return createHash('md5').update(taskIds.join(',')).digest('hex');
}

/** Lays the progress row of each unit `rows` selects (alias p) out again for its campaign's current tasks. */
const layOutRows = (rows: Prisma.Sql, newer?: Prisma.Sql) => {
  const layout = progressLayout(
    campaignTaskPlaces(Prisma.sql`p."campaignId"`),
    Prisma.sql`p."unitId"`,
    newer,
  );
  return Prisma.sql`UPDATE "UnitProgress" p SET (statuses, "tasksDigest") = (${layout}) WHERE ${rows}`;
};

/** The progress row of a unit in a task's campaign. */
const rowOfTask = (taskId: string, unitId: string) =>
  Prisma.sql`p."campaignId" = (SELECT "campaignId" FROM "Task" WHERE id = ${taskId}::uuid)
    AND p."unitId" = ${unitId}::uuid`;

/**
 * Takes the lock on a unit's progress row in the task's campaign (creating the row when missing). The
 * layout, a statement of its own after it, then reads every CurrentStatus change committed by the unit's
 * earlier writers: laid out in one statement that waits for the row instead, a report would keep the
 * snapshot it took before waiting and drop the letter of a report on another task committed meanwhile.
 * Taken before CurrentStatus changes, so a transaction with several reports of one unit takes it first.
 */
export async function lockUnitProgress(tx: Tx, taskId: string, unitId: string): Promise<void> {
  await tx.$executeRaw`${lockUnitProgressSql(taskId, unitId)}`;
}

/**
 * lockUnitProgress as a statement, to run within another (a CTE of the statement that writes a report),
 * only when `onlyIf` holds.
 */
export function lockUnitProgressSql(
  taskId: string,
  unitId: string,
  onlyIf: Prisma.Sql = Prisma.sql`true`,
): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO "UnitProgress" ("campaignId", "unitId", statuses, "tasksDigest")
    SELECT t."campaignId", ${unitId}::uuid, '', '' FROM "Task" t WHERE t.id = ${taskId}::uuid AND ${onlyIf}
    ON CONFLICT ("campaignId", "unitId") DO UPDATE SET statuses = "UnitProgress".statuses`;
}

/**
 * Makes a report the current status of its (task, unit) unless a later one already stands (the later by
 * (reportedAt, reportId) wins, whichever commits last) and lays the unit's progress row out again, in one
 * statement, after lockUnitProgress in an earlier one. Its snapshot, taken once the lock was held, has every
 * change of the unit's earlier writers; the new status comes from the upsert's RETURNING (empty when a
 * later report stands, and then the row is laid out as it was).
 */
export async function advanceCurrentStatus(
  tx: Tx,
  report: {
    id: string;
    taskId: string;
    unitId: string;
    status: Status;
    percent: number | null;
    createdAt: Date;
  },
): Promise<void> {
  await tx.$executeRaw`
    WITH advanced AS (
      INSERT INTO "CurrentStatus" ("taskId", "unitId", "reportId", status, percent, "reportedAt")
      VALUES (${report.taskId}::uuid, ${report.unitId}::uuid, ${report.id}::uuid,
        ${report.status}::"ReportStatus", ${report.percent}, ${report.createdAt})
      ON CONFLICT ("taskId", "unitId") DO UPDATE
        SET "reportId" = excluded."reportId", status = excluded.status, percent = excluded.percent,
          "reportedAt" = excluded."reportedAt"
        WHERE (excluded."reportedAt", excluded."reportId") >= ("CurrentStatus"."reportedAt", "CurrentStatus"."reportId")
      RETURNING "taskId", status
    )
    ${layOutRows(rowOfTask(report.taskId, report.unitId), Prisma.sql`advanced`)}`;
}

/**
 * After a report is undone: when it was the current status, the latest report still standing takes its
 * place (or the row goes: nothing left reported), and the unit's progress row is laid out again. The
 * progress lock, then the CurrentStatus row lock, make a concurrent report or undo of the unit wait, and
 * the search after them sees what those committed. A unit formed by a merge falls back on what it
 * inherited unless it has reported since (statusAfterWithdrawal).
 */
export async function retreatCurrentStatus(
  tx: Tx,
  report: { id: string; taskId: string; unitId: string },
): Promise<void> {
  await lockUnitProgress(tx, report.taskId, report.unitId);
  const [current] = await tx.$queryRaw<{ reportId: string }[]>`
    SELECT "reportId" FROM "CurrentStatus"
    WHERE "taskId" = ${report.taskId}::uuid AND "unitId" = ${report.unitId}::uuid
    FOR UPDATE`;
  if (current && current.reportId !== report.id) return;
  const predecessors = await tx.$queryRaw<(Partial<StatusHolding> & { retiredAt: Date })[]>`
    SELECT u."retiredAt", cs."reportId", cs.status::text AS status, cs.percent, cs."reportedAt"
    FROM "Unit" u
    LEFT JOIN "CurrentStatus" cs ON cs."unitId" = u.id AND cs."taskId" = ${report.taskId}::uuid
    WHERE u."successorId" = ${report.unitId}::uuid`;
  if (predecessors.length > 0) {
    await fallBackOnInherited(tx, report, predecessors);
  } else {
    const replaced = await tx.$executeRaw`
      UPDATE "CurrentStatus" c
      SET "reportId" = l.id, status = l.status, percent = l.percent, "reportedAt" = l."createdAt"
      FROM (
        SELECT r.id, r.status, r.percent, r."createdAt" FROM "StatusReport" r
        WHERE r."taskId" = ${report.taskId}::uuid AND r."unitId" = ${report.unitId}::uuid AND r."undoneAt" IS NULL
        ORDER BY r."createdAt" DESC, r.id DESC
        LIMIT 1
      ) l
      WHERE c."taskId" = ${report.taskId}::uuid AND c."unitId" = ${report.unitId}::uuid`;
    if (replaced === 0 && current) {
      await tx.$executeRaw`
        DELETE FROM "CurrentStatus" WHERE "taskId" = ${report.taskId}::uuid AND "unitId" = ${report.unitId}::uuid`;
    }
  }
  await tx.$executeRaw`${layOutRows(rowOfTask(report.taskId, report.unitId))}`;
}

/** A successor's status after its current report went: its own latest, or what it inherited. */
async function fallBackOnInherited(
  tx: Tx,
  report: { taskId: string; unitId: string },
  predecessors: (Partial<StatusHolding> & { retiredAt: Date })[],
): Promise<void> {
  const [own] = await tx.$queryRaw<StatusHolding[]>`
    SELECT r.id AS "reportId", r.status::text AS status, r.percent, r."createdAt" AS "reportedAt"
    FROM "StatusReport" r
    WHERE r."taskId" = ${report.taskId}::uuid AND r."unitId" = ${report.unitId}::uuid AND r."undoneAt" IS NULL
    ORDER BY r."createdAt" DESC, r.id DESC
    LIMIT 1`;
  const inherited = predecessors.filter((row): row is StatusHolding & { retiredAt: Date } => !!row.reportId);
  const decided = statusAfterWithdrawal({
    own: own ?? null,
    inherited,
    lastTookInAt: new Date(Math.max(...predecessors.map((row) => row.retiredAt.getTime()))),
  });
  if (!decided) {
    await tx.$executeRaw`
      DELETE FROM "CurrentStatus" WHERE "taskId" = ${report.taskId}::uuid AND "unitId" = ${report.unitId}::uuid`;
    return;
  }
  await tx.$executeRaw`
    INSERT INTO "CurrentStatus" ("taskId", "unitId", "reportId", status, percent, "reportedAt")
    VALUES (${report.taskId}::uuid, ${report.unitId}::uuid, ${decided.reportId}::uuid,
      ${decided.status}::"ReportStatus", ${decided.percent}, ${decided.reportedAt})
    ON CONFLICT ("taskId", "unitId") DO UPDATE
      SET "reportId" = excluded."reportId", status = excluded.status, percent = excluded.percent,
        "reportedAt" = excluded."reportedAt"`;
}

/**
 * Lays every progress row of a campaign out again after its task list changed (tasks added, removed or
 * reordered), in the transaction that changed it, so summaries keep reading one row per unit.
 */
export async function relayoutCampaignProgress(tx: Tx, campaignId: string): Promise<void> {
  await tx.$executeRaw`${layOutRows(Prisma.sql`p."campaignId" = ${campaignId}::uuid`)}`;
}

/**
 * Marks a unit acknowledged or registered in its progress row, in the transaction that inserts the
 * Acknowledgement or Registration; a unit with no row yet gets one laid out from CurrentStatus. Flags are
 * only ever set, so a report changing the row at the same time needs no lock: whichever writes second
 * keeps the other's part.
 */
export async function markUnitProgress(
  tx: Tx,
  act: 'acknowledge' | 'register',
  campaignId: string,
  unitId: string,
): Promise<void> {
  const acknowledged = act === 'acknowledge';
  const layout = progressLayout(
    campaignTaskPlaces(Prisma.sql`${campaignId}::uuid`),
    Prisma.sql`${unitId}::uuid`,
  );
  await tx.$executeRaw`
    INSERT INTO "UnitProgress" ("campaignId", "unitId", statuses, "tasksDigest", acknowledged, registered)
    SELECT ${campaignId}::uuid, ${unitId}::uuid, l.statuses, l.digest, ${acknowledged}, ${!acknowledged}
    FROM (${layout}) l
    ON CONFLICT ("campaignId", "unitId") DO UPDATE
      SET acknowledged = "UnitProgress".acknowledged OR excluded.acknowledged,
        registered = "UnitProgress".registered OR excluded.registered`;
}

/**
 * Takes the progress locks of a reorganisation, in one statement and a fixed order: the rows of `unitIds`
 * in every campaign they take part in, and of `successorId` (when it exists already) in those campaigns,
 * creating rows that are missing. A report or undo of any of these units waits until the reorganisation has
 * committed, and then finds the unit retired (the CurrentStatus trigger) or reads what it wrote.
 */
export async function lockProgressForSuccession(
  tx: Tx,
  unitIds: string[],
  successorId: string | null,
): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO "UnitProgress" ("campaignId", "unitId", statuses, "tasksDigest")
    SELECT p."campaignId", p."unitId", '', '' FROM (
      SELECT cu."campaignId", cu."unitId" FROM "CampaignUnit" cu WHERE cu."unitId" = ANY(${unitIds}::uuid[])
      UNION
      SELECT cu."campaignId", s.id FROM "CampaignUnit" cu, "Unit" s
      WHERE cu."unitId" = ANY(${unitIds}::uuid[]) AND s.id = ${successorId}::uuid
    ) p
    ORDER BY p."campaignId", p."unitId"
    ON CONFLICT ("campaignId", "unitId") DO UPDATE SET statuses = "UnitProgress".statuses`;
}

/**
 * Lays out a unit's progress rows in some campaigns afresh from CurrentStatus, with its acknowledged and
 * registered flags read from their tables (creating the rows when missing), and drops the rows of units
 * that left the tree into it: a successor's rows after it took its predecessors' statuses over.
 */
export async function rebuildProgressOfSuccessor(
  tx: Tx,
  successorId: string,
  campaignIds: string[],
  predecessorIds: string[],
): Promise<void> {
  const layout = progressLayout(campaignTaskPlaces(Prisma.sql`c.id`), Prisma.sql`${successorId}::uuid`);
  await tx.$executeRaw`
    INSERT INTO "UnitProgress" ("campaignId", "unitId", statuses, "tasksDigest", acknowledged, registered)
    SELECT c.id, ${successorId}::uuid, l.statuses, l.digest,
      EXISTS (SELECT 1 FROM "Acknowledgement" a WHERE a."campaignId" = c.id AND a."unitId" = ${successorId}::uuid),
      EXISTS (SELECT 1 FROM "Registration" g WHERE g."campaignId" = c.id AND g."unitId" = ${successorId}::uuid)
    FROM unnest(${campaignIds}::uuid[]) AS c(id)
    CROSS JOIN LATERAL (${layout}) l
    ON CONFLICT ("campaignId", "unitId") DO UPDATE
      SET statuses = excluded.statuses, "tasksDigest" = excluded."tasksDigest",
        acknowledged = excluded.acknowledged, registered = excluded.registered`;
  await tx.$executeRaw`DELETE FROM "UnitProgress" WHERE "unitId" = ANY(${predecessorIds}::uuid[])`;
}
