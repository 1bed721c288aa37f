import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startService, type ServiceProcess } from '../support/service.ts';
import { hasText, linkTelegramUser, putOfficials, putUnits } from '../support/seed-api.ts';
import { Emulator, type BotMessage, type ChatUser } from '../support/telegram.ts';
import { FaultyTelegram } from '../support/telegram-proxy.ts';
import { FakeZaloBot, type ZaloUser } from '../support/zalo-bot.ts';

/**
 * /diemhinh on real parts: the service as a child process with Telegram (emulator behind the media proxy)
 * and the Zalo Bot Platform (fake) at once, PostgreSQL, Redis, BullMQ; checked through the chats and the
 * admin API (list, workbook).
 */
const TELEGRAM_TOKEN = '200000002:E2E-exemplars';
const ZALO_TOKEN = '1234567891:e2e-exemplars';
const DOC = '125/KH-UBND';
const OTHER_DOC = '130/KH-UBND';

let emulator: Emulator;
let proxy: FaultyTelegram;
let zalo: FakeZaloBot;
let database: TestDatabase;
let service: ServiceProcess;

const has = (fragment: string) => (text: string) => text.includes(fragment);

interface ExemplarJson {
  id: string;
  unit: { code: string; name: string };
  reportedBy: { code: string; name: string };
  subject: string;
  achievement: string;
  hasPhoto: boolean;
  channel: string;
  createdAt: string;
}

const linkedTelegram = (officialCode: string, userId: number): Promise<ChatUser> =>
  linkTelegramUser(service, emulator, TELEGRAM_TOKEN, officialCode, userId);

async function linkedZalo(officialCode: string, chatId: string): Promise<ZaloUser> {
  const issued = await service.api<{ code: string }>('POST', `/api/officials/${officialCode}/link-codes`);
  expect(issued.status).toBe(201);
  const user = zalo.user(chatId);
  await user.ask(`/start ${issued.body.code}`, has('Đã liên kết'));
  return user;
}

/** A picture as Telegram sends it: every size, the largest last, optionally a caption. */
async function sendTelegramPhoto(
  user: ChatUser,
  fileId: string,
  match: (message: BotMessage) => boolean,
  caption?: string,
): Promise<BotMessage> {
  await user.drain();
  const after = user.received.length;
  const message = user.client.makeMessage('', caption ? { caption } : {}) as unknown as Record<
    string,
    unknown
  >;
  delete message.text;
  message.photo = [
    { file_id: `${fileId}-small`, file_unique_id: `${fileId}-s`, width: 90, height: 68, file_size: 1_200 },
    { file_id: fileId, file_unique_id: `${fileId}-b`, width: 1280, height: 960, file_size: 150_000 },
  ];
  await user.client.sendMessage(message);
  return user.waitFor(`an answer to the photo ${fileId}`, match, { after });
}

async function exemplars(campaignId: string, query = ''): Promise<ExemplarJson[]> {
  const response = await service.api<{ exemplars: ExemplarJson[] }>(
    'GET',
    `/api/campaigns/${campaignId}/exemplars${query}`,
  );
  expect(response.status).toBe(200);
  return response.body.exemplars;
}

beforeAll(async () => {
  emulator = await Emulator.start();
  proxy = await FaultyTelegram.start(emulator.url);
  zalo = await FakeZaloBot.start(ZALO_TOKEN);
  database = await createTestDatabase();
  service = await startService({
    DATABASE_URL: database.url,
    TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
    TELEGRAM_API_ROOT: proxy.url,
    ZALO_BOT_TOKEN: ZALO_TOKEN,
    ZALO_BOT_API_ROOT: zalo.url,
  });
});

afterAll(async () => {
  await service?.stop();
  if (process.env.E2E_DEBUG) process.stdout.write(service?.output() ?? '');
  await proxy?.stop();
  await emulator?.stop();
  await zalo?.stop();
  await database?.drop();
});

