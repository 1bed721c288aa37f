// UnitProgress is what the summary reads for a unit instead of its CurrentStatus rows: one letter per task,
// kept in the transaction of every report and undo. It must match CurrentStatus after any interleaving of
// writers, and a row laid out for an older task list must never be read as if it were current.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Renderer } from '../../src/conversation/render.ts';
import type { Db } from '../../src/db/client.ts';
import type { Status } from '../../src/domain/status.ts';
import { createTranslator } from '../../src/i18n.ts';
import { createCampaign, launchCampaign, updateCampaign } from '../../src/services/campaigns.ts';
import { SYSTEM_CALLER } from '../../src/services/audit.ts';
import { upsertOfficial } from '../../src/services/officials.ts';
import { recordCampaignAct, recordStatus, undoReport } from '../../src/services/reports.ts';
import { campaignSummary } from '../../src/services/summaries.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { withTestDb } from '../support/db.ts';

const TZ = 'Asia/Ho_Chi_Minh';
const day = (n: number, hour = 2): Date => new Date(Date.UTC(2026, 6, n, hour));
const UNITS = ['X1', 'X2', 'X3', 'X4', 'X5'];
const TASKS = [
  { key: 'A', title: 'Nhiệm vụ A', dueOn: '2026-07-10' },
  { key: 'B', title: 'Nhiệm vụ B', dueOn: '2026-08-10' },
  { key: 'C', title: 'Nhiệm vụ C', dueOn: '2026-09-10' },
];

let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let campaignId: string;
const unitIds = new Map<string, string>();
const officialIds = new Map<string, string>();
const taskIds = new Map<string, string>();
/** The unit's focal official, who made its reports (and may undo them). */
const focalOf = (unit: string) => ({
  id: must(officialIds, unit),
  unitId: must(unitIds, unit),
  role: 'focal' as const,
});

function must(map: Map<string, string>, key: string): string {
  const value = map.get(key);
  if (!value) throw new Error(`no id for ${key}`);
  return value;
}

async function report(
  db: Parameters<typeof recordStatus>[0],
  unit: string,
  task: string,
  status: Status,
  now: Date,
) {
  const result = await recordStatus(db, {
    officialId: must(officialIds, unit),
    unitId: must(unitIds, unit),
    taskId: must(taskIds, task),
    status,
    percent: null,
    note: null,
    sourceText: null,
    channel: 'telegram',
    now,
  });
  if (result.kind !== 'recorded') throw new Error(`not recorded for ${unit} ${task}`);
  return result.reportId;
}

/** The unit's row as stored, and the row laid out afresh from CurrentStatus in the current task order. */
async function progress(unit: string) {
  const [row] = await db.$queryRaw<
    { stored: string | null; storedDigest: string | null; expected: string; digest: string }[]
  >`
    SELECT p.statuses AS stored, p."tasksDigest" AS "storedDigest",
      string_agg(CASE c.status WHEN 'done' THEN 'D' WHEN 'in_progress' THEN 'I' WHEN 'blocked' THEN 'B'
        WHEN 'not_started' THEN 'N' ELSE '-' END, '' ORDER BY t.position, t.id) AS expected,
      md5(string_agg(t.id::text, ',' ORDER BY t.position, t.id)) AS digest
    FROM "Task" t
    LEFT JOIN "CurrentStatus" c ON c."taskId" = t.id AND c."unitId" = ${must(unitIds, unit)}::uuid
    LEFT JOIN "UnitProgress" p ON p."campaignId" = t."campaignId" AND p."unitId" = ${must(unitIds, unit)}::uuid
    WHERE t."campaignId" = ${campaignId}::uuid
    GROUP BY p.statuses, p."tasksDigest"`;
  if (!row) throw new Error('no tasks');
  return row;
}

async function expectInStep(unit: string): Promise<void> {
  const row = await progress(unit);
  expect(row.stored).toBe(row.expected);
  expect(row.storedDigest).toBe(row.digest);
}

/** Per task key: the status the summary counts for the unit. */
async function shown(unit: string): Promise<Record<string, Status | 'none'>> {
  const summary = await campaignSummary(db, campaignId, { unitCode: unit, now: day(20), timeZone: TZ });
  return Object.fromEntries(
    summary.tasks.map((task) => [
      task.key,
      task.done
        ? 'done'
        : task.inProgress
          ? 'in_progress'
          : task.blocked
            ? 'blocked'
            : task.notStarted
              ? 'not_started'
              : 'none',
    ]),
  );
}

