import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobs } from '../../jobs/index.ts';
import { JobScheduler, createJobsQueue } from '../../jobs/scheduler.ts';
import { SYSTEM_CALLER } from '../../src/services/audit.ts';
import { Renderer } from '../../src/conversation/render.ts';
import type { Db } from '../../src/db/client.ts';
import { createTranslator } from '../../src/i18n.ts';
import { createLogger } from '../../src/logger.ts';
import {
  createCampaign,
  launchCampaign,
  updateCampaign,
  type CampaignInput,
} from '../../src/services/campaigns.ts';
import {
  closeCampaign,
  closingSummary,
  sweepCollection,
  sweepDigests,
} from '../../src/services/collection.ts';
import { upsertOfficial } from '../../src/services/officials.ts';
import { messageFromPayload, writeOutbox } from '../../src/services/outbox.ts';
import { recordStatus, tasksForUnit } from '../../src/services/reports.ts';
import { sweepReminders } from '../../src/services/reminders.ts';
import type { SweepResult } from '../../src/services/sweeps.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { withTestDb } from '../support/db.ts';
import { REDIS_SERVER_URL } from '../support/env.ts';

const ZONE = 'Asia/Ho_Chi_Minh';
const local = (text: string): Date => DateTime.fromISO(text, { zone: ZONE }).toJSDate();
const render = new Renderer(createTranslator(), ZONE);

let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let chat = 7000;
const deps = () => ({ db, render, timeZone: ZONE });

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  await upsertUnit(db, 'P', { name: 'UBND huyện Tam Đường' });
  for (const [code, name] of [
    ['A', 'UBND xã Bình Lư'],
    ['B', 'UBND xã Bản Giang'],
    ['C', 'UBND xã Sơn Bình'],
  ] as const) {
    await upsertUnit(db, code, { name, parentCode: 'P' });
  }
  for (const [code, unitCode, role] of [
    ['P-LEAD', 'P', 'leader'],
    ['P-ADMIN', 'P', 'admin'],
    ['A-FOCAL', 'A', 'focal'],
    ['A-MEMBER', 'A', 'member'],
    ['B-FOCAL', 'B', 'focal'],
    ['C-FOCAL', 'C', 'focal'],
  ] as const) {
    await upsertOfficial(db, code, { name: `Cán bộ ${code}`, unitCode, role });
    const official = await db.official.findUniqueOrThrow({ where: { code } });
    chat += 1;
    await db.channelAccount.create({
      data: { officialId: official.id, channel: 'telegram', chatId: String(chat) },
    });
  }
});

afterAll(async () => {
  await testDb?.close();
});

async function campaign(
  docNumber: string,
  overrides: Partial<CampaignInput> = {},
  launchedAt = local('2026-07-01T09:00'),
) {
  const created = await createCampaign(db, {
    docNumber,
    title: 'Phong trào thi đua chào mừng kỷ niệm các sự kiện lịch sử',
    issuerUnitCode: 'P',
    startsOn: '2026-06-15',
    endsOn: '2026-12-31',
    unitCodes: ['A', 'B', 'C'],
    tasks: [{ key: 'QT', title: 'Quán triệt, triển khai kế hoạch', dueOn: '2026-07-15' }],
    ...overrides,
  });
  await launchCampaign(db, created.id, render, launchedAt);
  const task = await db.task.findFirstOrThrow({ where: { campaignId: created.id } });
  return { id: created.id, taskId: task.id };
}

const rows = (prefix: string) =>
  db.outboxMessage.findMany({
    where: { dedupeKey: { startsWith: prefix } },
    include: { official: { select: { code: true } } },
    orderBy: { seq: 'asc' },
  });

async function unitId(code: string) {
  return (await db.unit.findUniqueOrThrow({ where: { code } })).id;
}

async function report(code: string, taskId: string, status: 'done' | 'in_progress', now: Date) {
  const official = await db.official.findUniqueOrThrow({ where: { code } });
  const result = await recordStatus(db, {
    officialId: official.id,
    unitId: official.unitId,
    taskId,
    status,
    percent: null,
    note: null,
    sourceText: null,
    channel: 'telegram',
    now,
  });
  expect(result.kind).toBe('recorded');
}

