import type { Queryable } from '../db/client.ts';
import { dueForTask, type PlannedReminder } from '../domain/reminder-planner.ts';
import { isoDate } from '../domain/time.ts';
import type { ChaseRenderer, CurrentStatus } from './ports.ts';
import {
  SWEEP_TRANSACTION,
  SweepOutbox,
  campaignCalendar,
  emptySweepResult,
  reachable,
  type Recipient,
  type SweepDeps,
  type SweepOptions,
  type SweepResult,
} from './sweeps.ts';

/** jobs/types.ts names a sample message by this path. */
export type { SweepMessage } from './sweeps.ts';

/** A task with reminders due now. */
interface DueTask {
  task: { id: string; key: string; title: string; dueOn: Date };
  campaignId: string;
  docNumber: string;
  /** The reminders due, by when the unit joined the campaign (FROM_LAUNCH: it took part from the launch). */
  reminders: Map<number, PlannedReminder[]>;
}

const FROM_LAUNCH = -1;
const arrivalKey = (joinedAt: Date | null | undefined) => joinedAt?.getTime() ?? FROM_LAUNCH;
const joinerKey = (campaignId: string, unitId: string) => `${campaignId}|${unitId}`;

/** The latest of some instants, ignoring those that are not set. */
function latest(...instants: (Date | null | undefined)[]): Date | null {
  let result: Date | null = null;
  for (const instant of instants) if (instant && (!result || instant > result)) result = instant;
  return result;
}

/** One reminder of one task to one unit: what ReminderSent keys by (task, unit, kind, slot). */
interface Candidate {
  due: DueTask;
  unitId: string;
  reminder: PlannedReminder;
  /** The unit's current status of the task (never done: done tasks are not reminded). */
  current: CurrentStatus | null;
}

/** The units that joined a running campaign after its launch, and when. */
interface LateJoiners {
  /** When, by campaign and unit (joinerKey). */
  byUnit: Map<string, Date>;
  /** The moments units joined each campaign, by arrivalKey. */
  moments: Map<string, Map<number, Date>>;
}

async function lateJoiners(db: Queryable): Promise<LateJoiners> {
  const rows = await db.campaignUnit.findMany({
    where: { joinedAt: { not: null }, campaign: { state: 'running' } },
    select: { campaignId: true, unitId: true, joinedAt: true },
  });
  const joiners: LateJoiners = { byUnit: new Map(), moments: new Map() };
  for (const { campaignId, unitId, joinedAt } of rows) {
    if (!joinedAt) continue;
    joiners.byUnit.set(joinerKey(campaignId, unitId), joinedAt);
    const moments = joiners.moments.get(campaignId) ?? new Map<number, Date>();
    moments.set(arrivalKey(joinedAt), joinedAt);
    joiners.moments.set(campaignId, moments);
  }
  return joiners;
}

/**
 * The tasks of the running campaigns with reminders due at `now`: the planner, once per task and moment
 * of receipt. A unit received a task at the latest of the launch, the task's addition and the unit's joining.
 */
async function dueTasks(deps: SweepDeps, now: Date, joiners: LateJoiners): Promise<Map<string, DueTask>> {
  const campaigns = await deps.db.campaign.findMany({
    where: { state: 'running' },
    select: {
      id: true,
      docNumber: true,
      policy: true,
      launchedAt: true,
      tasks: { select: { id: true, key: true, title: true, dueOn: true, addedAt: true } },
    },
  });
  const due = new Map<string, DueTask>();
  for (const campaign of campaigns) {
    const { policy, calendar } = campaignCalendar(deps, campaign.policy);
    const joinings: [number, Date | null][] = [
      [FROM_LAUNCH, null],
      ...(joiners.moments.get(campaign.id) ?? new Map<number, Date>()),
    ];
    for (const task of campaign.tasks) {
      const reminders = new Map<number, PlannedReminder[]>();
      for (const [key, joinedAt] of joinings) {
        const planned = dueForTask({
          task: { dueOn: isoDate(task.dueOn) },
          policy,
          calendar,
          now,
          receivedAt: latest(campaign.launchedAt, task.addedAt, joinedAt),
        });
        if (planned.length > 0) reminders.set(key, planned);
      }
      if (reminders.size > 0)
        due.set(task.id, { reminders, campaignId: campaign.id, docNumber: campaign.docNumber, task });
    }
  }
  return due;
}

