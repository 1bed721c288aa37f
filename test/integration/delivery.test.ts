import { randomBytes } from 'node:crypto';
import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TelegramChannel } from '../../src/channels/telegram/telegram.ts';
import type { Db } from '../../src/db/client.ts';
import { createDeliveryQueue, type DeliveryJob } from '../../src/delivery/queues.ts';
import { OutboxRelay } from '../../src/delivery/relay.ts';
import { startDeliveryWorker } from '../../src/delivery/worker.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics, type Metrics } from '../../src/metrics.ts';
import { createRedis } from '../../src/redis.ts';
import { issueLinkCode, redeemLinkCode, upsertOfficial } from '../../src/services/officials.ts';
import { TEST_LINK_CODE_KEYS, redeemDeps } from '../support/link-codes.ts';
import { writeOutbox } from '../../src/services/outbox.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { withTestDb } from '../support/db.ts';
import { REDIS_SERVER_URL } from '../support/env.ts';
import { Emulator, type ChatUser } from '../support/telegram.ts';
import { FaultyTelegram } from '../support/telegram-proxy.ts';
import { waitFor } from '../support/wait.ts';

const TOKEN = '300000001:delivery';
const logger = createLogger('silent');
const prefix = `t${randomBytes(6).toString('hex')}`;

let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let redis: Redis;
let emulator: Emulator;
let proxy: FaultyTelegram;
let queue: Queue<DeliveryJob>;
let worker: Worker<DeliveryJob>;
let relay: OutboxRelay;
let metrics: Metrics;
const accounts = new Map<number, string>();

async function linkChat(chatId: number): Promise<string> {
  const officialCode = `CB${chatId}`;
  await upsertOfficial(db, officialCode, { name: `Cán bộ ${chatId}`, unitCode: 'TD-BINHLU', role: 'focal' });
  const { code } = await issueLinkCode(db, officialCode, {
    clock: { now: () => new Date() },
    random: { bytes: (n) => randomBytes(n) },
    linkCodeKeys: TEST_LINK_CODE_KEYS,
  });
  const linked = await redeemLinkCode(
    db,
    { channel: 'telegram', chatId: String(chatId), code, now: new Date() },
    redeemDeps,
  );
  if (linked.kind !== 'linked') throw new Error(`could not link ${chatId}`);
  accounts.set(chatId, linked.accountId);
  return linked.accountId;
}

async function queueMessages(chatId: number, texts: string[]): Promise<void> {
  await db.$transaction((tx) =>
    writeOutbox(
      tx,
      texts.map((text) => ({
        dedupeKey: `test:${chatId}:${text}`,
        channel: 'telegram',
        chatId: String(chatId),
        channelAccountId: accounts.get(chatId) ?? null,
        message: { text },
      })),
    ),
  );
}

async function allReceived(user: ChatUser, count: number): Promise<string[]> {
  return waitFor(
    `${count} messages in chat ${user.userId}`,
    async () => {
      await user.drain();
      return user.received.length >= count ? user.received.map((message) => message.text) : undefined;
    },
    { timeoutMs: 30_000, everyMs: 100 },
  );
}

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  redis = createRedis(`${REDIS_SERVER_URL}/0`);
  emulator = await Emulator.start();
  proxy = await FaultyTelegram.start(emulator.url);
  metrics = createMetrics();
  const channel = new TelegramChannel({
    token: TOKEN,
    apiRoot: proxy.url,
    mode: 'polling',
    webhookSecret: undefined,
    publicUrl: undefined,
    logger,
  });
  queue = createDeliveryQueue('telegram', redis, prefix);
  worker = startDeliveryWorker({ channel, db, connection: redis, prefix, logger, metrics });
  relay = new OutboxRelay({
    db,
    databaseUrl: testDb.database.url,
    queues: new Map([['telegram', queue]]),
    logger,
    leaseMs: 2000,
    sweepEveryMs: 500,
  });
  await upsertUnit(db, 'TD-BINHLU', { name: 'UBND xã Bình Lư' });
});

afterAll(async () => {
  await relay?.stop();
  await worker?.close();
  await queue?.obliterate({ force: true });
  await queue?.close();
  await redis?.quit();
  await proxy?.stop();
  await emulator?.stop();
  await testDb?.close();
});