describe('the reminder sweep', () => {
  it('sends each reminder once, to the focal officials, with the status buttons, even run twice at once', async () => {
    const { taskId } = await campaign('R1/KH');
    const at = local('2026-07-13T07:30'); // 3 days before 15/7 is a Sunday: Monday 13/7
    const [first, second] = await Promise.all([
      sweepReminders(deps(), { now: at }),
      sweepReminders(deps(), { now: at }),
    ]);
    expect(first.messages + second.messages).toBe(3);
    const again = await sweepReminders(deps(), { now: new Date(at.getTime() + 3600_000) });
    expect(again.messages).toBe(0);
    const sent = await rows(`reminder:${taskId}:`);
    expect(sent.map((row) => row.official?.code).sort()).toEqual(['A-FOCAL', 'B-FOCAL', 'C-FOCAL']);
    const message = messageFromPayload(sent[0]?.payload);
    expect(message.text).toContain('còn 3 ngày đến hạn 15/07/2026');
    expect(message.choices?.flat().map((choice) => choice.label)).toEqual([
      '✅ Hoàn thành',
      '⏳ Đang thực hiện',
      '⚠️ Vướng mắc',
      '❌ Chưa thực hiện',
    ]);
    expect(await db.reminderSent.count({ where: { taskId } })).toBe(3);
  });

  it('shifts around quiet hours, weekends and holidays, stops for a unit that reported done, escalates', async () => {
    const { taskId } = await campaign(
      'R2/KH',
      {
        tasks: [{ key: 'QT', title: 'Báo cáo sơ kết', dueOn: '2026-04-28' }],
        startsOn: '2026-04-01',
      },
      local('2026-04-01T09:00'),
    );
    const sweep = async (at: string) =>
      (await sweepReminders(deps(), { now: local(at) })).sample.filter((m) => m.docNumber === 'R2/KH');
    // 3 days before (25/4) is a Saturday: Monday 27/4 is a day off too (Giỗ Tổ on Sunday 26/4), so the due day.
    expect(await sweep('2026-04-24T10:00')).toEqual([]);
    expect(await sweep('2026-04-27T10:00')).toEqual([]);
    expect(await sweep('2026-04-28T06:59')).toEqual([]);
    const due = await sweep('2026-04-28T07:30');
    expect(due.map((m) => `${m.kind}:${m.unitCode}`).sort()).toEqual(['due:A', 'due:B', 'due:C']);
    expect(await sweep('2026-04-28T21:30')).toEqual([]);
    await report('A-FOCAL', taskId, 'done', local('2026-04-28T15:00'));
    // 29/4 is a working day; 30/4 and 1/5 are holidays, then the weekend.
    const overdue = await sweep('2026-04-29T08:00');
    expect(overdue.map((m) => `${m.kind}:${m.unitCode}`).sort()).toEqual(['overdue:B', 'overdue:C']);
    expect(overdue[0]?.text).toContain('quá hạn 1 ngày làm việc');
    expect(await sweep('2026-04-30T08:00')).toEqual([]);
    expect(await sweep('2026-05-02T08:00')).toEqual([]);
    await report('B-FOCAL', taskId, 'in_progress', local('2026-05-02T09:00'));
    // Monday 4/5: 2nd working day overdue; Tuesday 5/5: 3rd, and the parent unit's leader is told.
    expect((await sweep('2026-05-04T08:00')).map((m) => m.unitCode).sort()).toEqual(['B', 'C']);
    const escalated = await sweep('2026-05-05T08:00');
    const escalations = escalated.filter((m) => m.kind === 'escalation');
    expect(escalations.map((m) => `${m.to}:${m.unitCode}`).sort()).toEqual(['P-LEAD:B', 'P-LEAD:C']);
    expect(escalations.find((m) => m.unitCode === 'B')?.text).toContain('UBND xã Bản Giang');
    expect(escalations.find((m) => m.unitCode === 'B')?.text).toContain('Đang thực hiện');
    expect(escalations[0]?.buttons).toEqual([]);
    expect(await sweep('2026-05-05T09:00')).toEqual([]);
    const toA = await db.outboxMessage.count({
      where: {
        dedupeKey: { startsWith: `reminder:${taskId}:${await unitId('A')}:` },
        createdAt: { gt: new Date(0) },
      },
    });
    expect(toA).toBe(1); // the due-day reminder only: none after done
  });

  it('a dry run tells what would be sent and sends nothing', async () => {
    const { taskId } = await campaign('R3/KH', {
      tasks: [{ key: 'X', title: 'Nhiệm vụ X', dueOn: '2026-07-21' }],
    });
    const dry = await sweepReminders(deps(), { now: local('2026-07-20T08:00'), dryRun: true });
    expect(dry.sample.filter((m) => m.docNumber === 'R3/KH')).toHaveLength(3);
    expect(await db.reminderSent.count({ where: { taskId } })).toBe(0);
    expect(await rows(`reminder:${taskId}:`)).toHaveLength(0);
  });

  it('stops reminding when the campaign is closed, and asks every unit for its closing report', async () => {
    const { id, taskId } = await campaign('R4/KH', {
      tasks: [{ key: 'TK', title: 'Tổng kết', dueOn: '2026-07-22' }],
    });
    expect(
      (await sweepReminders(deps(), { now: local('2026-07-22T08:00') })).sample.filter(
        (m) => m.docNumber === 'R4/KH',
      ),
    ).toHaveLength(3);
    const closed = await closeCampaign(deps(), id, local('2026-07-22T10:00'));
    expect(closed.closingReport).toMatchObject({
      dueOn: '2026-07-29',
      asked: 3,
      messages: 3,
      deferred: false,
    });
    expect((await closeCampaign(deps(), id, local('2026-07-22T11:00'))).closingReport.messages).toBe(0);
    const asks = await rows('round-ask:');
    expect(asks.filter((row) => messageFromPayload(row.payload).text.includes('R4/KH'))).toHaveLength(3);
    expect(
      (await sweepReminders(deps(), { now: local('2026-07-23T08:00') })).sample.filter(
        (m) => m.docNumber === 'R4/KH',
      ),
    ).toEqual([]);
    // A closing report is taken although the campaign is closed, and shows in the summary.
    await report('C-FOCAL', taskId, 'done', local('2026-07-23T09:00'));
    const summary = await closingSummary(db, id);
    expect(summary).toMatchObject({ dueOn: '2026-07-29', total: 3, answered: 1 });
    expect(summary?.reports).toEqual([
      expect.objectContaining({ unitCode: 'C', taskKey: 'TK', status: 'done' }),
    ]);
    // The closing round reminds on its due day (29/7, a Wednesday) and its digest goes out the next morning.
    const remind = await sweepCollection(deps(), { now: local('2026-07-29T08:00') });
    expect(
      remind.sample
        .filter((m) => m.docNumber === 'R4/KH')
        .map((m) => m.unitCode)
        .sort(),
    ).toEqual(['A', 'B']);
    const digest = await sweepDigests(deps(), { now: local('2026-07-30T08:00') });
    const mine = digest.sample.filter((m) => m.docNumber === 'R4/KH');
    expect(mine.map((m) => m.to).sort()).toEqual(['P-ADMIN', 'P-LEAD']);
    expect(mine[0]?.text).toContain('Đã báo cáo: 1/3');
    expect(mine[0]?.text).toContain('UBND xã Bình Lư');
    expect(
      (await sweepDigests(deps(), { now: local('2026-07-30T09:00') })).sample.filter(
        (m) => m.docNumber === 'R4/KH',
      ),
    ).toEqual([]);
  });
});

