import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.ts';
import { dateFromIso } from '../../src/domain/time.ts';
import ExcelJS from 'exceljs';
import { summaryWorkbook } from '../../src/conversation/attachments.ts';
import { createCampaign, launchCampaign } from '../../src/services/campaigns.ts';
import { campaignSummary } from '../../src/services/summaries.ts';
import { issueLinkCode, redeemLinkCode } from '../../src/services/officials.ts';
import { messageFromPayload } from '../../src/services/outbox.ts';
import { recordCampaignAct, recordStatus, undoReport } from '../../src/services/reports.ts';
import { digestOf, loadRound, remindRound } from '../../src/services/collection-rounds.ts';
import { sweepReminders } from '../../src/services/reminders.ts';
import { upsertUnit } from '../../src/services/units.ts';
import {
  adminApp,
  linkedOfficial,
  local,
  render,
  reportAs,
  ZONE,
  type AdminApp,
} from '../support/admin-app.ts';
import { withTestDb } from '../support/db.ts';
import { waitFor } from '../support/wait.ts';
import { redeemDeps, TEST_LINK_CODE_KEYS } from '../support/link-codes.ts';

/**
 * Merges, dissolutions and renames under running campaigns (issue 17), on the real database: through the
 * admin API (fastify inject, the break-glass token) and the reminder sweep, at instants the tests choose.
 */
let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let admin: AdminApp;
const api: AdminApp['api'] = (...args) => admin.api(...args);

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  admin = await adminApp(db, local('2026-07-01T09:00'));
});

afterAll(async () => {
  await admin?.app.close();
  await testDb?.close();
});

const official = (code: string, unitCode: string, role: 'focal' | 'leader' | 'admin' | 'member') =>
  linkedOfficial(db, code, unitCode, role);
