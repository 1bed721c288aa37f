import { randomBytes } from 'node:crypto';
import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TelegramChannel } from '../../src/channels/telegram/telegram.ts';
import { ZaloBotChannel } from '../../src/channels/zalo/bot-api.ts';
import type { Db } from '../../src/db/client.ts';
import { DirectReplies } from '../../src/delivery/direct-replies.ts';
import { createDeliveryQueue, type DeliveryJob } from '../../src/delivery/queues.ts';
import { OutboxRelay } from '../../src/delivery/relay.ts';
import { startDeliveryWorker } from '../../src/delivery/worker.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics, type Metrics } from '../../src/metrics.ts';
import { createRedis } from '../../src/redis.ts';
import { issueLinkCode, redeemLinkCode, upsertOfficial } from '../../src/services/officials.ts';
import { writeOutbox, writeOutboxReturning, type OutboxItem } from '../../src/services/outbox.ts';
import type { Clock } from '../../src/services/ports.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { withTestDb } from '../support/db.ts';
import { REDIS_SERVER_URL } from '../support/env.ts';
import { Emulator } from '../support/telegram.ts';
import { FAULTS, FaultyTelegram } from '../support/telegram-proxy.ts';
import { waitFor } from '../support/wait.ts';
import { FakeZaloBot } from '../support/zalo-bot.ts';
import { redeemDeps, TEST_LINK_CODE_KEYS } from '../support/link-codes.ts';

/**
 * The outcomes of the delivery worker's steps that the broader delivery tests do not reach: an account
 * deactivated after its message was queued, news falling back to an official's other account, a message
 * the platform rejects, and the rows' times taken from the injected clock (worker and direct replies).
 */
const TOKEN = '300000002:steps';
const ZALO_TOKEN = '4000002:steps';
const logger = createLogger('silent');
const prefix = `t${randomBytes(6).toString('hex')}`;
/** The service's clock, far from the real one, so a time taken from anywhere else shows. */
const CLOCK_AT = new Date('2031-05-06T07:08:09.123Z');
const clock: Clock = { now: () => new Date(CLOCK_AT) };

let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let redis: Redis;
let emulator: Emulator;
let proxy: FaultyTelegram;
let zalo: FakeZaloBot;
let telegram: TelegramChannel;
let metrics: Metrics;
let queues: Map<string, Queue<DeliveryJob>>;
let workers: Worker<DeliveryJob>[] = [];
let relay: OutboxRelay;

async function link(officialCode: string, channel: string, chatId: string) {
  await upsertOfficial(db, officialCode, {
    name: `Cán bộ ${officialCode}`,
    unitCode: 'TD-BINHLU',
    role: 'focal',
  });
  const { code } = await issueLinkCode(db, officialCode, {
    clock: { now: () => new Date() },
    random: { bytes: (n) => randomBytes(n) },
    linkCodeKeys: TEST_LINK_CODE_KEYS,
  });
  const linked = await redeemLinkCode(db, { channel, chatId, code, now: new Date() }, redeemDeps);
  if (linked.kind !== 'linked') throw new Error(`could not link ${channel}:${chatId}`);
  // A second chat tells the first about the link (services/officials.ts); that notice is not what these
  // tests send, and a pending one would go first to the chat they break.
  await db.outboxMessage.updateMany({
    where: { dedupeKey: { startsWith: 'link-notice:' }, state: 'pending' },
    data: { state: 'sent', sentAt: new Date() },
  });
  return { officialId: linked.officialId, accountId: linked.accountId };
}

function item(
  dedupeKey: string,
  chatId: string,
  account: { officialId: string; accountId: string } | null,
  text: string,
): OutboxItem {
  return {
    dedupeKey,
    channel: 'telegram',
    chatId,
    channelAccountId: account?.accountId ?? null,
    officialId: account?.officialId ?? null,
    message: { text, choices: [[{ label: 'Đã nhận', data: 'ack' }]] },
  };
}

async function queue(...items: OutboxItem[]): Promise<void> {
  await db.$transaction((tx) => writeOutbox(tx, items));
}

async function rowOf(dedupeKey: string) {
  return db.outboxMessage.findUnique({ where: { dedupeKey } });
}