describe('a task received already overdue', () => {
  const mine = async (docNumber: string, at: string) =>
    (await sweepReminders(deps(), { now: local(at) })).sample
      .filter((m) => m.docNumber === docNumber)
      .map((m) => ({ ...m, key: `${m.kind}:${m.taskKey}:${m.unitCode}:${m.to}` }));
  const keysAt = async (docNumber: string, at: string) =>
    (await mine(docNumber, at)).map((m) => m.key).sort();

  it('launched after the due day: overdue from the next working day, one escalation 2 working days after the launch, none for a unit that reported done', async () => {
    // Due Wednesday 15/7/2026, launched Monday 20/7 at 09:00.
    const { taskId } = await campaign('R5/KH', {}, local('2026-07-20T09:00'));
    expect(await keysAt('R5/KH', '2026-07-20T10:00')).toEqual([]);
    const overdue = await mine('R5/KH', '2026-07-21T07:30');
    expect(overdue.map((m) => m.key).sort()).toEqual([
      'overdue:QT:A:A-FOCAL',
      'overdue:QT:B:B-FOCAL',
      'overdue:QT:C:C-FOCAL',
    ]);
    expect(overdue[0]?.text).toContain('quá hạn 4 ngày làm việc'); // 16, 17, 20, 21 July
    await report('C-FOCAL', taskId, 'done', local('2026-07-21T15:00'));
    expect(await keysAt('R5/KH', '2026-07-22T08:00')).toEqual([
      'overdue:QT:A:A-FOCAL',
      'overdue:QT:B:B-FOCAL',
    ]);
    // After 2 whole working days (Tuesday, Wednesday), on Thursday's morning: once, to P's leader.
    expect(await keysAt('R5/KH', '2026-07-23T07:29')).toEqual([]);
    const escalated = (await mine('R5/KH', '2026-07-23T07:30')).filter((m) => m.kind === 'escalation');
    expect(escalated.map((m) => m.key).sort()).toEqual(['escalation:QT:A:P-LEAD', 'escalation:QT:B:P-LEAD']);
    expect(escalated[0]?.text).toContain('hạn 15/07/2026, đã quá hạn 5 ngày làm việc');
    for (const at of ['2026-07-23T10:00', '2026-07-24T08:00', '2026-07-27T08:00', '2026-08-05T08:00'])
      expect((await keysAt('R5/KH', at)).filter((key) => key.startsWith('escalation'))).toEqual([]);
    expect(await db.reminderSent.count({ where: { taskId, kind: 'escalation' } })).toBe(2);
  });

  it('a unit and a task added to a running campaign are chased from the day they were added', async () => {
    const { id, taskId } = await campaign('R6/KH', { unitCodes: ['A'] }, local('2026-07-01T09:00'));
    // A received QT at the launch: escalated on the usual day, 20/7.
    expect(await keysAt('R6/KH', '2026-07-20T07:30')).toEqual([
      'escalation:QT:A:P-LEAD',
      'overdue:QT:A:A-FOCAL',
    ]);
    // That morning C joins, and a task already past due is added for everyone.
    await updateCampaign(
      db,
      id,
      {
        unitCodes: ['A', 'C'],
        tasks: [
          { key: 'QT', title: 'Quán triệt, triển khai kế hoạch', dueOn: '2026-07-15' },
          { key: 'BS', title: 'Báo cáo bổ sung', dueOn: '2026-07-10' },
        ],
      },
      SYSTEM_CALLER,
      local('2026-07-20T09:00'),
    );
    expect(await keysAt('R6/KH', '2026-07-20T10:00')).toEqual([]);
    expect(await keysAt('R6/KH', '2026-07-21T07:30')).toEqual([
      'overdue:BS:A:A-FOCAL',
      'overdue:BS:C:C-FOCAL',
      'overdue:QT:A:A-FOCAL',
      'overdue:QT:C:C-FOCAL',
    ]);
    const escalations = async (at: string) =>
      (await keysAt('R6/KH', at)).filter((key) => key.startsWith('escalation'));
    expect(await escalations('2026-07-22T08:00')).toEqual([]);
    expect(await escalations('2026-07-23T07:30')).toEqual([
      'escalation:BS:A:P-LEAD',
      'escalation:BS:C:P-LEAD',
      'escalation:QT:C:P-LEAD',
    ]);
    expect(await escalations('2026-07-24T08:00')).toEqual([]);
    expect(await db.reminderSent.count({ where: { taskId, kind: 'escalation' } })).toBe(2);
  });
});