describe('exemplars (điển hình tiên tiến) over Telegram and Zalo', () => {
  let member: ChatUser;
  let focal: ChatUser;
  let leader: ChatUser;
  let zaloFocal: ZaloUser;
  let campaignId: string;
  let otherCampaignId: string;

  it('sets up two running campaigns; Bình Lư takes part in both, Sơn Bình in one', async () => {
    await putUnits(service, [
      { code: 'TAMDUONG', name: 'UBND huyện Tam Đường' },
      { code: 'TD-BINHLU', name: 'UBND xã Bình Lư', parentCode: 'TAMDUONG' },
      { code: 'TD-SONBINH', name: 'UBND xã Sơn Bình', parentCode: 'TAMDUONG' },
    ]);
    await putOfficials(service, [
      { code: 'CB2', name: 'Tẩn Văn Chiến', unitCode: 'TD-BINHLU', role: 'focal' },
      { code: 'CB3', name: 'Sùng Lữ Páo', unitCode: 'TAMDUONG', role: 'leader' },
      { code: 'CB4', name: 'Đỗ Thị Lan', unitCode: 'TD-SONBINH', role: 'member' },
      { code: 'CB5', name: 'Lò Văn Hùng', unitCode: 'TD-BINHLU', role: 'member' },
    ]);
    const campaign = (docNumber: string, unitCodes: string[]) =>
      service.api<{ id: string }>('POST', '/api/campaigns', {
        docNumber,
        title: `Phong trào thi đua theo kế hoạch ${docNumber}`,
        issuerUnitCode: 'TAMDUONG',
        startsOn: '2026-06-15',
        endsOn: '2027-10-30',
        unitCodes,
        tasks: [{ key: 'QT', title: 'Quán triệt, triển khai kế hoạch', dueOn: '2027-07-15' }],
      });
    const first = await campaign(DOC, ['TD-BINHLU', 'TD-SONBINH']);
    const second = await campaign(OTHER_DOC, ['TD-BINHLU']);
    expect([first.status, second.status]).toEqual([201, 201]);
    campaignId = first.body.id;
    otherCampaignId = second.body.id;
    for (const id of [campaignId, otherCampaignId]) {
      expect((await service.api('POST', `/api/campaigns/${id}/launch`)).status).toBe(202);
    }
    member = await linkedTelegram('CB4', 7004);
    focal = await linkedTelegram('CB2', 7002);
    leader = await linkedTelegram('CB3', 7003);
    zaloFocal = await linkedZalo('CB5', 'zx-7005');
  });

  it('refuses a chat that is not linked, and records nothing', async () => {
    const stranger = emulator.user(TELEGRAM_TOKEN, 7999);
    expect((await stranger.ask('/diemhinh Nguyễn Văn A – trồng rừng')).text).toContain('chưa được liên kết');
    expect((await stranger.ask('điển hình Nguyễn Văn A – trồng rừng')).text).toContain('chưa được liên kết');
    expect(await exemplars(campaignId)).toEqual([]);
  });

  it('takes a member step by step: who, what, then a photo', async () => {
    const who = await member.ask('/diemhinh', hasText('Điển hình là ai'));
    expect(who.text).toContain(DOC);
    const what = await member.ask('Bà Lò Thị B, bản Nà Bỏ', hasText('Việc làm tiêu biểu'));
    expect(what.text).toContain('<b>Bà Lò Thị B, bản Nà Bỏ</b>');
    const photo = await member.ask('vận động 20 hộ xây nhà vệ sinh', hasText('ảnh minh họa'));
    expect(photo.buttons.map((button) => button.text)).toEqual(['⏭ Bỏ qua']);
    const done = await sendTelegramPhoto(member, 'AgACAgUAAxkBAAIB-photo', hasText('Đã ghi nhận điển hình'));
    expect(done.text).toContain('Điển hình: <b>Bà Lò Thị B, bản Nà Bỏ</b>');
    expect(done.text).toContain('Việc làm: vận động 20 hộ xây nhà vệ sinh');
    expect(done.text).toContain('Ảnh: có');
    expect(done.buttons.map((button) => button.text)).toEqual(['↩️ Hoàn tác']);

    const [recorded, ...rest] = await exemplars(campaignId);
    expect(rest).toEqual([]);
    expect(recorded).toMatchObject({
      unit: { code: 'TD-SONBINH', name: 'UBND xã Sơn Bình' },
      reportedBy: { code: 'CB4', name: 'Đỗ Thị Lan' },
      subject: 'Bà Lò Thị B, bản Nà Bỏ',
      achievement: 'vận động 20 hộ xây nhà vệ sinh',
      hasPhoto: true,
      channel: 'telegram',
    });
  });

  it('answers a picture outside a report as before', async () => {
    const answer = await sendTelegramPhoto(member, 'AgAC-stray', () => true);
    expect(answer.text).toContain('chỉ đọc được tin nhắn chữ');
    expect(await exemplars(campaignId)).toHaveLength(1);
  });

  it('records a picture whose caption is a one-line report, photo attached', async () => {
    const done = await sendTelegramPhoto(
      member,
      'AgAC-captioned',
      hasText('Đã ghi nhận điển hình'),
      'điển hình Ông Hà Văn C – sửa 1 km đường liên thôn',
    );
    expect(done.text).toContain('Điển hình: <b>Ông Hà Văn C</b>');
    expect(done.text).toContain('Ảnh: có');
    expect((await exemplars(campaignId)).map((e) => [e.subject, e.hasPhoto])).toEqual([
      ['Bà Lò Thị B, bản Nà Bỏ', true],
      ['Ông Hà Văn C', true],
    ]);
    expect((await member.tap(done, '↩️ Hoàn tác')).text).toContain('Đã rút lại điển hình');
    expect(await exemplars(campaignId)).toHaveLength(1);
  });

  it('asks which plan when several run, records a one-liner at once, and undoes it', async () => {
    const choose = await focal.ask(
      '/diemhinh Nguyễn Văn A – trồng 2 ha rừng phòng hộ',
      hasText('kế hoạch nào'),
    );
    expect(choose.buttons.map((button) => button.text).sort()).toEqual([DOC, OTHER_DOC].sort());
    const done = await focal.tap(choose, OTHER_DOC, hasText('Đã ghi nhận điển hình'));
    expect(done.text).toContain(`kế hoạch ${OTHER_DOC}`);
    expect(done.text).toContain('Điển hình: <b>Nguyễn Văn A</b>');
    expect(done.text).toContain('Việc làm: trồng 2 ha rừng phòng hộ');
    expect(done.text).toContain('Ảnh: không');
    expect((await exemplars(otherCampaignId)).map((e) => e.subject)).toEqual(['Nguyễn Văn A']);

    expect((await focal.tap(done, '↩️ Hoàn tác')).text).toContain('Đã rút lại điển hình');
    expect(await exemplars(otherCampaignId)).toEqual([]);
    expect((await focal.tap(done, '↩️ Hoàn tác')).text).toContain('đã được rút lại trước đó');
    // The choice was used up with the report.
    expect((await focal.tap(choose, DOC)).text).toContain('hết hạn');
  });

  it('reads "diem hinh …" typed without diacritics, and skips the photo with the button', async () => {
    const choose = await focal.ask('diem hinh Hợp tác xã Bình Lư', hasText('kế hoạch nào'));
    const what = await focal.tap(choose, DOC, hasText('Việc làm tiêu biểu'));
    expect(what.text).toContain('<b>Hợp tác xã Bình Lư</b>');
    const photo = await focal.ask('nuôi cá lồng, tạo việc làm cho 30 lao động', hasText('ảnh minh họa'));
    const done = await focal.tap(photo, '⏭ Bỏ qua', hasText('Đã ghi nhận điển hình'));
    expect(done.text).toContain('Ảnh: không');
    expect((await exemplars(campaignId)).map((e) => [e.subject, e.hasPhoto])).toEqual([
      ['Bà Lò Thị B, bản Nà Bỏ', true],
      ['Hợp tác xã Bình Lư', false],
    ]);
  });

  it('drops a draft on /huy, and on another command, which still runs', async () => {
    await focal.ask('/diemhinh', hasText('kế hoạch nào'));
    expect((await focal.ask('/huy')).text).toContain('Đã hủy báo cáo điển hình');
    expect((await focal.ask('/huy')).text).toContain('Không có việc gì');

    const choose = await focal.ask('/diemhinh', hasText('kế hoạch nào'));
    await focal.tap(choose, DOC, hasText('Điển hình là ai'));
    await focal.drain();
    const after = focal.received.length;
    await focal.send('/nhiemvu');
    await focal.waitFor('the tasks', hasText('Nhiệm vụ của'), { after });
    expect(focal.received.slice(after).map((message) => message.text)[0]).toContain(
      'Đã bỏ báo cáo điển hình',
    );
    // With the draft gone, a name is read as a status reply again, not as an exemplar.
    expect((await focal.ask('Nguyễn Văn C')).text).not.toContain('Việc làm tiêu biểu');
    expect(await exemplars(campaignId)).toHaveLength(2);
  });

  it('says clearly when a name is too long, and keeps asking', async () => {
    await member.ask('/diemhinh', hasText('Điển hình là ai'));
    const refused = await member.ask('A'.repeat(201), hasText('quá dài'));
    expect(refused.text).toContain('201 ký tự, tối đa 200');
    await member.waitFor('the question again', hasText('Điển hình là ai'), {
      after: member.received.indexOf(refused),
    });
    expect((await member.ask('/huy')).text).toContain('Đã hủy');
    expect(await exemplars(campaignId)).toHaveLength(2);
  });

  it('takes one on Zalo by numbered choices and a photo', async () => {
    const choose = await zaloFocal.ask('/diemhinh', has('kế hoạch nào'));
    const line = choose.split('\n').find((text) => text.endsWith(OTHER_DOC)) ?? '';
    const number = /^(\d+)\. /.exec(line)?.[1];
    expect(number).toBeDefined();
    expect(await zaloFocal.ask(number ?? '', has('Điển hình là ai'))).toContain(OTHER_DOC);
    // A name with a dash inside stays whole at the "who?" step.
    expect(await zaloFocal.ask('Tổ dân phố 3-4', has('Việc làm tiêu biểu'))).toContain('Tổ dân phố 3-4');
    const photo = await zaloFocal.ask('dọn vệ sinh kênh mương 2 km', has('ảnh minh họa'));
    expect(photo).toMatch(/\n1\. ⏭ Bỏ qua$/);
    const after = zaloFocal.received.length;
    zalo.push(
      zalo.update(zaloFocal.chatId, 'message.image.received', {
        photo_url: 'https://photo-stal.zadn.vn/exemplar.jpg',
      }),
    );
    const done = await zaloFocal.waitFor('the confirmation', has('Đã ghi nhận điển hình'), { after });
    expect(done).toContain('Ảnh: có');
    expect(done).toMatch(/\n1\. ↩️ Hoàn tác$/);
    expect(await exemplars(otherCampaignId)).toMatchObject([
      {
        subject: 'Tổ dân phố 3-4',
        achievement: 'dọn vệ sinh kênh mương 2 km',
        hasPhoto: true,
        channel: 'zalo',
        reportedBy: { code: 'CB5' },
        unit: { code: 'TD-BINHLU' },
      },
    ]);
    expect(zalo.violations).toEqual([]);
  });

  it("shows the leader's summary the count in scope, and lists them in the workbook", async () => {
    const summary = await leader.ask(`/tonghop ${DOC}`, hasText('TỔNG HỢP'));
    expect(summary.text).toContain('Điển hình tiên tiến đã báo cáo: 2');

    const response = await fetch(`${service.url}/api/campaigns/${campaignId}/export.xlsx`, {
      headers: { authorization: `Bearer ${service.token}` },
    });
    expect(response.status).toBe(200);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(await response.arrayBuffer());
    const rows: string[][] = [];
    workbook
      .getWorksheet('Điển hình')
      ?.eachRow((row) => rows.push((row.values as unknown[]).slice(1).map((value) => String(value))));
    expect(rows.map((row) => row.slice(0, 4))).toEqual([
      ['Điển hình', 'Việc làm', 'Đơn vị', 'Người báo'],
      ['Bà Lò Thị B, bản Nà Bỏ', 'vận động 20 hộ xây nhà vệ sinh', 'UBND xã Sơn Bình', 'Đỗ Thị Lan (CB4)'],
      [
        'Hợp tác xã Bình Lư',
        'nuôi cá lồng, tạo việc làm cho 30 lao động',
        'UBND xã Bình Lư',
        'Tẩn Văn Chiến (CB2)',
      ],
    ]);
  });

  it('lists them on the admin API by unit, with clear refusals', async () => {
    expect((await exemplars(campaignId, '?unit=TD-SONBINH')).map((e) => e.reportedBy.code)).toEqual(['CB4']);
    expect(await exemplars(campaignId, '?unit=TAMDUONG')).toHaveLength(2);
    const unknown = await service.api('GET', '/api/campaigns/0190f0f0-0000-7000-8000-000000000001/exemplars');
    expect(unknown.status).toBe(404);
    expect((await service.api('GET', `/api/campaigns/${'x'.repeat(65)}/exemplars`)).status).toBe(400);
    expect((await service.api('GET', `/api/campaigns/${campaignId}/exemplars?unit=KHONG-CO`)).status).toBe(
      404,
    );
    expect((await service.api('GET', `/api/campaigns/${campaignId}/exemplars?unit=a%20b`)).status).toBe(400);
  });
});
