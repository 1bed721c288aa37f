import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startService, type ServiceProcess } from '../support/service.ts';
import { hasText, launchCampaign, linkTelegramUser, putOfficials, putUnits } from '../support/seed-api.ts';
import { Emulator, type ChatUser } from '../support/telegram.ts';
import { FaultyTelegram } from '../support/telegram-proxy.ts';
import { waitFor } from '../support/wait.ts';

/** The weekly digest end to end: the jobs API runs it as of next Monday 08:00; a leader gets it on Telegram. */
const TOKEN = '200000003:E2E-weekly-digest';
const DOC = '21/KH-UBND';
const ZONE = 'Asia/Ho_Chi_Minh';

let emulator: Emulator;
let proxy: FaultyTelegram;
let database: TestDatabase;
let service: ServiceProcess;
let leader: ChatUser;

// The campaign is launched now, so the first digest is next Monday's (a slot before the launch is skipped).
const today = DateTime.now().setZone(ZONE);
const MONDAY = today.startOf('week').plus({ weeks: 1 }).set({ hour: 8 });
const SUNDAY = MONDAY.plus({ days: 6 });

beforeAll(async () => {
  emulator = await Emulator.start();
  proxy = await FaultyTelegram.start(emulator.url);
  database = await createTestDatabase();
  service = await startService({
    DATABASE_URL: database.url,
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: proxy.url,
  });
  await putUnits(service, [
    { code: 'TAMDUONG', name: 'UBND huyện Tam Đường' },
    { code: 'TD-BINHLU', name: 'UBND xã Bình Lư', parentCode: 'TAMDUONG' },
    { code: 'TD-SONBINH', name: 'UBND xã Sơn Bình', parentCode: 'TAMDUONG' },
  ]);
  await putOfficials(service, [{ code: 'CB3', name: 'Sùng Lữ Páo', unitCode: 'TAMDUONG', role: 'leader' }]);
  leader = await linkTelegramUser(service, emulator, TOKEN, 'CB3', 6103);
  await launchCampaign(service, {
    docNumber: DOC,
    title: 'Phong trào thi đua xây dựng nông thôn mới',
    issuerUnitCode: 'TAMDUONG',
    startsOn: today.toISODate(),
    endsOn: today.plus({ days: 120 }).toISODate(),
    unitCodes: ['TD-BINHLU', 'TD-SONBINH'],
    tasks: [{ key: 'QT', title: 'Quán triệt, triển khai', dueOn: today.plus({ days: 60 }).toISODate() }],
  });
});

afterAll(async () => {
  await service?.stop();
  await proxy?.stop();
  await emulator?.stop();
  await database?.drop();
});

describe('the weekly digest over Telegram', () => {
  it('a leader receives the summary of their subtree with its chart and buttons, once', async () => {
    const after = (await leader.drain(), leader.received.length);
    const seen = proxy.media.length;
    const run = await service.api<{ sent: number; messages: { kind: string; to: string }[] }>(
      'POST',
      '/api/jobs/weekly-digest/run',
      { at: MONDAY.toJSDate().toISOString() },
    );
    expect(run.status).toBe(200);
    expect(run.body.sent).toBe(2);
    expect(run.body.messages.map((m) => `${m.kind}:${m.to}`)).toEqual([
      'weekly-digest:CB3',
      'weekly-digest:CB3',
    ]);

    const digest = await leader.waitFor('the digest', hasText('Tổng hợp tuần'), { after });
    expect(digest.text).toContain(
      `Tổng hợp tuần ${MONDAY.toFormat('dd/MM')} – ${SUNDAY.toFormat('dd/MM/yyyy')}`,
    );
    expect(digest.text).toContain(`TỔNG HỢP ${DOC}`);
    expect(digest.text).toContain('Phạm vi: UBND huyện Tam Đường');
    expect(digest.text).toContain('Đơn vị tham gia: 2 · Đã nhận: 0');
    const chart = await waitFor('the chart picture', () =>
      proxy.media.slice(seen).find((m) => m.chatId === String(leader.userId) && m.method === 'sendPhoto'),
    );
    expect(chart.caption).toContain(`Tiến độ theo đơn vị — ${DOC}`);
    expect(chart.file.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(chart.buttons.map((button) => button.text)).toEqual([
      '🔎 UBND xã Bình Lư',
      '🔎 UBND xã Sơn Bình',
      '⏰ Chỉ đơn vị chậm',
      '📥 Tệp Excel',
    ]);

    // The buttons work as under /tonghop: the late units, none yet.
    const lateData = chart.buttons.find((button) => button.text === '⏰ Chỉ đơn vị chậm')?.data ?? '';
    const before = leader.received.length;
    await leader.pressData(1, lateData);
    const late = await leader.waitFor('the late units', hasText('chậm'), { after: before });
    expect(late.text).toContain('Không có đơn vị nào chậm trong phạm vi UBND huyện Tam Đường');

    const again = await service.api<{ sent: number }>('POST', '/api/jobs/weekly-digest/run', {
      at: MONDAY.plus({ minutes: 15 }).toJSDate().toISOString(),
    });
    expect(again.body.sent).toBe(0);
  });
});