describe('periodic collection', () => {
  it('opens one round per period, asks, reminds non-answerers, files reports under the period, sends the digest', async () => {
    const { id, taskId } = await campaign('C1/KH', {
      tasks: [{ key: 'TT', title: 'Tuyên truyền', dueOn: '2026-12-31' }],
      reportSchedule: { cadence: 'monthly' },
    });
    // The July period (15/6–14/7) closes on the 14th; its round opens on the 15th (a Wednesday) at 07:30.
    expect(
      (await sweepCollection(deps(), { now: local('2026-07-15T06:00') })).sample.filter(
        (m) => m.docNumber === 'C1/KH',
      ),
    ).toEqual([]);
    const [a, b] = await Promise.all([
      sweepCollection(deps(), { now: local('2026-07-15T08:00') }),
      sweepCollection(deps(), { now: local('2026-07-15T08:00') }),
    ]);
    const asked = [...a.sample, ...b.sample].filter((m) => m.docNumber === 'C1/KH');
    expect(asked.map((m) => m.unitCode).sort()).toEqual(['A', 'B', 'C']);
    expect(asked[0]?.text).toContain('tháng 7/2026');
    expect(asked[0]?.text).toContain('15/06/2026 đến 14/07/2026');
    expect(await db.collectionRound.count({ where: { campaignId: id } })).toBe(1);
    await report('B-FOCAL', taskId, 'in_progress', local('2026-07-16T10:00'));
    const round = await db.collectionRound.findFirstOrThrow({ where: { campaignId: id } });
    expect(await db.statusReport.count({ where: { roundId: round.id } })).toBe(1);
    // Due 19/7 is a Sunday: the reminder goes on Friday 17/7, to A and C only.
    expect(
      (await sweepCollection(deps(), { now: local('2026-07-16T08:00') })).sample.filter(
        (m) => m.docNumber === 'C1/KH',
      ),
    ).toEqual([]);
    const reminded = (await sweepCollection(deps(), { now: local('2026-07-17T08:00') })).sample.filter(
      (m) => m.docNumber === 'C1/KH',
    );
    expect(reminded.map((m) => m.unitCode).sort()).toEqual(['A', 'C']);
    const digest = (await sweepDigests(deps(), { now: local('2026-07-20T07:30') })).sample.filter(
      (m) => m.docNumber === 'C1/KH',
    );
    expect(digest).toHaveLength(2);
    expect(digest[0]?.text).toContain('Đã báo cáo: 1/3');
    expect(digest[0]?.text).toContain('⏳ 1');
  });

  it('a dry run lists the questions and reminders a real run then sends, and writes nothing', async () => {
    const { id } = await campaign('C2/KH', {
      tasks: [
        { key: 'T1', title: 'Tuyên truyền', dueOn: '2026-12-31' },
        { key: 'T2', title: 'Khen thưởng', dueOn: '2026-12-31' },
      ],
      reportSchedule: { cadence: 'monthly' },
    });
    const [t1, t2] = await db.task.findMany({ where: { campaignId: id }, orderBy: { position: 'asc' } });
    if (!t1 || !t2) throw new Error('no tasks');
    // Before the round: A has done both tasks (it is not asked), B the first (asked about the second only).
    await report('A-FOCAL', t1.id, 'done', local('2026-07-10T09:00'));
    await report('A-FOCAL', t2.id, 'done', local('2026-07-10T09:05'));
    await report('B-FOCAL', t1.id, 'done', local('2026-07-10T09:10'));
    const mine = (result: SweepResult) =>
      result.sample
        .filter((m) => m.docNumber === 'C2/KH')
        .map(({ kind, unitCode, taskKey, to, text }) => ({ kind, unitCode, taskKey, to, text }))
        .sort((a, b) => `${a.unitCode}${a.taskKey}`.localeCompare(`${b.unitCode}${b.taskKey}`));
    const outboxRows = () => db.outboxMessage.count();

    const opening = local('2026-07-15T08:00');
    const rowsBefore = await outboxRows();
    const preview = await sweepCollection(deps(), { now: opening, dryRun: true });
    // One message per unit, for all the tasks it is asked about.
    expect(mine(preview).map((m) => `${m.kind}:${m.unitCode}:${m.taskKey}:${m.to}`)).toEqual([
      'round-ask:B:T2:B-FOCAL',
      'round-ask:C:T1,T2:C-FOCAL',
    ]);
    expect(await db.collectionRound.count({ where: { campaignId: id } })).toBe(0);
    expect(await outboxRows()).toBe(rowsBefore);
    const opened = await sweepCollection(deps(), { now: opening });
    expect(mine(opened)).toEqual(mine(preview));
    expect(await db.collectionRound.count({ where: { campaignId: id } })).toBe(1);

    // C answers in the round; on the reminder day (Friday 17/7, the due day 19/7 being a Sunday) only B is left.
    await report('C-FOCAL', t1.id, 'in_progress', local('2026-07-16T10:00'));
    const reminding = local('2026-07-17T08:00');
    const rowsBeforeReminder = await outboxRows();
    const remindPreview = await sweepCollection(deps(), { now: reminding, dryRun: true });
    expect(mine(remindPreview).map((m) => `${m.kind}:${m.unitCode}:${m.taskKey}`)).toEqual([
      'round-remind:B:T2',
    ]);
    expect(await outboxRows()).toBe(rowsBeforeReminder);
    expect(mine(await sweepCollection(deps(), { now: reminding }))).toEqual(mine(remindPreview));

    // A, having done every task before the round, counts as answered; B is the one missing.
    const digest = mine(await sweepDigests(deps(), { now: local('2026-07-20T07:30') }));
    expect(digest.map((m) => m.to).sort()).toEqual(['P-ADMIN', 'P-LEAD']);
    expect(digest[0]?.text).toContain('Đã báo cáo: 2/3');
    expect(digest[0]?.text).toContain('UBND xã Bản Giang');
    expect(digest[0]?.text).not.toContain('UBND xã Bình Lư');
  });
});

