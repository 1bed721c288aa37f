import type { Queryable } from '../db/client.ts';
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

/** Records one status report; every report is kept, with who, when and through which channel. */
export async function recordStatus(tx: Queryable, input: StatusInput): Promise<RecordResult> {
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
  return {
    kind: 'recorded',
    reportId: report.id,
    task: { title: task.title, docNumber: task.campaign.docNumber },
    percent,
  };
}

export type UndoResult = { kind: 'undone'; taskTitle: string } | { kind: 'already_undone' | 'not_allowed' };

/** Withdraws a report made by the same unit; the row stays, marked undone, for the audit trail. */
export async function undoReport(
  tx: Queryable,
  input: { reportId: string; unitId: string; now: Date },
): Promise<UndoResult> {
  const report = await tx.statusReport.findFirst({
    where: { id: input.reportId, unitId: input.unitId },
    include: { task: { select: { title: true } } },
  });
  if (!report) return { kind: 'not_allowed' };
  const changed = await tx.statusReport.updateMany({
    where: { id: report.id, undoneAt: null },
    data: { undoneAt: input.now },
  });
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
