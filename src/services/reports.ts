import { v7 as uuidv7 } from 'uuid';
import type { Queryable, Tx } from '../db/client.ts';
import type { RawQueries } from '../db/raw-transactions.ts';
import { Prisma } from '../generated/prisma/client.ts';
import type { Role } from '../domain/scope.ts';
import { normalisePercent, type Status } from '../domain/status.ts';
import { officialAuditSql, recordAudit } from './audit.ts';
import {
  advanceCurrentStatus,
  lockUnitProgressSql,
  markUnitProgress,
  retreatCurrentStatus,
} from './unit-progress.ts';

export interface UnitTask {
  taskId: string;
  key: string;
  title: string;
  dueOn: Date;
  campaignId: string;
  docNumber: string;
  latest: { status: Status; percent: number | null } | null;
}

/**
 * Campaigns (`c`) that take reports: running ones, and closed ones while their closing report (tổng kết) is open.
 */
const reportableCampaign = Prisma.sql`(c.state = 'running' OR (c.state = 'closed' AND EXISTS (
  SELECT 1 FROM "CollectionRound" r WHERE r."campaignId" = c.id AND r.kind = 'closing' AND r."closedAt" IS NULL)))`;

/** A row of unitTasksSql. Times as epoch milliseconds: the rows also travel as JSON (openTurn). */
export interface UnitTaskRow extends Omit<UnitTask, 'latest' | 'dueOn'> {
  dueOnMs: number;
  launchedAtMs: number | null;
  position: number;
  status: Status | null;
  percent: number | null;
}

