import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkCalendar, addDays } from '../../src/domain/calendar.ts';
import { plainText } from '../../src/domain/message.ts';
import { periodContaining } from '../../src/domain/periods.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startService, type ServiceProcess } from '../support/service.ts';
import { hasText, launchCampaign, linkTelegramUser, putOfficials, putUnits } from '../support/seed-api.ts';
import { Emulator, type BotMessage, type ChatUser } from '../support/telegram.ts';
import { FakeZaloBot, type ZaloUser } from '../support/zalo-bot.ts';

/**
 * Issue 16's dialogue on real parts (the service as a child process, Telegram through the emulator, the Zalo
 * Bot Platform through its fake): several tasks in one message with one undo for all of them, a task number
 * the unit does not have, "xong hết" with three open tasks, "👍" after a launch, and a collection round that
 * asks each unit in one message, answered by a button per task or by one line.
 */
const TELEGRAM_TOKEN = '200000003:E2E-several-tasks';
const ZALO_TOKEN = '1234567892:e2e-several-tasks';
const DOC = '125/KH-UBND';
const TITLE = 'Thi đua chào mừng các sự kiện lịch sử của tỉnh';
const ZONE = 'Asia/Ho_Chi_Minh';

let emulator: Emulator;
let zalo: FakeZaloBot;
let database: TestDatabase;
let service: ServiceProcess;
let binhLu: ChatUser;
let sonBinh: ChatUser;
let banGiang: ZaloUser;

const calendar = new WorkCalendar(ZONE);
const TODAY = calendar.dayOf(new Date());

/**
 * When the monthly round of the period running today is first asked: 10:00 on the first working day after
 * the period's cut-off, before its due day (a later period when holidays fill that span).
 */
function roundOpening(): Date {
  for (let day = TODAY; ; day = addDays(periodContaining('monthly', day).endsOn, 1)) {
    const period = periodContaining('monthly', day);
    for (let open = addDays(period.endsOn, 1); open <= period.dueOn; open = addDays(open, 1)) {
      if (calendar.isWorkingDay(open)) return DateTime.fromISO(`${open}T10:00`, { zone: ZONE }).toJSDate();
    }
  }
}

const has = (fragment: string) => (text: string) => text.includes(fragment);

async function reportsOf(unitCode: string): Promise<string[]> {
  const reports = await service.api<
    { unitCode: string; taskKey: string; status: string; percent: number | null }[]
  >('GET', `/api/campaigns/${campaignId}/reports`);
  return reports.body
    .filter((row) => row.unitCode === unitCode)
    .map((row) => `${row.taskKey}:${row.status}${row.percent === null ? '' : `:${row.percent}`}`);
}

let campaignId: string;

beforeAll(async () => {
  emulator = await Emulator.start();
  zalo = await FakeZaloBot.start(ZALO_TOKEN);
  database = await createTestDatabase();
  service = await startService({
    DATABASE_URL: database.url,
    TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
    TELEGRAM_API_ROOT: emulator.url,
    ZALO_BOT_TOKEN: ZALO_TOKEN,
    ZALO_BOT_API_ROOT: zalo.url,
  });
});

afterAll(async () => {
  await service?.stop();
  if (process.env.E2E_DEBUG) process.stdout.write(service?.output() ?? '');
  await emulator?.stop();
  await zalo?.stop();
  await database?.drop();
});

