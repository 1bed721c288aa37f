import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Renderer } from '../../src/conversation/render.ts';
import type { Db } from '../../src/db/client.ts';
import type { Status } from '../../src/domain/status.ts';
import { createTranslator } from '../../src/i18n.ts';
import { createCampaign, launchCampaign } from '../../src/services/campaigns.ts';
import { DomainError } from '../../src/services/errors.ts';
import { upsertOfficial } from '../../src/services/officials.ts';
import { recordCampaignAct, recordStatus, undoReport } from '../../src/services/reports.ts';
import { campaignSummary, latestReports } from '../../src/services/summaries.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { withTestDb } from '../support/db.ts';

const TZ = 'Asia/Ho_Chi_Minh';
const renderer = new Renderer(createTranslator(), TZ);
/** QT is due 15/07/2026: the end of that day in Hà Nội is 2026-07-15T17:00:00Z. */
const BEFORE_DUE = new Date('2026-07-15T16:59:59.999Z');
const AT_DUE = new Date('2026-07-15T17:00:00.000Z');
const AFTER_DUE = new Date('2026-07-15T17:00:01.000Z');
const day = (n: number, hour = 2): Date => new Date(Date.UTC(2026, 6, n, hour));

let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let campaignId: string;
const unitIds = new Map<string, string>();
const officialIds = new Map<string, string>();
const taskIds = new Map<string, string>();

const UNITS: [code: string, name: string, parent?: string][] = [
  ['LC', 'UBND tỉnh Lai Châu'],
  ['TD', 'UBND huyện Tam Đường', 'LC'],
  ['PT', 'UBND huyện Phong Thổ', 'LC'],
  ['TD-1', 'UBND xã Sơn Bình', 'TD'],
  ['TD-2', 'UBND xã Bình Lư', 'TD'],
  ['TD-3', 'UBND xã Bản Giang', 'TD'],
  ['PT-1', 'UBND xã Ma Ly Pho', 'PT'],
  ['PT-2', 'UBND xã Dào San', 'PT'],
  ['PT-3', 'UBND xã Hoang Thèn', 'PT'],
];
const nameOf = (code: string): string => UNITS.find(([c]) => c === code)?.[1] ?? '';
const ref = (code: string) => ({ code, name: nameOf(code) });
/** A unit's focal official (code `<unit>-F`), who made its reports and may undo them. */
const focalOf = (unit: string) => ({
  id: id(officialIds, `${unit}-F`),
  unitId: id(unitIds, unit),
  role: 'focal' as const,
});
const id = (map: Map<string, string>, key: string): string => {
  const value = map.get(key);
  if (!value) throw new Error(`no id for ${key}`);
  return value;
};

async function report(
  officialCode: string,
  unitCode: string,
  taskKey: string,
  status: Status,
  now: Date,
  extra: { percent?: number; note?: string } = {},
): Promise<string> {
  const result = await db.$transaction((tx) =>
    recordStatus(tx, {
      officialId: id(officialIds, officialCode),
      unitId: id(unitIds, unitCode),
      taskId: id(taskIds, taskKey),
      status,
      percent: extra.percent ?? null,
      note: extra.note ?? null,
      sourceText: null,
      channel: 'telegram',
      now,
    }),
  );
  if (result.kind !== 'recorded') throw new Error(`not recorded: ${unitCode} ${taskKey}`);
  return result.reportId;
}