/** The tasks of the reportable campaigns the unit (an SQL expression) takes part in, with its statuses. */
export function unitTasksSql(unitId: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    SELECT t.id AS "taskId", t.key, t.title, extract(epoch FROM t."dueOn")::float8 * 1000 AS "dueOnMs",
      t."campaignId", c."docNumber", extract(epoch FROM c."launchedAt")::float8 * 1000 AS "launchedAtMs",
      t.position, s.status::text AS status, s.percent
    FROM "CampaignUnit" cu
    JOIN "Campaign" c ON c.id = cu."campaignId"
    JOIN "Task" t ON t."campaignId" = c.id
    LEFT JOIN "CurrentStatus" s ON s."taskId" = t.id AND s."unitId" = cu."unitId"
    WHERE cu."unitId" = ${unitId} AND ${reportableCampaign}`;
}

/** unitTasksSql's rows in a stable order (the numbering users see). */
export function unitTasksFromRows(rows: UnitTaskRow[]): UnitTask[] {
  return rows
    .sort(
      (a, b) =>
        (a.launchedAtMs ?? 0) - (b.launchedAtMs ?? 0) ||
        a.campaignId.localeCompare(b.campaignId) ||
        a.position - b.position,
    )
    .map(({ launchedAtMs: _launched, position: _position, dueOnMs, status, percent, ...task }) => ({
      ...task,
      dueOn: new Date(dueOnMs),
      latest: status ? { status, percent } : null,
    }));
}

/**
 * The tasks of the running campaigns a unit takes part in, in a stable order (the numbering users see),
 * each with the unit's current status. One statement: it runs for nearly every message a person sends.
 */
export async function tasksForUnit(db: RawQueries, unitId: string): Promise<UnitTask[]> {
  return unitTasksFromRows(await db.$queryRaw<UnitTaskRow[]>`${unitTasksSql(Prisma.sql`${unitId}::uuid`)}`);
}

export interface StatusInput {
  officialId: string;
  unitId: string;
  taskId: string;
  status: Status;
  percent: number | null;
  note: string | null;
  sourceText: string | null;
  channel: string;
  now: Date;
}

export type RecordResult =
  | { kind: 'recorded'; reportId: string; task: { title: string; docNumber: string }; percent: number | null }
  | { kind: 'not_allowed' };

/**
 * Runs the work in the caller's transaction, or in one of its own when given the bare client: a report
 * and the CurrentStatus row it changes are written together or not at all.
 */
function inTransaction<T>(db: Queryable, work: (tx: Tx) => Promise<T>): Promise<T> {
  return '$transaction' in db ? db.$transaction(work) : work(db);
}

/**
 * Records one status report; every report is kept, with who, when and through which channel. Raw SQL only,
 * so that the dialogue's hot path can run it on a plain `pg` transaction (RawQueries); the UnitProgress
 * helpers it calls are still typed for a Tx, hence the cast.
 */
export function recordStatus(db: RawQueries, input: StatusInput): Promise<RecordResult> {
  return inTransaction(db as Queryable, (tx) => record(tx, input));
}

/**
 * One statement: checks the task is reportable by the unit, finds the collection round the report belongs
 * to (the latest opened and still open) and writes the report; then the report becomes the current status.
 * A status reply is the commonest thing people send, and each round trip costs it CPU (bench/RESULTS.md).
 */
async function record(tx: Tx, input: StatusInput): Promise<RecordResult> {
  const percent = normalisePercent(input.status, input.percent);
  const [row] = await tx.$queryRaw<{ title: string; docNumber: string; reportId: string | null }[]>`
    WITH task AS (
      SELECT t.id, t.key, t.title, t."campaignId", c."docNumber"
      FROM "Task" t
      JOIN "Campaign" c ON c.id = t."campaignId"
      JOIN "CampaignUnit" cu ON cu."campaignId" = c.id AND cu."unitId" = ${input.unitId}::uuid
      WHERE t.id = ${input.taskId}::uuid
        AND ${reportableCampaign}
    ), report AS (
      INSERT INTO "StatusReport" (id, "taskId", "unitId", "officialId", status, percent, note, "sourceText",
        channel, "createdAt", "roundId")
      SELECT ${uuidv7()}::uuid, task.id, ${input.unitId}::uuid, ${input.officialId}::uuid,
        ${input.status}::"ReportStatus", ${percent}, ${input.note}, ${input.sourceText}, ${input.channel},
        ${input.now},
        (SELECT r.id FROM "CollectionRound" r
         WHERE r."campaignId" = task."campaignId" AND r."closedAt" IS NULL AND r."openedAt" <= ${input.now}
         ORDER BY r."openedAt" DESC LIMIT 1)
      FROM task
      RETURNING id
    ), audit AS (${officialAuditSql({
      officialId: input.officialId,
      action: 'report.create',
      at: input.now,
      targetKind: 'task',
      targetId: Prisma.sql`task.id::text`,
      targetCode: Prisma.sql`task.key`,
      unitId: Prisma.sql`${input.unitId}::uuid`,
      campaignId: Prisma.sql`task."campaignId"`,
      changes: Prisma.sql`jsonb_build_object('reportId', report.id, 'docNumber', task."docNumber",
        'unitCode', (SELECT code FROM "Unit" WHERE id = ${input.unitId}::uuid), 'status', ${input.status}::text,
        'percent', ${percent}::int, 'channel', ${input.channel}::text)`,
      from: Prisma.sql`task, report`,
    })}
    ), locked AS (${lockUnitProgressSql(input.taskId, input.unitId, Prisma.sql`EXISTS (SELECT 1 FROM task)`)})
    SELECT task.title, task."docNumber", report.id AS "reportId" FROM task LEFT JOIN report ON true`;
  if (!row?.reportId) return { kind: 'not_allowed' };
  // The unit's progress row is locked (above): the next statement sees what earlier writers committed.
  await advanceCurrentStatus(tx, {
    id: row.reportId,
    taskId: input.taskId,
    unitId: input.unitId,
    status: input.status,
    percent,
    createdAt: input.now,
  });
  return {
    kind: 'recorded',
    reportId: row.reportId,
    task: { title: row.title, docNumber: row.docNumber },
    percent,
  };
}

export type UndoResult = { kind: 'undone'; taskTitle: string } | { kind: 'already_undone' | 'not_allowed' };

/** The official asking to undo a report. */
export interface Undoer {
  id: string;
  unitId: string;
  role: Role;
}

export interface UndoInput {
  reportId: string;
  by: Undoer;
  now: Date;
}

/**
 * Withdraws a report: only the official who made it, or a focal or leader official of the same unit, may.
 * The row stays, marked undone and by whom, and the undo is an audit row.
 */
export function undoReport(db: Queryable, input: UndoInput): Promise<UndoResult> {
  return inTransaction(db, (tx) => undo(tx, input));
}

async function undo(tx: Tx, input: UndoInput): Promise<UndoResult> {
  const { by } = input;
  const report = await tx.statusReport.findFirst({
    where: { id: input.reportId, unitId: by.unitId },
    include: { task: { select: { title: true, key: true, campaignId: true } } },
  });
  if (!report) return { kind: 'not_allowed' };
  if (report.officialId !== by.id && by.role !== 'focal' && by.role !== 'leader')
    return { kind: 'not_allowed' };
  const changed = await tx.statusReport.updateMany({
    where: { id: report.id, undoneAt: null },
    data: { undoneAt: input.now, undoneById: by.id },
  });
  if (changed.count === 0) return { kind: 'already_undone' };
  await retreatCurrentStatus(tx, report);
  await recordAudit(tx, {
    actor: { kind: 'official', officialId: by.id },
    action: 'report.undo',
    target: { kind: 'task', id: report.taskId, code: report.task.key },
    unitId: report.unitId,
    campaignId: report.task.campaignId,
    changes: { reportId: report.id, status: report.status, percent: report.percent },
    at: input.now,
  });
  return { kind: 'undone', taskTitle: report.task.title };
}

export type CampaignActResult =
  { kind: 'recorded' | 'already'; docNumber: string; title: string } | { kind: 'not_allowed' };

/** Acknowledges ("đã nhận") or registers ("đăng ký thi đua") for a unit; the first official to do it counts. */
export function recordCampaignAct(
  db: Queryable,
  act: 'acknowledge' | 'register',
  input: { campaignId: string; unitId: string; officialId: string; channel: string; now: Date },
): Promise<CampaignActResult> {
  return inTransaction(db, (tx) => campaignAct(tx, act, input));
}

async function campaignAct(
  tx: Tx,
  act: 'acknowledge' | 'register',
  input: { campaignId: string; unitId: string; officialId: string; channel: string; now: Date },
): Promise<CampaignActResult> {
  const campaign = await tx.campaign.findFirst({
    where: { id: input.campaignId, state: 'running', units: { some: { unitId: input.unitId } } },
    select: { docNumber: true, title: true },
  });
  if (!campaign) return { kind: 'not_allowed' };
  const data = [
    {
      campaignId: input.campaignId,
      unitId: input.unitId,
      officialId: input.officialId,
      channel: input.channel,
      createdAt: input.now,
    },
  ];
  const { count } =
    act === 'acknowledge'
      ? await tx.acknowledgement.createMany({ data, skipDuplicates: true })
      : await tx.registration.createMany({ data, skipDuplicates: true });
  if (count > 0) {
    await markUnitProgress(tx, act, input.campaignId, input.unitId);
    await recordAudit(tx, {
      actor: { kind: 'official', officialId: input.officialId },
      action: act === 'acknowledge' ? 'campaign.acknowledge' : 'campaign.register',
      target: { kind: 'campaign', id: input.campaignId, code: campaign.docNumber },
      unitId: input.unitId,
      campaignId: input.campaignId,
      changes: { channel: input.channel },
      at: input.now,
    });
  }
  return { kind: count > 0 ? 'recorded' : 'already', ...campaign };
}
