import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { DEFAULT_POLICY } from '../../src/domain/policy.ts';
import { listAudit } from '../../src/services/audit.ts';
import { Renderer } from '../../src/conversation/render.ts';
import { createTranslator } from '../../src/i18n.ts';
import { createCampaign, launchCampaign } from '../../src/services/campaigns.ts';
import { issueLinkCode, redeemLinkCode, upsertOfficial } from '../../src/services/officials.ts';
import { recordStatus } from '../../src/services/reports.ts';
import { WHOLE_ORGANISATION } from '../../src/services/scope.ts';
import { upsertUnit } from '../../src/services/units.ts';
import {
  CONSOLE_TZ,
  consoleServer,
  signedInAs,
  textOf,
  type FormFields,
} from '../support/console-browser.ts';
import { withTestDb } from '../support/db.ts';
import { REDIS_SERVER_URL } from '../support/env.ts';
import { redeemDeps, TEST_LINK_CODE_KEYS } from '../support/link-codes.ts';

/**
 * The console's campaign pages that change things, over HTTP against the real PostgreSQL: the form (create,
 * edit, task rows moved without JavaScript), the plan workbook, the launch after its confirmation, closing.
 * Each valid form makes its change and its audit row; each invalid one shows the message beside its field
 * and saves nothing; a form without its token, a leader, and an admin of another district are refused.
 */
let testDb: Awaited<ReturnType<typeof withTestDb>>;
let redis: Redis;
let app: FastifyInstance;
const now = new Date('2026-12-01T03:00:00Z');
const clock = { now: () => now };
const random = { bytes: (n: number) => randomBytes(n) };

beforeAll(async () => {
  testDb = await withTestDb();
  redis = new Redis(`${REDIS_SERVER_URL}/0`);
  const { db } = testDb;
  for (const [code, name, parentCode, blockCodes] of [
    ['HUYEN-A', 'UBND huyện A', null, []],
    ['XA-A1', 'UBND xã A1', 'HUYEN-A', ['KHOI-XA']],
    ['XA-A2', 'UBND xã A2', 'HUYEN-A', ['KHOI-XA']],
    ['PHONG-A', 'Phòng Nội vụ huyện A', 'HUYEN-A', ['KHOI-PHONG']],
    ['HUYEN-B', 'UBND huyện B', null, []],
    ['XA-B1', 'UBND xã B1', 'HUYEN-B', []],
  ] as const)
    await upsertUnit(db, code, { name, parentCode, blockCodes: [...blockCodes] });
  for (const [code, name, unitCode, role] of [
    ['ADM-A', 'Quản trị A', 'HUYEN-A', 'admin'],
    ['LD-A', 'Lãnh đạo A', 'HUYEN-A', 'leader'],
    ['ADM-B', 'Quản trị B', 'HUYEN-B', 'admin'],
    ['DM-A1', 'Đầu mối xã A1', 'XA-A1', 'focal'],
    ['DM-A2', 'Đầu mối xã A2', 'XA-A2', 'focal'],
    ['LD-A2', 'Chủ tịch xã A2', 'XA-A2', 'leader'],
    ['DM-PA', 'Đầu mối phòng', 'PHONG-A', 'focal'],
  ] as const)
    await upsertOfficial(db, code, { name, unitCode, role });
  let chat = 9100;
  for (const code of ['DM-A1', 'LD-A2']) {
    const issued = await issueLinkCode(db, code, { clock, random, linkCodeKeys: TEST_LINK_CODE_KEYS });
    await redeemLinkCode(
      db,
      { channel: 'telegram', chatId: String((chat += 1)), code: issued.code, now },
      redeemDeps,
    );
  }
  // The chairman of A2 blocked the bot: the launch cannot reach him.
  await db.channelAccount.updateMany({
    where: { official: { code: 'LD-A2' } },
    data: { active: false, inactiveReason: 'Forbidden: bot was blocked by the user', deactivatedAt: now },
  });
  app = await consoleServer(db, redis, clock);
});

afterAll(async () => {
  await app?.close();
  await redis?.quit();
  await testDb?.close();
});

