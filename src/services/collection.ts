import type { Queryable } from '../db/client.ts';
import { WorkCalendar, addDays } from '../domain/calendar.ts';
import { lastClosedPeriod } from '../domain/periods.ts';
import { resolvePolicy, resolveSchedule, type ReminderPolicy } from '../domain/policy.ts';
import { deadlineOf, sendWindowOpen } from '../domain/reminder-planner.ts';
import { dateFromIso, isoDate } from '../domain/time.ts';
import { DomainError, isUuid, notFound } from './errors.ts';
import { deliveryProblems } from './delivery-health.ts';
import type { OutboxItem } from './outbox.ts';
import type { ChaseRenderer, CurrentStatus, RoundNews } from './ports.ts';
import {
  SAMPLE_LIMIT,
  outboxItem,
  reachable,
  sampleOf,
  writeOutboxInChunks,
  type SweepDeps,
  type SweepMessage,
  type SweepOptions,
  type SweepResult,
} from './reminders.ts';
import { recordAudit, SYSTEM_CALLER, type Caller } from './audit.ts';
import { campaignToManage } from './scope.ts';

/**
 * Periodic collection (định kỳ báo cáo) and the closing report (tổng kết). A round is one row per
 * (campaign, period), so opening it twice opens it once; asking, reminding and the digest are keyed in
 * the outbox, so a rerun sends nothing twice. Reports made while a round is open carry its id.
 */
type Round = NonNullable<Awaited<ReturnType<typeof loadRound>>>;

function loadRound(db: Queryable, id: string) {
  return db.collectionRound.findUnique({
    where: { id },
    include: {
      campaign: {
        select: {
          id: true,
          docNumber: true,
          title: true,
          policy: true,
          issuerUnitId: true,
          tasks: { orderBy: { position: 'asc' }, select: { id: true, key: true, title: true } },
          units: { select: { unit: { select: { id: true, code: true, name: true } } } },
        },
      },
    },
  });
}

const newsOf = (round: Round): RoundNews => ({
  kind: round.kind === 'closing' ? 'closing' : 'periodic',
  periodKey: round.periodKey,
  startsOn: round.startsOn,
  endsOn: round.endsOn,
  dueOn: round.dueOn,
  docNumber: round.campaign.docNumber,
  campaignTitle: round.campaign.title,
});

interface Latest {
  taskId: string;
  unitId: string;
  status: CurrentStatus['status'];
  percent: number | null;
  roundId: string | null;
}

function latestOf(db: Queryable, campaignId: string): Promise<Latest[]> {
  return db.$queryRaw<Latest[]>`
    SELECT DISTINCT ON (r."taskId", r."unitId") r."taskId", r."unitId", r.status::text AS status, r.percent, r."roundId"
    FROM "StatusReport" r JOIN "Task" t ON t.id = r."taskId"
    WHERE t."campaignId" = ${campaignId}::uuid AND r."undoneAt" IS NULL
    ORDER BY r."taskId", r."unitId", r."createdAt" DESC, r.id DESC`;
}

async function answeredUnits(db: Queryable, roundId: string): Promise<Set<string>> {
  const rows = await db.statusReport.findMany({
    where: { roundId, undoneAt: null },
    select: { unitId: true },
    distinct: ['unitId'],
  });
  return new Set(rows.map((row) => row.unitId));
}

type Mode = 'ask' | 'remind';

