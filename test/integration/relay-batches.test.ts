import { randomBytes } from 'node:crypto';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.ts';
import { createDeliveryQueue, type DeliveryJob } from '../../src/delivery/queues.ts';
import { OutboxRelay } from '../../src/delivery/relay.ts';
import { createRedis } from '../../src/redis.ts';
import { writeOutbox } from '../../src/services/outbox.ts';
import { withTestDb } from '../support/db.ts';
import { REDIS_SERVER_URL } from '../support/env.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { waitFor } from '../support/wait.ts';

/**
 * The relay claims runs of batches before adding their jobs: a backlog of several batches all reaches the
 * queue, and when Redis fails during a run, every row claimed in it is given back, not left to its lease.
 */
const warnings: string[] = [];
// The relay's warnings, kept: the test waits for the failed hand-over to be reported.
const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
const prefix = `t${randomBytes(6).toString('hex')}`;
const BATCH = 100;

let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let redis: Redis;
let proxy: TcpProxy;
let queueRedis: Redis;
let queue: Queue<DeliveryJob>;

const relayOf = () =>
  new OutboxRelay({
    db,
    databaseUrl: testDb.database.url,
    queues: new Map([['telegram', queue]]),
    redis,
    logger,
    batchSize: BATCH,
    sweepEveryMs: 60_000,
  });

async function writeNews(prefixKey: string, count: number): Promise<void> {
  await db.$transaction((tx) =>
    writeOutbox(
      tx,
      Array.from({ length: count }, (_, i) => ({
        dedupeKey: `${prefixKey}:${i}`,
        channel: 'telegram',
        chatId: String(7_000_000 + i),
        message: { text: `news ${i}` },
      })),
    ),
  );
}

const jobsInQueue = async () => (await queue.getJobCounts('prioritized')).prioritized ?? 0;
const leased = (keyPrefix: string) =>
  db.outboxMessage.count({
    where: { dedupeKey: { startsWith: `${keyPrefix}:` }, enqueuedAt: { not: null } },
  });

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  redis = createRedis(`${REDIS_SERVER_URL}/0`);
  const { hostname, port } = new URL(REDIS_SERVER_URL);
  proxy = await TcpProxy.start(hostname, Number(port || 6379));
  // Fails a command at once while the connection is down, as a Redis outage looks to addBulk.
  queueRedis = new Redis({
    host: '127.0.0.1',
    port: proxy.port,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  // The outage is the point here: its connection errors need no report.
  queueRedis.on('error', () => undefined);
  queue = createDeliveryQueue('telegram', queueRedis, prefix);
  queue.on('error', () => undefined);
  await queue.waitUntilReady();
});

afterAll(async () => {
  proxy?.restore();
  await queue?.obliterate({ force: true }).catch(() => undefined);
  await queue?.close();
  queueRedis?.disconnect();
  for (const key of await redis.keys(`${prefix}:*`)) await redis.del(key);
  await redis?.quit();
  await proxy?.stop();
  await testDb?.close();
});

describe('OutboxRelay runs of batches', () => {
  it('hands over a backlog of several batches, every row once', async () => {
    await writeNews('backlog', BATCH * 3 + 40);
    const relay = relayOf();
    await relay.start();
    try {
      await waitFor('every job in the queue', async () =>
        (await jobsInQueue()) === BATCH * 3 + 40 ? true : undefined,
      );
      expect(await leased('backlog')).toBe(BATCH * 3 + 40);
    } finally {
      await relay.stop();
    }
  });

  it('gives back every row of the run when Redis fails, and hands them over once Redis is back', async () => {
    const before = await jobsInQueue();
    await writeNews('outage', BATCH * 2 + 10);
    proxy.cut();
    const relay = relayOf();
    await relay.start();
    await waitFor('the failed sweep', () =>
      warnings.some((line) => line.includes('outbox sweep failed')) ? true : undefined,
    );
    await relay.stop();
    expect(await leased('outage')).toBe(0);

    proxy.restore();
    await waitFor('the queue connection back', () => (queueRedis.status === 'ready' ? true : undefined));
    await relay.start();
    try {
      await waitFor('every job in the queue', async () =>
        (await jobsInQueue()) === before + BATCH * 2 + 10 ? true : undefined,
      );
      expect(await leased('outage')).toBe(BATCH * 2 + 10);
    } finally {
      await relay.stop();
    }
  });
});
