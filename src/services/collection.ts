import { v7 as uuidv7 } from 'uuid';
import type { Queryable } from '../db/client.ts';
import { addDays, type WorkCalendar } from '../domain/calendar.ts';
import { lastClosedPeriod, type Period } from '../domain/periods.ts';
import { resolveSchedule } from '../domain/policy.ts';
import { deadlineOf, sendWindowOpen } from '../domain/reminder-planner.ts';
import { dateFromIso, isoDate } from '../domain/time.ts';
import { DomainError, isUuid, notFound } from './errors.ts';
import {
  askRound,
  closeRound,
  digestOf,
  loadRound,
  remindRound,
  roundCampaignSelect,
  roundMessages,
  sendRoundMessages,
  type Round,
} from './collection-rounds.ts';
import {
  SWEEP_TRANSACTION,
  addToResult,
  campaignCalendar,
  emptySweepResult,
  type SweepDeps,
  type SweepOptions,
  type SweepResult,
} from './sweeps.ts';
import { recordAudit, SYSTEM_CALLER, type Caller } from './audit.ts';
import { campaignToManage } from './scope.ts';

/*
 * Periodic collection (định kỳ báo cáo) and the closing report (tổng kết): when rounds open, are asked,
 * reminded and closed. A round is one row per (campaign, period), so opening it twice opens it once;
 * asking, reminding and the digest are keyed in the outbox, so a rerun sends nothing twice. Reports made
 * while a round is open carry its id. What a round says is in collection-rounds.ts.
 */

interface DuePeriod {
  campaignId: string;
  period: Period;
}

/**
 * The period whose round is to be open now, for each running campaign with a report schedule: the period
 * that closed last, if it lies within the campaign and after its launch, and its due day has not passed,
 * at an hour when messages may go out.
 */
async function duePeriods(deps: SweepDeps, now: Date): Promise<DuePeriod[]> {
  const campaigns = await deps.db.campaign.findMany({
    where: { state: 'running', reportSchedule: { not: { equals: null } } },
    select: { id: true, reportSchedule: true, policy: true, startsOn: true, endsOn: true, launchedAt: true },
  });
  const due: DuePeriod[] = [];
  for (const campaign of campaigns) {
    const schedule = resolveSchedule(campaign.reportSchedule);
    if (!schedule) continue;
    const { policy, calendar } = campaignCalendar(deps, campaign.policy);
    const today = calendar.dayOf(now);
    const period = lastClosedPeriod(schedule.cadence, today, {
      cutoffDay: schedule.cutoffDay,
      dueDays: schedule.dueDay,
    });
    const launchDay = campaign.launchedAt ? calendar.dayOf(campaign.launchedAt) : today;
    const relevant =
      period.endsOn >= isoDate(campaign.startsOn) &&
      period.startsOn <= isoDate(campaign.endsOn) &&
      period.endsOn >= launchDay &&
      today <= period.dueOn &&
      sendWindowOpen(now, period.dueOn, policy, calendar);
    if (relevant) due.push({ campaignId: campaign.id, period });
  }
  return due;
}

/** A periodic round's row as it is opened. */
const periodicRound = ({ campaignId, period }: DuePeriod, now: Date) => ({
  campaignId,
  periodKey: period.key,
  kind: 'periodic',
  startsOn: dateFromIso(period.startsOn),
  endsOn: dateFromIso(period.endsOn),
  dueOn: dateFromIso(period.dueOn),
  openedAt: now,
});

/** Opens the round of each due period, once (one row per campaign and period); chaseOpenRounds asks. */
async function openDueRounds(deps: SweepDeps, due: DuePeriod[], now: Date): Promise<void> {
  for (const period of due) {
    await deps.db.collectionRound.createMany({ data: [periodicRound(period, now)], skipDuplicates: true });
  }
}

/**
 * What openDueRounds would open and the chase then ask, for a dry run: the questions of each round not
 * open yet, built from an unsaved round. Nothing is written.
 */
