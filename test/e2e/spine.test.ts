import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startService, type ServiceProcess } from '../support/service.ts';
import { hasText, linkTelegramUser, putOfficials, putUnits } from '../support/seed-api.ts';
import { Emulator, type BotMessage, type ChatUser } from '../support/telegram.ts';
import { FaultyTelegram, type SentMedia } from '../support/telegram-proxy.ts';
import { waitFor } from '../support/wait.ts';

/**
 * The whole product path of seed 004 (Tam Đường, 6/2023) on real parts: the service as a child
 * process, PostgreSQL, Redis, BullMQ, and telegraf against the Telegram emulator.
 */
const TOKEN = '200000001:E2E-spine';
const DOC = '125/KH-UBND';

let emulator: Emulator;
let proxy: FaultyTelegram;
let database: TestDatabase;
let service: ServiceProcess;

const linkedUser = (officialCode: string, userId: number): Promise<ChatUser> =>
  linkTelegramUser(service, emulator, TOKEN, officialCode, userId);

beforeAll(async () => {
  emulator = await Emulator.start();
  proxy = await FaultyTelegram.start(emulator.url);
  database = await createTestDatabase();
  service = await startService({
    DATABASE_URL: database.url,
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: proxy.url,
  });
});

afterAll(async () => {
  await service?.stop();
  if (process.env.E2E_DEBUG) process.stdout.write(service?.output() ?? '');
  await proxy?.stop();
  await emulator?.stop();
  await database?.drop();
});