/** The messages of a round to the focal officials of its units: the question, or the reminder. */
async function roundItems(db: Queryable, render: ChaseRenderer, round: Round, mode: Mode) {
  const latest = await latestOf(db, round.campaign.id);
  const statusOf = new Map(latest.map((row) => [`${row.taskId}|${row.unitId}`, row]));
  const answered = mode === 'remind' ? await answeredUnits(db, round.id) : new Set<string>();
  const units = round.campaign.units.map((row) => row.unit).filter((unit) => !answered.has(unit.id));
  const focal = await reachable(
    db,
    units.map((unit) => unit.id),
    ['focal'],
  );
  const news = newsOf(round);
  const items: OutboxItem[] = [];
  const sample: SweepMessage[] = [];
  let unreachable = 0;
  let asked = 0;
  for (const unit of units) {
    // A periodic round asks about the tasks not yet done; the closing round about every task.
    const tasks = round.campaign.tasks.filter(
      (task) => round.kind === 'closing' || statusOf.get(`${task.id}|${unit.id}`)?.status !== 'done',
    );
    if (tasks.length === 0) continue;
    asked += 1;
    const recipients = focal.get(unit.id) ?? [];
    if (recipients.length === 0) unreachable += 1;
    for (const to of recipients) {
      for (const task of tasks) {
        const row = statusOf.get(`${task.id}|${unit.id}`);
        const current = row ? { status: row.status, percent: row.percent } : null;
        const message =
          mode === 'ask'
            ? render.roundAsk(to.locale, news, { taskId: task.id, title: task.title, current })
            : render.roundReminder(to.locale, news, { taskId: task.id, title: task.title });
        const item = outboxItem(
          `round-${mode}:${round.id}:${task.id}:${unit.id}:${to.officialId}`,
          to,
          message,
        );
        items.push(item);
        if (sample.length < SAMPLE_LIMIT) {
          sample.push(
            sampleOf(item, {
              kind: `round-${mode}`,
              slot: round.periodKey,
              docNumber: round.campaign.docNumber,
              taskKey: task.key,
              unitCode: unit.code,
              to: to.code,
            }),
          );
        }
      }
    }
  }
  return { items, sample, unreachable, asked };
}

function calendarFor(deps: SweepDeps, policy: ReminderPolicy): WorkCalendar {
  return new WorkCalendar(deps.timeZone, deps.calendarData, policy);
}

function add(
  result: SweepResult,
  part: { reminders: number; messages: number; unreachable: number; sample: SweepMessage[] },
) {
  result.reminders += part.reminders;
  result.messages += part.messages;
  result.unreachable += part.unreachable;
  result.sample.push(...part.sample.slice(0, Math.max(0, SAMPLE_LIMIT - result.sample.length)));
}

/** Asks a round's units (once: askedAt is claimed in the same transaction as the outbox rows). */
async function askRound(deps: SweepDeps, tx: Queryable, roundId: string, now: Date, dryRun: boolean) {
  const round = await loadRound(tx, roundId);
  if (!round || round.askedAt) return undefined;
  if (!dryRun) {
    const { count } = await tx.collectionRound.updateMany({
      where: { id: roundId, askedAt: null },
      data: { askedAt: now },
    });
    if (count === 0) return undefined;
  }
  const built = await roundItems(tx, deps.render, round, 'ask');
  const messages = dryRun ? built.items.length : await writeOutboxInChunks(tx, built.items);
  return { reminders: built.asked, messages, unreachable: built.unreachable, sample: built.sample };
}

/**
 * Opens the round of the period that has just closed (for campaigns with a report schedule), asks
 * every participating unit, and reminds those that have not answered on the due day.
 */