function act(act: 'acknowledge' | 'register', officialCode: string, unitCode: string, now: Date) {
  return db.$transaction((tx) =>
    recordCampaignAct(tx, act, {
      campaignId,
      unitId: id(unitIds, unitCode),
      officialId: id(officialIds, officialCode),
      channel: 'telegram',
      now,
    }),
  );
}

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  for (const [code, name, parentCode] of UNITS) {
    await upsertUnit(db, code, { name, parentCode });
    unitIds.set(code, (await db.unit.findUniqueOrThrow({ where: { code } })).id);
  }
  // One focal official per unit ("<unit>-F"), plus a leader in TD-2 ("TD-2-L").
  for (const [code] of UNITS) {
    await upsertOfficial(db, `${code}-F`, { name: `Cán bộ ${code}`, unitCode: code, role: 'focal' });
  }
  await upsertOfficial(db, 'TD-2-L', { name: 'Lãnh đạo xã Bình Lư', unitCode: 'TD-2', role: 'leader' });
  for (const official of await db.official.findMany()) officialIds.set(official.code, official.id);

  // TD takes part itself; PT and LC do not.
  const campaign = await createCampaign(db, {
    docNumber: '05/KH-UBND',
    title: 'Thi đua chào mừng Đại hội',
    issuerUnitCode: 'LC',
    startsOn: '2026-06-15',
    endsOn: '2026-10-30',
    unitCodes: ['TD', 'TD-1', 'TD-2', 'TD-3', 'PT-1', 'PT-2', 'PT-3'],
    tasks: [
      { key: 'QT', title: 'Quán triệt, triển khai', dueOn: '2026-07-15' },
      { key: 'TK', title: 'Tổng kết', dueOn: '2026-10-30' },
    ],
  });
  campaignId = campaign.id;
  await launchCampaign(db, campaignId, renderer, day(1));
  for (const task of await db.task.findMany({ where: { campaignId } })) taskIds.set(task.key, task.id);

  // TD-1: QT done; TK in progress 20 %, then 50 % (the later one counts).
  await report('TD-1-F', 'TD-1', 'QT', 'done', day(2));
  await report('TD-1-F', 'TD-1', 'TK', 'in_progress', day(3), { percent: 20 });
  await report('TD-1-F', 'TD-1', 'TK', 'in_progress', day(4), { percent: 50 });
  // TD-2: QT in progress, then done by the leader (supersedes).
  await report('TD-2-F', 'TD-2', 'QT', 'in_progress', day(2), { percent: 30 });
  await report('TD-2-L', 'TD-2', 'QT', 'done', day(5), { note: 'Đã tổ chức hội nghị' });
  // TD-3: QT blocked.
  await report('TD-3-F', 'TD-3', 'QT', 'blocked', day(3), { note: 'kinh phí' });
  // PT-1: QT in progress, then done, then the done is undone: in progress counts again.
  await report('PT-1-F', 'PT-1', 'QT', 'in_progress', day(2), { percent: 20 });
  const undone = await report('PT-1-F', 'PT-1', 'QT', 'done', day(6));
  const undo = await db.$transaction((tx) =>
    undoReport(tx, { reportId: undone, by: focalOf('PT-1'), now: day(6, 3) }),
  );
  expect(undo.kind).toBe('undone');
  // PT-2: its only report is undone, so it has reported nothing.
  const only = await report('PT-2-F', 'PT-2', 'QT', 'not_started', day(3));
  await db.$transaction((tx) => undoReport(tx, { reportId: only, by: focalOf('PT-2'), now: day(4) }));
  // PT-3: nothing. TD (the district itself): TK done early.
  await report('TD-F', 'TD', 'TK', 'done', day(7));

  // Acknowledgements and registrations.
  await act('acknowledge', 'TD-1-F', 'TD-1', day(2));
  await act('acknowledge', 'TD-2-F', 'TD-2', day(2));
  await act('acknowledge', 'PT-1-F', 'PT-1', day(2));
  await act('register', 'TD-1-F', 'TD-1', day(2));
});

afterAll(async () => {
  await testDb?.close();
});

