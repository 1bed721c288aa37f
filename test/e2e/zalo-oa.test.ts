import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/db/client.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { hasText, putOfficials } from '../support/seed-api.ts';
import { startService, type ServiceProcess } from '../support/service.ts';
import { waitFor } from '../support/wait.ts';
import { FakeZaloBot } from '../support/zalo-bot.ts';
import { FakeZaloOa, type OaSent } from '../support/zalo-oa.ts';

/**
 * The Zalo Official Account channel: two service instances on one database against a fake OA API
 * (signed webhooks, single-use refresh tokens, documented errors), with the Zalo Bot Platform beside
 * it for fallback and for telling the admins.
 */
const APP_ID = '1234567890123456789';
const APP_SECRET = 'app-secret-key';
const OA_SECRET = 'oa-secret-key';
const BOT_TOKEN = '9876543210:e2e-oa-fallback';
const DOC = '15/KH-HĐTĐKT';

let oa: FakeZaloOa;
let bot: FakeZaloBot;
let database: TestDatabase;
let db: Db;
let first: ServiceProcess;
let second: ServiceProcess;

function post(service: ServiceProcess, body: string, signature: string | null) {
  return fetch(`${service.url}/webhooks/zalo-oa`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(signature ? { 'x-zevent-signature': signature } : {}),
    },
    body,
  });
}

async function say(userId: string, text: string, service = first): Promise<number> {
  const { body, signature } = oa.signed(oa.textEvent(userId, text));
  return (await post(service, body, signature)).status;
}

async function ask(userId: string, text: string, match: (message: OaSent) => boolean): Promise<OaSent> {
  const after = oa.sentTo(userId).length;
  expect(await say(userId, text)).toBe(200);
  return oa.waitForSent(`an answer to "${text}"`, userId, match, after);
}

beforeAll(async () => {
  oa = await FakeZaloOa.start(APP_ID, APP_SECRET, OA_SECRET);
  bot = await FakeZaloBot.start(BOT_TOKEN);
  database = await createTestDatabase();
  db = createDb(database.url);
  oa.refreshDelayMs = 300;
  const env = {
    DATABASE_URL: database.url,
    ...oa.serviceEnv(),
    ZALO_BOT_TOKEN: BOT_TOKEN,
    ZALO_BOT_API_ROOT: bot.url,
  };
  // Migrations first, by one of them, then the second joins the same database and Redis prefix.
  first = await startService(env);
  second = await startService({ ...env, QUEUE_PREFIX: first.prefix, ADMIN_API_TOKEN: first.token });
});

afterAll(async () => {
  await Promise.all([first?.stop(), second?.stop()]);
  if (process.env.E2E_DEBUG) process.stdout.write(`${first?.output() ?? ''}${second?.output() ?? ''}`);
  await db?.$disconnect();
  await Promise.all([oa?.stop(), bot?.stop()]);
  await database?.drop();
});

