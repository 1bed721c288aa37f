import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/db/client.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { freePort } from '../support/ports.ts';
import { startService, type ServiceProcess } from '../support/service.ts';
import { Emulator, type ChatUser } from '../support/telegram.ts';
import { waitFor } from '../support/wait.ts';

/** Webhook mode: the secret is checked before anything, and Telegram's redeliveries change nothing. */
const TOKEN = '400000001:E2E-webhook';
const SECRET = 'webhook-secret_123';

let emulator: Emulator;
let database: TestDatabase;
let db: Db;
let service: ServiceProcess;
let updateId = 1000;

function messageUpdate(chatId: number, text: string, id = ++updateId) {
  const command = /^\/\w+/.exec(text);
  return {
    update_id: id,
    message: {
      message_id: id,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chatId, type: 'private', first_name: 'Mai' },
      from: { id: chatId, is_bot: false, first_name: 'Mai' },
      text,
      ...(command ? { entities: [{ type: 'bot_command', offset: 0, length: command[0].length }] } : {}),
    },
  };
}

function post(body: unknown, secret: string | null = SECRET, raw?: string) {
  return fetch(`${service.url}/webhooks/telegram`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(secret !== null ? { 'x-telegram-bot-api-secret-token': secret } : {}),
    },
    body: raw ?? JSON.stringify(body),
  });
}

beforeAll(async () => {
  emulator = await Emulator.start();
  database = await createTestDatabase();
  db = createDb(database.url);
  const port = await freePort();
  service = await startService({
    DATABASE_URL: database.url,
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: emulator.url,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    TELEGRAM_WEBHOOK_SECRET: SECRET,
    PORT: String(port),
  });
  await service.api('PUT', '/api/units/TD-VHTT', { name: 'Phòng Văn hóa và Thông tin' });
  await service.api('PUT', '/api/officials/CB1', {
    name: 'Trần Thị Mai',
    unitCode: 'TD-VHTT',
    role: 'focal',
  });
});

afterAll(async () => {
  await service?.stop();
  await db?.$disconnect();
  await emulator?.stop();
  await database?.drop();
});

describe('the Telegram webhook', () => {
  let user: ChatUser;

  it('refuses a wrong or missing secret and records nothing', async () => {
    const update = messageUpdate(6001, 'xin chào');
    expect((await post(update, null)).status).toBe(401);
    expect((await post(update, 'wrong-secret')).status).toBe(401);
    expect(await db.inboundUpdate.count()).toBe(0);
    expect(await db.webhookInbox.count()).toBe(0);
  });

  it('answers 200 to malformed and unknown updates and records nothing', async () => {
    expect((await post(undefined, SECRET, '{"update_id": 12, "message": {')).status).toBe(200);
    expect((await post({ update_id: 13, edited_channel_post: { text: 'x' } })).status).toBe(200);
    expect((await post({ hello: 'world' })).status).toBe(200);
    expect((await post([1, 2, 3])).status).toBe(200);
    expect(await db.inboundUpdate.count()).toBe(0);
    expect(await db.webhookInbox.count()).toBe(0);
  });

  it('links a chat through the webhook and answers through the Bot API', async () => {
    const issued = await service.api<{ code: string }>('POST', '/api/officials/CB1/link-codes');
    user = emulator.user(TOKEN, 6001);
    expect((await post(messageUpdate(6001, `/start ${issued.body.code}`))).status).toBe(200);
    const reply = await user.waitFor('the link confirmation', (message) =>
      message.text.includes('Đã liên kết'),
    );
    expect(reply.text).toContain('Trần Thị Mai');
  });

  it('records an update delivered three times, concurrently, once', async () => {
    const update = messageUpdate(6001, '/huongdan');
    const statuses = await Promise.all(
      [post(update), post(update), post(update)].map(async (r) => (await r).status),
    );
    expect(statuses).toEqual([200, 200, 200]);
    expect((await post(update)).status).toBe(200);
    // Handled within the answer's budget, or recorded (once) when a turn was slow.
    expect(
      await db.webhookInbox.count({ where: { updateKey: String(update.update_id) } }),
    ).toBeLessThanOrEqual(1);
    await user.waitFor('the help text', (message) => message.text.includes('Hướng dẫn'));
    expect(await db.inboundUpdate.count({ where: { updateId: String(update.update_id) } })).toBe(1);
    // The marker proves that anything the redeliveries could have sent would have arrived by now.
    const after = user.received.length;
    await post(messageUpdate(6001, '/nhiemvu'));
    await user.waitFor('the task list', (message) => message.text.includes('không có nhiệm vụ nào'), {
      after,
    });
    expect(user.received.filter((message) => message.text.includes('Hướng dẫn'))).toHaveLength(1);
  });

  it('is ready and exposes metrics', async () => {
    const ready = await fetch(`${service.url}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok' } });
    const metrics = await waitFor('the sent counter', async () => {
      const text = await (await fetch(`${service.url}/metrics`)).text();
      return /thidua_messages_sent_total\{channel="telegram"\} [1-9]/.test(text) ? text : undefined;
    });
    expect(metrics).toMatch(/thidua_updates_received_total\{channel="telegram",kind="command"\} [1-9]/);
    expect(metrics).toContain('thidua_queue_jobs');
    expect(metrics).toMatch(/thidua_outbox_messages\{channel="telegram",state="sent"\} [1-9]/);
    expect(metrics).toContain('thidua_queue_oldest_waiting_seconds{queue="telegram"}');
    expect(metrics).toMatch(
      /thidua_http_request_duration_seconds_count\{method="POST",route="\/webhooks\/telegram",status="200"\} [1-9]/,
    );
  });

  it('shuts down in order on SIGTERM', async () => {
    expect(await service.stop('SIGTERM')).toBe(0);
  });
});