/**
 * Each reminder due of each (task, unit) of the due tasks whose current status is not "done": one query.
 * The current status (CurrentStatus) is the unit's latest report, or for a unit formed by a merge what it
 * inherited, so a successor whose predecessor had finished is not chased.
 */
async function candidatesOf(
  db: Queryable,
  due: Map<string, DueTask>,
  joiners: LateJoiners,
): Promise<Candidate[]> {
  const pairs = await db.$queryRaw<
    { taskId: string; unitId: string; status: CurrentStatus['status'] | null; percent: number | null }[]
  >`
    SELECT t.id AS "taskId", cu."unitId", cs.status::text AS status, cs.percent
    FROM "Task" t
    JOIN "CampaignUnit" cu ON cu."campaignId" = t."campaignId"
    LEFT JOIN "CurrentStatus" cs ON cs."taskId" = t.id AND cs."unitId" = cu."unitId"
    WHERE t.id = ANY(${[...due.keys()]}::uuid[]) AND cs.status IS DISTINCT FROM 'done'`;
  const candidates: Candidate[] = [];
  for (const pair of pairs) {
    const dueTask = due.get(pair.taskId);
    if (!dueTask) continue;
    const current = pair.status ? { status: pair.status, percent: pair.percent } : null;
    const joinedAt = joiners.byUnit.get(joinerKey(dueTask.campaignId, pair.unitId));
    for (const reminder of dueTask.reminders.get(arrivalKey(joinedAt)) ?? []) {
      candidates.push({ due: dueTask, unitId: pair.unitId, reminder, current });
    }
  }
  return candidates;
}

/**
 * The candidates' units and who hears of each: the unit's focal officials, or for an escalation the
 * leaders of its parent unit.
 */
async function addressing(db: Queryable, candidates: Candidate[]) {
  const unitIds = [...new Set(candidates.map((candidate) => candidate.unitId))];
  const units = await db.unit.findMany({
    where: { id: { in: unitIds } },
    select: { id: true, code: true, name: true, parentId: true },
  });
  const unitById = new Map(units.map((unit) => [unit.id, unit]));
  const focal = await reachable(db, unitIds, ['focal']);
  const parentIds = [...new Set(units.flatMap((unit) => (unit.parentId ? [unit.parentId] : [])))];
  const leaders = await reachable(db, parentIds, ['leader']);
  return {
    unitOf: (candidate: Candidate) => unitById.get(candidate.unitId),
    recipientsOf: (candidate: Candidate): Recipient[] => {
      if (candidate.reminder.kind !== 'escalation') return focal.get(candidate.unitId) ?? [];
      const parentId = unitById.get(candidate.unitId)?.parentId;
      return parentId ? (leaders.get(parentId) ?? []) : [];
    },
  };
}

type Addressing = Awaited<ReturnType<typeof addressing>>;

/** The messages of some candidates; `unreachable` counts those nobody can be told of. */
function reminderMessages(render: ChaseRenderer, to: Addressing, candidates: Candidate[]) {
  const outbox = new SweepOutbox();
  let unreachable = 0;
  for (const candidate of candidates) {
    const { due, unitId, reminder, current } = candidate;
    const unit = to.unitOf(candidate);
    if (!unit) continue;
    const recipients = to.recipientsOf(candidate);
    if (recipients.length === 0) unreachable += 1;
    for (const recipient of recipients) {
      const message =
        reminder.kind === 'escalation'
          ? render.escalation(recipient.locale, {
              unitName: unit.name,
              title: due.task.title,
              docNumber: due.docNumber,
              dueOn: due.task.dueOn,
              days: reminder.days,
              current,
            })
          : render.reminder(recipient.locale, {
              kind: reminder.kind,
              taskId: due.task.id,
              title: due.task.title,
              docNumber: due.docNumber,
              dueOn: due.task.dueOn,
              days: reminder.days,
              current,
            });
      outbox.add(
        `reminder:${due.task.id}:${unitId}:${reminder.kind}:${reminder.slot}:${recipient.officialId}`,
        recipient,
        message,
        {
          kind: reminder.kind,
          slot: reminder.slot,
          docNumber: due.docNumber,
          taskKey: due.task.key,
          unitCode: unit.code,
          to: recipient.code,
        },
      );
    }
  }
  return { outbox, unreachable };
}

