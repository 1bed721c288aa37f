import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Renderer } from '../../src/conversation/render.ts';
import type { Db } from '../../src/db/client.ts';
import { buildServer } from '../../src/http/server.ts';
import { createTranslator } from '../../src/i18n.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { createCampaign, launchCampaign } from '../../src/services/campaigns.ts';
import { upsertOfficial } from '../../src/services/officials.ts';
import { messageFromPayload } from '../../src/services/outbox.ts';
import { recordCampaignAct, recordStatus, undoReport } from '../../src/services/reports.ts';
import { sweepReminders } from '../../src/services/reminders.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { withTestDb } from '../support/db.ts';

/**
 * Merges, dissolutions and renames under running campaigns (issue 17), on the real database: through the
 * admin API (fastify inject, the break-glass token) and the reminder sweep, at instants the tests choose.
 */
const ZONE = 'Asia/Ho_Chi_Minh';
const TOKEN = 'reorganise-test-token-0123456789';
const local = (text: string): Date => DateTime.fromISO(text, { zone: ZONE }).toJSDate();
const render = new Renderer(createTranslator(), ZONE);

let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let app: FastifyInstance;
let now = local('2026-07-01T09:00');
let chat = 9100;

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  app = buildServer({
    db,
    token: TOKEN,
    clock: { now: () => now },
    random: { bytes: (n) => randomBytes(n) },
    render,
    timeZone: ZONE,
    channels: [],
    logger: createLogger('silent'),
    metrics: createMetrics(),
    handleEvent: () => Promise.reject(new Error('no chat here')),
    readiness: {},
    boardQueues: [],
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await testDb?.close();
});