const as = (code: string) => signedInAs(app, testDb.db, clock, code);
const campaigns = () => testDb.db.campaign.count();
const auditOf = (action: string) => listAudit(testDb.db, WHOLE_ORGANISATION, { action });

/** A valid campaign form as an admin of HUYEN-A fills it in. */
function campaignForm(overrides: FormFields = {}): FormFields {
  return {
    docNumber: '12/KH-UBND',
    title: 'Phong trào thi đua "Dân vận khéo" năm 2027',
    theme: 'Thi đua dân vận khéo',
    kind: 'thematic',
    issuerUnitCode: 'HUYEN-A',
    startsOn: '2027-01-01',
    endsOn: '2027-12-31',
    taskKey: ['QT', 'DK', 'NV3'],
    taskTitle: ['Quán triệt kế hoạch', 'Đăng ký mô hình dân vận khéo', ''],
    taskDue: ['2027-02-15', '2027-03-31', ''],
    subtrees: ['HUYEN-A'],
    otherUnits: '',
    cadence: 'quarterly',
    dueDay: '',
    cutoffDay: '',
    daysBefore: '3, 1',
    onDueDay: ['0', '1'],
    overdueEveryWorkingDays: '1',
    escalateAfterWorkingDays: '2',
    sendAt: '08:00',
    quietStart: '21:00',
    quietEnd: '07:00',
    extraDaysOff: '',
    makeUpWorkingDays: '',
    closingReportDays: '7',
    ...overrides,
  };
}

/** The message shown beside a field: the element its aria-describedby names for the error. */
function errorBeside(html: string, id: string): string {
  const field = new RegExp(`id="${id}"[^>]*aria-describedby="([^"]*)"`).exec(html)?.[1] ?? '';
  expect(field.split(' '), `${id} is described by its error`).toContain(`${id}-error`);
  return textOf(html, `${id}-error`);
}