describe('several tasks in one message, "xong hết", "👍" and one message per unit in a round', () => {
  it('sets up three communes, links their focal officials (two on Telegram, one on Zalo) and launches', async () => {
    await putUnits(service, [
      { code: 'TAMDUONG', name: 'UBND huyện Tam Đường' },
      { code: 'TD-BINHLU', name: 'UBND xã Bình Lư', parentCode: 'TAMDUONG' },
      { code: 'TD-SONBINH', name: 'UBND xã Sơn Bình', parentCode: 'TAMDUONG' },
      { code: 'TD-BANGIANG', name: 'UBND xã Bản Giang', parentCode: 'TAMDUONG' },
    ]);
    await putOfficials(service, [
      { code: 'CB1', name: 'Tẩn Văn Chiến', unitCode: 'TD-BINHLU', role: 'focal' },
      { code: 'CB2', name: 'Chảo Văn Minh', unitCode: 'TD-SONBINH', role: 'focal' },
      { code: 'CB3', name: 'Lò Thị Hoa', unitCode: 'TD-BANGIANG', role: 'focal' },
    ]);
    binhLu = await linkTelegramUser(service, emulator, TELEGRAM_TOKEN, 'CB1', 7001);
    sonBinh = await linkTelegramUser(service, emulator, TELEGRAM_TOKEN, 'CB2', 7002);
    const issued = await service.api<{ code: string }>('POST', '/api/officials/CB3/link-codes');
    banGiang = zalo.user('zu-7003');
    await banGiang.ask(`/start ${issued.body.code}`, has('Đã liên kết'));
    campaignId = await launchCampaign(service, {
      docNumber: DOC,
      title: TITLE,
      issuerUnitCode: 'TAMDUONG',
      startsOn: TODAY,
      endsOn: addDays(TODAY, 365),
      unitCodes: ['TD-BINHLU', 'TD-SONBINH', 'TD-BANGIANG'],
      tasks: [
        { key: 'QT', title: 'Quán triệt, triển khai kế hoạch', dueOn: addDays(TODAY, 60) },
        { key: 'TT', title: 'Tuyên truyền về các sự kiện lịch sử', dueOn: addDays(TODAY, 90) },
        { key: 'KT', title: 'Sơ kết, khen thưởng', dueOn: addDays(TODAY, 120) },
      ],
      reportSchedule: { cadence: 'monthly' },
    });
    await binhLu.waitFor('the launch', hasText(DOC));
    await banGiang.waitFor('the launch', has(DOC));
  });

  it('takes "👍" typed after the launch as its acknowledgement, naming the plan, and then nothing more', async () => {
    const acknowledged = await binhLu.ask('👍', hasText('Đã ghi nhận'));
    expect(acknowledged.text).toBe(`✅ Đã ghi nhận: đơn vị đã nhận kế hoạch ${DOC} — ${TITLE}.`);
    expect((await binhLu.ask('ok')).text).toContain('không có gì cần ghi nhận thêm');
    const summary = await service.api<{ units: { acknowledged: number } }>(
      'GET',
      `/api/campaigns/${campaignId}/summary`,
    );
    expect(summary.body.units.acknowledged).toBe(1);
    expect(await reportsOf('TD-BINHLU')).toEqual([]);
  });

  it('records several tasks from one line, names back a number the unit does not have, and undoes them all at once', async () => {
    await binhLu.drain();
    const after = binhLu.received.length;
    await binhLu.send('NV1 xong, NV2 được 50%, NV7 vướng kinh phí');
    const confirmation = await binhLu.waitFor('the confirmation', hasText('Đã ghi nhận báo cáo 2 nhiệm vụ'), {
      after,
    });
    expect(plainText(confirmation.text)).toContain(
      '• NV1. Quán triệt, triển khai kế hoạch (125/KH-UBND): Hoàn thành, 100%',
    );
    expect(plainText(confirmation.text)).toContain(
      '• NV2. Tuyên truyền về các sự kiện lịch sử (125/KH-UBND): Đang thực hiện, 50%',
    );
    expect(confirmation.buttons.map((button) => button.text)).toEqual(['↩️ Hoàn tác cả 2 báo cáo']);
    const unknown = await binhLu.waitFor('the unknown task', hasText('nhiệm vụ số 7'), { after });
    expect(unknown.text).toContain('đơn vị có 3 nhiệm vụ');
    expect(await reportsOf('TD-BINHLU')).toEqual(['QT:done:100', 'TT:in_progress:50']);

    const undone = await binhLu.tap(confirmation, '↩️ Hoàn tác cả 2 báo cáo', hasText('hoàn tác'));
    expect(undone.text).toContain('Đã hoàn tác 2 báo cáo');
    expect(await reportsOf('TD-BINHLU')).toEqual([]);
  });

  it('offers "Tất cả 3 nhiệm vụ" first for "xong hết", recording the three in one tap with one undo', async () => {
    const which = await sonBinh.ask('xong hết', hasText('nhiệm vụ nào'));
    expect(which.buttons.map((button) => button.text)).toEqual([
      'Tất cả 3 nhiệm vụ',
      '1. Quán triệt, triển khai kế hoạch',
      '2. Tuyên truyền về các sự kiện lịch sử',
      '3. Sơ kết, khen thưởng',
    ]);
    expect(await reportsOf('TD-SONBINH')).toEqual([]);
    const recorded = await sonBinh.tap(which, 'Tất cả 3 nhiệm vụ', hasText('Đã ghi nhận'));
    expect(recorded.text).toContain('Đã ghi nhận báo cáo 3 nhiệm vụ');
    expect(recorded.buttons.map((button) => button.text)).toEqual(['↩️ Hoàn tác cả 3 báo cáo']);
    expect(await reportsOf('TD-SONBINH')).toEqual(['QT:done:100', 'TT:done:100', 'KT:done:100']);
  });

  it('asks each unit with open tasks in ONE message for all of them; a button answers one task, one line several', async () => {
    const at = roundOpening().toISOString();
    const dry = await service.api<{ messages: { unitCode: string; to: string }[] }>(
      'POST',
      '/api/jobs/collection/run',
      {
        at,
        dryRun: true,
      },
    );
    // Sơn Bình has done everything: only Bình Lư and Bản Giang are asked, one message each.
    expect(dry.body.messages.map((m) => `${m.unitCode}:${m.to}`).sort()).toEqual([
      'TD-BANGIANG:CB3',
      'TD-BINHLU:CB1',
    ]);
    await binhLu.drain();
    const after = binhLu.received.length;
    const run = await service.api<{ sent: number }>('POST', '/api/jobs/collection/run', { at });
    expect(run.body.sent).toBe(2);
    const asked = await binhLu.waitFor('the round', hasText('Báo cáo định kỳ'), { after });
    expect(asked.text).toContain('3 nhiệm vụ');
    expect(plainText(asked.text)).toContain('NV1. Quán triệt, triển khai kế hoạch — hiện tại: Chưa báo cáo');
    expect(plainText(asked.text)).toContain('NV3. Sơ kết, khen thưởng');
    expect(asked.buttons.map((button) => button.text)).toEqual(
      [1, 2, 3].flatMap((n) => [`✅ NV${n}`, `⏳ NV${n}`, `⚠️ NV${n}`, `❌ NV${n}`]),
    );
    expect((await service.api<{ sent: number }>('POST', '/api/jobs/collection/run', { at })).body.sent).toBe(
      0,
    );

    const tapped = await binhLu.tap(asked, '✅ NV1', hasText('Đã ghi nhận'));
    expect(tapped.text).toContain('Quán triệt, triển khai kế hoạch');
    const line = await binhLu.ask('NV2 được 50%, NV3 chưa làm', hasText('Đã ghi nhận'));
    expect(line.text).toContain('Đã ghi nhận báo cáo 2 nhiệm vụ');
    expect(await reportsOf('TD-BINHLU')).toEqual(['QT:done:100', 'TT:in_progress:50', 'KT:not_started']);
    await binhLu.drain();
    expect(
      binhLu.received.filter((message: BotMessage) => message.text.includes('Báo cáo định kỳ')),
    ).toHaveLength(1);
  });

  it('does the same on Zalo by numbers: the round in one message, "xong hết" then "1" for all, "1" to undo', async () => {
    const asked = await banGiang.waitFor('the round', has('Báo cáo định kỳ'));
    expect(asked).toContain('NV2. Tuyên truyền về các sự kiện lịch sử');
    expect(asked).toMatch(/\n1\. ✅ NV1\n2\. ⏳ NV1\n3\. ⚠️ NV1\n4\. ❌ NV1\n5\. ✅ NV2/);
    expect(asked).toMatch(/\n12\. ❌ NV3$/);
    expect(await banGiang.ask('2', has('Đã ghi nhận'))).toContain('Đang thực hiện');
    expect(await reportsOf('TD-BANGIANG')).toEqual(['QT:in_progress']);

    const which = await banGiang.ask('đã hoàn thành tất cả', has('nhiệm vụ nào'));
    expect(which).toMatch(/\n1\. Tất cả 3 nhiệm vụ\n2\. 1\. Quán triệt/);
    const recorded = await banGiang.ask('1', has('Đã ghi nhận'));
    expect(recorded).toContain('Đã ghi nhận báo cáo 3 nhiệm vụ');
    expect(recorded).toMatch(/\n1\. ↩️ Hoàn tác cả 3 báo cáo$/);
    expect(await reportsOf('TD-BANGIANG')).toEqual(['QT:done:100', 'TT:done:100', 'KT:done:100']);
    expect(await banGiang.ask('1', has('hoàn tác'))).toContain('Đã hoàn tác 3 báo cáo');
    expect(await reportsOf('TD-BANGIANG')).toEqual(['QT:in_progress']);
    expect(await banGiang.ask('👍', has('kế hoạch'))).toContain(`đã nhận kế hoạch ${DOC}`);
    expect(zalo.violations).toEqual([]);
  });
});