describe('a round asks each unit in one message', () => {
  const tasksOf = async (id: string) =>
    db.task.findMany({ where: { campaignId: id }, orderBy: { position: 'asc' } });
  const sentFor = (result: SweepResult, docNumber: string) =>
    result.sample.filter((m) => m.docNumber === docNumber);

  it('asks about all of a unit’s open tasks in one message, numbered as in its own list; a rerun sends nothing', async () => {
    const { id } = await campaign('C3/KH', {
      tasks: [
        { key: 'T1', title: 'Tuyên truyền', dueOn: '2026-12-31' },
        { key: 'T2', title: 'Khen thưởng', dueOn: '2026-12-31' },
        { key: 'T3', title: 'Sơ kết', dueOn: '2026-12-31' },
      ],
      reportSchedule: { cadence: 'monthly' },
    });
    const [t1, t2, t3] = await tasksOf(id);
    if (!t1 || !t2 || !t3) throw new Error('no tasks');
    await report('B-FOCAL', t1.id, 'done', local('2026-07-10T09:00'));
    const opening = local('2026-07-15T08:00');
    const asked = sentFor(await sweepCollection(deps(), { now: opening }), 'C3/KH');
    expect(asked.map((m) => `${m.unitCode}:${m.taskKey}:${m.to}`).sort()).toEqual([
      'A:T1,T2,T3:A-FOCAL',
      'B:T2,T3:B-FOCAL',
      'C:T1,T2,T3:C-FOCAL',
    ]);
    const round = await db.collectionRound.findFirstOrThrow({ where: { campaignId: id } });
    const keys = (await rows(`round-ask:${round.id}:`)).map((row) => row.dedupeKey);
    expect(keys.sort()).toEqual(
      await Promise.all(
        [
          ['A', 'A-FOCAL'],
          ['B', 'B-FOCAL'],
          ['C', 'C-FOCAL'],
        ].map(
          async ([unit, official]) =>
            `round-ask:${round.id}:${await unitId(unit ?? '')}:${(await db.official.findUniqueOrThrow({ where: { code: official ?? '' } })).id}`,
        ),
      ).then((all) => all.sort()),
    );
    // Numbered as the unit's own list numbers them (what "NV2" means in its replies): other campaigns first.
    const listed = await tasksForUnit(db, await unitId('A'));
    const number = (taskId: string) => listed.findIndex((task) => task.taskId === taskId) + 1;
    expect(number(t1.id)).toBeGreaterThan(1);
    const toA = asked.find((m) => m.unitCode === 'A');
    expect(toA?.text).toContain(`NV${number(t1.id)}. <b>Tuyên truyền</b> — hiện tại: Chưa báo cáo`);
    expect(toA?.text).toContain(`NV${number(t3.id)}. <b>Sơ kết</b>`);
    expect(toA?.buttons).toEqual(
      [t1, t2, t3].flatMap((task) => ['✅', '⏳', '⚠️', '❌'].map((mark) => `${mark} NV${number(task.id)}`)),
    );
    const [askRow] = (await rows(`round-ask:${round.id}:${await unitId('A')}:`)).map((row) =>
      messageFromPayload(row.payload),
    );
    expect(askRow?.choices?.map((row) => row.length)).toEqual([4, 4, 4]);
    expect(askRow?.choices?.flat().every((choice) => Buffer.byteLength(choice.data) <= 64)).toBe(true);
    expect(sentFor(await sweepCollection(deps(), { now: local('2026-07-15T08:35') }), 'C3/KH')).toEqual([]);

    // C answers one task; on the reminder day A and B get one reminder each, C none (it answered).
    await report('C-FOCAL', t2.id, 'in_progress', local('2026-07-16T10:00'));
    const reminded = sentFor(await sweepCollection(deps(), { now: local('2026-07-17T08:00') }), 'C3/KH');
    expect(reminded.map((m) => `${m.kind}:${m.unitCode}:${m.taskKey}`).sort()).toEqual([
      'round-remind:A:T1,T2,T3',
      'round-remind:B:T2,T3',
    ]);
    expect(reminded.find((m) => m.unitCode === 'B')?.text).toContain('chưa báo cáo 2 nhiệm vụ');
    expect(await rows(`round-remind:${round.id}:`)).toHaveLength(2);
    // The sweep runs every half hour that day: the keys make it send nothing more.
    expect((await sweepCollection(deps(), { now: local('2026-07-17T09:05') })).messages).toBe(0);
    expect(await rows(`round-remind:${round.id}:`)).toHaveLength(2);
  });

  it('does not remind again a unit reminded one message per task before rounds asked in one message', async () => {
    const { id } = await campaign('C4/KH', {
      tasks: [
        { key: 'T1', title: 'Tuyên truyền', dueOn: '2026-12-31' },
        { key: 'T2', title: 'Khen thưởng', dueOn: '2026-12-31' },
      ],
      reportSchedule: { cadence: 'monthly' },
    });
    await sweepCollection(deps(), { now: local('2026-07-15T08:00') });
    const round = await db.collectionRound.findFirstOrThrow({ where: { campaignId: id } });
    // As the migration leaves a round asked before the change, and A reminded one message per task then.
    await db.collectionRound.update({ where: { id: round.id }, data: { keyedPerTask: true } });
    const official = await db.official.findUniqueOrThrow({
      where: { code: 'A-FOCAL' },
      include: { accounts: true },
    });
    const account = official.accounts[0];
    if (!account) throw new Error('A-FOCAL has no chat');
    await writeOutbox(
      db,
      (await tasksOf(id)).map((task) => ({
        dedupeKey: `round-remind:${round.id}:${task.id}:${official.unitId}:${official.id}`,
        channel: account.channel,
        chatId: account.chatId,
        channelAccountId: account.id,
        officialId: official.id,
        message: { text: `Nhắc báo cáo: ${task.title}` },
      })),
    );
    const reminded = sentFor(await sweepCollection(deps(), { now: local('2026-07-17T08:00') }), 'C4/KH');
    expect(reminded.map((m) => m.unitCode).sort()).toEqual(['B', 'C']);
    expect(await rows(`round-remind:${round.id}:${official.unitId}:`)).toHaveLength(0);
  });
});

