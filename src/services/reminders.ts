import type { Db, Queryable } from '../db/client.ts';
import { WorkCalendar, type CalendarData } from '../domain/calendar.ts';
import type { OutboundMessage } from '../domain/message.ts';
import { resolvePolicy } from '../domain/policy.ts';
import { dueForTask, type PlannedReminder } from '../domain/reminder-planner.ts';
import { isoDate } from '../domain/time.ts';
import { writeOutbox, type OutboxItem } from './outbox.ts';
import type { ChaseRenderer, CurrentStatus } from './ports.ts';
import { preferredAccount } from './accounts.ts';

export interface SweepDeps {
  db: Db;
  render: ChaseRenderer;
  timeZone: string;
  calendarData?: CalendarData | undefined;
}

export interface SweepOptions {
  now: Date;
  dryRun?: boolean;
}

/** One message a sweep sent, or would send (dry run), as the jobs API reports it. */
export interface SweepMessage {
  kind: string;
  slot: string;
  docNumber: string;
  taskKey?: string;
  unitCode: string;
  to: string;
  channel: string;
  chatId: string;
  text: string;
  buttons: string[];
}

export interface SweepResult {
  /** Reminders (task, unit, kind, slot) newly keyed, or that would be. */
  reminders: number;
  /** Outbox rows written, or that would be. */
  messages: number;
  /** Reminders whose unit (or parent unit) has nobody reachable. */
  unreachable: number;
  sample: SweepMessage[];
}

export const SAMPLE_LIMIT = 500;

/** Officials of some role in some units, each with the account they are reached on (the latest linked). */
export async function reachable(
  db: Queryable,
  unitIds: string[],
  roles: ('focal' | 'leader' | 'admin')[],
): Promise<Map<string, Recipient[]>> {
  if (unitIds.length === 0) return new Map();
  const officials = await db.official.findMany({
    where: { unitId: { in: unitIds }, role: { in: roles } },
    select: {
      id: true,
      code: true,
      unitId: true,
      locale: true,
      preferredChannel: true,
      accounts: {
        where: { active: true },
        orderBy: { linkedAt: 'desc' },
        select: { id: true, channel: true, chatId: true },
      },
    },
    orderBy: { code: 'asc' },
  });
  const byUnit = new Map<string, Recipient[]>();
  for (const official of officials) {
    const account = preferredAccount(official.accounts, official.preferredChannel);
    if (!account) continue;
    const list = byUnit.get(official.unitId) ?? [];
    list.push({ officialId: official.id, code: official.code, locale: official.locale, account });
    byUnit.set(official.unitId, list);
  }
  return byUnit;
}

export interface Recipient {
  officialId: string;
  code: string;
  locale: string;
  account: { id: string; channel: string; chatId: string };
}

export function outboxItem(dedupeKey: string, to: Recipient, message: OutboundMessage): OutboxItem {
  return {
    dedupeKey,
    channel: to.account.channel,
    chatId: to.account.chatId,
    channelAccountId: to.account.id,
    officialId: to.officialId,
    message,
  };
}

export function sampleOf(
  item: OutboxItem,
  meta: { kind: string; slot: string; docNumber: string; taskKey?: string; unitCode: string; to: string },
): SweepMessage {
  return {
    ...meta,
    channel: item.channel,
    chatId: item.chatId,
    text: item.message.text,
    buttons: (item.message.choices ?? []).flat().map((choice) => choice.label),
  };
}

/** Writes outbox rows in slices (a statement has at most 65,535 parameters). */
export async function writeOutboxInChunks(tx: Queryable, items: OutboxItem[]): Promise<number> {
  let written = 0;
  for (let start = 0; start < items.length; start += 2000) {
    written += await writeOutbox(tx, items.slice(start, start + 2000));
  }
  return written;
}

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
  const { db, render, timeZone } = deps;
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
    const policy = resolvePolicy(campaign.policy);
    const calendar = new WorkCalendar(timeZone, deps.calendarData, policy);
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
  const empty: SweepResult = { reminders: 0, messages: 0, unreachable: 0, sample: [] };
  if (due.size === 0) return empty;

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
  if (candidates.length === 0) return empty;

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
    const items: OutboxItem[] = [];
    const sample: SweepMessage[] = [];
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
        const item = outboxItem(
          `reminder:${taskId}:${unitId}:${reminder.kind}:${reminder.slot}:${to.officialId}`,
          to,
          message,
        );
        items.push(item);
        if (sample.length < SAMPLE_LIMIT) {
          sample.push(
            sampleOf(item, {
              kind: reminder.kind,
              slot: reminder.slot,
              docNumber: info.docNumber,
              taskKey: info.task.key,
              unitCode: unit.code,
              to: to.code,
            }),
          );
        }
      }
    }
    return { items, sample, unreachable };
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
      messages: built.items.length,
      unreachable: built.unreachable,
      sample: built.sample,
    };
  }

  return db.$transaction(
    async (tx) => {
      // The claim: only the (task, unit, kind, slot) keys this transaction inserts are sent by it.
      const claimedRows = await tx.$queryRaw<
        { taskId: string; unitId: string; kind: string; slot: string }[]
      >`
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
      const written = await writeOutboxInChunks(tx, built.items);
      return {
        reminders: mine.length,
        messages: written,
        unreachable: built.unreachable,
        sample: built.sample,
      };
    },
    { timeout: 120_000, maxWait: 10_000 },
  );
}