describe('the campaign form', () => {
  it('shows an admin every field with its label, the policy defaults of the domain, and three task rows', async () => {
    const admin = await as('ADM-A');
    const page = await admin.get('/console/campaigns/new');
    expect(page.statusCode).toBe(200);
    for (const id of [
      'docNumber',
      'title',
      'startsOn',
      'endsOn',
      'task-0-key',
      'task-2-due',
      'sendAt',
      'daysBefore',
    ])
      expect(page.body).toMatch(new RegExp(`<label for="${id}">`));
    expect(page.body).toContain(`value="${DEFAULT_POLICY.daysBefore.join(', ')}"`);
    expect(page.body).toContain(`value="${DEFAULT_POLICY.sendAt}"`);
    expect(page.body).toContain(`Mặc định: ${DEFAULT_POLICY.sendAt}`);
    expect(page.body.match(/<li class="task-row"/g)).toHaveLength(4); // three rows and the template of a new one
    expect(page.body).toContain('cả 3 đơn vị trực thuộc');
    expect(page.body).toContain('Khối KHOI-XA (2 đơn vị)');
  });

  it('moves, adds and removes task rows without JavaScript, saving nothing', async () => {
    const admin = await as('ADM-A');
    await admin.get('/console/campaigns/new');
    const before = await campaigns();
    const moved = await admin.post('/console/campaigns', campaignForm({ op: 'up:1' }));
    expect(moved.statusCode).toBe(200);
    const keys = [...moved.body.matchAll(/name="taskKey" type="text" value="([^"]*)"/g)].map((m) => m[1]);
    expect(keys.slice(0, 3)).toEqual(['DK', 'QT', 'NV3']);
    expect(moved.body).toContain('value="Đăng ký mô hình dân vận khéo"');
    const added = await admin.post('/console/campaigns', campaignForm({ op: 'add' }));
    expect([...added.body.matchAll(/id="task-(\w+)-key"/g)].map((m) => m[1])).toEqual([
      '0',
      '1',
      '2',
      '3',
      '__i__',
    ]);
    expect(added.body).toContain('name="taskKey" type="text" value="NV4"');
    const removed = await admin.post('/console/campaigns', campaignForm({ op: 'remove:0' }));
    expect(removed.body).not.toContain('value="Quán triệt kế hoạch"');
    expect(await campaigns()).toBe(before);
  });

  it('creates the campaign with its tasks in order, the units picked, only the policy changed, and its audit row', async () => {
    const admin = await as('ADM-A');
    await admin.get('/console/campaigns/new');
    const answer = await admin.post('/console/campaigns', campaignForm());
    expect(answer.statusCode).toBe(303);
    const id = /\/console\/campaigns\/([0-9a-f-]{36})\?done=created/.exec(answer.headers.location ?? '')?.[1];
    const campaign = await testDb.db.campaign.findUniqueOrThrow({
      where: { id },
      include: { tasks: { orderBy: { position: 'asc' } }, units: { include: { unit: true } } },
    });
    expect(campaign).toMatchObject({ docNumber: '12/KH-UBND', kind: 'thematic', state: 'draft' });
    expect(campaign.tasks.map((task) => task.key)).toEqual(['QT', 'DK']);
    expect(campaign.units.map((row) => row.unit.code).sort()).toEqual(['PHONG-A', 'XA-A1', 'XA-A2']);
    expect(campaign.policy).toEqual({ sendAt: '08:00' });
    expect(campaign.reportSchedule).toEqual({ cadence: 'quarterly' });
    const [row] = await listAudit(testDb.db, WHOLE_ORGANISATION, {
      action: 'campaign.create',
      target: id ?? '',
    });
    expect(row).toMatchObject({ actor: { kind: 'official', code: 'ADM-A' }, target: { code: '12/KH-UBND' } });
    const dashboard = await admin.get(answer.headers.location ?? '');
    expect(dashboard.body).toContain('Đã tạo phong trào (bản nháp)');
  });

  it('picks the units of an emulation block', async () => {
    const admin = await as('ADM-A');
    await admin.get('/console/campaigns/new');
    const answer = await admin.post(
      '/console/campaigns',
      campaignForm({ docNumber: '13/KH-UBND', subtrees: [], blocks: ['KHOI-XA'] }),
    );
    expect(answer.statusCode).toBe(303);
    const created = await testDb.db.campaign.findUniqueOrThrow({
      where: { docNumber: '13/KH-UBND' },
      include: { units: { include: { unit: true } } },
    });
    expect(created.units.map((row) => row.unit.code).sort()).toEqual(['XA-A1', 'XA-A2']);
  });

  it('shows a due date outside the campaign and an unknown unit beside their fields, at once, and saves nothing', async () => {
    const admin = await as('ADM-A');
    await admin.get('/console/campaigns/new');
    const before = await campaigns();
    const audits = (await auditOf('campaign.create')).length;
    const answer = await admin.post(
      '/console/campaigns',
      campaignForm({
        docNumber: '14/KH-UBND',
        taskDue: ['2027-02-15', '2028-01-10', ''],
        otherUnits: 'XA-B1, KHONG-CO',
      }),
    );
    expect(answer.statusCode).toBe(400);
    expect(errorBeside(answer.body, 'task-1-due')).toBe(
      'Hạn hoàn thành phải nằm trong thời gian của phong trào.',
    );
    expect(errorBeside(answer.body, 'otherUnits')).toBe(
      'Không có các đơn vị này trong phạm vi của bạn: XA-B1, KHONG-CO.',
    );
    expect(answer.body).toContain('Biểu mẫu có 2 lỗi cần sửa');
    // What was typed comes back as typed.
    expect(answer.body).toContain('value="2028-01-10"');
    expect(await campaigns()).toBe(before);
    expect(await auditOf('campaign.create')).toHaveLength(audits);
  });

  it('shows what the form itself finds wrong: a missing title, a bad date, a task without its date, a bad policy', async () => {
    const admin = await as('ADM-A');
    await admin.get('/console/campaigns/new');
    const before = await campaigns();
    const answer = await admin.post(
      '/console/campaigns',
      campaignForm({
        title: '',
        endsOn: '31/12',
        taskDue: ['2027-02-15', '', ''],
        sendAt: '22:00',
        daysBefore: '3, một',
        subtrees: [],
      }),
    );
    expect(answer.statusCode).toBe(400);
    expect(errorBeside(answer.body, 'title')).toBe('Bắt buộc phải điền.');
    expect(errorBeside(answer.body, 'endsOn')).toBe('Ngày không hợp lệ.');
    expect(errorBeside(answer.body, 'task-1-due')).toBe('Bắt buộc phải điền.');
    expect(errorBeside(answer.body, 'daysBefore')).toContain('cách nhau bằng dấu phẩy');
    expect(errorBeside(answer.body, 'sendAt')).toContain('không nằm trong khoảng giờ không gửi');
    expect(answer.body).toContain('Hãy chọn ít nhất một đơn vị tham gia.');
    expect(await campaigns()).toBe(before);
  });

  it('refuses a number already used (409) beside the number', async () => {
    const admin = await as('ADM-A');
    await admin.get('/console/campaigns/new');
    const answer = await admin.post('/console/campaigns', campaignForm());
    expect(answer.statusCode).toBe(409);
    expect(errorBeside(answer.body, 'docNumber')).toBe('Đã có phong trào mang số kế hoạch này.');
  });

  it('refuses a form without its token, and a leader (403), saving nothing', async () => {
    const admin = await as('ADM-A');
    await admin.get('/console/campaigns/new');
    const before = await campaigns();
    expect(
      (await admin.post('/console/campaigns', campaignForm({ docNumber: '15/KH', _csrf: '' }))).statusCode,
    ).toBe(403);
    const leader = await as('LD-A');
    const list = await leader.get('/console');
    expect(list.body).not.toContain('/console/campaigns/new');
    expect((await leader.get('/console/campaigns/new')).statusCode).toBe(403);
    const forged = await leader.post('/console/campaigns', campaignForm({ docNumber: '15/KH' }));
    expect(forged.statusCode).toBe(403);
    expect(await campaigns()).toBe(before);
  });
});

