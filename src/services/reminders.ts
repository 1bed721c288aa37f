import { dueForTask, type PlannedReminder } from '../domain/reminder-planner.ts';
import { isoDate } from '../domain/time.ts';
import type { CurrentStatus } from './ports.ts';
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

interface PairRow {
  taskId: string;
  unitId: string;
  status: CurrentStatus['status'] | null;
  percent: number | null;
}

interface Candidate {
  taskId: string;
  unitId: string;
  reminder: PlannedReminder;
}

/**
 * The reminder sweep: for every running campaign, every task with a reminder due now (the planner,
 * once per task), every participating unit that has not reported it done gets it, keyed by
 * (task, unit, kind, slot) in ReminderSent in the same transaction as its outbox rows, so a rerun
 * or a second instance sends nothing twice. A fixed handful of queries whatever the number of units.
 */
export async function sweepReminders(deps: SweepDeps, options: SweepOptions): Promise<SweepResult> {
  const { db, render } = deps;
  const { now } = options;
  const campaigns = await db.campaign.findMany({
    where: { state: 'running' },
    select: {
      id: true,
      docNumber: true,
      policy: true,
      launchedAt: true,
      tasks: { select: { id: true, key: true, title: true, dueOn: true } },
    },
  });
  const due = new Map<
    string,
    { reminders: PlannedReminder[]; docNumber: string; task: (typeof campaigns)[number]['tasks'][number] }
  >();
  for (const campaign of campaigns) {
    const { policy, calendar } = campaignCalendar(deps, campaign.policy);
    for (const task of campaign.tasks) {
      const reminders = dueForTask({
        task: { dueOn: isoDate(task.dueOn) },
        policy,
        calendar,
        now,
        since: campaign.launchedAt,
      });
      if (reminders.length > 0) due.set(task.id, { reminders, docNumber: campaign.docNumber, task });
    }
  }
  if (due.size === 0) return emptySweepResult();

  // Every (task, unit) of those tasks whose latest status is not "done", in one query.
  const pairs = await db.$queryRaw<PairRow[]>`
    SELECT t.id AS "taskId", cu."unitId", ls.status::text AS status, ls.percent
    FROM "Task" t
    JOIN "CampaignUnit" cu ON cu."campaignId" = t."campaignId"
    LEFT JOIN LATERAL (
      SELECT r.status, r.percent FROM "StatusReport" r
      WHERE r."taskId" = t.id AND r."unitId" = cu."unitId" AND r."undoneAt" IS NULL
      ORDER BY r."createdAt" DESC, r.id DESC LIMIT 1
    ) ls ON true
    WHERE t.id = ANY(${[...due.keys()]}::uuid[]) AND ls.status IS DISTINCT FROM 'done'`;
  const candidates: Candidate[] = [];
  const statusOf = new Map<string, CurrentStatus | null>();
  for (const pair of pairs) {
    statusOf.set(
      `${pair.taskId}|${pair.unitId}`,
      pair.status ? { status: pair.status, percent: pair.percent } : null,
    );
    for (const reminder of due.get(pair.taskId)?.reminders ?? []) {
      candidates.push({ taskId: pair.taskId, unitId: pair.unitId, reminder });
    }
  }
  if (candidates.length === 0) return emptySweepResult();

  const unitIds = [...new Set(candidates.map((candidate) => candidate.unitId))];
  const units = await db.unit.findMany({
    where: { id: { in: unitIds } },
    select: { id: true, code: true, name: true, parentId: true },
  });
  const unitById = new Map(units.map((unit) => [unit.id, unit]));
  const focal = await reachable(db, unitIds, ['focal']);
  const parentIds = [...new Set(units.flatMap((unit) => (unit.parentId ? [unit.parentId] : [])))];
  const leaders = await reachable(db, parentIds, ['leader']);

  const recipientsOf = (candidate: Candidate): Recipient[] => {
    if (candidate.reminder.kind !== 'escalation') return focal.get(candidate.unitId) ?? [];
    const parentId = unitById.get(candidate.unitId)?.parentId;
    return parentId ? (leaders.get(parentId) ?? []) : [];
  };

  const build = (claimed: Candidate[]) => {
    const outbox = new SweepOutbox();
    let unreachable = 0;
    for (const candidate of claimed) {
      const { reminder, taskId, unitId } = candidate;
      const info = due.get(taskId);
      const unit = unitById.get(unitId);
      if (!info || !unit) continue;
      const recipients = recipientsOf(candidate);
      if (recipients.length === 0) unreachable += 1;
      const current = statusOf.get(`${taskId}|${unitId}`) ?? null;
      for (const to of recipients) {
        const message =
          reminder.kind === 'escalation'
            ? render.escalation(to.locale, {
                unitName: unit.name,
                title: info.task.title,
                docNumber: info.docNumber,
                dueOn: info.task.dueOn,
                days: reminder.days,
                current,
              })
            : render.reminder(to.locale, {
                kind: reminder.kind,
                taskId,
                title: info.task.title,
                docNumber: info.docNumber,
                dueOn: info.task.dueOn,
                days: reminder.days,
                current,
              });
        outbox.add(
          `reminder:${taskId}:${unitId}:${reminder.kind}:${reminder.slot}:${to.officialId}`,
          to,
          message,
          {
            kind: reminder.kind,
            slot: reminder.slot,
            docNumber: info.docNumber,
            taskKey: info.task.key,
            unitCode: unit.code,
            to: to.code,
          },
        );
      }
    }
    return { outbox, unreachable };
  };

  const columns = {
    taskIds: candidates.map((c) => c.taskId),
    unitIds: candidates.map((c) => c.unitId),
    kinds: candidates.map((c) => c.reminder.kind),
    slots: candidates.map((c) => c.reminder.slot),
    recipients: candidates.map((c) => recipientsOf(c).length),
  };
  const keyOf = (row: { taskId: string; unitId: string; kind: string; slot: string }) =>
    `${row.taskId}|${row.unitId}|${row.kind}|${row.slot}`;

  if (options.dryRun) {
    const existing = await db.$queryRaw<{ taskId: string; unitId: string; kind: string; slot: string }[]>`
      SELECT s."taskId", s."unitId", s.kind, s.slot FROM "ReminderSent" s
      JOIN unnest(${columns.taskIds}::uuid[], ${columns.unitIds}::uuid[], ${columns.kinds}::text[], ${columns.slots}::text[])
        AS c("taskId", "unitId", kind, slot)
        ON s."taskId" = c."taskId" AND s."unitId" = c."unitId" AND s.kind = c.kind AND s.slot = c.slot`;
    const sent = new Set(existing.map(keyOf));
    const fresh = candidates.filter(
      (c) => !sent.has(keyOf({ ...c, kind: c.reminder.kind, slot: c.reminder.slot })),
    );
    const built = build(fresh);
    return {
      reminders: fresh.length,
      messages: built.outbox.items.length,
      unreachable: built.unreachable,
      sample: built.outbox.sample,
    };
  }

  return db.$transaction(async (tx) => {
    // The claim: only the (task, unit, kind, slot) keys this transaction inserts are sent by it.
    const claimedRows = await tx.$queryRaw<{ taskId: string; unitId: string; kind: string; slot: string }[]>`
        INSERT INTO "ReminderSent" ("taskId", "unitId", kind, slot, recipients, "sentAt")
        SELECT c."taskId", c."unitId", c.kind, c.slot, c.recipients, ${now}
        FROM unnest(${columns.taskIds}::uuid[], ${columns.unitIds}::uuid[], ${columns.kinds}::text[],
                    ${columns.slots}::text[], ${columns.recipients}::int[])
          AS c("taskId", "unitId", kind, slot, recipients)
        ON CONFLICT DO NOTHING
        RETURNING "taskId", "unitId", kind, slot`;
    const claimed = new Set(claimedRows.map(keyOf));
    const mine = candidates.filter((c) =>
      claimed.has(keyOf({ ...c, kind: c.reminder.kind, slot: c.reminder.slot })),
    );
    const built = build(mine);
    return {
      reminders: mine.length,
      messages: await built.outbox.write(tx, false),
      unreachable: built.unreachable,
      sample: built.outbox.sample,
    };
  }, SWEEP_TRANSACTION);
}