describe('the Zalo Official Account channel', () => {
  let campaignId: string;

  it('refreshed the seeded token once, although both instances wanted to', async () => {
    expect(oa.refreshes).toHaveLength(1);
    expect(oa.refreshes.every((refresh) => refresh.ok)).toBe(true);
    const row = await db.zaloOaToken.findUniqueOrThrow({ where: { appId: APP_ID } });
    expect(row.failedAt).toBeNull();
    expect(row.expiresAt.getTime()).toBeGreaterThan(Date.now() + 24 * 3600_000);
  });

  it('sets up a campaign and links officials through signed webhooks', async () => {
    await first.api('PUT', '/api/units/TAMDUONG', { name: 'UBND huyện Tam Đường' });
    await first.api('PUT', '/api/units/TD-VHTT', {
      name: 'Phòng Văn hóa và Thông tin',
      parentCode: 'TAMDUONG',
    });
    await first.api('PUT', '/api/units/TD-BINHLU', { name: 'UBND xã Bình Lư', parentCode: 'TAMDUONG' });
    await putOfficials(first, [
      { code: 'CB1', name: 'Trần Thị Mai', unitCode: 'TD-VHTT', role: 'focal' },
      { code: 'CB2', name: 'Tẩn Văn Chiến', unitCode: 'TD-BINHLU', role: 'focal' },
      { code: 'AD1', name: 'Lò Thị Hoa', unitCode: 'TAMDUONG', role: 'admin' },
    ]);
    const created = await first.api<{ id: string }>('POST', '/api/campaigns', {
      docNumber: DOC,
      title: 'Thi đua cải cách hành chính',
      issuerUnitCode: 'TAMDUONG',
      startsOn: '2026-06-15',
      endsOn: '2027-10-30',
      unitCodes: ['TD-VHTT', 'TD-BINHLU'],
      tasks: [{ key: 'CC', title: 'Rà soát thủ tục hành chính', dueOn: '2027-10-30' }],
    });
    expect(created.status).toBe(201);
    campaignId = created.body.id;

    const code = async (official: string) =>
      (await first.api<{ code: string }>('POST', `/api/officials/${official}/link-codes`)).body.code;
    expect((await ask('8001', `/start ${await code('CB1')}`, hasText('Đã liên kết'))).text).toContain(
      'Trần Thị Mai',
    );
    // CB2 has both: the Zalo bot first, then the OA (the most recent one gets the news).
    await bot.user('zb-2').ask(await code('CB2'), (text) => text.includes('Đã liên kết'));
    await ask('8002', await code('CB2'), hasText('Đã liên kết'));
    await bot.user('zb-9').ask(`/start ${await code('AD1')}`, (text) => text.includes('Đã liên kết'));
  });

  it('refuses a bad or missing signature with 401 and records nothing', async () => {
    const before = await db.inboundUpdate.count();
    const event = oa.textEvent('8001', '/nhiemvu');
    const wrong = oa.signed(event, 'not-the-oa-secret');
    expect((await post(first, wrong.body, wrong.signature)).status).toBe(401);
    expect((await post(first, wrong.body, null)).status).toBe(401);
    const good = oa.signed(event);
    // The signature covers the exact bytes: the same JSON re-spaced is refused.
    expect((await post(first, JSON.stringify(event, null, 1), good.signature)).status).toBe(401);
    expect(await db.inboundUpdate.count()).toBe(before);
    expect(await db.webhookInbox.count({ where: { updateKey: event.message.msg_id } })).toBe(0);
  });

  it('records a replayed event once, whichever instance gets it', async () => {
    const after = oa.sentTo('8001').length;
    const { body, signature } = oa.signed(oa.textEvent('8001', '/huongdan'));
    const statuses = await Promise.all(
      [first, second, first].map(async (s) => (await post(s, body, signature)).status),
    );
    expect(statuses).toEqual([200, 200, 200]);
    await oa.waitForSent('the help', '8001', hasText('Hướng dẫn'), after);
    // The marker proves that anything the replays could have sent would have arrived by now.
    await ask('8001', '/nhiemvu', hasText('không có nhiệm vụ nào'));
    expect(oa.sentTo('8001').slice(after).filter(hasText('Hướng dẫn'))).toHaveLength(1);
  });

  it('sends the launch with quick-reply buttons; a tap acknowledges; outside the window it falls back', async () => {
    oa.inject('8002', { error: -230, message: 'User has not interacted with the OA in the last 7 days' });
    const launched = await first.api<{ recipients: number }>('POST', `/api/campaigns/${campaignId}/launch`);
    expect(launched.body.recipients).toBe(2);
    const launch = await oa.waitForSent('the launch', '8001', hasText(DOC));
    expect(launch.text).not.toMatch(/<\/?b>/);
    expect(launch.buttons.map((button) => [button.title, button.type])).toEqual([
      ['👍 Đã nhận', 'oa.query.hide'],
      ['📝 Đăng ký thi đua', 'oa.query.hide'],
    ]);
    const ack = launch.buttons[0]?.payload as string;
    expect((await ask('8001', ack, hasText('kế hoạch'))).text).toContain('đã nhận kế hoạch');

    // CB2 is outside the OA's customer-service window: the row fails with the reason, and the launch
    // goes to CB2's Zalo bot chat instead.
    const fallback = await bot.user('zb-2').waitFor('the launch by fallback', (text) => text.includes(DOC));
    expect(fallback).toMatch(/1\. 👍 Đã nhận\n2\. 📝 Đăng ký thi đua$/);
    const failed = await db.outboxMessage.findFirstOrThrow({
      where: { channel: 'zalo_oa', chatId: '8002', dedupeKey: { startsWith: 'launch:' } },
    });
    expect(failed.state).toBe('failed');
    expect(failed.lastError).toContain('-230');
    const account = await db.channelAccount.findFirstOrThrow({
      where: { channel: 'zalo_oa', chatId: '8002' },
    });
    expect(account.active).toBe(false);
    expect(await bot.user('zb-2').ask('1', (text) => text.includes('kế hoạch'))).toContain(
      'đã nhận kế hoạch',
    );
  });

  it('takes status by button and by free text', async () => {
    const question = await ask('8001', '/baocao', hasText('Rà soát'));
    expect(question.buttons).toHaveLength(4);
    const done = question.buttons[0]?.payload as string;
    const recorded = await ask('8001', done, hasText('Đã ghi nhận'));
    expect(recorded.text).toContain('Hoàn thành');
    expect((await ask('8001', recorded.buttons[0]?.payload as string, hasText('hoàn tác'))).text).toContain(
      'Đã hoàn tác',
    );
    expect((await ask('8001', 'dang trien khai 60%', hasText('Đã ghi nhận'))).text).toContain('60%');
  });

  it('refreshes an expired token once across both instances and sends again', async () => {
    const before = oa.refreshes.length;
    oa.expireAccessTokens();
    const afterA = oa.sentTo('8001').length;
    expect(await say('8001', '/nhiemvu', first)).toBe(200);
    expect(await say('8001', '/huongdan', second)).toBe(200);
    await oa.waitForSent('the help', '8001', hasText('Hướng dẫn'), afterA);
    await oa.waitForSent('the task list', '8001', hasText('Nhiệm vụ của'), afterA);
    expect(oa.refreshes.length).toBeGreaterThan(before);
    expect(oa.refreshes.every((refresh) => refresh.ok)).toBe(true);
    const used = oa.refreshes.map((refresh) => refresh.refreshToken);
    expect(new Set(used).size).toBe(used.length);
  });

  it('tells the admins and /readyz when the refresh fails', async () => {
    oa.refreshFailure = { error: -14014, error_name: 'Invalid refresh token.' };
    oa.expireAccessTokens();
    expect(await say('8001', '/huongdan')).toBe(200);
    const alert = await bot.user('zb-9').waitFor('the admin alert', (text) => text.includes('Zalo OA'));
    expect(alert).toContain('Invalid refresh token');
    const ready = await waitFor('readiness to drop', async () => {
      const response = await fetch(`${first.url}/readyz`);
      return response.status === 503
        ? ((await response.json()) as { checks: Record<string, string> })
        : undefined;
    });
    expect(ready.checks.zalo_oa).toContain('refresh failed');
    const used = oa.refreshes.filter((refresh) => refresh.ok).map((refresh) => refresh.refreshToken);
    expect(new Set(used).size).toBe(used.length);
  });

  it('made only documented calls', () => {
    expect(oa.violations).toEqual([]);
    expect(bot.violations).toEqual([]);
  });
});