export async function sweepCollection(deps: SweepDeps, options: SweepOptions): Promise<SweepResult> {
  const { db } = deps;
  const { now } = options;
  const dryRun = options.dryRun ?? false;
  const result: SweepResult = { reminders: 0, messages: 0, unreachable: 0, sample: [] };

  const campaigns = await db.campaign.findMany({
    where: { state: 'running', reportSchedule: { not: { equals: null } } },
    select: { id: true, reportSchedule: true, policy: true, startsOn: true, endsOn: true, launchedAt: true },
  });
  const opened: string[] = [];
  const wouldOpen: { campaignId: string; periodKey: string }[] = [];
  for (const campaign of campaigns) {
    const schedule = resolveSchedule(campaign.reportSchedule);
    if (!schedule) continue;
    const policy = resolvePolicy(campaign.policy);
    const calendar = calendarFor(deps, policy);
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
    if (!relevant) continue;
    if (dryRun) {
      const exists = await db.collectionRound.findUnique({
        where: { campaignId_periodKey: { campaignId: campaign.id, periodKey: period.key } },
      });
      if (!exists) wouldOpen.push({ campaignId: campaign.id, periodKey: period.key });
      continue;
    }
    await db.collectionRound.createMany({
      data: [
        {
          campaignId: campaign.id,
          periodKey: period.key,
          kind: 'periodic',
          startsOn: dateFromIso(period.startsOn),
          endsOn: dateFromIso(period.endsOn),
          dueOn: dateFromIso(period.dueOn),
          openedAt: now,
        },
      ],
      skipDuplicates: true,
    });
    opened.push(campaign.id);
  }

  // A dry run shows the questions of the rounds it would open, built from an unsaved round.
  for (const planned of wouldOpen) {
    await db
      .$transaction(async (tx) => {
        const campaign = await tx.campaign.findUniqueOrThrow({ where: { id: planned.campaignId } });
        const schedule = resolveSchedule(campaign.reportSchedule);
        const calendar = calendarFor(deps, resolvePolicy(campaign.policy));
        if (!schedule) return;
        const period = lastClosedPeriod(schedule.cadence, calendar.dayOf(now), {
          cutoffDay: schedule.cutoffDay,
          dueDays: schedule.dueDay,
        });
        const round = await tx.collectionRound.create({
          data: {
            campaignId: campaign.id,
            periodKey: period.key,
            kind: 'periodic',
            startsOn: dateFromIso(period.startsOn),
            endsOn: dateFromIso(period.endsOn),
            dueOn: dateFromIso(period.dueOn),
            openedAt: now,
          },
        });
        const asked = await askRound(deps, tx, round.id, now, true);
        if (asked) add(result, asked);
        throw new DryRunRollback();
      })
      .catch((error: unknown) => {
        if (!(error instanceof DryRunRollback)) throw error;
      });
  }

  const open = await db.collectionRound.findMany({
    where: { closedAt: null, campaign: { state: { in: ['running', 'closed'] } } },
    select: { id: true, askedAt: true, dueOn: true, campaign: { select: { policy: true } } },
  });
  for (const round of open) {
    const policy = resolvePolicy(round.campaign.policy);
    const calendar = calendarFor(deps, policy);
    const dueOn = isoDate(round.dueOn);
    if (now.getTime() >= deadlineOf({ dueOn }, calendar).getTime()) continue;
    if (!round.askedAt) {
      if (!sendWindowOpen(now, dueOn, policy, calendar)) continue;
      const asked = await db.$transaction((tx) => askRound(deps, tx, round.id, now, dryRun), {
        timeout: 120_000,
        maxWait: 10_000,
      });
      if (asked) add(result, asked);
      continue;
    }
    // The reminder: on the due day (or the working day before it when the due day is a day off).
    const remindDay = calendar.isWorkingDay(dueOn) ? dueOn : lastWorkingDayBefore(calendar, dueOn);
    if (calendar.dayOf(now) < remindDay || !sendWindowOpen(now, remindDay, policy, calendar)) continue;
    const full = await loadRound(db, round.id);
    if (!full) continue;
    const built = await roundItems(db, deps.render, full, 'remind');
    const messages = dryRun
      ? built.items.length
      : await db.$transaction((tx) => writeOutboxInChunks(tx, built.items), { timeout: 120_000 });
    add(result, { reminders: built.asked, messages, unreachable: built.unreachable, sample: built.sample });
  }
  return result;
}

class DryRunRollback extends Error {}

function lastWorkingDayBefore(calendar: WorkCalendar, day: string): string {
  let current = addDays(day, -1);
  for (let i = 0; i < 30 && !calendar.isWorkingDay(current); i += 1) current = addDays(current, -1);
  return current;
}

export interface RoundDigest {
  roundId: string;
  periodKey: string;
  total: number;
  answered: number;
  byStatus: Record<CurrentStatus['status'], number>;
  missing: { code: string; name: string }[];
}