async function api<T = Record<string, unknown>>(method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown) {
  const response = await app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${TOKEN}` },
    ...(body === undefined ? {} : { payload: body as object }),
  });
  return { status: response.statusCode, body: response.json<T>() };
}

async function official(code: string, unitCode: string, role: 'focal' | 'leader' | 'admin' | 'member') {
  await upsertOfficial(db, code, { name: `Cán bộ ${code}`, unitCode, role });
  const row = await db.official.findUniqueOrThrow({ where: { code } });
  chat += 1;
  await db.channelAccount.create({ data: { officialId: row.id, channel: 'telegram', chatId: String(chat) } });
  return row;
}

async function report(
  code: string,
  taskId: string,
  status: 'done' | 'in_progress' | 'blocked',
  percent: number | null,
  at: Date,
) {
  const row = await db.official.findUniqueOrThrow({ where: { code } });
  const result = await recordStatus(db, {
    officialId: row.id,
    unitId: row.unitId,
    taskId,
    status,
    percent,
    note: null,
    sourceText: null,
    channel: 'telegram',
    now: at,
  });
  expect(result.kind).toBe('recorded');
  return result.kind === 'recorded' ? result.reportId : '';
}

const unitOf = (code: string) => db.unit.findUniqueOrThrow({ where: { code } });

async function summary(campaignId: string) {
  return (
    await api<{
      units: Record<string, number>;
      tasks: Record<string, number | string>[];
      lateUnits: { code: string; name: string }[];
    }>('GET', `/api/campaigns/${campaignId}/summary`)
  ).body;
}

describe('a merge during a running campaign', () => {
  let campaignId = '';
  let firstTask = '';

  beforeAll(async () => {
    await upsertUnit(db, 'TINH', { name: 'UBND tỉnh Lai Châu' });
    await upsertUnit(db, 'HUYEN', { name: 'UBND huyện Tam Đường', parentCode: 'TINH' });
    for (const [code, name] of [
      ['XA-BL', 'UBND xã Bình Lư'],
      ['XA-BG', 'UBND xã Bản Giang'],
      ['XA-SB', 'UBND xã Sơn Bình'],
    ] as const)
      await upsertUnit(db, code, { name, parentCode: 'HUYEN', blockCodes: ['CUM1'] });
    await upsertUnit(db, 'THON-BL1', { name: 'Thôn Bình Lư 1', parentCode: 'XA-BL' });
    await upsertUnit(db, 'THON-BG1', { name: 'Thôn Bản Giang 1', parentCode: 'XA-BG' });
    await official('BL-FOCAL', 'XA-BL', 'focal');
    await official('BL-LEAD', 'XA-BL', 'leader');
    await official('BG-FOCAL', 'XA-BG', 'focal');
    await official('SB-FOCAL', 'XA-SB', 'focal');
    await official('HUYEN-LEAD', 'HUYEN', 'leader');
    const created = await createCampaign(db, {
      docNumber: '17/KH-SN',
      title: 'Phong trào thi đua chào mừng kỷ niệm',
      issuerUnitCode: 'HUYEN',
      startsOn: '2026-06-15',
      endsOn: '2026-12-31',
      unitCodes: ['XA-BL', 'XA-BG', 'XA-SB'],
      tasks: [
        { key: 'QT', title: 'Quán triệt, triển khai kế hoạch', dueOn: '2026-07-15' },
        { key: 'CT', title: 'Xây dựng công trình chào mừng', dueOn: '2026-09-30' },
      ],
    });
    campaignId = created.id;
    await launchCampaign(db, campaignId, render, local('2026-07-01T09:00'));
    firstTask = (await db.task.findFirstOrThrow({ where: { campaignId, key: 'QT' } })).id;
  });

  it('moves officials, children, participation and statuses to the successor, and reminds each person once', async () => {
    const bg = await unitOf('XA-BG');
    await report('BL-FOCAL', firstTask, 'in_progress', 60, local('2026-07-10T10:00'));
    await report('BG-FOCAL', firstTask, 'blocked', null, local('2026-07-11T10:00'));
    await recordCampaignAct(db, 'acknowledge', {
      campaignId,
      unitId: bg.id,
      officialId: (await db.official.findUniqueOrThrow({ where: { code: 'BG-FOCAL' } })).id,
      channel: 'telegram',
      now: local('2026-07-02T08:00'),
    });
    // 13/7 07:30, three days before the due day: each commune's focal official is reminded.
    const first = await sweepReminders({ db, render, timeZone: ZONE }, { now: local('2026-07-13T07:30') });
    expect(first.sample.map((m) => m.to).sort()).toEqual(['BG-FOCAL', 'BL-FOCAL', 'SB-FOCAL']);

    now = local('2026-07-13T10:00');
    const merged = await api('POST', '/api/units/merge', {
      from: ['XA-BL', 'XA-BG'],
      into: { code: 'XA-BINHLU', name: 'UBND xã Bình Lư (mới)' },
    });
    expect(merged.status).toBe(200);
    expect(merged.body).toMatchObject({
      code: 'XA-BINHLU',
      name: 'UBND xã Bình Lư (mới)',
      parentCode: 'HUYEN',
      blockCodes: ['CUM1'],
      mergedFrom: [
        { code: 'XA-BL', name: 'UBND xã Bình Lư' },
        { code: 'XA-BG', name: 'UBND xã Bản Giang' },
      ],
      effectiveOn: '2026-07-13',
      officialsMoved: 3,
      notified: 3,
    });
    const successor = await unitOf('XA-BINHLU');
    // The old units left the tree; their villages moved under the successor.
    expect((await unitOf('XA-BL')).successorId).toBe(successor.id);
    expect((await unitOf('XA-BL')).retiredAt).not.toBeNull();
    for (const village of ['THON-BL1', 'THON-BG1']) {
      const row = await unitOf(village);
      expect(row.parentId).toBe(successor.id);
      expect(row.path).toBe(`${successor.path}${row.id}/`);
    }
    const officials = await db.official.findMany({
      where: { unitId: successor.id },
      orderBy: { code: 'asc' },
    });
    expect(officials.map((o) => o.code)).toEqual(['BG-FOCAL', 'BL-FOCAL', 'BL-LEAD']);
    const participants = await db.campaignUnit.findMany({ where: { campaignId }, include: { unit: true } });
    expect(participants.map((p) => p.unit.code).sort()).toEqual(['XA-BINHLU', 'XA-SB']);

    // The furthest status reached: in progress 60% (Bình Lư) is further than blocked (Bản Giang).
    const current = await db.currentStatus.findUniqueOrThrow({
      where: { taskId_unitId: { taskId: firstTask, unitId: successor.id } },
    });
    expect(current).toMatchObject({ status: 'in_progress', percent: 60 });
    const view = await summary(campaignId);
    expect(view.units).toMatchObject({ total: 2, acknowledged: 1, reported: 1 });
    expect(view.tasks[0]).toMatchObject({ key: 'QT', inProgress: 1, blocked: 0, noReport: 1 });
    // Reports stay attributed to the units that made them.
    const reports = (
      await api<{ unitCode: string; status: string }[]>('GET', `/api/campaigns/${campaignId}/reports`)
    ).body;
    expect(reports.map((r) => `${r.unitCode}:${r.status}`).sort()).toEqual([
      'XA-BG:blocked',
      'XA-BL:in_progress',
    ]);

    // Told once each: where their unit went and what they follow now.
    const notices = await db.outboxMessage.findMany({
      where: { dedupeKey: { startsWith: 'unit-merged:' } },
      include: { official: { select: { code: true } } },
    });
    expect(notices.map((n) => n.official?.code).sort()).toEqual(['BG-FOCAL', 'BL-FOCAL', 'BL-LEAD']);
    const text = messageFromPayload(notices[0]?.payload).text;
    expect(text).toContain(
      'Đơn vị của anh/chị đã được sáp nhập vào UBND xã Bình Lư (mới); các nhiệm vụ đang theo dõi:',
    );
    expect(text).toContain('Quán triệt, triển khai kế hoạch');

    // The same slot again after the merge: nobody is reminded twice.
    const again = await sweepReminders({ db, render, timeZone: ZONE }, { now: local('2026-07-13T11:00') });
    expect(again.messages).toBe(0);
    // The next slot: the successor's focal officials once each, Sơn Bình once.
    const next = await sweepReminders({ db, render, timeZone: ZONE }, { now: local('2026-07-14T07:30') });
    expect(next.sample.map((m) => `${m.to}:${m.unitCode}`).sort()).toEqual([
      'BG-FOCAL:XA-BINHLU',
      'BL-FOCAL:XA-BINHLU',
      'SB-FOCAL:XA-SB',
    ]);
  });

  it('keeps the old codes readable: history, where they went, and the successor formed from them', async () => {
    const history = await api<{ kind: string; from?: string; to?: string; actor: { name?: string } }[]>(
      'GET',
      '/api/units/XA-BL/history',
    );
    expect(history.status).toBe(200);
    expect(history.body.map((entry) => `${entry.kind}:${entry.from ?? ''}>${entry.to ?? ''}`)).toEqual([
      'created:>UBND xã Bình Lư',
      'merged:XA-BL>XA-BINHLU',
    ]);
    expect(history.body[1]?.actor).toEqual({ kind: 'token', name: 'ADMIN_API_TOKEN' });
    const described = await api('GET', '/api/units/XA-BG');
    expect(described.body).toMatchObject({
      code: 'XA-BG',
      state: 'merged',
      successor: { code: 'XA-BINHLU' },
    });
    const successor = await api<{ kind: string; from?: string; to?: string }[]>(
      'GET',
      '/api/units/XA-BINHLU/history',
    );
    expect(successor.body.map((entry) => `${entry.kind}:${entry.from ?? ''}>${entry.to ?? ''}`)).toEqual([
      'created:>UBND xã Bình Lư (mới)',
      'merged:XA-BL>XA-BINHLU',
      'merged:XA-BG>XA-BINHLU',
    ]);
  });

  it('lets the successor report again, and falls back on what it inherited when that report is undone', async () => {
    const successor = await unitOf('XA-BINHLU');
    const statusNow = async () =>
      db.currentStatus.findUnique({ where: { taskId_unitId: { taskId: firstTask, unitId: successor.id } } });
    const reportId = await report('BG-FOCAL', firstTask, 'done', null, local('2026-07-14T09:00'));
    expect(await statusNow()).toMatchObject({ status: 'done', reportId });
    const by = await db.official.findUniqueOrThrow({ where: { code: 'BG-FOCAL' } });
    const undone = await undoReport(db, {
      reportId,
      by: { id: by.id, unitId: by.unitId, role: by.role },
      now: local('2026-07-14T09:05'),
    });
    expect(undone.kind).toBe('undone');
    expect(await statusNow()).toMatchObject({ status: 'in_progress', percent: 60 });
    expect((await summary(campaignId)).tasks[0]).toMatchObject({ inProgress: 1, done: 0 });
  });
});
