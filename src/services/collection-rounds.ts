import type { Queryable } from '../db/client.ts';
import type { CollectionRound, Prisma } from '../generated/prisma/client.ts';
import { deliveryProblems } from './delivery-health.ts';
import type { ChaseRenderer, CurrentStatus, RoundNews, RoundTask } from './ports.ts';
import { taskNumberOffsets } from './reports.ts';
import {
  SWEEP_TRANSACTION,
  SweepOutbox,
  reachable,
  type Recipient,
  type SweepDeps,
  type SweepResult,
} from './sweeps.ts';

/*
 * A collection round and what it says: the question to each unit, the reminder to those that have not
 * answered, and the digest when it closes. When each happens is decided in collection.ts.
 */

/** What a round's messages need of its campaign. */
export const roundCampaignSelect = {
  id: true,
  docNumber: true,
  title: true,
  policy: true,
  issuerUnitId: true,
  tasks: { orderBy: { position: 'asc' }, select: { id: true, key: true, title: true } },
  units: { select: { unit: { select: { id: true, code: true, name: true } } } },
} satisfies Prisma.CampaignSelect;

export type Round = CollectionRound & {
  campaign: Prisma.CampaignGetPayload<{ select: typeof roundCampaignSelect }>;
};

export function loadRound(db: Queryable, id: string): Promise<Round | null> {
  return db.collectionRound.findUnique({
    where: { id },
    include: { campaign: { select: roundCampaignSelect } },
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

/** The current status of each (unit, task) of a campaign that has one: by unit, then by task. */
async function currentStatuses(
  db: Queryable,
  campaignId: string,
): Promise<Map<string, Map<string, CurrentStatus>>> {
  const rows = await db.$queryRaw<({ taskId: string; unitId: string } & CurrentStatus)[]>`
    SELECT cs."taskId", cs."unitId", cs.status::text AS status, cs.percent
    FROM "CurrentStatus" cs JOIN "Task" t ON t.id = cs."taskId"
    WHERE t."campaignId" = ${campaignId}::uuid`;
  const byUnit = new Map<string, Map<string, CurrentStatus>>();
  for (const { taskId, unitId, status, percent } of rows) {
    const unit = byUnit.get(unitId) ?? new Map<string, CurrentStatus>();
    unit.set(taskId, { status, percent });
    byUnit.set(unitId, unit);
  }
  return byUnit;
}

/**
 * The units that answered a round: those that reported in it, and the units that took over one of them
 * (merged or dissolved into it during the round), whose answer counts for its successor.
 */
async function answeredUnits(db: Queryable, roundId: string): Promise<Set<string>> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    WITH RECURSIVE answered AS (
      SELECT DISTINCT r."unitId" AS id FROM "StatusReport" r
      WHERE r."roundId" = ${roundId}::uuid AND r."undoneAt" IS NULL
      UNION
      SELECT u."successorId" FROM answered a JOIN "Unit" u ON u.id = a.id WHERE u."successorId" IS NOT NULL
    )
    SELECT id FROM answered`;
  return new Set(rows.map((row) => row.id));
}

/**
 * The round's tasks a unit is asked about, with its current status of each: a periodic round asks about
 * the tasks not done yet, the closing round about every task. `offset` places them in the unit's numbering.
 */
function tasksToAsk(round: Round, statuses: Map<string, CurrentStatus> | undefined, offset = 0) {
  return round.campaign.tasks
    .map((task, index) => ({ ...task, number: offset + index + 1, current: statuses?.get(task.id) ?? null }))
    .filter((task) => round.kind === 'closing' || task.current?.status !== 'done');
}

type Mode = 'ask' | 'remind';

export interface RoundMessages {
  outbox: SweepOutbox;
  /** Units asked (or reminded). */
  reminders: number;
  /** Units asked with no focal official reachable. */
  unreachable: number;
}

/**
 * The messages of a round to the focal officials of its units, ONE per unit and official for all the tasks
 * it is asked about: the question, or the reminder to the units that have not answered. Keyed
 * `round-<mode>:<round>:<unit>:<official>`, so a rerun sends nothing twice.
 */
export async function roundMessages(
  db: Queryable,
  render: ChaseRenderer,
  round: Round,
  mode: Mode,
): Promise<RoundMessages> {
  const statuses = await currentStatuses(db, round.campaign.id);
  const answered = mode === 'remind' ? await answeredUnits(db, round.id) : new Set<string>();
  const units = round.campaign.units.map((row) => row.unit).filter((unit) => !answered.has(unit.id));
  const unitIds = units.map((unit) => unit.id);
  const focal = await reachable(db, unitIds, ['focal']);
  const offsets = await taskNumberOffsets(db, round.campaign.id, unitIds);
  const sent = await sentBefore(db, round, mode, focal);
  const news = newsOf(round);
  const outbox = new SweepOutbox();
  let unreachable = 0;
  let reminders = 0;
  for (const unit of units) {
    const tasks = tasksToAsk(round, statuses.get(unit.id), offsets.get(unit.id));
    if (tasks.length === 0) continue;
    reminders += 1;
    const recipients = focal.get(unit.id) ?? [];
    if (recipients.length === 0) unreachable += 1;
    const asked: RoundTask[] = tasks.map(({ id, number, title, current }) => ({
      taskId: id,
      number,
      title,
      current,
    }));
    for (const to of recipients) {
      if (sent.has(`${unit.id}:${to.officialId}`)) continue;
      const message =
        mode === 'ask'
          ? render.roundAsk(to.locale, news, asked)
          : render.roundReminder(to.locale, news, asked);
      outbox.add(`round-${mode}:${round.id}:${unit.id}:${to.officialId}`, to, message, {
        kind: `round-${mode}`,
        slot: round.periodKey,
        docNumber: round.campaign.docNumber,
        taskKey: tasks.map((task) => task.key).join(','),
        unitCode: unit.code,
        to: to.code,
      });
    }
  }
  return { outbox, reminders, unreachable };
}

/**
 * The (unit, official) pairs already sent this round's question or reminder under another key: by a unit
 * merged into theirs during the round (the officials moved with it: `round-<mode>:<round>:<old unit>:<official>`),
 * and, for a round asked before rounds asked each unit in one message (keyedPerTask), one message per task
 * (`round-<mode>:<round>:<task>:<unit or old unit>:<official>`). Nobody is asked or reminded twice.
 */
async function sentBefore(
  db: Queryable,
  round: Round,
  mode: Mode,
  focal: Map<string, Recipient[]>,
): Promise<Set<string>> {
  const lineage = await db.$queryRaw<{ id: string; live: string }[]>`
    WITH RECURSIVE gone AS (
      SELECT u.id, u."successorId" AS live FROM "Unit" u WHERE u."successorId" = ANY(${[...focal.keys()]}::uuid[])
      UNION ALL
      SELECT u.id, g.live FROM gone g JOIN "Unit" u ON u."successorId" = g.id
    )
    SELECT id, live FROM gone`;
  if (lineage.length === 0 && !round.keyedPerTask) return new Set();
  const unitsOf = new Map<string, string[]>([...focal.keys()].map((live) => [live, [live]]));
  for (const { id, live } of lineage) unitsOf.get(live)?.push(id);
  const pairOf = new Map<string, string>();
  for (const [live, units] of unitsOf) {
    for (const to of focal.get(live) ?? []) {
      const pair = `${live}:${to.officialId}`;
      for (const unit of units) {
        if (unit !== live) pairOf.set(`round-${mode}:${round.id}:${unit}:${to.officialId}`, pair);
        if (round.keyedPerTask)
          for (const task of round.campaign.tasks)
            pairOf.set(`round-${mode}:${round.id}:${task.id}:${unit}:${to.officialId}`, pair);
      }
    }
  }
  if (pairOf.size === 0) return new Set();
  const rows = await db.$queryRaw<{ dedupeKey: string }[]>`
    SELECT "dedupeKey" FROM "OutboxMessage" WHERE "dedupeKey" = ANY(${[...pairOf.keys()]}::text[])`;
  return new Set(rows.map((row) => pairOf.get(row.dedupeKey) ?? ''));
}

/** Writes (or, in a dry run, counts) a round's messages: the sweep's part. */
export async function sendRoundMessages(
  tx: Queryable,
  built: RoundMessages,
  dryRun: boolean,
): Promise<SweepResult> {
  return {
    reminders: built.reminders,
    messages: await built.outbox.write(tx, dryRun),
    unreachable: built.unreachable,
    sample: built.outbox.sample,
  };
}

/** Asks a round's units (once: askedAt is claimed in the same transaction as the outbox rows). */
export async function askRound(
  deps: SweepDeps,
  tx: Queryable,
  roundId: string,
  now: Date,
  dryRun: boolean,
): Promise<SweepResult | undefined> {
  const round = await loadRound(tx, roundId);
  if (!round || round.askedAt) return undefined;
  if (!dryRun) {
    const { count } = await tx.collectionRound.updateMany({
      where: { id: roundId, askedAt: null },
      data: { askedAt: now },
    });
    if (count === 0) return undefined;
  }
  return sendRoundMessages(tx, await roundMessages(tx, deps.render, round, 'ask'), dryRun);
}

/** Reminds the units of an asked round that have not answered (each message keyed, so once). */
export async function remindRound(
  deps: SweepDeps,
  roundId: string,
  dryRun: boolean,
): Promise<SweepResult | undefined> {
  const round = await loadRound(deps.db, roundId);
  if (!round) return undefined;
  const built = await roundMessages(deps.db, deps.render, round, 'remind');
  if (dryRun) return sendRoundMessages(deps.db, built, true);
  return deps.db.$transaction((tx) => sendRoundMessages(tx, built, false), SWEEP_TRANSACTION);
}

export interface RoundDigest {
  roundId: string;
  periodKey: string;
  total: number;
  answered: number;
  byStatus: Record<CurrentStatus['status'], number>;
  missing: { code: string; name: string }[];
}

/**
 * Who answered a round and how: a unit answered when it reported in the round, or (periodic rounds) when
 * every task was already done, so it was not asked.
 */
export async function digestOf(db: Queryable, round: Round): Promise<RoundDigest> {
  const statuses = await currentStatuses(db, round.campaign.id);
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
  const isAnswered = (unitId: string): boolean =>
    answered.has(unitId) ||
    (round.kind !== 'closing' && tasksToAsk(round, statuses.get(unitId)).length === 0);
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
 * Closes a round (once: closedAt is claimed in the same transaction as the outbox rows; a dry run claims
 * nothing) and sends its digest to the issuer's admins and leaders: who answered, by status, who did not.
 */
export async function closeRound(
  deps: SweepDeps,
  tx: Queryable,
  roundId: string,
  now: Date,
  dryRun: boolean,
): Promise<SweepResult | undefined> {
  if (!dryRun) {
    const { count } = await tx.collectionRound.updateMany({
      where: { id: roundId, closedAt: null },
      data: { closedAt: now },
    });
    if (count === 0) return undefined;
  }
  const round = await loadRound(tx, roundId);
  if (!round) return undefined;
  const digest = await digestOf(tx, round);
  const delivery = await deliveryProblems(tx, round.campaign.id);
  const { issuerUnitId } = round.campaign;
  const recipients = (await reachable(tx, [issuerUnitId], ['admin', 'leader'])).get(issuerUnitId) ?? [];
  const outbox = new SweepOutbox();
  for (const to of recipients) {
    const message = deps.render.roundDigest(to.locale, {
      ...newsOf(round),
      total: digest.total,
      answered: digest.answered,
      byStatus: digest.byStatus,
      missing: digest.missing.map((unit) => unit.name),
      delivery,
    });
    outbox.add(`round-digest:${round.id}:${to.officialId}`, to, message, {
      kind: 'round-digest',
      slot: round.periodKey,
      docNumber: round.campaign.docNumber,
      unitCode: '',
      to: to.code,
    });
  }
  return {
    reminders: 1,
    messages: await outbox.write(tx, dryRun),
    unreachable: recipients.length === 0 ? 1 : 0,
    sample: outbox.sample,
  };
}