async function previewDueRounds(deps: SweepDeps, due: DuePeriod[], now: Date): Promise<SweepResult> {
  const result = emptySweepResult();
  for (const period of due) {
    const exists = await deps.db.collectionRound.findUnique({
      where: { campaignId_periodKey: { campaignId: period.campaignId, periodKey: period.period.key } },
      select: { id: true },
    });
    if (exists) continue;
    const campaign = await deps.db.campaign.findUnique({
      where: { id: period.campaignId },
      select: roundCampaignSelect,
    });
    if (!campaign) continue;
    const round: Round = {
      ...periodicRound(period, now),
      id: uuidv7(),
      askedAt: null,
      closedAt: null,
      keyedPerTask: false,
      campaign,
    };
    const questions = await roundMessages(deps.db, deps.render, round, 'ask');
    addToResult(result, await sendRoundMessages(deps.db, questions, true));
  }
  return result;
}

/**
 * Chases the open rounds before their deadline: asks the units of a round not asked yet, and on its
 * reminder day (the due day, or the working day before it when that is a day off) reminds the units that
 * have not answered.
 */
async function chaseOpenRounds(deps: SweepDeps, now: Date, dryRun: boolean): Promise<SweepResult> {
  const result = emptySweepResult();
  const open = await deps.db.collectionRound.findMany({
    where: { closedAt: null, campaign: { state: { in: ['running', 'closed'] } } },
    select: { id: true, askedAt: true, dueOn: true, campaign: { select: { policy: true } } },
  });
  for (const round of open) {
    const { policy, calendar } = campaignCalendar(deps, round.campaign.policy);
    const dueOn = isoDate(round.dueOn);
    if (now.getTime() >= deadlineOf({ dueOn }, calendar).getTime()) continue;
    if (!round.askedAt) {
      if (!sendWindowOpen(now, dueOn, policy, calendar)) continue;
      const asked = await deps.db.$transaction(
        (tx) => askRound(deps, tx, round.id, now, dryRun),
        SWEEP_TRANSACTION,
      );
      if (asked) addToResult(result, asked);
      continue;
    }
    const remindDay = calendar.isWorkingDay(dueOn) ? dueOn : lastWorkingDayBefore(calendar, dueOn);
    if (calendar.dayOf(now) < remindDay || !sendWindowOpen(now, remindDay, policy, calendar)) continue;
    const reminded = await remindRound(deps, round.id, dryRun);
    if (reminded) addToResult(result, reminded);
  }
  return result;
}

/**
 * The collection sweep: opens the round of the period that has just closed (for campaigns with a report
 * schedule), asks every participating unit, and reminds those that have not answered on the due day. A
 * dry run opens nothing and shows what it would ask and remind.
 */
export async function sweepCollection(deps: SweepDeps, options: SweepOptions): Promise<SweepResult> {
  const { now } = options;
  const dryRun = options.dryRun ?? false;
  const due = await duePeriods(deps, now);
  const result = emptySweepResult();
  if (dryRun) addToResult(result, await previewDueRounds(deps, due, now));
  else await openDueRounds(deps, due, now);
  addToResult(result, await chaseOpenRounds(deps, now, dryRun));
  return result;
}

function lastWorkingDayBefore(calendar: WorkCalendar, day: string): string {
  let current = addDays(day, -1);
  for (let i = 0; i < 30 && !calendar.isWorkingDay(current); i += 1) current = addDays(current, -1);
  return current;
}

/**
 * Closes the rounds whose due day has passed, at the first moment messages may go out after it, each with
 * its digest to the issuer's admins and leaders.
 */
export async function sweepDigests(deps: SweepDeps, options: SweepOptions): Promise<SweepResult> {
  const { db } = deps;
  const { now } = options;
  const dryRun = options.dryRun ?? false;
  const result = emptySweepResult();
  const open = await db.collectionRound.findMany({
    where: { closedAt: null },
    select: { id: true, dueOn: true, campaign: { select: { policy: true } } },
  });
  for (const candidate of open) {
    const { policy, calendar } = campaignCalendar(deps, candidate.campaign.policy);
    const dueOn = isoDate(candidate.dueOn);
    if (now.getTime() < deadlineOf({ dueOn }, calendar).getTime()) continue;
    if (!sendWindowOpen(now, '', policy, calendar)) continue;
    const part = await db.$transaction(
      (tx) => closeRound(deps, tx, candidate.id, now, dryRun),
      SWEEP_TRANSACTION,
    );
    if (part) addToResult(result, part);
  }
  return result;
}

export interface CloseResult {
  id: string;
  state: 'closed';
  closedAt: string;
  closingReport: { dueOn: string; asked: number; messages: number; deferred: boolean };
}

/**
 * Ends a campaign: no more reminders (the sweep only looks at running campaigns) and a closing round
 * asking every unit for its closing report. Outside the sending hours the question waits for the
 * collection sweep. Closing twice changes nothing.
 */
