import { randomBytes } from 'node:crypto';
import { UnrecoverableError, Worker, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.ts';
import { createDeliveryQueue, deliveryQueueName, type DeliveryJob } from '../../src/delivery/queues.ts';
import { OutboxRelay } from '../../src/delivery/relay.ts';
import { createLogger } from '../../src/logger.ts';
import { createRedis } from '../../src/redis.ts';
import { writeOutbox } from '../../src/services/outbox.ts';
import { withTestDb } from '../support/db.ts';
import { REDIS_SERVER_URL } from '../support/env.ts';
import { waitFor } from '../support/wait.ts';

/** The relay hands pending outbox rows to the queue again when the queue has lost or given up their job. */
const logger = createLogger('silent');
const prefix = `t${randomBytes(6).toString('hex')}`;
const LEASE_MS = 1500;

let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let redis: Redis;
let queue: Queue<DeliveryJob>;
let relay: OutboxRelay;

async function queueMessage(key: string): Promise<string> {
  await db.$transaction((tx) =>
    writeOutbox(tx, [{ dedupeKey: key, channel: 'telegram', chatId: '8001', message: { text: key } }]),
  );
  return (await db.outboxMessage.findUniqueOrThrow({ where: { dedupeKey: key } })).id;
}

const stateOf = (id: string) => queue.getJobState(id);
/** News waits in BullMQ's prioritised set (replies, queued without a priority, go before it). */
const NEWS_WAITING = 'prioritized';

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  redis = createRedis(`${REDIS_SERVER_URL}/0`);
  queue = createDeliveryQueue('telegram', redis, prefix);
  relay = new OutboxRelay({
    db,
    databaseUrl: testDb.database.url,
    queues: new Map([['telegram', queue]]),
    redis,
    logger,
    leaseMs: LEASE_MS,
    sweepEveryMs: 60_000,
  });
});

afterAll(async () => {
  await relay?.stop();
  await queue?.obliterate({ force: true });
  await queue?.close();
  for (const key of await redis.keys(`${prefix}:*`)) await redis.del(key);
  await redis?.quit();
  await testDb?.close();
});

describe('the outbox relay', () => {
  it('re-enqueues at its next sweep when Redis has forgotten the queue, without waiting out the lease', async () => {
    const id = await queueMessage('forgotten');
    expect(await relay.sweep()).toBe(1);
    expect(await stateOf(id)).toBe(NEWS_WAITING);
    expect(await relay.sweep()).toBe(0);
    // What a Redis restart or FLUSHALL leaves of this deployment: nothing.
    for (const key of await redis.keys(`${prefix}:*`)) await redis.del(key);
    expect(await stateOf(id)).toBe('unknown');
    expect(await relay.sweep()).toBe(1);
    expect(await stateOf(id)).toBe(NEWS_WAITING);
  });

  it('retries, once the lease runs out, the job of a row that is still pending but whose job failed for good', async () => {
    await queue.obliterate({ force: true });
    await db.outboxMessage.deleteMany();
    const id = await queueMessage('given-up');
    expect(await relay.sweep()).toBe(1);
    // Stands in for a worker that spent every attempt while PostgreSQL was down (the row stays pending).
    const failing = new Worker<DeliveryJob>(
      deliveryQueueName('telegram'),
      () => Promise.reject(new UnrecoverableError('database unreachable')),
      { connection: redis.duplicate(), prefix },
    );
    await waitFor('the job to fail', async () => ((await stateOf(id)) === 'failed' ? true : undefined));
    await failing.close();
    expect((await db.outboxMessage.findUniqueOrThrow({ where: { id } })).state).toBe('pending');
    expect(await relay.sweep()).toBe(0);
    await waitFor(
      'the lease to run out and the job to be retried',
      async () => ((await relay.sweep()) === 1 ? true : undefined),
      { timeoutMs: 10_000, everyMs: 200 },
    );
    expect(await stateOf(id)).toBe(NEWS_WAITING);
    expect((await queue.getJob(id))?.attemptsMade).toBe(0);
  });
});