describe('delivery through the outbox', () => {
  it('delivers every message once, in order per chat, spaced by the per-chat gap', async () => {
    await relay.start();
    const users = [7001, 7002, 7003].map((id) => emulator.user(TOKEN, id));
    for (const user of users) await linkChat(user.userId);
    const texts = ['Thông báo 1', 'Thông báo 2', 'Thông báo 3'];
    for (const user of users) await queueMessages(user.userId, texts);
    // Writing the same news again is absorbed by the dedupe key.
    for (const user of users) await queueMessages(user.userId, texts);
    for (const user of users) expect(await allReceived(user, 3)).toEqual(texts);
    // Once every row's lease has run out, a sweep hands nothing over again: a row left unmarked would go twice.
    await waitFor('the leases to run out', async () => {
      const [row] = await db.$queryRaw<{ expired: boolean }[]>`
        SELECT max("enqueuedAt") < now() - interval '2 seconds' AS expired FROM "OutboxMessage"`;
      return row?.expired ? true : undefined;
    });
    expect(await relay.sweep()).toBe(0);
    for (const user of users) {
      await user.drain();
      expect(user.received).toHaveLength(3);
    }
    const sends = proxy.attempts.filter((attempt) => attempt.chatId === '7001');
    expect(sends).toHaveLength(3);
    for (let i = 1; i < sends.length; i += 1) {
      expect((sends[i]?.at ?? 0) - (sends[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    }
    const rows = await db.outboxMessage.groupBy({ by: ['state'], _count: true });
    expect(rows).toEqual([{ state: 'sent', _count: 9 }]);
  });

  it('loses nothing when Redis forgets the queue', async () => {
    const user = emulator.user(TOKEN, 7010);
    await linkChat(user.userId);
    await relay.stop();
    const texts = Array.from({ length: 5 }, (_, i) => `Nhắc việc ${i + 1}`);
    await queueMessages(user.userId, texts);
    await relay.sweep();
    await queue.obliterate({ force: true });
    await relay.start();
    expect(await allReceived(user, 5)).toEqual(texts);
  });

  it('waits out a 429 and then delivers', async () => {
    const user = emulator.user(TOKEN, 7020);
    await linkChat(user.userId);
    proxy.inject(user.userId, {
      status: 429,
      description: 'Too Many Requests: retry after 1',
      retryAfter: 1,
    });
    await queueMessages(user.userId, ['Sau 429']);
    expect(await allReceived(user, 1)).toEqual(['Sau 429']);
    const tries = proxy.attempts.filter((attempt) => attempt.chatId === '7020');
    expect(tries.map((attempt) => attempt.status)).toEqual([429, 200]);
    expect((tries[1]?.at ?? 0) - (tries[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('stops at 403: the account is deactivated and the send is not retried', async () => {
    const user = emulator.user(TOKEN, 7030);
    const accountId = await linkChat(user.userId);
    proxy.inject(user.userId, { status: 403, description: 'Forbidden: bot was blocked by the user' });
    await queueMessages(user.userId, ['Bị chặn']);
    const row = await waitFor('the row to fail', async () => {
      const found = await db.outboxMessage.findFirst({ where: { chatId: '7030' } });
      return found?.state === 'failed' ? found : undefined;
    });
    expect(row.lastError).toContain('blocked');
    const account = await db.channelAccount.findUniqueOrThrow({ where: { id: accountId } });
    expect(account.active).toBe(false);
    // A later message to the inactive account is not even attempted.
    await queueMessages(user.userId, ['Sau khi bị chặn']);
    await waitFor('the second row to fail', async () =>
      (await db.outboxMessage.count({ where: { chatId: '7030', state: 'failed' } })) === 2 ? true : undefined,
    );
    expect(proxy.attempts.filter((attempt) => attempt.chatId === '7030')).toHaveLength(1);
  });

  it('splits a message longer than Telegram allows and keeps the buttons on the last part', async () => {
    const user = emulator.user(TOKEN, 7040);
    await linkChat(user.userId);
    const text = Array.from({ length: 400 }, (_, i) => `${i + 1}. UBND xã Bình Lư — chưa báo cáo`).join('\n');
    await db.$transaction((tx) =>
      writeOutbox(tx, [
        {
          dedupeKey: 'long',
          channel: 'telegram',
          chatId: '7040',
          channelAccountId: accounts.get(7040) ?? null,
          message: { text, choices: [[{ label: 'OK', data: 'x' }]] },
        },
      ]),
    );
    const parts = await allReceived(user, 4);
    expect(parts.every((part) => part.length <= 4096)).toBe(true);
    expect(parts.join('\n')).toBe(text);
    expect(user.received.map((message) => message.buttons.length)).toEqual([0, 0, 0, 1]);
    // The parts of one message keep the per-chat gap like separate messages.
    const sends = proxy.attempts.filter((attempt) => attempt.chatId === '7040');
    expect(sends).toHaveLength(4);
    for (let i = 1; i < sends.length; i += 1) {
      expect((sends[i]?.at ?? 0) - (sends[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    }
  });

  it('answers someone who just wrote before the news already waiting for other chats', async () => {
    const newsChats = Array.from({ length: 90 }, (_, i) => 7100 + i);
    await db.$transaction((tx) =>
      writeOutbox(
        tx,
        newsChats.map((chatId) => ({
          dedupeKey: `news:${chatId}`,
          channel: 'telegram',
          chatId: String(chatId),
          channelAccountId: null,
          message: { text: 'Phát động phong trào thi đua' },
        })),
      ),
    );
    await waitFor('the news to start going out', () =>
      Promise.resolve(proxy.attempts.some((attempt) => attempt.chatId === '7100') ? true : undefined),
    );
    await db.$transaction((tx) =>
      writeOutbox(tx, [
        {
          dedupeKey: 'reply:telegram:990001:0',
          channel: 'telegram',
          chatId: '7300',
          channelAccountId: null,
          message: { text: 'Đã ghi nhận: Hoàn thành' },
        },
      ]),
    );
    await waitFor('every message to go out', async () =>
      (await db.outboxMessage.count({
        where: { chatId: { in: [...newsChats, 7300].map(String) }, state: 'sent' },
      })) === 91
        ? true
        : undefined,
    );
    const order = proxy.attempts
      .filter((attempt) => attempt.status === 200 && Number(attempt.chatId) >= 7100)
      .map((attempt) => attempt.chatId);
    // At 30 messages/s the reply waits for what was in flight and the current second, not for all 90.
    expect(order.indexOf('7300')).toBeLessThan(45);
  });
});