type ReminderKey = { taskId: string; unitId: string; kind: string; slot: string };

const keyOf = (row: ReminderKey) => `${row.taskId}|${row.unitId}|${row.kind}|${row.slot}`;
const candidateKey = (c: Candidate) =>
  keyOf({ taskId: c.due.task.id, unitId: c.unitId, kind: c.reminder.kind, slot: c.reminder.slot });

/** The candidates' keys as the columns of an unnest. */
function keyColumns(candidates: Candidate[]) {
  return {
    taskIds: candidates.map((c) => c.due.task.id),
    unitIds: candidates.map((c) => c.unitId),
    kinds: candidates.map((c) => c.reminder.kind),
    slots: candidates.map((c) => c.reminder.slot),
  };
}

/** The candidates no run has keyed yet (for a dry run, which claims nothing). */
async function unclaimed(db: Queryable, candidates: Candidate[]): Promise<Candidate[]> {
  const { taskIds, unitIds, kinds, slots } = keyColumns(candidates);
  const existing = await db.$queryRaw<ReminderKey[]>`
    SELECT s."taskId", s."unitId", s.kind, s.slot FROM "ReminderSent" s
    JOIN unnest(${taskIds}::uuid[], ${unitIds}::uuid[], ${kinds}::text[], ${slots}::text[])
      AS c("taskId", "unitId", kind, slot)
      ON s."taskId" = c."taskId" AND s."unitId" = c."unitId" AND s.kind = c.kind AND s.slot = c.slot`;
  const sent = new Set(existing.map(keyOf));
  return candidates.filter((c) => !sent.has(candidateKey(c)));
}

/** The claim: keys the candidates in ReminderSent; only those this transaction inserts are its to send. */
async function claim(
  tx: Queryable,
  candidates: Candidate[],
  to: Addressing,
  now: Date,
): Promise<Candidate[]> {
  const { taskIds, unitIds, kinds, slots } = keyColumns(candidates);
  const recipients = candidates.map((c) => to.recipientsOf(c).length);
  const claimedRows = await tx.$queryRaw<ReminderKey[]>`
    INSERT INTO "ReminderSent" ("taskId", "unitId", kind, slot, recipients, "sentAt")
    SELECT c."taskId", c."unitId", c.kind, c.slot, c.recipients, ${now}
    FROM unnest(${taskIds}::uuid[], ${unitIds}::uuid[], ${kinds}::text[], ${slots}::text[],
                ${recipients}::int[])
      AS c("taskId", "unitId", kind, slot, recipients)
    ON CONFLICT DO NOTHING
    RETURNING "taskId", "unitId", kind, slot`;
  const claimed = new Set(claimedRows.map(keyOf));
  return candidates.filter((c) => claimed.has(candidateKey(c)));
}

/**
 * The reminder sweep: for every running campaign, every task with a reminder due now (the planner,
 * once per task and moment of receipt), every participating unit that has not reported it done gets it, keyed by
 * (task, unit, kind, slot) in ReminderSent in the same transaction as its outbox rows, so a rerun
 * or a second instance sends nothing twice. A fixed handful of queries whatever the number of units.
 */
export async function sweepReminders(deps: SweepDeps, options: SweepOptions): Promise<SweepResult> {
  const { db, render } = deps;
  const { now } = options;
  const joiners = await lateJoiners(db);
  const due = await dueTasks(deps, now, joiners);
  if (due.size === 0) return emptySweepResult();
  const candidates = await candidatesOf(db, due, joiners);
  if (candidates.length === 0) return emptySweepResult();
  const to = await addressing(db, candidates);

  if (options.dryRun) {
    const fresh = await unclaimed(db, candidates);
    const { outbox, unreachable } = reminderMessages(render, to, fresh);
    return { reminders: fresh.length, messages: outbox.items.length, unreachable, sample: outbox.sample };
  }
  return db.$transaction(async (tx) => {
    const mine = await claim(tx, candidates, to, now);
    const { outbox, unreachable } = reminderMessages(render, to, mine);
    return {
      reminders: mine.length,
      messages: await outbox.write(tx, false),
      unreachable,
      sample: outbox.sample,
    };
  }, SWEEP_TRANSACTION);
}