describe('editing a campaign', () => {
  let id = '';
  beforeAll(async () => {
    id = (
      await createCampaign(testDb.db, {
        docNumber: '20/KH-UBND',
        title: 'Thi đua cải cách hành chính',
        issuerUnitCode: 'HUYEN-A',
        startsOn: '2026-11-01',
        endsOn: '2027-06-30',
        unitCodes: ['XA-A1', 'XA-A2'],
        tasks: [
          { key: 'QT', title: 'Quán triệt', dueOn: '2027-01-15' },
          { key: 'SK', title: 'Sơ kết', dueOn: '2027-03-31' },
        ],
        policy: { escalateAfterWorkingDays: 3 },
      })
    ).id;
  });

  it('shows the campaign in the form and saves a change with its before and after in the audit', async () => {
    const admin = await as('ADM-A');
    const page = await admin.get(`/console/campaigns/${id}/edit`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('value="Thi đua cải cách hành chính"');
    expect(page.body).toMatch(/id="escalateAfterWorkingDays"[^>]*value="3"/);
    const answer = await admin.post(`/console/campaigns/${id}/edit`, {
      ...campaignForm(),
      docNumber: [],
      title: 'Thi đua cải cách hành chính năm 2027',
      theme: '',
      kind: 'regular',
      startsOn: '2026-11-01',
      endsOn: '2027-06-30',
      taskKey: ['SK', 'QT'],
      taskTitle: ['Sơ kết', 'Quán triệt'],
      taskDue: ['2027-03-31', '2027-01-15'],
      subtrees: [],
      units: ['XA-A1', 'XA-A2'],
      cadence: '',
      sendAt: '07:30',
      escalateAfterWorkingDays: '3',
    });
    expect(answer.statusCode).toBe(303);
    const tasks = await testDb.db.task.findMany({ where: { campaignId: id }, orderBy: { position: 'asc' } });
    expect(tasks.map((task) => task.key)).toEqual(['SK', 'QT']);
    const stored = await testDb.db.campaign.findUniqueOrThrow({ where: { id } });
    // The policy as it was: a field left at its value is no change.
    expect(stored.policy).toEqual({ escalateAfterWorkingDays: 3 });
    const [row] = await listAudit(testDb.db, WHOLE_ORGANISATION, { action: 'campaign.update', target: id });
    expect(row?.actor).toMatchObject({ code: 'ADM-A' });
    expect(row?.changes).toMatchObject({
      title: ['Thi đua cải cách hành chính', 'Thi đua cải cách hành chính năm 2027'],
    });
    expect(Object.keys(row?.changes as object).sort()).toEqual(['tasks', 'title']);
  });

  it('refuses to remove a task that has reports, shows it, and keeps the task', async () => {
    const { db } = testDb;
    const task = await db.task.findUniqueOrThrow({
      where: { campaignId_key: { campaignId: id, key: 'QT' } },
    });
    const unit = await db.unit.findUniqueOrThrow({ where: { code: 'XA-A1' } });
    const focal = await db.official.findUniqueOrThrow({ where: { code: 'DM-A1' } });
    await launchCampaign(db, id, new Renderer(createTranslator(), CONSOLE_TZ), now);
    const recorded = await db.$transaction((tx) =>
      recordStatus(tx, {
        officialId: focal.id,
        unitId: unit.id,
        taskId: task.id,
        status: 'in_progress',
        percent: 30,
        note: null,
        sourceText: 'đang làm 30%',
        channel: 'telegram',
        now,
      }),
    );
    expect(recorded.kind).toBe('recorded');
    const admin = await as('ADM-A');
    await admin.get(`/console/campaigns/${id}/edit`);
    const answer = await admin.post(`/console/campaigns/${id}/edit`, {
      ...campaignForm(),
      startsOn: '2026-11-01',
      endsOn: '2027-06-30',
      taskKey: ['SK'],
      taskTitle: ['Sơ kết'],
      taskDue: ['2027-03-31'],
      subtrees: [],
      units: ['XA-A1', 'XA-A2'],
    });
    expect(answer.statusCode).toBe(409);
    expect(textOf(answer.body, 'tasks-error')).toContain(
      'Không xóa được nhiệm vụ QT vì các đơn vị đã báo cáo',
    );
    expect(errorBeside(answer.body, 'task-1-key')).toBe('Đã có báo cáo: không xóa được nhiệm vụ này.');
    expect(await db.task.count({ where: { campaignId: id } })).toBe(2);
    expect(await db.statusReport.count({ where: { taskId: task.id } })).toBe(1);
  });

  it('answers a leader 403 and an admin of another district 404', async () => {
    const leader = await as('LD-A');
    expect((await leader.get(`/console/campaigns/${id}/edit`)).statusCode).toBe(403);
    const dashboard = await leader.get(`/console/campaigns/${id}`);
    expect(dashboard.statusCode).toBe(200);
    expect(dashboard.body).not.toContain(`/console/campaigns/${id}/edit`);
    expect(dashboard.body).not.toContain(`/console/campaigns/${id}/launch`);
    const forged = await leader.post(`/console/campaigns/${id}/edit`, {
      ...campaignForm(),
      title: 'Đổi tên',
    });
    expect(forged.statusCode).toBe(403);
    const other = await as('ADM-B');
    expect((await other.get(`/console/campaigns/${id}/edit`)).statusCode).toBe(404);
    expect((await other.post(`/console/campaigns/${id}/edit`, campaignForm())).statusCode).toBe(404);
    const stored = await testDb.db.campaign.findUniqueOrThrow({ where: { id } });
    expect(stored.title).toBe('Thi đua cải cách hành chính năm 2027');
  });
});

describe('launching and closing from the console', () => {
  let id = '';
  beforeAll(async () => {
    id = (
      await createCampaign(testDb.db, {
        docNumber: '30/KH-UBND',
        title: 'Thi đua chào mừng đại hội',
        issuerUnitCode: 'HUYEN-A',
        startsOn: '2026-11-01',
        endsOn: '2027-06-30',
        unitCodes: ['XA-A1', 'XA-A2'],
        tasks: [{ key: 'QT', title: 'Quán triệt', dueOn: '2027-01-15' }],
      })
    ).id;
  });

  it('shows who the launch reaches, on which channel, and who cannot be reached and why', async () => {
    const admin = await as('ADM-A');
    const page = await admin.get(`/console/campaigns/${id}/launch`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Thông báo phát động sẽ được gửi tới 1 cán bộ.');
    expect(page.body).toMatch(/<tr data-channel="telegram"><th scope="row">Telegram<\/th><td>1<\/td>/);
    expect(page.body).toMatch(/data-official="DM-A2"[\s\S]*?Chưa liên kết/);
    expect(page.body).toMatch(/data-official="LD-A2"[\s\S]*?Đã chặn bot/);
    expect(page.body).not.toContain('data-official="DM-A1"');
    // Looking sends nothing and changes nothing.
    expect(
      await testDb.db.outboxMessage.count({ where: { dedupeKey: { startsWith: `launch:${id}` } } }),
    ).toBe(0);
    expect((await testDb.db.campaign.findUniqueOrThrow({ where: { id } })).state).toBe('draft');
  });

  it('refuses the launch without the form token, to a leader (403) and to another district (404)', async () => {
    const admin = await as('ADM-A');
    await admin.get(`/console/campaigns/${id}/launch`);
    expect((await admin.post(`/console/campaigns/${id}/launch`, { _csrf: 'x' })).statusCode).toBe(403);
    const leader = await as('LD-A');
    expect((await leader.get(`/console/campaigns/${id}/launch`)).statusCode).toBe(403);
    expect((await leader.post(`/console/campaigns/${id}/launch`)).statusCode).toBe(403);
    const other = await as('ADM-B');
    expect((await other.get(`/console/campaigns/${id}/launch`)).statusCode).toBe(404);
    expect((await testDb.db.campaign.findUniqueOrThrow({ where: { id } })).state).toBe('draft');
    expect(
      await testDb.db.outboxMessage.count({ where: { dedupeKey: { startsWith: `launch:${id}` } } }),
    ).toBe(0);
  });

  it('launches after the confirmation: the launch in the outbox and its audit row', async () => {
    const admin = await as('ADM-A');
    await admin.get(`/console/campaigns/${id}/launch`);
    const answer = await admin.post(`/console/campaigns/${id}/launch`);
    expect(answer.statusCode).toBe(303);
    expect(answer.headers.location).toBe(`/console/campaigns/${id}?done=launched&sent=1`);
    const rows = await testDb.db.outboxMessage.findMany({
      where: { dedupeKey: { startsWith: `launch:${id}` } },
      include: { official: true },
    });
    expect(rows.map((row) => row.official?.code)).toEqual(['DM-A1']);
    expect((await testDb.db.campaign.findUniqueOrThrow({ where: { id } })).state).toBe('running');
    const [row] = await listAudit(testDb.db, WHOLE_ORGANISATION, { action: 'campaign.launch', target: id });
    expect(row).toMatchObject({ actor: { code: 'ADM-A' }, changes: { recipients: 1, unreachable: 2 } });
    const dashboard = await admin.get(answer.headers.location ?? '');
    expect(dashboard.body).toContain('Đã phát động: thông báo được gửi tới 1 cán bộ.');
    // Asked again, the page says that one official already has it.
    const again = await admin.get(`/console/campaigns/${id}/launch`);
    expect(again.body).toContain('1 cán bộ đã nhận thông báo này trước đó');
    expect(again.body).toMatch(/<button type="submit" class="primary" disabled>/);
  });

  it('closes after the confirmation, with its audit row; a leader is refused', async () => {
    const leader = await as('LD-A');
    expect((await leader.post(`/console/campaigns/${id}/close`)).statusCode).toBe(403);
    const admin = await as('ADM-A');
    const page = await admin.get(`/console/campaigns/${id}/close`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('đề nghị 2 đơn vị tham gia gửi báo cáo tổng kết trong 7 ngày');
    const answer = await admin.post(`/console/campaigns/${id}/close`);
    expect(answer.statusCode).toBe(303);
    expect((await testDb.db.campaign.findUniqueOrThrow({ where: { id } })).state).toBe('closed');
    const [row] = await listAudit(testDb.db, WHOLE_ORGANISATION, { action: 'campaign.close', target: id });
    expect(row?.actor).toMatchObject({ code: 'ADM-A' });
  });
});

/** A plan workbook as an operator fills in the template. */
async function planWorkbook(
  edit: (sheets: {
    plan: ExcelJS.Worksheet;
    tasks: ExcelJS.Worksheet;
    units: ExcelJS.Worksheet;
  }) => void = () => {},
): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const plan = workbook.addWorksheet('Kế hoạch');
  plan.addRows([
    ['Trường', 'Giá trị'],
    ['Số kế hoạch *', '40/KH-UBND'],
    ['Tên phong trào *', 'Thi đua xây dựng nông thôn mới'],
    ['Chủ đề', 'Chung sức xây dựng nông thôn mới'],
    ['Loại phong trào', 'thường xuyên'],
    ['Mã đơn vị ban hành *', 'HUYEN-A'],
    ['Ngày bắt đầu *', '01/01/2027'],
    ['Ngày kết thúc *', new Date(Date.UTC(2027, 11, 31))],
    ['Kỳ báo cáo', 'hằng quý'],
    ['Hạn báo cáo (số ngày sau ngày chốt)', 5],
  ]);
  const tasks = workbook.addWorksheet('Nhiệm vụ');
  tasks.addRows([
    ['Mã nhiệm vụ', 'Nội dung nhiệm vụ', 'Hạn hoàn thành'],
    ['QT', 'Quán triệt, triển khai kế hoạch', '15/02/2027'],
    ['DK', 'Đăng ký tiêu chí', new Date(Date.UTC(2027, 2, 31))],
  ]);
  const units = workbook.addWorksheet('Đơn vị');
  units.addRows([['Mã đơn vị', 'Tên đơn vị'], ['XA-A1', 'UBND xã A1'], ['XA-A2']]);
  edit({ plan, tasks, units });
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

describe('a campaign from a plan workbook', () => {
  it('gives the template with its three sheets', async () => {
    const admin = await as('ADM-A');
    const answer = await admin.get('/console/campaigns/plan/template.xlsx');
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toBe(XLSX);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(answer.rawPayload as unknown as ExcelJS.Buffer);
    expect(workbook.worksheets.map((sheet) => sheet.name)).toEqual(['Kế hoạch', 'Nhiệm vụ', 'Đơn vị']);
    expect(workbook.getWorksheet('Nhiệm vụ')?.getRow(1).values).toEqual([
      undefined,
      'Mã nhiệm vụ',
      'Nội dung nhiệm vụ',
      'Hạn hoàn thành',
    ]);
  });

  it('shows what will be created, and creates it (with its audit row) only on confirmation', async () => {
    const admin = await as('ADM-A');
    await admin.get('/console/campaigns/plan');
    const before = await campaigns();
    const preview = await admin.upload('/console/campaigns/plan', {
      name: 'ke-hoach.xlsx',
      bytes: await planWorkbook(),
      type: XLSX,
    });
    expect(preview.statusCode).toBe(200);
    expect(preview.body).toContain('Thi đua xây dựng nông thôn mới');
    expect(preview.body).toContain('Quán triệt, triển khai kế hoạch');
    expect(preview.body).toContain('UBND xã A2');
    expect(await campaigns()).toBe(before);
    // The confirmation posts what the page shows.
    const fields: FormFields = {};
    const form =
      /<form method="post" action="\/console\/campaigns" class="form-actions">([\s\S]*?)<\/form>/.exec(
        preview.body,
      )?.[1] ?? '';
    for (const [, name, value] of form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
      if (!name || name === '_csrf') continue;
      const text = (value ?? '').replaceAll('&quot;', '"').replaceAll('&amp;', '&');
      const existing = fields[name];
      fields[name] =
        existing === undefined ? text : [...(Array.isArray(existing) ? existing : [existing]), text];
    }
    const created = await admin.post('/console/campaigns', fields);
    expect(created.statusCode).toBe(303);
    const campaign = await testDb.db.campaign.findUniqueOrThrow({
      where: { docNumber: '40/KH-UBND' },
      include: { tasks: { orderBy: { position: 'asc' } }, units: { include: { unit: true } } },
    });
    expect(campaign).toMatchObject({
      startsOn: new Date('2027-01-01'),
      endsOn: new Date('2027-12-31'),
      policy: null,
    });
    expect(campaign.reportSchedule).toEqual({ cadence: 'quarterly', dueDay: 5 });
    expect(campaign.tasks.map((task) => [task.key, task.dueOn.toISOString().slice(0, 10)])).toEqual([
      ['QT', '2027-02-15'],
      ['DK', '2027-03-31'],
    ]);
    expect(campaign.units.map((row) => row.unit.code).sort()).toEqual(['XA-A1', 'XA-A2']);
    const [row] = await listAudit(testDb.db, WHOLE_ORGANISATION, {
      action: 'campaign.create',
      target: campaign.id,
    });
    expect(row?.actor).toMatchObject({ code: 'ADM-A' });
  });

  it('names the sheet and row of every problem, and saves nothing', async () => {
    const admin = await as('ADM-A');
    await admin.get('/console/campaigns/plan');
    const before = await campaigns();
    const file = await planWorkbook(({ plan, tasks, units }) => {
      plan.getCell('B2').value = '41/KH-UBND';
      plan.getCell('B7').value = '31/02/2027';
      tasks.addRow(['QT', 'Trùng mã', '01/03/2027']);
      tasks.addRow(['SK', 'Sơ kết sau khi phong trào kết thúc', '15/01/2028']);
      units.addRow(['KHONG-CO']);
    });
    const answer = await admin.upload('/console/campaigns/plan', {
      name: 'loi.xlsx',
      bytes: file,
      type: XLSX,
    });
    expect(answer.statusCode).toBe(400);
    const rows = [
      ...answer.body.matchAll(
        /<tr>\s*<td>([^<]*)<\/td>\s*<td>([^<]*)<\/td>\s*<td>([^<]*)<\/td>\s*<td>([^<]*)<\/td>/g,
      ),
    ].map((m) => [m[1], m[2], m[3]]);
    expect(rows).toEqual([
      ['Kế hoạch', '7', 'Ngày bắt đầu'],
      ['Nhiệm vụ', '4', 'Mã nhiệm vụ'],
      ['Đơn vị', '4', 'Mã đơn vị'],
    ]);
    expect(answer.body).toContain('«31/02/2027» không phải là ngày');
    expect(answer.body).toContain('Chưa có gì được lưu');
    // A due date outside the campaign (the campaign's rule) and units outside the subtree, by row too.
    const second = await planWorkbook(({ plan, tasks, units }) => {
      plan.getCell('B2').value = '41/KH-UBND';
      tasks.addRow(['SK', 'Sơ kết', '15/01/2028']);
      units.addRow(['KHONG-CO']);
      units.addRow(['XA-B1']);
    });
    const again = await admin.upload('/console/campaigns/plan', {
      name: 'loi2.xlsx',
      bytes: second,
      type: XLSX,
    });
    expect(again.statusCode).toBe(400);
    expect(again.body).toMatch(
      /<td>Nhiệm vụ<\/td>\s*<td>4<\/td>\s*<td>Hạn hoàn thành<\/td>\s*<td>Hạn hoàn thành phải nằm trong/,
    );
    expect(again.body).toMatch(
      /<td>Đơn vị<\/td>\s*<td>4<\/td>\s*<td>Mã đơn vị<\/td>\s*<td>Không có đơn vị KHONG-CO/,
    );
    expect(again.body).toMatch(
      /<td>Đơn vị<\/td>\s*<td>5<\/td>\s*<td>Mã đơn vị<\/td>\s*<td>Không có đơn vị XA-B1/,
    );
    expect(await campaigns()).toBe(before);
  });

  it('says beside the file field that a file is no workbook, and refuses a leader', async () => {
    const admin = await as('ADM-A');
    await admin.get('/console/campaigns/plan');
    const answer = await admin.upload('/console/campaigns/plan', {
      name: 'ke-hoach.csv',
      bytes: Buffer.from('Số kế hoạch;40/KH'),
      type: 'text/csv',
    });
    expect(answer.statusCode).toBe(400);
    expect(errorBeside(answer.body, 'file')).toContain('không phải tệp Excel');
    const leader = await as('LD-A');
    expect((await leader.get('/console/campaigns/plan')).statusCode).toBe(403);
    await leader.get('/console');
    const forged = await leader.upload('/console/campaigns/plan', {
      name: 'k.xlsx',
      bytes: await planWorkbook(),
      type: XLSX,
    });
    expect(forged.statusCode).toBe(403);
  });
});