async function digestOf(db: Queryable, round: Round): Promise<RoundDigest> {
  const latest = await latestOf(db, round.campaign.id);
  const answered = await answeredUnits(db, round.id);
  const inRound = await db.$queryRaw<{ status: CurrentStatus['status']; count: bigint }[]>`
    SELECT status::text AS status, count(*) AS count FROM (
      SELECT DISTINCT ON (r."taskId", r."unitId") r.status
      FROM "StatusReport" r
      WHERE r."roundId" = ${round.id}::uuid AND r."undoneAt" IS NULL
      ORDER BY r."taskId", r."unitId", r."createdAt" DESC, r.id DESC) latest
    GROUP BY status`;
  const byStatus = { done: 0, in_progress: 0, blocked: 0, not_started: 0 };
  for (const row of inRound) byStatus[row.status] = Number(row.count);
  const units = round.campaign.units.map((row) => row.unit);
  const taskIds = round.campaign.tasks.map((task) => task.id);
  const doneBefore = (unitId: string) =>
    round.kind !== 'closing' &&
    taskIds.every((taskId) =>
      latest.some((row) => row.taskId === taskId && row.unitId === unitId && row.status === 'done'),
    );
  const isAnswered = (unitId: string) => answered.has(unitId) || doneBefore(unitId);
  return {
    roundId: round.id,
    periodKey: round.periodKey,
    total: units.length,
    answered: units.filter((unit) => isAnswered(unit.id)).length,
    byStatus,
    missing: units
      .filter((unit) => !isAnswered(unit.id))
      .map(({ code, name }) => ({ code, name }))
      .sort((a, b) => a.name.localeCompare(b.name, 'vi')),
  };
}

/**
 * Closes the rounds whose due day has passed (at the first moment messages may go out after it) and
 * sends the digest to the issuer's admins and leaders: who answered, by status, who did not.
 */
export async function sweepDigests(deps: SweepDeps, options: SweepOptions): Promise<SweepResult> {
  const { db, render } = deps;
  const { now } = options;
  const result: SweepResult = { reminders: 0, messages: 0, unreachable: 0, sample: [] };
  const open = await db.collectionRound.findMany({
    where: { closedAt: null },
    select: { id: true, dueOn: true, campaign: { select: { policy: true } } },
  });
  for (const candidate of open) {
    const policy = resolvePolicy(candidate.campaign.policy);
    const calendar = calendarFor(deps, policy);
    const dueOn = isoDate(candidate.dueOn);
    if (now.getTime() < deadlineOf({ dueOn }, calendar).getTime()) continue;
    if (!sendWindowOpen(now, '', policy, calendar)) continue;
    const part = await db.$transaction(
      async (tx) => {
        if (!options.dryRun) {
          const { count } = await tx.collectionRound.updateMany({
            where: { id: candidate.id, closedAt: null },
            data: { closedAt: now },
          });
          if (count === 0) return undefined;
        }
        const round = await loadRound(tx, candidate.id);
        if (!round) return undefined;
        const digest = await digestOf(tx, round);
        const delivery = await deliveryProblems(tx, round.campaign.id);
        const recipients =
          (await reachable(tx, [round.campaign.issuerUnitId], ['admin', 'leader'])).get(
            round.campaign.issuerUnitId,
          ) ?? [];
        const items = recipients.map((to) =>
          outboxItem(
            `round-digest:${round.id}:${to.officialId}`,
            to,
            render.roundDigest(to.locale, {
              ...newsOf(round),
              total: digest.total,
              answered: digest.answered,
              byStatus: digest.byStatus,
              missing: digest.missing.map((unit) => unit.name),
              delivery,
            }),
          ),
        );
        const messages = options.dryRun ? items.length : await writeOutboxInChunks(tx, items);
        return {
          reminders: 1,
          messages,
          unreachable: recipients.length === 0 ? 1 : 0,
          sample: items.map((item, index) =>
            sampleOf(item, {
              kind: 'round-digest',
              slot: round.periodKey,
              docNumber: round.campaign.docNumber,
              unitCode: '',
              to: recipients[index]?.code ?? '',
            }),
          ),
        };
      },
      { timeout: 120_000, maxWait: 10_000 },
    );
    if (part) add(result, part);
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
  return db.$transaction(
    async (tx) => {
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
      const policy = resolvePolicy(campaign.policy);
      const calendar = calendarFor(deps, policy);
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
    },
    { timeout: 120_000, maxWait: 10_000 },
  );
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