describe('a campaign from launch to summary over Telegram', () => {
  let focal: ChatUser;
  let otherFocal: ChatUser;
  let leader: ChatUser;
  let member: ChatUser;
  let campaignId: string;

  it('builds the organisation, officials and a campaign through the admin API', async () => {
    await putUnits(service, [
      { code: 'TAMDUONG', name: 'UBND huyện Tam Đường' },
      { code: 'TD-VHTT', name: 'Phòng Văn hóa và Thông tin', parentCode: 'TAMDUONG' },
      { code: 'TD-BINHLU', name: 'UBND xã Bình Lư', parentCode: 'TAMDUONG' },
      { code: 'TD-SONBINH', name: 'UBND xã Sơn Bình', parentCode: 'TAMDUONG' },
    ]);
    await putOfficials(service, [
      { code: 'CB1', name: 'Trần Thị Mai', unitCode: 'TD-VHTT', role: 'focal' },
      { code: 'CB2', name: 'Tẩn Văn Chiến', unitCode: 'TD-BINHLU', role: 'focal' },
      { code: 'CB3', name: 'Sùng Lữ Páo', unitCode: 'TAMDUONG', role: 'leader' },
      { code: 'CB4', name: 'Đỗ Thị Lan', unitCode: 'TD-SONBINH', role: 'member' },
    ]);
    const created = await service.api<{ id: string; docNumber: string }>('POST', '/api/campaigns', {
      docNumber: DOC,
      title:
        'Phát động phong trào thi đua đặc biệt lập thành tích chào mừng kỷ niệm các sự kiện lịch sử của tỉnh',
      theme: 'Thi đua đổi mới, sáng tạo, lập thành tích cao nhất',
      kind: 'special',
      issuerUnitCode: 'TAMDUONG',
      startsOn: '2026-06-15',
      endsOn: '2027-10-30',
      unitCodes: ['TD-VHTT', 'TD-BINHLU', 'TD-SONBINH'],
      tasks: [
        { key: 'QT', title: 'Quán triệt, triển khai kế hoạch', dueOn: '2026-07-15' },
        { key: 'TT', title: 'Tuyên truyền về các sự kiện lịch sử', dueOn: '2027-10-30' },
      ],
    });
    expect(created.status).toBe(201);
    campaignId = created.body.id;
  });

  it('links officials with one-time codes and refuses bad ones', async () => {
    focal = await linkedUser('CB1', 5001);
    otherFocal = await linkedUser('CB2', 5002);
    leader = await linkedUser('CB3', 5003);
    member = await linkedUser('CB4', 5004);

    const stranger = emulator.user(TOKEN, 5999);
    expect((await stranger.ask('/start ABCDEFGHJK')).text).toContain('không đúng');
    expect((await stranger.ask('xin chào')).text).toContain('chưa được liên kết');

    const issued = await service.api<{ code: string }>('POST', '/api/officials/CB4/link-codes');
    await emulator.user(TOKEN, 5998).ask(`/start ${issued.body.code}`, hasText('Đã liên kết'));
    expect((await stranger.ask(`/start ${issued.body.code}`)).text).toContain('đã được sử dụng');
  });

  it('slows down a chat that keeps sending wrong codes', async () => {
    const guesser = emulator.user(TOKEN, 5997);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      expect((await guesser.ask(`/start ZZZZZZZZ${attempt + 2}${attempt + 2}`)).text).toContain('không đúng');
    }
    const issued = await service.api<{ code: string }>('POST', '/api/officials/CB4/link-codes');
    expect((await guesser.ask(`/start ${issued.body.code}`)).text).toContain('quá nhiều lần');
    // The right code was not spent: another chat can still use it.
    await emulator.user(TOKEN, 5996).ask(`/start ${issued.body.code}`, hasText('Đã liên kết'));
  });

  it('sends the launch once to each focal and leader official, with the two buttons', async () => {
    const first = await service.api<{ recipients: number }>('POST', `/api/campaigns/${campaignId}/launch`);
    expect(first.status).toBe(202);
    // The focal officials of the participating units; neither the member CB4 nor the issuer's leader.
    expect(first.body.recipients).toBe(2);
    const launch = await focal.waitFor('the launch', hasText(DOC));
    expect(launch.text).toContain('Quán triệt, triển khai kế hoạch — hạn 15/07/2026');
    expect(launch.text).toContain('Thi đua đổi mới, sáng tạo');
    expect(launch.buttons.map((button) => button.text)).toEqual(['👍 Đã nhận', '📝 Đăng ký thi đua']);
    await otherFocal.waitFor('the launch', hasText(DOC));

    const again = await service.api<{ recipients: number }>('POST', `/api/campaigns/${campaignId}/launch`);
    expect(again.status).toBe(202);
    // A marker message proves the queue has moved past anything the second launch could have sent.
    await focal.ask('/huongdan', hasText('Hướng dẫn'));
    expect(focal.received.filter((message) => message.text.includes('PHÁT ĐỘNG'))).toHaveLength(1);
  });

  it('records acknowledgement and registration from the buttons and confirms', async () => {
    const launch = await otherFocal.waitFor('the launch', hasText(DOC));
    expect((await otherFocal.tap(launch, '👍 Đã nhận')).text).toContain('đã nhận kế hoạch');
    expect((await otherFocal.tap(launch, '📝 Đăng ký thi đua')).text).toContain('đăng ký thi đua');
    expect((await otherFocal.tap(launch, '👍 Đã nhận')).text).toContain('trước đó');
  });

  it('takes status by buttons and by free text, asks when unsure, and can undo', async () => {
    const asks: BotMessage[] = [];
    const after = (await focal.drain(), focal.received.length);
    await focal.send('/baocao');
    for (const title of ['Quán triệt', 'Tuyên truyền']) {
      asks.push(await focal.waitFor(`the status question for ${title}`, hasText(title), { after }));
    }
    expect(asks[0]?.buttons.map((button) => button.text)).toEqual([
      '✅ Hoàn thành',
      '⏳ Đang thực hiện',
      '⚠️ Vướng mắc',
      '❌ Chưa thực hiện',
    ]);
    const confirmation = await focal.tap(asks[0] as BotMessage, '✅ Hoàn thành', hasText('Đã ghi nhận'));
    expect(confirmation.text).toContain('Hoàn thành');
    expect(confirmation.buttons.map((button) => button.text)).toEqual(['↩️ Hoàn tác']);

    // One task is still open, so "dang trien khai 60%" can only be about it.
    const typed = await focal.ask('dang trien khai 60%', hasText('Đã ghi nhận'));
    expect(typed.text).toContain('Tuyên truyền');
    expect(typed.text).toContain('60%');

    // Bình Lư has two open tasks: the bot asks which one, and records nothing until told.
    const which = await otherFocal.ask('vướng kinh phí', hasText('nhiệm vụ nào'));
    expect(which.buttons).toHaveLength(2);
    let reports = await service.api<unknown[]>('GET', `/api/campaigns/${campaignId}/reports`);
    expect(reports.body.filter((row) => (row as { unitCode: string }).unitCode === 'TD-BINHLU')).toHaveLength(
      0,
    );
    const chosen = await otherFocal.tap(which, which.buttons[0]?.text ?? '', hasText('Đã ghi nhận'));
    expect(chosen.text).toContain('Vướng mắc');

    // Unclear text records nothing and shows the buttons.
    const unclear = await otherFocal.ask('alo alo', hasText('chưa rõ'));
    expect(unclear.text).toContain('chưa ghi nhận');

    // Undo withdraws the report.
    const undone = await otherFocal.tap(chosen, '↩️ Hoàn tác', hasText('hoàn tác'));
    expect(undone.text).toContain('Đã hoàn tác');

    reports = await service.api<unknown[]>('GET', `/api/campaigns/${campaignId}/reports`);
    expect(reports.status).toBe(200);
    expect(reports.body).toEqual([
      expect.objectContaining({
        unitCode: 'TD-VHTT',
        taskKey: 'QT',
        status: 'done',
        percent: 100,
        reportedBy: 'CB1',
      }),
      expect.objectContaining({ unitCode: 'TD-VHTT', taskKey: 'TT', status: 'in_progress', percent: 60 }),
    ]);
  });

  it('answers the summary in the API shape and in chat, for supervisors only', async () => {
    const summary = await service.api<Record<string, unknown>>('GET', `/api/campaigns/${campaignId}/summary`);
    expect(summary.status).toBe(200);
    expect(Object.keys(summary.body).sort()).toEqual(['campaign', 'lateUnits', 'tasks', 'units']);
    expect(summary.body).toMatchObject({
      campaign: { id: campaignId, docNumber: DOC },
      units: { total: 3, acknowledged: 1, registered: 1, reported: 1 },
      tasks: [
        { key: 'QT', dueOn: '2026-07-15', done: 1, inProgress: 0, blocked: 0, notStarted: 0, noReport: 2 },
        { key: 'TT', dueOn: '2027-10-30', done: 0, inProgress: 1, noReport: 2, overdue: 0 },
      ],
    });

    const text = await leader.ask(`tổng hợp ${DOC}`, hasText('TỔNG HỢP'));
    expect(text.text).toContain('Đơn vị tham gia: 3');
    expect(text.text).toContain('UBND xã Bình Lư');
    const command = await leader.ask('/tonghop', hasText('TỔNG HỢP'));
    expect(command.text).toContain(DOC);
    expect((await member.ask('/tonghop')).text).toContain('chỉ dành cho lãnh đạo');
  });

  it('sends the chart picture with buttons: drill-down, late units only, the Excel file', async () => {
    const mediaFor = (chat: number, method: string, after: number) =>
      waitFor(`${method} to ${chat}`, () =>
        Promise.resolve(
          proxy.media.slice(after).find((m) => m.chatId === String(chat) && m.method === method),
        ),
      );
    let seen = proxy.media.length;
    await leader.ask('/tonghop', hasText('TỔNG HỢP'));
    const chart: SentMedia = await mediaFor(leader.userId, 'sendPhoto', seen);
    expect(chart.caption).toContain('Tiến độ theo đơn vị');
    expect(chart.file.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(chart.file.readUInt32BE(16)).toBe(1080);
    const labels = chart.buttons.map((button) => button.text);
    expect(labels).toEqual(
      expect.arrayContaining(['🔎 UBND xã Bình Lư', '⏰ Chỉ đơn vị chậm', '📥 Tệp Excel']),
    );
    const data = (label: string) => chart.buttons.find((button) => button.text === label)?.data ?? '';

    seen = proxy.media.length;
    let after = (await leader.drain(), leader.received.length);
    await leader.pressData(1, data('🔎 UBND xã Bình Lư'));
    const drilled = await leader.waitFor('the drilled summary', hasText('TỔNG HỢP'), { after });
    expect(drilled.text).toContain('Phạm vi: UBND xã Bình Lư');
    await mediaFor(leader.userId, 'sendPhoto', seen);

    after = leader.received.length;
    await leader.pressData(1, data('⏰ Chỉ đơn vị chậm'));
    // Whether anything is late depends on today's date against 15/07/2026: either answer is a clear one.
    const late = await leader.waitFor('late units', hasText('chậm'), { after });
    expect(late.text).toMatch(/Đơn vị chậm — 125\/KH-UBND|Không có đơn vị nào chậm/);

    seen = proxy.media.length;
    await leader.pressData(1, data('📥 Tệp Excel'));
    const excel = await mediaFor(leader.userId, 'sendDocument', seen);
    expect(excel.filename).toMatch(/\.xlsx$/);
    expect(excel.file.subarray(0, 2).toString('latin1')).toBe('PK');

    // Someone else pressing a drill-down into a subtree they do not lead is refused, no data shown.
    after = (await focal.drain(), focal.received.length);
    await focal.pressData(1, data('🔎 UBND xã Bình Lư'));
    expect((await focal.waitFor('a refusal', () => true, { after })).text).toContain('chỉ dành cho lãnh đạo');

    const xlsx = await fetch(`${service.url}/api/campaigns/${campaignId}/export.xlsx`, {
      headers: { authorization: `Bearer ${service.token}` },
    });
    expect(xlsx.status).toBe(200);
    expect(xlsx.headers.get('content-type')).toContain('spreadsheetml');
  });

  it('lists tasks, explains itself and switches language', async () => {
    const tasks = await focal.ask('/nhiemvu', hasText('Nhiệm vụ của'));
    expect(tasks.text).toContain('hạn 15/07/2026');
    const choose = await focal.ask('/ngonngu', (message) => message.buttons.length === 2);
    expect((await focal.tap(choose, 'English')).text).toContain('English');
    expect((await focal.ask('/help')).text).toContain('How to use');
  });

  it('checks the admin token and validates bodies', async () => {
    const anonymous = await fetch(`${service.url}/api/campaigns`);
    expect(anonymous.status).toBe(401);
    const badParent = await service.api<{ error: { code: string } }>('PUT', '/api/units/X1', {
      name: 'X',
      parentCode: 'NOPE',
    });
    expect(badParent.status).toBe(400);
    expect(badParent.body.error.code).toBe('unknown_parent');
    const cycle = await service.api<{ error: { code: string } }>('PUT', '/api/units/TAMDUONG', {
      name: 'UBND huyện Tam Đường',
      parentCode: 'TD-BINHLU',
    });
    expect(cycle.status).toBe(400);
    expect(cycle.body.error.code).toBe('cycle');
    const missing = await service.api('GET', '/api/campaigns/00000000-0000-7000-8000-000000000000');
    expect(missing.status).toBe(404);
  });
});
