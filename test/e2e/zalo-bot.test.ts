import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/db/client.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startService, type ServiceProcess } from '../support/service.ts';
import { waitFor } from '../support/wait.ts';
import { FakeZaloBot, type ZaloUser } from '../support/zalo-bot.ts';

/**
 * The spine's product path on the Zalo Bot Platform: the service as a child process polling a fake
 * Zalo Bot API that checks every call against the documented shape. No buttons: numbered choices.
 */
const TOKEN = '1234567890:e2e-zalo-bot';
const SECRET = 'zalo-webhook-secret';
const DOC = '88/KH-UBND';

let fake: FakeZaloBot;
let database: TestDatabase;
let db: Db;
let service: ServiceProcess;

const has = (fragment: string) => (text: string) => text.includes(fragment);

async function linked(officialCode: string, chatId: string, bare = false): Promise<ZaloUser> {
  const issued = await service.api<{ code: string }>('POST', `/api/officials/${officialCode}/link-codes`);
  expect(issued.status).toBe(201);
  const user = fake.user(chatId);
  await user.ask(bare ? issued.body.code : `/start ${issued.body.code}`, has('Đã liên kết'));
  return user;
}

function postWebhook(body: unknown, secret: string | null = SECRET) {
  return fetch(`${service.url}/webhooks/zalo`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(secret !== null ? { 'x-bot-api-secret-token': secret } : {}),
    },
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  fake = await FakeZaloBot.start(TOKEN);
  database = await createTestDatabase();
  db = createDb(database.url);
  service = await startService({
    DATABASE_URL: database.url,
    ZALO_BOT_TOKEN: TOKEN,
    ZALO_BOT_API_ROOT: fake.url,
    ZALO_BOT_WEBHOOK_SECRET: SECRET,
  });
});

afterAll(async () => {
  await service?.stop();
  if (process.env.E2E_DEBUG) process.stdout.write(service?.output() ?? '');
  await db?.$disconnect();
  await fake?.stop();
  await database?.drop();
});

