// CurrentStatus is what every summary reads as a unit's status: it must follow each report and undo,
// including two chats answering for the same unit at the same moment.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Renderer } from '../../src/conversation/render.ts';
import type { Db } from '../../src/db/client.ts';
import type { Status } from '../../src/domain/status.ts';
import { createTranslator } from '../../src/i18n.ts';
import { createCampaign, launchCampaign } from '../../src/services/campaigns.ts';
import { upsertOfficial } from '../../src/services/officials.ts';
import { recordStatus, undoReport } from '../../src/services/reports.ts';
import { campaignSummary } from '../../src/services/summaries.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { withTestDb } from '../support/db.ts';

const TZ = 'Asia/Ho_Chi_Minh';
const day = (n: number, hour = 2): Date => new Date(Date.UTC(2026, 6, n, hour));
const UNITS = ['X1', 'X2', 'X3', 'X4', 'X5'];

let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let campaignId: string;
let taskId: string;
const unitIds = new Map<string, string>();
const officialIds = new Map<string, string>();

function must(map: Map<string, string>, key: string): string {
  const value = map.get(key);
  if (!value) throw new Error(`no id for ${key}`);
  return value;
}

async function report(
  unit: string,
  status: Status,
  now: Date,
  percent: number | null = null,
): Promise<string> {
  const result = await recordStatus(db, {
    officialId: must(officialIds, unit),
    unitId: must(unitIds, unit),
    taskId,
    status,
    percent,
    note: null,
    sourceText: null,
    channel: 'telegram',
    now,
  });
  if (result.kind !== 'recorded') throw new Error(`not recorded for ${unit}`);
  return result.reportId;
}

const undo = (unit: string, reportId: string, now: Date) =>
  undoReport(db, {
    reportId,
    by: { id: must(officialIds, unit), unitId: must(unitIds, unit), role: 'focal' },
    now,
  });

function current(unit: string) {
  return db.currentStatus.findUnique({
    where: { taskId_unitId: { taskId, unitId: must(unitIds, unit) } },
    select: { reportId: true, status: true, percent: true, reportedAt: true },
  });
}

/** What a supervisor is shown for one unit: its status in the summary's per-task figures. */
async function shownStatus(unit: string): Promise<Status | 'none'> {
  const summary = await campaignSummary(db, campaignId, { unitCode: unit, now: day(20), timeZone: TZ });
  const [task] = summary.tasks;
  if (!task) throw new Error('no task in the summary');
  if (task.done) return 'done';
  if (task.inProgress) return 'in_progress';
  if (task.blocked) return 'blocked';
  if (task.notStarted) return 'not_started';
  return 'none';
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
    docNumber: '09/KH-UBND',
    title: 'Thi đua xây dựng nông thôn mới',
    issuerUnitCode: 'H',
    startsOn: '2026-06-15',
    endsOn: '2026-12-30',
    unitCodes: UNITS,
    tasks: [{ key: 'NTM', title: 'Đường giao thông nông thôn', dueOn: '2026-12-30' }],
  });
  campaignId = campaign.id;
  await launchCampaign(db, campaignId, new Renderer(createTranslator(), TZ), day(1));
  taskId = (await db.task.findFirstOrThrow({ where: { campaignId } })).id;
});

afterAll(async () => {
  await testDb.close();
});

describe('CurrentStatus follows reports and undos', () => {
  it('a later report replaces the current status; an earlier one arriving late does not', async () => {
    const first = await report('X1', 'in_progress', day(2), 30);
    expect(await current('X1')).toMatchObject({ reportId: first, status: 'in_progress', percent: 30 });
    const second = await report('X1', 'done', day(4));
    expect(await current('X1')).toMatchObject({ reportId: second, status: 'done', reportedAt: day(4) });
    await report('X1', 'blocked', day(3));
    expect(await current('X1')).toMatchObject({ reportId: second, status: 'done' });
    expect(await shownStatus('X1')).toBe('done');
  });

  it('undoing the current report restores the previous one still standing, then nothing', async () => {
    const first = await report('X2', 'in_progress', day(2), 40);
    const second = await report('X2', 'blocked', day(3));
    const third = await report('X2', 'done', day(4));
    // Undoing an older report leaves the current one alone.
    expect((await undo('X2', second, day(5))).kind).toBe('undone');
    expect(await current('X2')).toMatchObject({ reportId: third, status: 'done' });
    // Undoing the current one brings back the latest not undone: the first, skipping the undone second.
    expect((await undo('X2', third, day(5, 3))).kind).toBe('undone');
    expect(await current('X2')).toMatchObject({ reportId: first, status: 'in_progress', percent: 40 });
    expect(await shownStatus('X2')).toBe('in_progress');
    // Undoing twice changes nothing.
    expect((await undo('X2', third, day(5, 4))).kind).toBe('already_undone');
    expect(await current('X2')).toMatchObject({ reportId: first });
    expect((await undo('X2', first, day(5, 5))).kind).toBe('undone');
    expect(await current('X2')).toBeNull();
    expect(await shownStatus('X2')).toBe('none');
  });

  it('another unit cannot undo the report, and the current status stays', async () => {
    const mine = await report('X3', 'done', day(2));
    expect((await undo('X4', mine, day(3))).kind).toBe('not_allowed');
    expect(await current('X3')).toMatchObject({ reportId: mine, status: 'done' });
  });

  it('two reports at the same moment leave the later one, whichever commits last', async () => {
    // Repeated so that both commit orders happen; each round's later report is known in advance.
    for (let round = 0; round < 24; round++) {
      const early = day(6 + round, 1);
      const late = day(6 + round, 2);
      const [a, b] = await Promise.all(
        round % 2 === 0
          ? [report('X4', 'in_progress', early, round), report('X4', 'blocked', late)]
          : [report('X4', 'blocked', late), report('X4', 'in_progress', early, round)],
      );
      const laterId = round % 2 === 0 ? b : a;
      expect(await current('X4')).toMatchObject({ reportId: laterId, status: 'blocked', reportedAt: late });
    }
    expect(await shownStatus('X4')).toBe('blocked');
  });

  it('an undo racing a new report leaves the new report current', async () => {
    for (let round = 0; round < 24; round++) {
      const previous = await report('X5', 'in_progress', day(2 + round, 1), 10);
      const undone = await report('X5', 'done', day(2 + round, 2));
      const [, added] = await Promise.all([
        undo('X5', undone, day(2 + round, 3)),
        report('X5', 'blocked', day(2 + round, 4)),
      ]);
      expect(await current('X5')).toMatchObject({ reportId: added, status: 'blocked' });
      // And undoing that one brings back the report before the undone one.
      await undo('X5', added, day(2 + round, 5));
      expect(await current('X5')).toMatchObject({ reportId: previous, status: 'in_progress' });
    }
  });

  it('matches the latest report not undone of every pair', async () => {
    const rows = await db.$queryRaw<{ mismatches: bigint }[]>`
      SELECT count(*) AS mismatches FROM (
        SELECT DISTINCT ON (r."taskId", r."unitId") r."taskId", r."unitId", r.id
        FROM "StatusReport" r WHERE r."undoneAt" IS NULL
        ORDER BY r."taskId", r."unitId", r."createdAt" DESC, r.id DESC
      ) latest
      FULL JOIN "CurrentStatus" c ON c."taskId" = latest."taskId" AND c."unitId" = latest."unitId"
      WHERE c."reportId" IS DISTINCT FROM latest.id`;
    expect(Number(rows[0]?.mismatches)).toBe(0);
    expect(await db.currentStatus.count()).toBe(4);
  });
});
