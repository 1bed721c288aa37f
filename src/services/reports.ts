import { v7 as uuidv7 } from 'uuid';
import type { Queryable, Tx } from '../db/client.ts';
import type { RawQueries } from '../db/raw-transactions.ts';
import { Prisma } from '../generated/prisma/client.ts';
import type { Role } from '../domain/scope.ts';
import { normalisePercent, type Status } from '../domain/status.ts';
import { officialAuditSql, recordAudit } from './audit.ts';
import { inTransaction } from './transactions.ts';
import { advanceCurrentStatus, lockUnitProgressSql, retreatCurrentStatus } from './unit-progress.ts';

// The launch's two acts moved to campaign-acts.ts; callers keep importing them from here too.
export { recordCampaignAct, type CampaignActResult } from './campaign-acts.ts';

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

/**
 * Where a campaign's tasks start in each unit's numbering (tasksForUnit's order): how many tasks of the
 * unit's other reportable campaigns come before them. The campaign's k-th task (from 0, by position) is
 * number offset + k + 1, what "NV2" means in that unit's replies. Units missing from the map start at 0.
 */
export async function taskNumberOffsets(
  db: RawQueries,
  campaignId: string,
  unitIds: string[],
): Promise<Map<string, number>> {
  if (unitIds.length === 0) return new Map();
  const rows = await db.$queryRaw<{ unitId: string; before: number }[]>`
    WITH this AS (
      SELECT id, COALESCE("launchedAt", 'epoch'::timestamp) AS at FROM "Campaign" WHERE id = ${campaignId}::uuid
    )
    SELECT cu."unitId", count(t.id)::int AS before
    FROM this, "CampaignUnit" cu
    JOIN "Campaign" c ON c.id = cu."campaignId"
    JOIN "Task" t ON t."campaignId" = c.id
    WHERE cu."unitId" = ANY(${unitIds}::uuid[]) AND ${reportableCampaign}
      AND (COALESCE(c."launchedAt", 'epoch'::timestamp), c.id) < (this.at, this.id)
    GROUP BY cu."unitId"`;
  return new Map(rows.map((row) => [row.unitId, row.before]));
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
  /** Reports made by one message about several tasks share a group (recordStatusGroup). */
  groupId?: string | null;
}

export type RecordResult =
  | { kind: 'recorded'; reportId: string; task: { title: string; docNumber: string }; percent: number | null }
  | { kind: 'not_allowed' };

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
        channel, "createdAt", "roundId", "groupId")
      SELECT ${uuidv7()}::uuid, task.id, ${input.unitId}::uuid, ${input.officialId}::uuid,
        ${input.status}::"ReportStatus", ${percent}, ${input.note}, ${input.sourceText}, ${input.channel},
        ${input.now},
        (SELECT r.id FROM "CollectionRound" r
         WHERE r."campaignId" = task."campaignId" AND r."closedAt" IS NULL AND r."openedAt" <= ${input.now}
         ORDER BY r."openedAt" DESC LIMIT 1),
        ${input.groupId ?? null}::uuid
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
  return inTransaction(db, async (tx) => {
    const report = await tx.statusReport.findFirst({
      where: { id: input.reportId, unitId: input.by.unitId },
      include: { task: { select: { title: true, key: true, campaignId: true } } },
    });
    if (!report || !mayUndo(report, input.by)) return { kind: 'not_allowed' };
    if (!(await withdraw(tx, report, input))) return { kind: 'already_undone' };
    return { kind: 'undone', taskTitle: report.task.title };
  });
}

type ReportToUndo = Prisma.StatusReportGetPayload<{
  include: { task: { select: { title: true; key: true; campaignId: true } } };
}>;

const mayUndo = (report: { officialId: string }, by: Undoer): boolean =>
  report.officialId === by.id || by.role === 'focal' || by.role === 'leader';

/** Marks a report undone (false when it already was) and puts back what stands instead; an audit row. */
async function withdraw(tx: Tx, report: ReportToUndo, input: { by: Undoer; now: Date }): Promise<boolean> {
  const { by } = input;
  const changed = await tx.statusReport.updateMany({
    where: { id: report.id, undoneAt: null },
    data: { undoneAt: input.now, undoneById: by.id },
  });
  if (changed.count === 0) return false;
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
  return true;
}

/** One task's report in a group (recordStatusGroup): the task, its campaign, and what is said of it. */
export interface GroupedStatus {
  taskId: string;
  campaignId: string;
  status: Status;
  percent: number | null;
  note: string | null;
  sourceText: string | null;
}

/**
 * Records the reports of one message about several tasks in the caller's transaction, under one new group
 * id, so that one undo takes them all back. Answers each report's result in the order given. The unit's
 * progress rows are locked campaign by campaign in one order, so two such messages of one unit at once
 * wait for each other rather than deadlock.
 */
export async function recordStatusGroup(
  db: RawQueries,
  input: Omit<StatusInput, 'taskId' | 'status' | 'percent' | 'note' | 'sourceText' | 'groupId'> & {
    reports: GroupedStatus[];
  },
): Promise<{ groupId: string; results: RecordResult[] }> {
  const { reports, ...common } = input;
  const groupId = uuidv7();
  const results = new Array<RecordResult>(reports.length);
  const order = reports
    .map((report, index) => ({ report, index }))
    .sort((a, b) => a.report.campaignId.localeCompare(b.report.campaignId) || a.index - b.index);
  for (const { report, index } of order) {
    const { campaignId: _campaign, ...said } = report;
    results[index] = await recordStatus(db, { ...common, ...said, groupId });
  }
  return { groupId, results };
}

export type GroupUndoResult =
  { kind: 'undone'; taskTitles: string[] } | { kind: 'already_undone' | 'not_allowed' };

/**
 * Withdraws every report of a group that still stands (undoReport's rule for each: the reporter, or a
 * focal or leader official of the unit). `already_undone` when none stood.
 */
export function undoReportGroup(
  db: Queryable,
  input: { groupId: string; by: Undoer; now: Date },
): Promise<GroupUndoResult> {
  return inTransaction(db, async (tx) => {
    const reports = await tx.statusReport.findMany({
      where: { groupId: input.groupId, unitId: input.by.unitId },
      include: { task: { select: { title: true, key: true, campaignId: true } } },
      orderBy: [{ task: { campaignId: 'asc' } }, { task: { position: 'asc' } }, { id: 'asc' }],
    });
    if (reports.length === 0 || reports.some((report) => !mayUndo(report, input.by)))
      return { kind: 'not_allowed' };
    const taskTitles: string[] = [];
    for (const report of reports) {
      if (await withdraw(tx, report, input)) taskTitles.push(report.task.title);
    }
    return taskTitles.length > 0 ? { kind: 'undone', taskTitles } : { kind: 'already_undone' };
  });
}