/** The whole campaign's per-task figures against the same counted straight from CurrentStatus. */
async function expectSummaryMatchesCurrentStatus(): Promise<void> {
  const summary = await campaignSummary(db, campaignId, { now: day(20), timeZone: TZ });
  const counted = await db.$queryRaw<
    { key: string; done: bigint; inProgress: bigint; blocked: bigint; notStarted: bigint }[]
  >`
    SELECT t.key, count(*) FILTER (WHERE c.status = 'done') AS done,
      count(*) FILTER (WHERE c.status = 'in_progress') AS "inProgress",
      count(*) FILTER (WHERE c.status = 'blocked') AS blocked,
      count(*) FILTER (WHERE c.status = 'not_started') AS "notStarted"
    FROM "Task" t LEFT JOIN "CurrentStatus" c ON c."taskId" = t.id
    WHERE t."campaignId" = ${campaignId}::uuid
    GROUP BY t.id, t.key, t.position ORDER BY t.position, t.id`;
  expect(
    summary.tasks.map((task) => [task.key, task.done, task.inProgress, task.blocked, task.notStarted]),
  ).toEqual(
    counted.map((row) => [
      row.key,
      Number(row.done),
      Number(row.inProgress),
      Number(row.blocked),
      Number(row.notStarted),
    ]),
  );
}

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  await upsertUnit(db, 'H', { name: 'UBND huyện Than Uyên' });
  for (const code of UNITS) {
    await upsertUnit(db, code, { name: `UBND xã ${code}`, parentCode: 'H' });
    unitIds.set(code, (await db.unit.findUniqueOrThrow({ where: { code } })).id);
    await upsertOfficial(db, `${code}-F`, { name: `Cán bộ ${code}`, unitCode: code, role: 'focal' });
    officialIds.set(code, (await db.official.findUniqueOrThrow({ where: { code: `${code}-F` } })).id);
  }
  const campaign = await createCampaign(db, {
    docNumber: '10/KH-UBND',
    title: 'Thi đua chuyển đổi số',
    issuerUnitCode: 'H',
    startsOn: '2026-06-15',
    endsOn: '2026-12-30',
    unitCodes: UNITS,
    tasks: TASKS,
  });
  campaignId = campaign.id;
  await launchCampaign(db, campaignId, new Renderer(createTranslator(), TZ), day(1));
  for (const task of await db.task.findMany({ where: { campaignId } })) taskIds.set(task.key, task.id);
});

afterAll(async () => {
  await testDb.close();
});