describe('the scheduler', () => {
  it('enqueues each slot once when two schedulers tick at the same time', async () => {
    const redis = new Redis(`${REDIS_SERVER_URL}/0`, { maxRetriesPerRequest: null });
    const prefix = `t${randomBytes(6).toString('hex')}`;
    const logger = createLogger('silent');
    const jobs = createJobs(ZONE);
    const queues = [createJobsQueue(redis, prefix), createJobsQueue(redis, prefix)];
    const schedulers = queues.map((queue) => new JobScheduler({ jobs, queue, logger }));
    try {
      const tick = new Date('2026-07-15T00:30:00.250Z');
      const reminders = jobs.find((job) => job.name === 'reminders');
      if (!reminders) throw new Error('no reminders job');
      const ids = await Promise.all(
        schedulers.flatMap((s) => [s.tick(reminders, tick), s.tick(reminders, tick)]),
      );
      expect(new Set(ids)).toEqual(new Set(['reminders-202607150730']));
      await schedulers[1]?.tick(reminders, new Date('2026-07-15T00:45:00Z'));
      const waiting = await queues[0]?.getJobs(['waiting', 'delayed', 'active', 'completed']);
      expect(waiting?.map((job) => job.id).sort()).toEqual([
        'reminders-202607150730',
        'reminders-202607150745',
      ]);
      expect(waiting?.find((job) => job.id === 'reminders-202607150730')?.data).toEqual({
        name: 'reminders',
        at: '2026-07-15T00:30:00.000Z',
        slot: '202607150730',
      });
    } finally {
      await queues[0]?.obliterate({ force: true });
      await Promise.all(queues.map((queue) => queue.close()));
      await redis.quit();
    }
  });
});