const report = (
  code: string,
  taskId: string,
  status: 'done' | 'in_progress' | 'blocked',
  percent: number | null,
  at: Date,
) => reportAs(db, code, taskId, status, percent, at);

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

    // An exemplar reported from Bản Giang, and a link code Bình Lư's leader has not used yet.
    const bgFocal = await db.official.findUniqueOrThrow({ where: { code: 'BG-FOCAL' } });
    await db.exemplar.create({
      data: {
        campaignId,
        unitId: bg.id,
        officialId: bgFocal.id,
        subject: 'Tổ dân phố 3',
        achievement: 'Dọn vệ sinh đường làng',
        channel: 'telegram',
      },
    });
    const pending = await issueLinkCode(db, 'BL-LEAD', {
      clock: { now: () => local('2026-07-12T08:00') },
      random: { bytes: (n: number) => randomBytes(n) },
      linkCodeKeys: TEST_LINK_CODE_KEYS,
    });
    admin.clock.now = local('2026-07-13T10:00');
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

    // The exemplar is filed under the successor; the pending link code still links its official, there.
    expect((await db.exemplar.findFirstOrThrow({ where: { subject: 'Tổ dân phố 3' } })).unitId).toBe(
      successor.id,
    );
    const linked = await redeemLinkCode(
      db,
      {
        channel: 'telegram',
        chatId: '9876',
        code: pending.code,
        now: local('2026-07-13T11:00'),
      },
      redeemDeps,
    );
    expect(linked).toMatchObject({ kind: 'linked' });
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

  it('shows the successor with what it was formed from: the summary, the chat, the workbook and its changes', async () => {
    admin.clock.now = local('2026-07-16T09:00');
    const view = await api<{ lateUnits: { code: string; name: string; formerly?: { code: string }[] }[] }>(
      'GET',
      `/api/campaigns/${campaignId}/summary`,
    );
    expect(view.body.lateUnits).toEqual([
      {
        code: 'XA-BINHLU',
        name: 'UBND xã Bình Lư (mới)',
        formerly: [
          { code: 'XA-BL', name: 'UBND xã Bình Lư' },
          { code: 'XA-BG', name: 'UBND xã Bản Giang' },
        ],
      },
      { code: 'XA-SB', name: 'UBND xã Sơn Bình' },
    ]);
    const summary = await campaignSummary(db, campaignId, { now: admin.clock.now, timeZone: ZONE });
    const text = render.summary('vi', summary, admin.clock.now).text;
    expect(text).toContain('UBND xã Bình Lư (mới) (trước đây: UBND xã Bình Lư, UBND xã Bản Giang)');
    const file = await summaryWorkbook(
      { db, render, timeZone: ZONE },
      { campaignId, locale: 'vi', at: admin.clock.now.toISOString() },
    );
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(file.bytes as unknown as ArrayBuffer);
    const lateNames = new Map<string, string>();
    workbook
      .getWorksheet('Chậm tiến độ')
      ?.eachRow((row) => lateNames.set(row.getCell(1).text, row.getCell(2).text));
    expect(lateNames.get('XA-BINHLU')).toBe(
      'UBND xã Bình Lư (mới) (trước đây: UBND xã Bình Lư, UBND xã Bản Giang)',
    );
    const changes = workbook.getWorksheet('Thay đổi tổ chức');
    const rows: string[] = [];
    changes?.eachRow((row, number) => {
      if (number > 1) rows.push([2, 3, 4, 6, 7].map((column) => row.getCell(column).text).join(' | '));
    });
    expect(rows).toEqual([
      '13/07/2026 10:00 | Sáp nhập | XA-BL | XA-BL | XA-BINHLU',
      '13/07/2026 10:00 | Sáp nhập | XA-BG | XA-BG | XA-BINHLU',
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

describe('a merge of units in different campaigns', () => {
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    await upsertUnit(db, 'HUYEN2', { name: 'UBND huyện Phong Thổ', parentCode: 'TINH' });
    await upsertUnit(db, 'XA-MA', { name: 'UBND xã Mường So', parentCode: 'HUYEN2', blockCodes: ['CUM2'] });
    await upsertUnit(db, 'XA-KL', { name: 'UBND xã Khổng Lào', parentCode: 'HUYEN2', blockCodes: ['CUM3'] });
    await official('MA-FOCAL', 'XA-MA', 'focal');
    await official('KL-FOCAL', 'XA-KL', 'focal');
    for (const [docNumber, issuer, unit, keys] of [
      ['18/KH-HUYEN', 'HUYEN2', 'XA-MA', ['X']],
      ['19/KH-TINH', 'TINH', 'XA-KL', ['Y', 'Z']],
    ] as const) {
      const created = await createCampaign(db, {
        docNumber,
        title: `Kế hoạch ${docNumber}`,
        issuerUnitCode: issuer,
        startsOn: '2026-06-15',
        endsOn: '2026-12-31',
        unitCodes: [unit],
        tasks: keys.map((key) => ({ key, title: `Nhiệm vụ ${key}`, dueOn: '2026-11-30' })),
      });
      await launchCampaign(db, created.id, render, local('2026-07-01T09:00'));
      ids[docNumber] = created.id;
      for (const key of keys)
        ids[key] = (await db.task.findFirstOrThrow({ where: { campaignId: created.id, key } })).id;
    }
    const ma = await db.official.findUniqueOrThrow({ where: { code: 'MA-FOCAL' } });
    const kl = await db.official.findUniqueOrThrow({ where: { code: 'KL-FOCAL' } });
    await recordCampaignAct(db, 'acknowledge', {
      campaignId: ids['18/KH-HUYEN'] ?? '',
      unitId: ma.unitId,
      officialId: ma.id,
      channel: 'telegram',
      now: local('2026-07-02T08:00'),
    });
    await recordCampaignAct(db, 'register', {
      campaignId: ids['19/KH-TINH'] ?? '',
      unitId: kl.unitId,
      officialId: kl.id,
      channel: 'telegram',
      now: local('2026-07-02T08:00'),
    });
    await report('MA-FOCAL', ids.X ?? '', 'done', null, local('2026-07-05T10:00'));
    await report('KL-FOCAL', ids.Y ?? '', 'in_progress', 40, local('2026-07-06T10:00'));
  });

  it('takes part in both campaigns with what each unit had done in each', async () => {
    admin.clock.now = local('2026-07-20T10:00');
    const merged = await api('POST', '/api/units/merge', {
      from: ['XA-MA', 'XA-KL'],
      into: { code: 'XA-MUONGSO', name: 'UBND xã Mường So (mới)' },
    });
    expect(merged.status).toBe(200);
    expect(merged.body).toMatchObject({ parentCode: 'HUYEN2', blockCodes: ['CUM2', 'CUM3'] });
    const first = (
      await api<{ units: object; tasks: object[] }>('GET', `/api/campaigns/${ids['18/KH-HUYEN']}/summary`)
    ).body;
    expect(first.units).toMatchObject({ total: 1, acknowledged: 1, registered: 0, reported: 1 });
    expect(first.tasks).toMatchObject([{ key: 'X', done: 1 }]);
    const second = (
      await api<{ units: object; tasks: object[] }>('GET', `/api/campaigns/${ids['19/KH-TINH']}/summary`)
    ).body;
    expect(second.units).toMatchObject({ total: 1, acknowledged: 0, registered: 1, reported: 1 });
    expect(second.tasks).toMatchObject([
      { key: 'Y', inProgress: 1 },
      { key: 'Z', noReport: 1 },
    ]);
    // Each campaign's participation passed with the unit that had it, as the history records.
    const events = await db.unitEvent.findMany({
      where: { kind: 'merged', toValue: 'XA-MUONGSO' },
      orderBy: { seq: 'asc' },
    });
    expect(events.map((event) => [event.fromValue, event.campaignIds])).toEqual([
      ['XA-MA', [ids['18/KH-HUYEN']]],
      ['XA-KL', [ids['19/KH-TINH']]],
    ]);
    // The notice lists the open tasks of both campaigns (X is done).
    const notice = await db.outboxMessage.findFirstOrThrow({
      where: { dedupeKey: { startsWith: 'unit-merged:' }, official: { code: 'KL-FOCAL' } },
    });
    const text = messageFromPayload(notice.payload).text;
    expect(text).toContain('Nhiệm vụ Y');
    expect(text).toContain('Nhiệm vụ Z');
    expect(text).not.toContain('Nhiệm vụ X');
  });
});

describe('a district dissolved with two levels below it', () => {
  let campaignId = '';

  beforeAll(async () => {
    await upsertUnit(db, 'HUYEN3', { name: 'UBND huyện Tân Uyên', parentCode: 'TINH' });
    for (const code of ['XA-Q1', 'XA-Q2']) {
      await upsertUnit(db, code, { name: `UBND ${code}`, parentCode: 'HUYEN3' });
      await upsertUnit(db, `${code}-THON`, { name: `Thôn của ${code}`, parentCode: code });
      await official(`${code}-FOCAL`, code, 'focal');
    }
    await official('HUYEN3-LEAD', 'HUYEN3', 'leader');
    await official('TINH-LEAD', 'TINH', 'leader');
    const created = await createCampaign(db, {
      docNumber: '20/KH-TU',
      title: 'Kế hoạch của huyện Tân Uyên',
      issuerUnitCode: 'HUYEN3',
      startsOn: '2026-06-15',
      endsOn: '2026-12-31',
      unitCodes: ['XA-Q1', 'XA-Q2'],
      tasks: [{ key: 'BC', title: 'Báo cáo sơ kết', dueOn: '2026-08-14' }],
    });
    campaignId = created.id;
    await launchCampaign(db, campaignId, render, local('2026-07-01T09:00'));
  });

  it('moves its communes and villages up a level, its officials and campaigns to the province', async () => {
    admin.clock.now = local('2026-07-21T10:00');
    const dissolved = await api('POST', '/api/units/HUYEN3/dissolve', {});
    expect(dissolved.status).toBe(200);
    expect(dissolved.body).toMatchObject({
      code: 'TINH',
      mergedFrom: [{ code: 'HUYEN3' }],
      officialsMoved: 1,
    });
    const tinh = await unitOf('TINH');
    for (const code of ['XA-Q1', 'XA-Q2']) {
      const commune = await unitOf(code);
      expect(commune.parentId).toBe(tinh.id);
      expect(commune.path).toBe(`${tinh.path}${commune.id}/`);
      const village = await unitOf(`${code}-THON`);
      expect(village.path).toBe(`${commune.path}${village.id}/`);
    }
    expect((await unitOf('HUYEN3')).successorId).toBe(tinh.id);
    expect((await db.official.findUniqueOrThrow({ where: { code: 'HUYEN3-LEAD' } })).unitId).toBe(tinh.id);
    expect((await db.campaign.findUniqueOrThrow({ where: { id: campaignId } })).issuerUnitId).toBe(tinh.id);
    // The campaign keeps working under the province: its summary, and the escalation to its leaders.
    const view = await api<{ units: { total: number } }>('GET', `/api/campaigns/${campaignId}/summary`);
    expect(view.body.units.total).toBe(2);
    const escalations = await sweepReminders(
      { db, render, timeZone: ZONE },
      { now: local('2026-08-19T07:30') },
    );
    expect(
      escalations.sample
        .filter((m) => m.kind === 'escalation' && m.docNumber === '20/KH-TU')
        .map((m) => `${m.to}:${m.unitCode}`)
        .sort(),
    ).toEqual(['HUYEN3-LEAD:XA-Q1', 'HUYEN3-LEAD:XA-Q2', 'TINH-LEAD:XA-Q1', 'TINH-LEAD:XA-Q2']);
    const history = await api<{ kind: string; from?: string; to?: string }[]>(
      'GET',
      '/api/units/HUYEN3/history',
    );
    expect(history.body.at(-1)).toMatchObject({ kind: 'dissolved', from: 'HUYEN3', to: 'TINH' });
    const commune = await api<{ kind: string; from?: string; to?: string }[]>(
      'GET',
      '/api/units/XA-Q1/history',
    );
    expect(commune.body.at(-1)).toMatchObject({ kind: 'moved', from: 'HUYEN3', to: 'TINH' });
    // It left the tree: a change to it is refused, naming where it went.
    const put = await api('PUT', '/api/units/HUYEN3', { name: 'UBND huyện Tân Uyên' });
    expect(put.status).toBe(409);
    expect(put.body).toMatchObject({ error: { code: 'unit_retired', details: { successor: 'TINH' } } });
  });
});

describe('renames and moves', () => {
  it('are the unit history, with their actor, oldest first', async () => {
    await api('PUT', '/api/units/XA-SB', { name: 'UBND xã Sơn Bình', parentCode: 'HUYEN' });
    expect(
      (await api('PUT', '/api/units/XA-SB', { name: 'UBND phường Sơn Bình', parentCode: 'HUYEN' })).status,
    ).toBe(200);
    expect(
      (await api('PUT', '/api/units/XA-SB', { name: 'UBND phường Sơn Bình', parentCode: 'TINH' })).status,
    ).toBe(200);
    const history = await api<{ kind: string; from?: string | null; to?: string | null; actor: object }[]>(
      'GET',
      '/api/units/XA-SB/history',
    );
    expect(history.body.map(({ kind, from, to }) => ({ kind, from, to }))).toEqual([
      { kind: 'created', from: undefined, to: 'UBND xã Sơn Bình' },
      { kind: 'renamed', from: 'UBND xã Sơn Bình', to: 'UBND phường Sơn Bình' },
      { kind: 'moved', from: 'HUYEN', to: 'TINH' },
    ]);
    expect(history.body[0]?.actor).toEqual({ kind: 'system', name: 'service' });
    expect(history.body[1]?.actor).toEqual({ kind: 'token', name: 'ADMIN_API_TOKEN' });
  });
});

describe('an open collection round across a merge', () => {
  it("counts an old unit's answer for its successor and reminds nobody twice", async () => {
    await upsertUnit(db, 'HUYEN5', { name: 'UBND huyện Sìn Hồ', parentCode: 'TINH' });
    for (const code of ['XA-C1', 'XA-C2', 'XA-C3', 'XA-C4'])
      await upsertUnit(db, code, { name: `UBND ${code}`, parentCode: 'HUYEN5' });
    for (const code of ['XA-C1', 'XA-C2', 'XA-C3', 'XA-C4']) await official(`${code}-FOCAL`, code, 'focal');
    const created = await createCampaign(db, {
      docNumber: '22/KH-SH',
      title: 'Kế hoạch của huyện Sìn Hồ',
      issuerUnitCode: 'HUYEN5',
      startsOn: '2026-06-15',
      endsOn: '2026-12-31',
      unitCodes: ['XA-C1', 'XA-C2', 'XA-C3', 'XA-C4'],
      tasks: [{ key: 'BC', title: 'Báo cáo tháng', dueOn: '2026-12-15' }],
    });
    await launchCampaign(db, created.id, render, local('2026-07-01T09:00'));
    const task = await db.task.findFirstOrThrow({ where: { campaignId: created.id } });
    const round = await db.collectionRound.create({
      data: {
        campaignId: created.id,
        periodKey: '2026-07',
        kind: 'periodic',
        startsOn: dateFromIso('2026-06-15'),
        endsOn: dateFromIso('2026-07-14'),
        dueOn: dateFromIso('2026-07-20'),
        openedAt: local('2026-07-15T07:30'),
        askedAt: local('2026-07-15T07:30'),
      },
    });
    // C1 answers in the round; C2, C3, C4 are reminded on the due day.
    await report('XA-C1-FOCAL', task.id, 'in_progress', 30, local('2026-07-16T09:00'));
    const sweepDeps = { db, render, timeZone: ZONE };
    const first = await remindRound(sweepDeps, round.id, false);
    expect(first?.sample.map((m) => m.to).sort()).toEqual(['XA-C2-FOCAL', 'XA-C3-FOCAL', 'XA-C4-FOCAL']);
    // C1 (answered) and C2 (reminded) merge; C3 (reminded) and C4 (reminded) merge.
    admin.clock.now = local('2026-07-20T10:00');
    expect(
      (
        await api('POST', '/api/units/merge', {
          from: ['XA-C1', 'XA-C2'],
          into: { code: 'XA-C12', name: 'Xã C12' },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await api('POST', '/api/units/merge', {
          from: ['XA-C3', 'XA-C4'],
          into: { code: 'XA-C34', name: 'Xã C34' },
        })
      ).status,
    ).toBe(200);
    // The round goes on: C12 has answered (through C1); C34's officials were reminded already.
    const again = await remindRound(sweepDeps, round.id, false);
    expect(again?.messages).toBe(0);
    const digest = await digestOf(
      db,
      (await loadRound(db, round.id)) as NonNullable<Awaited<ReturnType<typeof loadRound>>>,
    );
    expect(digest).toMatchObject({ total: 2, answered: 1, missing: [{ code: 'XA-C34' }] });
  });
});

describe('a merge into an existing unit that is renamed and moved', () => {
  it('renames and moves it (with its subtree) first, and its history says so', async () => {
    await upsertUnit(db, 'XA-M1', { name: 'UBND xã M1', parentCode: 'HUYEN' });
    await upsertUnit(db, 'XA-M2', { name: 'UBND xã M2', parentCode: 'HUYEN2' });
    await upsertUnit(db, 'XA-M2-T', { name: 'Thôn của M2', parentCode: 'XA-M2' });
    admin.clock.now = local('2026-07-24T09:00');
    const merged = await api('POST', '/api/units/merge', {
      from: ['XA-M1'],
      into: { code: 'XA-M2', name: 'UBND xã M2 (mới)', parentCode: 'HUYEN' },
    });
    expect(merged.body).toMatchObject({ code: 'XA-M2', name: 'UBND xã M2 (mới)', parentCode: 'HUYEN' });
    const m2 = await unitOf('XA-M2');
    const village = await unitOf('XA-M2-T');
    expect(m2.path).toBe(`${(await unitOf('HUYEN')).path}${m2.id}/`);
    expect(village.path).toBe(`${m2.path}${village.id}/`);
    const history = await api<{ kind: string; from?: string; to?: string }[]>(
      'GET',
      '/api/units/XA-M2/history',
    );
    expect(history.body.map(({ kind, from, to }) => `${kind}:${from ?? ''}>${to ?? ''}`)).toEqual([
      'created:>UBND xã M2',
      'renamed:UBND xã M2>UBND xã M2 (mới)',
      'moved:HUYEN2>HUYEN',
      'merged:XA-M1>XA-M2',
    ]);
  });
});

describe('a report racing the merge', () => {
  let campaignId = '';
  let taskId = '';

  beforeAll(async () => {
    await upsertUnit(db, 'HUYEN4', { name: 'UBND huyện Than Uyên', parentCode: 'TINH' });
    for (const code of ['XA-R1', 'XA-R2']) {
      await upsertUnit(db, code, { name: `UBND ${code}`, parentCode: 'HUYEN4' });
      await official(`${code}-FOCAL`, code, 'focal');
    }
    const created = await createCampaign(db, {
      docNumber: '21/KH-TU',
      title: 'Kế hoạch của huyện Than Uyên',
      issuerUnitCode: 'HUYEN4',
      startsOn: '2026-06-15',
      endsOn: '2026-12-31',
      unitCodes: ['XA-R1', 'XA-R2'],
      tasks: [{ key: 'QT', title: 'Quán triệt', dueOn: '2026-10-15' }],
    });
    campaignId = created.id;
    await launchCampaign(db, campaignId, render, local('2026-07-01T09:00'));
    taskId = (await db.task.findFirstOrThrow({ where: { campaignId } })).id;
  });

  /** Backends of this test's database waiting for a lock. */
  const waiting = async () =>
    (
      await db.$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`
    )[0]?.n ?? 0;

  it('waits for a report that took its unit first, and counts it', async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let recorded = false;
    const reporting = db.$transaction(
      async (tx) => {
        const row = await tx.official.findUniqueOrThrow({ where: { code: 'XA-R1-FOCAL' } });
        await recordStatus(tx, {
          officialId: row.id,
          unitId: row.unitId,
          taskId,
          status: 'done',
          percent: null,
          note: null,
          sourceText: null,
          channel: 'telegram',
          now: local('2026-07-22T09:00'),
        });
        recorded = true;
        await gate;
      },
      { timeout: 30_000 },
    );
    await waitFor('the report to hold its unit', () => (recorded ? true : undefined));
    admin.clock.now = local('2026-07-22T09:01');
    const merging = api('POST', '/api/units/merge', { from: ['XA-R1'], into: { code: 'XA-R2' } });
    await waitFor('the merge to wait for the report', async () => ((await waiting()) > 0 ? true : undefined));
    release();
    await reporting;
    expect((await merging).status).toBe(200);
    const successor = await unitOf('XA-R2');
    const current = await db.currentStatus.findUniqueOrThrow({
      where: { taskId_unitId: { taskId, unitId: successor.id } },
    });
    expect(current.status).toBe('done');
  });

  it('makes a report that waited for the merge fail, to be retried for the successor', async () => {
    for (const code of ['XA-R3', 'XA-R4']) {
      await upsertUnit(db, code, { name: `UBND ${code}`, parentCode: 'HUYEN4' });
      await official(`${code}-FOCAL`, code, 'focal');
    }
    const patched = await api('PATCH', `/api/campaigns/${campaignId}`, {
      unitCodes: ['XA-R2', 'XA-R3', 'XA-R4'],
    });
    expect(patched.status).toBe(200);
    const focal = await db.official.findUniqueOrThrow({ where: { code: 'XA-R3-FOCAL' } });
    // Another session holds an official of the merged unit: the merge stops there, its locks on the unit's
    // progress already taken.
    const holder = new pg.Client({ connectionString: testDb.database.url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM "Official" WHERE code = 'XA-R3-FOCAL' FOR NO KEY UPDATE`);
    admin.clock.now = local('2026-07-23T09:00');
    const merging = api('POST', '/api/units/merge', { from: ['XA-R3'], into: { code: 'XA-R4' } });
    await waitFor('the merge to hold the unit', async () => ((await waiting()) === 1 ? true : undefined));
    // A chat turn that read the official's unit before the merge commits reports for it and waits.
    const reporting = recordStatus(db, {
      officialId: focal.id,
      unitId: focal.unitId,
      taskId,
      status: 'in_progress',
      percent: 10,
      note: null,
      sourceText: null,
      channel: 'telegram',
      now: local('2026-07-23T09:00'),
    });
    const outcome = reporting.then(
      () => 'recorded',
      (error: unknown) => String(error),
    );
    await waitFor('the report to wait for the merge', async () =>
      (await waiting()) === 2 ? true : undefined,
    );
    await holder.query('COMMIT');
    await holder.end();
    expect((await merging).status).toBe(200);
    expect(await outcome).toMatch(/has left the tree/);
    expect(await db.statusReport.count({ where: { unitId: focal.unitId } })).toBe(0);
    // Retried, the turn finds the official in the successor and records it there.
    const reportId = await report('XA-R3-FOCAL', taskId, 'in_progress', 10, local('2026-07-23T09:01'));
    expect((await db.statusReport.findUniqueOrThrow({ where: { id: reportId } })).unitId).toBe(
      (await unitOf('XA-R4')).id,
    );
  });
});