describe('UnitProgress', () => {
  it('follows reports and undos, one letter per task in task order', async () => {
    expect((await progress('X1')).stored).toBeNull();
    await report(db, 'X1', 'B', 'in_progress', day(2));
    expect((await progress('X1')).stored).toBe('-I-');
    const done = await report(db, 'X1', 'C', 'done', day(3));
    await report(db, 'X1', 'A', 'blocked', day(3, 3));
    expect((await progress('X1')).stored).toBe('BID');
    await undoReport(db, { reportId: done, by: focalOf('X1'), now: day(4) });
    expect((await progress('X1')).stored).toBe('BI-');
    await expectInStep('X1');
    expect(await shown('X1')).toEqual({ A: 'blocked', B: 'in_progress', C: 'none' });
  });

  it('marks acknowledgement and registration, laying out a row for a unit that reported nothing', async () => {
    const act = (kind: 'acknowledge' | 'register', unit: string, now: Date) =>
      recordCampaignAct(db, kind, {
        campaignId,
        unitId: must(unitIds, unit),
        officialId: must(officialIds, unit),
        channel: 'telegram',
        now,
      });
    expect((await act('acknowledge', 'X5', day(3))).kind).toBe('recorded');
    await expectInStep('X5');
    expect((await progress('X5')).stored).toBe('---');
    expect((await act('register', 'X5', day(3, 3))).kind).toBe('recorded');
    expect((await act('acknowledge', 'X1', day(3, 4))).kind).toBe('recorded');
    expect((await act('acknowledge', 'X1', day(3, 5))).kind).toBe('already');
    const flags = await db.unitProgress.findMany({
      where: { campaignId, acknowledged: true },
      select: { unitId: true, registered: true },
    });
    expect(new Set(flags.map((row) => row.unitId))).toEqual(
      new Set([must(unitIds, 'X5'), must(unitIds, 'X1')]),
    );
    await expectInStep('X1');
    const summary = await campaignSummary(db, campaignId, { now: day(20), timeZone: TZ });
    expect(summary.units).toMatchObject({ total: 5, acknowledged: 2, registered: 1 });
  });

  it('keeps both reports on two tasks of one unit when the second waits for the first', async () => {
    let releaseFirst = (): void => undefined;
    const firstHolds = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstRecorded = (): void => undefined;
    const recorded = new Promise<void>((resolve) => (firstRecorded = resolve));
    const first = db.$transaction(
      async (tx) => {
        await report(tx, 'X2', 'A', 'done', day(5));
        firstRecorded();
        await firstHolds;
      },
      { timeout: 30_000 },
    );
    await recorded;
    const second = report(db, 'X2', 'C', 'blocked', day(5, 3));
    // The second must be waiting on a lock the first holds before the first commits: the interleaving
    // where laying the string out without the other's letter would lose it.
    for (let tries = 0; ; tries++) {
      const [waiting] = await db.$queryRaw<{ count: bigint }[]>`
        SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`;
      if (Number(waiting?.count) > 0) break;
      if (tries > 10_000) throw new Error('the second report never waited for the first');
    }
    releaseFirst();
    await Promise.all([first, second]);
    expect((await progress('X2')).stored).toBe('D-B');
    await expectInStep('X2');
  });

  it('stays in step with CurrentStatus when reports and undos on one unit race', async () => {
    for (let round = 0; round < 16; round++) {
      const tasks = ['A', 'B', 'C'] as const;
      const statuses: Status[] = ['done', 'in_progress', 'blocked', 'not_started'];
      const undone = await report(db, 'X3', tasks[round % 3] ?? 'A', 'done', day(6, round));
      await Promise.all([
        report(db, 'X3', tasks[(round + 1) % 3] ?? 'B', statuses[round % 4] ?? 'done', day(7, round)),
        report(db, 'X3', tasks[(round + 2) % 3] ?? 'C', statuses[(round + 1) % 4] ?? 'done', day(7, round)),
        undoReport(db, { reportId: undone, by: focalOf('X3'), now: day(8, round) }),
      ]);
      await expectInStep('X3');
    }
  });

  it('lays the rows out again when the task list changes; one laid out for another list is read from CurrentStatus', async () => {
    await report(db, 'X4', 'A', 'done', day(9));
    await report(db, 'X4', 'C', 'not_started', day(9, 3));
    expect((await progress('X4')).stored).toBe('D-N');
    const before = await shown('X4');
    // Reorder the tasks and add one: the edit lays every row out for the new list (C, D, A, B).
    await updateCampaign(
      db,
      campaignId,
      {
        tasks: [TASKS[2], { key: 'D', title: 'Nhiệm vụ D', dueOn: '2026-10-10' }, TASKS[0], TASKS[1]].filter(
          (task) => task !== undefined,
        ),
      },
      SYSTEM_CALLER,
      day(10),
    );
    taskIds.set('D', (await db.task.findFirstOrThrow({ where: { campaignId, key: 'D' } })).id);
    const relaid = await progress('X4');
    expect(relaid.stored).toBe('N-D-');
    expect(relaid.storedDigest).toBe(relaid.digest);
    expect(await shown('X4')).toEqual({ ...before, D: 'none' });
    await expectSummaryMatchesCurrentStatus();
    // A report that raced the edit lays its row out for the list it saw: that row is not trusted.
    await db.$executeRaw`
      UPDATE "UnitProgress" SET statuses = 'D-N', "tasksDigest" = md5('the old list')
      WHERE "campaignId" = ${campaignId}::uuid AND "unitId" = ${must(unitIds, 'X4')}::uuid`;
    const stale = await progress('X4');
    expect(stale.storedDigest).not.toBe(stale.digest);
    expect(await shown('X4')).toEqual({ ...before, D: 'none' });
    await expectSummaryMatchesCurrentStatus();
    // The next report lays the row out for the new list.
    await report(db, 'X4', 'D', 'in_progress', day(10));
    expect((await progress('X4')).stored).toBe('NID-');
    await expectInStep('X4');
    expect(await shown('X4')).toEqual({ ...before, D: 'in_progress' });
    await expectSummaryMatchesCurrentStatus();
  });
});