export async function closeCampaign(
  deps: SweepDeps,
  id: string,
  now: Date,
  caller: Caller = SYSTEM_CALLER,
): Promise<CloseResult> {
  const { db } = deps;
  if (!isUuid(id)) throw notFound('campaign', id);
  return db.$transaction(async (tx) => {
    // Only the admins of the issuer's subtree close it (404 to those who cannot see it, 403 to the others).
    await campaignToManage(tx, caller.principal, id);
    await tx.$queryRaw`SELECT id FROM "Campaign" WHERE id = ${id}::uuid FOR UPDATE`;
    const campaign = await tx.campaign.findUnique({ where: { id } });
    if (!campaign) throw notFound('campaign', id);
    if (campaign.state === 'draft') {
      throw new DomainError(
        'campaign_not_launched',
        'a draft campaign cannot be closed; launch it first',
        { id },
        'conflict',
      );
    }
    const { policy, calendar } = campaignCalendar(deps, campaign.policy);
    const closedAt = campaign.closedAt ?? now;
    if (campaign.state === 'running') {
      await tx.campaign.update({ where: { id }, data: { state: 'closed', closedAt } });
      await recordAudit(tx, {
        actor: caller.actor,
        action: 'campaign.close',
        target: { kind: 'campaign', id, code: campaign.docNumber },
        unitId: campaign.issuerUnitId,
        campaignId: id,
        changes: { state: ['running', 'closed'] },
        at: now,
      });
    }
    const today = calendar.dayOf(closedAt);
    await tx.collectionRound.createMany({
      data: [
        {
          campaignId: id,
          periodKey: 'closing',
          kind: 'closing',
          startsOn: campaign.startsOn,
          endsOn: dateFromIso(today),
          dueOn: dateFromIso(addDays(today, policy.closingReportDays)),
          openedAt: closedAt,
        },
      ],
      skipDuplicates: true,
    });
    const round = await tx.collectionRound.findUniqueOrThrow({
      where: { campaignId_periodKey: { campaignId: id, periodKey: 'closing' } },
    });
    const deferred = !sendWindowOpen(now, '', policy, calendar);
    const asked = deferred ? undefined : await askRound(deps, tx, round.id, now, false);
    return {
      id,
      state: 'closed' as const,
      closedAt: closedAt.toISOString(),
      closingReport: {
        dueOn: isoDate(round.dueOn),
        asked: asked?.reminders ?? 0,
        messages: asked?.messages ?? 0,
        deferred: deferred && !round.askedAt,
      },
    };
  }, SWEEP_TRANSACTION);
}

export interface ClosingSummary {
  dueOn: string;
  closedAt: string | null;
  total: number;
  answered: number;
  reports: {
    unitCode: string;
    taskKey: string;
    status: string;
    percent: number | null;
    note: string | null;
  }[];
  missing: { code: string; name: string }[];
}

/** The closing reports of a closed campaign (undefined while it has no closing round). */
export async function closingSummary(db: Queryable, campaignId: string): Promise<ClosingSummary | undefined> {
  const row = await db.collectionRound.findUnique({
    where: { campaignId_periodKey: { campaignId, periodKey: 'closing' } },
  });
  if (!row) return undefined;
  const round = await loadRound(db, row.id);
  if (!round) return undefined;
  const digest = await digestOf(db, round);
  const reports = await db.$queryRaw<
    { unitCode: string; taskKey: string; status: string; percent: number | null; note: string | null }[]
  >`
    SELECT DISTINCT ON (r."taskId", r."unitId") u.code AS "unitCode", t.key AS "taskKey", r.status::text AS status,
      r.percent, r.note
    FROM "StatusReport" r JOIN "Task" t ON t.id = r."taskId" JOIN "Unit" u ON u.id = r."unitId"
    WHERE r."roundId" = ${row.id}::uuid AND r."undoneAt" IS NULL
    ORDER BY r."taskId", r."unitId", r."createdAt" DESC, r.id DESC`;
  return {
    dueOn: isoDate(row.dueOn),
    closedAt: row.closedAt?.toISOString() ?? null,
    total: digest.total,
    answered: digest.answered,
    reports: reports.sort(
      (a, b) => a.unitCode.localeCompare(b.unitCode) || a.taskKey.localeCompare(b.taskKey),
    ),
    missing: digest.missing,
  };
}
