import type { Queryable, Tx } from '../db/client.ts';
import { normalisePercent, type Status } from '../domain/status.ts';

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
 * Campaigns that take reports: running ones, and closed ones while their closing report (tổng kết) is open.
 */
const reportable = {
  OR: [
    { state: 'running' as const },
    { state: 'closed' as const, rounds: { some: { kind: 'closing', closedAt: null } } },
  ],
};

/** The tasks of the running campaigns a unit takes part in, in a stable order (the numbering users see). */
export async function tasksForUnit(db: Queryable, unitId: string): Promise<UnitTask[]> {
  const tasks = await db.task.findMany({
    where: { campaign: { ...reportable, units: { some: { unitId } } } },
    include: {
      campaign: { select: { docNumber: true, launchedAt: true } },
      statusReports: {
        where: { unitId, undoneAt: null },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: 1,
        select: { status: true, percent: true },
      },
    },
  });
  return tasks
    .sort(
      (a, b) =>
        (a.campaign.launchedAt?.getTime() ?? 0) - (b.campaign.launchedAt?.getTime() ?? 0) ||
        a.campaignId.localeCompare(b.campaignId) ||
        a.position - b.position,
    )
    .map((task) => ({
      taskId: task.id,
      key: task.key,
      title: task.title,
      dueOn: task.dueOn,
      campaignId: task.campaignId,
      docNumber: task.campaign.docNumber,
      latest: task.statusReports[0] ?? null,
    }));
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
 * Makes a new report the current status of its (task, unit) unless a later one already is: two reports
 * written at once leave the later by (createdAt, id) whichever commits last, since the upsert waits for the
 * other's row lock and then compares against what it committed.
 */
async function advanceCurrent(
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
    INSERT INTO "CurrentStatus" ("taskId", "unitId", "reportId", status, percent, "reportedAt")
    VALUES (${report.taskId}::uuid, ${report.unitId}::uuid, ${report.id}::uuid, ${report.status}::"ReportStatus",
      ${report.percent}, ${report.createdAt})
    ON CONFLICT ("taskId", "unitId") DO UPDATE
      SET "reportId" = excluded."reportId", status = excluded.status, percent = excluded.percent,
        "reportedAt" = excluded."reportedAt"
      WHERE (excluded."reportedAt", excluded."reportId") >= ("CurrentStatus"."reportedAt", "CurrentStatus"."reportId")`;
}

/**
 * After a report is undone: when it was the current status, the latest report still standing takes its
 * place (or the row goes: nothing left reported). The row lock makes a concurrent report or undo of the
 * same pair wait, and the search after it sees what they committed.
 */
async function retreatCurrent(tx: Tx, report: { id: string; taskId: string; unitId: string }): Promise<void> {
  const [current] = await tx.$queryRaw<{ reportId: string }[]>`
    SELECT "reportId" FROM "CurrentStatus"
    WHERE "taskId" = ${report.taskId}::uuid AND "unitId" = ${report.unitId}::uuid
    FOR UPDATE`;
  if (current && current.reportId !== report.id) return;
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
    await tx.currentStatus.delete({
      where: { taskId_unitId: { taskId: report.taskId, unitId: report.unitId } },
    });
  }
}

/** Records one status report; every report is kept, with who, when and through which channel. */
export function recordStatus(db: Queryable, input: StatusInput): Promise<RecordResult> {
  return inTransaction(db, (tx) => record(tx, input));
}

async function record(tx: Tx, input: StatusInput): Promise<RecordResult> {
  const task = await tx.task.findFirst({
    where: { id: input.taskId, campaign: { ...reportable, units: { some: { unitId: input.unitId } } } },
    include: { campaign: { select: { docNumber: true } } },
  });
  if (!task) return { kind: 'not_allowed' };
  // A report made while a collection round is open belongs to its period (the latest opened).
  const round = await tx.collectionRound.findFirst({
    where: { campaignId: task.campaignId, closedAt: null, openedAt: { lte: input.now } },
    orderBy: { openedAt: 'desc' },
    select: { id: true },
  });
  const percent = normalisePercent(input.status, input.percent);
  const report = await tx.statusReport.create({
    data: {
      taskId: task.id,
      unitId: input.unitId,
      officialId: input.officialId,
      status: input.status,
      percent,
      note: input.note,
      sourceText: input.sourceText,
      channel: input.channel,
      createdAt: input.now,
      roundId: round?.id ?? null,
    },
  });
  await advanceCurrent(tx, report);
  return {
    kind: 'recorded',
    reportId: report.id,
    task: { title: task.title, docNumber: task.campaign.docNumber },
    percent,
  };
}

export type UndoResult = { kind: 'undone'; taskTitle: string } | { kind: 'already_undone' | 'not_allowed' };

/** Withdraws a report made by the same unit; the row stays, marked undone, for the audit trail. */
export function undoReport(
  db: Queryable,
  input: { reportId: string; unitId: string; now: Date },
): Promise<UndoResult> {
  return inTransaction(db, (tx) => undo(tx, input));
}

async function undo(tx: Tx, input: { reportId: string; unitId: string; now: Date }): Promise<UndoResult> {
  const report = await tx.statusReport.findFirst({
    where: { id: input.reportId, unitId: input.unitId },
    include: { task: { select: { title: true } } },
  });
  if (!report) return { kind: 'not_allowed' };
  const changed = await tx.statusReport.updateMany({
    where: { id: report.id, undoneAt: null },
    data: { undoneAt: input.now },
  });
  if (changed.count > 0) await retreatCurrent(tx, report);
  return changed.count === 0 ? { kind: 'already_undone' } : { kind: 'undone', taskTitle: report.task.title };
}

export type CampaignActResult =
  { kind: 'recorded' | 'already'; docNumber: string; title: string } | { kind: 'not_allowed' };

/** Acknowledges ("đã nhận") or registers ("đăng ký thi đua") for a unit; the first official to do it counts. */
export async function recordCampaignAct(
  tx: Queryable,
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
  return { kind: count > 0 ? 'recorded' : 'already', ...campaign };
}