describe('a campaign over the Zalo Bot Platform', () => {
  let focal: ZaloUser;
  let other: ZaloUser;
  let leader: ZaloUser;
  let campaignId: string;

  it('sets up units, officials and a campaign with many participating units', async () => {
    const units = [
      { code: 'TAMDUONG', name: 'UBND huyện Tam Đường' },
      { code: 'TD-VHTT', name: 'Phòng Văn hóa và Thông tin', parentCode: 'TAMDUONG' },
      { code: 'TD-BINHLU', name: 'UBND xã Bình Lư', parentCode: 'TAMDUONG' },
    ];
    // Enough communes that the summary's list of units that have not reported runs past 2,000 characters.
    for (let n = 1; n <= 45; n += 1) {
      const nn = String(n).padStart(2, '0');
      units.push({
        code: `TD-X${nn}`,
        name: `UBND xã Thí Điểm Số ${nn} thuộc huyện Tam Đường, tỉnh Lai Châu`,
        parentCode: 'TAMDUONG',
      });
    }
    for (const { code, ...body } of units) {
      expect((await service.api('PUT', `/api/units/${code}`, body)).status).toBe(200);
    }
    for (const [code, name, unitCode, role] of [
      ['CB1', 'Trần Thị Mai', 'TD-VHTT', 'focal'],
      ['CB2', 'Tẩn Văn Chiến', 'TD-BINHLU', 'focal'],
      ['CB3', 'Sùng Lữ Páo', 'TAMDUONG', 'leader'],
    ] as const) {
      expect((await service.api('PUT', `/api/officials/${code}`, { name, unitCode, role })).status).toBe(200);
    }
    const created = await service.api<{ id: string }>('POST', '/api/campaigns', {
      docNumber: DOC,
      title: 'Thi đua thực hiện chuyển đổi số năm 2026',
      issuerUnitCode: 'TAMDUONG',
      startsOn: '2026-06-15',
      endsOn: '2027-10-30',
      unitCodes: units.slice(1).map((unit) => unit.code),
      tasks: [
        { key: 'QT', title: 'Quán triệt, triển khai kế hoạch', dueOn: '2026-07-15' },
        { key: 'TT', title: 'Tuyên truyền chuyển đổi số', dueOn: '2027-10-30' },
      ],
    });
    expect(created.status).toBe(201);
    campaignId = created.body.id;
  });

  it('links with /start CODE and with the bare code, and refuses strangers politely', async () => {
    focal = await linked('CB1', 'zu-1001');
    other = await linked('CB2', 'zu-1002', true);
    leader = await linked('CB3', 'zu-1003');
    expect((await fake.user('zu-1999').ask('xin chào')).includes('chưa được liên kết')).toBe(true);
  });

  it('sends the launch as plain text with numbered choices, and "1" acknowledges', async () => {
    const launched = await service.api<{ recipients: number }>('POST', `/api/campaigns/${campaignId}/launch`);
    expect(launched.body.recipients).toBe(2);
    const launch = await focal.waitFor('the launch', has(DOC));
    expect(launch).toContain('PHÁT ĐỘNG THI ĐUA');
    expect(launch).not.toMatch(/<\/?b>/);
    expect(launch).toMatch(/\n1\. 👍 Đã nhận\n2\. 📝 Đăng ký thi đua$/);
    expect(await focal.ask('1', has('kế hoạch'))).toContain('đã nhận kế hoạch');
    // The words of a choice work too, without diacritics.
    expect(await focal.ask('dang ky thi dua', has('kế hoạch'))).toContain('đăng ký thi đua');
    expect(await focal.ask('1', has('kế hoạch'))).toContain('trước đó');
  });

  it('takes status by number, shows the choices again for a wrong number, and undoes', async () => {
    const after = focal.received.length;
    focal.send('/baocao');
    const second = await focal.waitFor('the second status question', has('Tuyên truyền'), { after });
    // Numbering runs on across the messages of one answer: the second task's choices are 5-8.
    expect(second).toContain('5. ✅ Hoàn thành');
    expect(second).toContain('8. ❌ Chưa thực hiện');
    const recorded = await focal.ask('5', has('Đã ghi nhận'));
    expect(recorded).toContain('Tuyên truyền chuyển đổi số');
    expect(recorded).toContain('Hoàn thành');
    expect(recorded).toMatch(/1\. ↩️ Hoàn tác$/);
    const again = await focal.ask('7', has('Không có lựa chọn số 7'));
    expect(again).toContain('1. ↩️ Hoàn tác');
    expect(await focal.ask('1', has('hoàn tác'))).toContain('Đã hoàn tác');
  });

  it('takes status by free text and asks which task with numbers when unsure', async () => {
    expect(await other.ask('nv1 dang trien khai 60%', has('Đã ghi nhận'))).toContain('60%');
    const which = await other.ask('vướng kinh phí', has('nhiệm vụ nào'));
    expect(which).toMatch(/\n1\. 1\. Quán triệt.*\n2\. 2\. Tuyên truyền/);
    expect(await other.ask('2', has('Đã ghi nhận'))).toContain('Vướng mắc');
    const reports = await service.api<{ unitCode: string; taskKey: string; status: string }[]>(
      'GET',
      `/api/campaigns/${campaignId}/reports`,
    );
    expect(reports.body.map((row) => `${row.unitCode}:${row.taskKey}:${row.status}`).sort()).toEqual([
      'TD-BINHLU:QT:in_progress',
      'TD-BINHLU:TT:blocked',
    ]);
  });

  it('splits a long /tonghop under 2,000 characters a message', async () => {
    const after = leader.received.length;
    leader.send('/tonghop');
    await leader.waitFor('the summary', has(`TỔNG HỢP ${DOC}`), { after });
    // The row is marked sent once every part has gone out.
    const row = await waitFor('the summary and its chart to be sent in full', async () => {
      const rows = await db.outboxMessage.findMany({
        where: { chatId: leader.chatId, channel: 'zalo' },
        orderBy: { seq: 'desc' },
        take: 2,
      });
      return rows.every((r) => r.state === 'sent') ? rows[1] : undefined;
    });
    // The chart follows as text here (Zalo's bot gets no picture without a public URL).
    const parts = leader.received.slice(after, -1);
    expect(leader.received.at(-1)).toContain('Tiến độ theo đơn vị');
    // Without PUBLIC_URL there is no link Zalo could fetch: the text says the picture cannot be shown.
    expect(leader.received.at(-1)).toContain('Kênh này không hiển thị được ảnh biểu đồ');
    expect(fake.photos).toEqual([]);
    expect((await fetch(`${service.url}/files/anything.png`)).status).toBe(404);
    expect(parts).toHaveLength(row.partsSent);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts[0]).toContain(`TỔNG HỢP ${DOC}`);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(2000);
    // At most 20 units are named (issue 16): the rest are counted, and the Excel file lists them all.
    expect(parts.join('\n')).toMatch(/… và \d+ đơn vị khác/);
  });

  it('lists tasks and switches language by number', async () => {
    expect(await focal.ask('/nhiemvu', has('Nhiệm vụ của'))).toContain('hạn 15/07/2026');
    const choose = await focal.ask('/ngonngu', has('Choose a language'));
    expect(choose).toMatch(/1\. Tiếng Việt\n2\. English$/);
    expect(await focal.ask('2', has('English'))).toBe('Language set to English.');
    expect(await focal.ask('/help', has('How to use'))).toContain('/report — report progress');
    expect(await focal.ask('1', has('tiếng Việt'))).toContain('Đã chuyển');
  });

  it('answers a sticker or a picture with a short hint and records nothing else', async () => {
    const reportsBefore = await db.statusReport.count();
    const after = focal.received.length;
    fake.push(fake.update(focal.chatId, 'message.sticker.received', { sticker: 'abc' }));
    await focal.waitFor('the hint', has('chỉ đọc được tin nhắn chữ'), { after });
    fake.push(
      fake.update(focal.chatId, 'message.image.received', { photo_url: 'https://example.com/a.jpg' }),
    );
    await focal.waitFor('the second hint', (text) => text.includes('chỉ đọc được'), { after: after + 1 });
    expect(await db.statusReport.count()).toBe(reportsBefore);
  });

  it('retries a send Zalo answered with an internal error, and delivers it once', async () => {
    const after = focal.received.length;
    const triesBefore = fake.tries(focal.chatId);
    const lastSeq = (
      await db.outboxMessage.findFirst({ where: { chatId: focal.chatId }, orderBy: { seq: 'desc' } })
    )?.seq;
    fake.inject(focal.chatId, { error_code: 403, description: 'Internal error' });
    await focal.ask('/huongdan', has('Hướng dẫn'));
    // Once its rows are marked sent nothing more can go out for this answer: a duplicate would be here.
    await waitFor('the help to be marked sent', async () => {
      const rows = await db.outboxMessage.findMany({
        where: { chatId: focal.chatId, channel: 'zalo', ...(lastSeq ? { seq: { gt: lastSeq } } : {}) },
      });
      return rows.length > 0 && rows.every((row) => row.state === 'sent') ? rows : undefined;
    });
    const answers = focal.received.slice(after);
    expect(answers.filter(has('Hướng dẫn'))).toHaveLength(1);
    // Every send to the chat either delivered a message or met the fault: exactly one met it.
    expect(fake.tries(focal.chatId) - triesBefore).toBe(answers.length + 1);
  });

  it('checks the webhook secret and accepts flat and wrapped bodies, each once', async () => {
    const before = await db.inboundUpdate.count();
    const update = fake.update(focal.chatId, 'message.text.received', { text: '/nhiemvu' });
    expect((await postWebhook(update, null)).status).toBe(401);
    expect((await postWebhook(update, 'not-the-secret')).status).toBe(401);
    expect(await db.inboundUpdate.count()).toBe(before);

    const after = focal.received.length;
    expect((await postWebhook(update)).status).toBe(200);
    expect((await postWebhook({ ok: true, result: update })).status).toBe(200);
    expect((await postWebhook(update)).status).toBe(200);
    await focal.waitFor('the task list', has('Nhiệm vụ của'), { after });
    const wrapped = fake.update(focal.chatId, 'message.text.received', { text: '/huongdan' });
    expect((await postWebhook({ ok: true, result: wrapped })).status).toBe(200);
    await focal.waitFor('the help', has('Hướng dẫn'), { after });
    expect(focal.received.slice(after).filter(has('Nhiệm vụ của'))).toHaveLength(1);
    expect(await db.inboundUpdate.count()).toBe(before + 2);
    expect((await postWebhook({ event_name: 'message.reaction.received' })).status).toBe(200);
  });

  it('made only documented calls and counts what it sent', async () => {
    expect(fake.violations).toEqual([]);
    expect(fake.calls).toContain('deleteWebhook');
    const metrics = await waitFor('the sent counter', async () => {
      const text = await (await fetch(`${service.url}/metrics`)).text();
      return /thidua_messages_sent_total\{channel="zalo"\} [1-9]/.test(text) ? text : undefined;
    });
    expect(metrics).toContain('thidua_messages_quota_exhausted_total');
    expect(await service.stop('SIGTERM')).toBe(0);
  });
});