async function settledRow(dedupeKey: string, state: 'sent' | 'failed') {
  return waitFor(`${dedupeKey} to be ${state}`, async () => {
    const row = await rowOf(dedupeKey);
    return row?.state === state ? row : undefined;
  });
}

async function failedCount(reason: string): Promise<number> {
  const { values } = await metrics.messagesFailed.get();
  return values.find((value) => value.labels.reason === reason)?.value ?? 0;
}

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  redis = createRedis(`${REDIS_SERVER_URL}/0`);
  emulator = await Emulator.start();
  proxy = await FaultyTelegram.start(emulator.url);
  zalo = await FakeZaloBot.start(ZALO_TOKEN);
  metrics = createMetrics();
  telegram = new TelegramChannel({
    token: TOKEN,
    apiRoot: proxy.url,
    mode: 'polling',
    webhookSecret: undefined,
    publicUrl: undefined,
    logger,
  });
  queues = new Map([
    ['telegram', createDeliveryQueue('telegram', redis, prefix)],
    ['zalo', createDeliveryQueue('zalo', redis, prefix)],
  ]);
  relay = new OutboxRelay({
    db,
    databaseUrl: testDb.database.url,
    queues,
    logger,
    leaseMs: 30_000,
    sweepEveryMs: 500,
  });
  await upsertUnit(db, 'TD-BINHLU', { name: 'UBND xã Bình Lư' });
});

afterAll(async () => {
  await relay?.stop();
  await Promise.all(workers.map((worker) => worker.close()));
  for (const each of queues?.values() ?? []) {
    await each.obliterate({ force: true });
    await each.close();
  }
  await redis?.quit();
  await zalo?.stop();
  await proxy?.stop();
  await emulator?.stop();
  await testDb?.close();
});

function startWorkers(): void {
  const zaloBot = new ZaloBotChannel({
    token: ZALO_TOKEN,
    apiRoot: zalo.url,
    mode: 'polling',
    webhookSecret: undefined,
    publicUrl: undefined,
    logger,
  });
  workers = [telegram, zaloBot].map((channel) =>
    startDeliveryWorker({
      channel,
      db,
      connection: redis,
      prefix,
      logger,
      metrics,
      clock,
      fallbackChannels: ['telegram', 'zalo'],
    }),
  );
}