describe('campaignSummary', () => {
  it('rolls up the whole campaign before the first due day ends', async () => {
    const summary = await campaignSummary(db, campaignId, { now: BEFORE_DUE, timeZone: TZ });
    expect(summary.campaign).toEqual({
      id: campaignId,
      docNumber: '05/KH-UBND',
      title: 'Thi đua chào mừng Đại hội',
    });
    expect(summary.scope).toBeNull();
    expect(summary.units).toEqual({ total: 7, acknowledged: 3, registered: 1, reported: 5, overdue: 0 });
    expect(summary.tasks).toEqual([
      {
        key: 'QT',
        title: 'Quán triệt, triển khai',
        dueOn: '2026-07-15',
        done: 2,
        inProgress: 1,
        blocked: 1,
        notStarted: 0,
        noReport: 3,
        overdue: 0,
      },
      {
        key: 'TK',
        title: 'Tổng kết',
        dueOn: '2026-10-30',
        done: 1,
        inProgress: 1,
        blocked: 0,
        notStarted: 0,
        noReport: 5,
        overdue: 0,
      },
    ]);
    expect(summary.lateUnits).toEqual([]);
    expect(summary.unreportedUnits).toEqual([ref('PT-2'), ref('PT-3')]);
  });

  it('counts units late from the end of the due day in Asia/Ho_Chi_Minh', async () => {
    for (const now of [AT_DUE, AFTER_DUE]) {
      const summary = await campaignSummary(db, campaignId, { now, timeZone: TZ });
      expect(summary.tasks.map((task) => [task.key, task.overdue])).toEqual([
        ['QT', 5],
        ['TK', 0],
      ]);
      expect(summary.units.overdue).toBe(5);
      // Sorted by name (Vietnamese collation): huyện Tam Đường, xã Bản Giang, Dào San, Hoang Thèn, Ma Ly Pho.
      expect(summary.lateUnits).toEqual([ref('TD'), ref('TD-3'), ref('PT-2'), ref('PT-3'), ref('PT-1')]);
      expect(summary.unreportedUnits).toEqual([ref('PT-2'), ref('PT-3')]);
    }
  });

  it('rolls up one district: the district itself and its communes', async () => {
    const before = await campaignSummary(db, campaignId, { unitCode: 'TD', now: BEFORE_DUE, timeZone: TZ });
    expect(before.scope).toEqual(ref('TD'));
    expect(before.units).toEqual({ total: 4, acknowledged: 2, registered: 1, reported: 4, overdue: 0 });
    expect(
      before.tasks.map(({ key, done, inProgress, blocked, notStarted, noReport, overdue }) => ({
        key,
        done,
        inProgress,
        blocked,
        notStarted,
        noReport,
        overdue,
      })),
    ).toEqual([
      { key: 'QT', done: 2, inProgress: 0, blocked: 1, notStarted: 0, noReport: 1, overdue: 0 },
      { key: 'TK', done: 1, inProgress: 1, blocked: 0, notStarted: 0, noReport: 2, overdue: 0 },
    ]);
    expect(before.lateUnits).toEqual([]);
    expect(before.unreportedUnits).toEqual([]);

    const after = await campaignSummary(db, campaignId, { unitCode: 'TD', now: AFTER_DUE, timeZone: TZ });
    expect(after.units.overdue).toBe(2);
    expect(after.tasks[0]?.overdue).toBe(2);
    expect(after.lateUnits).toEqual([ref('TD'), ref('TD-3')]);

    const pt = await campaignSummary(db, campaignId, { unitCode: 'PT', now: AFTER_DUE, timeZone: TZ });
    expect(pt.units).toEqual({ total: 3, acknowledged: 1, registered: 0, reported: 1, overdue: 3 });
    expect(pt.lateUnits).toEqual([ref('PT-2'), ref('PT-3'), ref('PT-1')]);
    expect(pt.unreportedUnits).toEqual([ref('PT-2'), ref('PT-3')]);

    const commune = await campaignSummary(db, campaignId, { unitCode: 'TD-1', now: AFTER_DUE, timeZone: TZ });
    expect(commune.units).toMatchObject({ total: 1, reported: 1, overdue: 0 });
  });

  it('answers not_found for an unknown unit or campaign', async () => {
    await expect(
      campaignSummary(db, campaignId, { unitCode: 'NOPE', now: AFTER_DUE, timeZone: TZ }),
    ).rejects.toMatchObject({ code: 'not_found', kind: 'not_found' });
    await expect(
      campaignSummary(db, '00000000-0000-4000-8000-000000000000', { now: AFTER_DUE, timeZone: TZ }),
    ).rejects.toBeInstanceOf(DomainError);
    await expect(latestReports(db, 'nope')).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('latestReports', () => {
  it('lists the latest report of every (unit, task) that has one, undone ones left out', async () => {
    expect(await latestReports(db, campaignId)).toEqual([
      {
        unitCode: 'PT-1',
        taskKey: 'QT',
        status: 'in_progress',
        percent: 20,
        note: null,
        reportedAt: day(2).toISOString(),
        reportedBy: 'PT-1-F',
      },
      {
        unitCode: 'TD',
        taskKey: 'TK',
        status: 'done',
        percent: 100,
        note: null,
        reportedAt: day(7).toISOString(),
        reportedBy: 'TD-F',
      },
      {
        unitCode: 'TD-1',
        taskKey: 'QT',
        status: 'done',
        percent: 100,
        note: null,
        reportedAt: day(2).toISOString(),
        reportedBy: 'TD-1-F',
      },
      {
        unitCode: 'TD-1',
        taskKey: 'TK',
        status: 'in_progress',
        percent: 50,
        note: null,
        reportedAt: day(4).toISOString(),
        reportedBy: 'TD-1-F',
      },
      {
        unitCode: 'TD-2',
        taskKey: 'QT',
        status: 'done',
        percent: 100,
        note: 'Đã tổ chức hội nghị',
        reportedAt: day(5).toISOString(),
        reportedBy: 'TD-2-L',
      },
      {
        unitCode: 'TD-3',
        taskKey: 'QT',
        status: 'blocked',
        percent: null,
        note: 'kinh phí',
        reportedAt: day(3).toISOString(),
        reportedBy: 'TD-3-F',
      },
    ]);
    // The undone rows are still in the database (audit trail).
    expect(await db.statusReport.count({ where: { undoneAt: { not: null } } })).toBe(2);
  });
});

describe('recordCampaignAct and recordStatus', () => {
  it('records an acknowledgement once per unit', async () => {
    const first = await act('acknowledge', 'TD-3-F', 'TD-3', day(8));
    expect(first).toEqual({ kind: 'recorded', docNumber: '05/KH-UBND', title: 'Thi đua chào mừng Đại hội' });
    const second = await act('acknowledge', 'TD-3-F', 'TD-3', day(9));
    expect(second).toEqual({ kind: 'already', docNumber: '05/KH-UBND', title: 'Thi đua chào mừng Đại hội' });
    const rows = await db.acknowledgement.findMany({ where: { campaignId, unitId: id(unitIds, 'TD-3') } });
    expect(rows).toHaveLength(1);
    expect(rows[0]?.createdAt.toISOString()).toBe(day(8).toISOString());
    expect((await act('register', 'TD-3-F', 'TD-3', day(9))).kind).toBe('recorded');
    expect((await act('register', 'TD-3-F', 'TD-3', day(9))).kind).toBe('already');
  });

  it('refuses a unit that does not take part', async () => {
    const before = await db.acknowledgement.count();
    expect(await act('acknowledge', 'PT-F', 'PT', day(8))).toEqual({ kind: 'not_allowed' });
    expect(await act('register', 'LC-F', 'LC', day(8))).toEqual({ kind: 'not_allowed' });
    expect(await db.acknowledgement.count()).toBe(before);
    const status = await db.$transaction((tx) =>
      recordStatus(tx, {
        officialId: id(officialIds, 'PT-F'),
        unitId: id(unitIds, 'PT'),
        taskId: id(taskIds, 'QT'),
        status: 'done',
        percent: null,
        note: null,
        sourceText: null,
        channel: 'telegram',
        now: day(8),
      }),
    );
    expect(status).toEqual({ kind: 'not_allowed' });
  });
});

describe('the service connection', () => {
  it('runs without JIT: compiling the roll-up took longer than running it (bench/summary.ts)', async () => {
    const [setting] = await db.$queryRaw<{ jit: string }[]>`SHOW jit`;
    expect(setting?.jit).toBe('off');
  });
});