describe('the delivery worker’s outcomes', () => {
  it('does not send to an account deactivated after its message was queued, and fails the row', async () => {
    const official = await link('CB7801', 'telegram', '7801');
    await queue(item('news:7801', '7801', official, 'Phát động phong trào thi đua'));
    // Handed to Redis while no worker runs; then the account stops working before the send.
    expect(await relay.sweep()).toBe(1);
    await db.channelAccount.update({ where: { id: official.accountId }, data: { active: false } });
    startWorkers();

    const row = await settledRow('news:7801', 'failed');
    expect(row.lastError).toBe('account inactive');
    expect(row.attempts).toBe(0);
    expect(proxy.attempts.filter((attempt) => attempt.chatId === '7801')).toHaveLength(0);
    expect(await failedCount('inactive')).toBe(1);
    await relay.start();
  });

  it('sends news for an unreachable chat to the official’s other account, and deactivates the first', async () => {
    const official = await link('CB7802', 'telegram', '7802');
    const other = await link('CB7802', 'zalo', 'z7802');
    proxy.inject('7802', FAULTS.blocked);
    await queue(item('news:7802', '7802', official, 'Kế hoạch 16/KH-UBND'));

    const fallback = await settledRow('news:7802:via:zalo', 'sent');
    expect(fallback).toMatchObject({
      channel: 'zalo',
      chatId: 'z7802',
      channelAccountId: other.accountId,
      officialId: official.officialId,
      partsSent: 1,
      sentAt: CLOCK_AT,
    });
    expect(zalo.sent.filter((sent) => sent.chatId === 'z7802').map((sent) => sent.text)).toEqual([
      expect.stringContaining('Kế hoạch 16/KH-UBND'),
    ]);
    const failed = await rowOf('news:7802');
    expect(failed).toMatchObject({ state: 'failed', lastError: FAULTS.blocked.description });
    const account = await db.channelAccount.findUniqueOrThrow({ where: { id: official.accountId } });
    expect(account).toMatchObject({
      active: false,
      inactiveReason: FAULTS.blocked.description,
      deactivatedAt: CLOCK_AT,
    });
    expect(proxy.attempts.filter((attempt) => attempt.chatId === '7802')).toHaveLength(1);
  });

  it('keeps a reply to an unreachable chat in that chat: no other account gets it', async () => {
    // Zalo first: the notice of the second link goes to the first chat, not to the one the fault breaks.
    await link('CB7803', 'zalo', 'z7803');
    const official = await link('CB7803', 'telegram', '7803');
    proxy.inject('7803', FAULTS.neverStarted);
    await queue(item('reply:telegram:7803:1', '7803', official, 'Đã ghi nhận: Hoàn thành'));

    // The fallback would be written in the transaction that fails the row: once failed, it is decided.
    expect((await settledRow('reply:telegram:7803:1', 'failed')).lastError).toBe(
      FAULTS.neverStarted.description,
    );
    expect(
      await db.outboxMessage.count({ where: { dedupeKey: { contains: ':via:' }, chatId: 'z7803' } }),
    ).toBe(0);
    expect((await db.channelAccount.findFirstOrThrow({ where: { chatId: '7803' } })).active).toBe(false);
  });

  it('fails a message the platform rejects, keeps the account, and sends the next one', async () => {
    // Zalo first: the notice of the second link goes to the first chat, not to the one the fault breaks.
    await link('CB7804', 'zalo', 'z7804');
    const official = await link('CB7804', 'telegram', '7804');
    const rejection = { status: 400, description: "Bad Request: can't parse entities: unexpected end tag" };
    proxy.inject('7804', rejection);
    await queue(
      item('news:7804:1', '7804', official, 'Tin bị từ chối'),
      item('news:7804:2', '7804', official, 'Tin tiếp theo'),
    );

    const next = await settledRow('news:7804:2', 'sent');
    expect(next.sentAt).toEqual(CLOCK_AT);
    expect(await rowOf('news:7804:1')).toMatchObject({ state: 'failed', lastError: rejection.description });
    expect((await db.channelAccount.findUniqueOrThrow({ where: { id: official.accountId } })).active).toBe(
      true,
    );
    expect(
      await db.outboxMessage.count({ where: { dedupeKey: { contains: ':via:' }, chatId: 'z7804' } }),
    ).toBe(0);
    const user = emulator.user(TOKEN, 7804);
    await user.drain();
    expect(user.received.map((message) => message.text)).toEqual(['Tin tiếp theo']);
    expect(proxy.attempts.filter((a) => a.chatId === '7804').map((a) => a.status)).toEqual([400, 200]);
  });

  it('marks a direct reply sent at the clock’s time, and the worker keeps the chat’s gap after it', async () => {
    const official = await link('CB7805', 'telegram', '7805');
    const direct = new DirectReplies({ db, channels: [telegram], redis, prefix, logger, metrics, clock });
    const held = await db.$transaction((tx) =>
      writeOutboxReturning(tx, [item('reply:telegram:7805:1', '7805', official, 'Đã ghi nhận')], {
        hold: true,
      }),
    );
    expect(held.map((row) => row.held)).toEqual([true]);
    direct.send(held);
    await queue(item('news:7805', '7805', official, 'Nhắc việc'));
    await direct.drain();

    const reply = await settledRow('reply:telegram:7805:1', 'sent');
    expect(reply).toMatchObject({ sentAt: CLOCK_AT, partsSent: 1, attempts: 1 });
    expect(await queues.get('telegram')?.getJob(reply.id)).toBeUndefined();
    await settledRow('news:7805', 'sent');
    const user = emulator.user(TOKEN, 7805);
    await user.drain();
    expect(user.received.map((message) => message.text)).toEqual(['Đã ghi nhận', 'Nhắc việc']);
    // The worker waits out the chat's gap that the direct send took.
    const [first, second] = proxy.attempts.filter((attempt) => attempt.chatId === '7805');
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(1000);
  });
});
