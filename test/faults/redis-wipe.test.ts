import { afterAll, beforeAll, expect, it } from 'vitest';
import { DELIVERY_CONCURRENCY } from '../../src/delivery/worker.ts';
import { Fanout } from '../support/fanout.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Redis loses everything in the middle of a launch (it keeps nothing on disk, so a restart is the same):
 * the relay notices and hands every pending outbox row over again; nobody is skipped.
 *
 * Other test files share this Redis server, so FLUSHALL would wipe their queues too. This file's service
 * runs on a Redis database index of its own (REDIS_DB below, used by no other test) and the test empties
 * that one with FLUSHDB, which for the service is the same as FLUSHALL or a restart.
 */
const REDIS_DB = 13;
const RECIPIENTS = 2000;
let rig: Fanout;

beforeAll(async () => {
  rig = await Fanout.start({ recipients: RECIPIENTS, redisDb: REDIS_DB });
});

afterAll(async () => {
  await rig?.close();
});

it('re-enqueues from the outbox after Redis is wiped: none lost', async () => {
  const web = await rig.start('web');
  await rig.seed(web);
  await rig.start('worker');
  const started = Date.now();
  await rig.launch(web);
  await rig.waitDelivered(RECIPIENTS / 2);
  const atWipe = rig.delivered();
  expect(await rig.redis.flushdb()).toBe('OK');
  // The wipe came mid-launch: what was still queued is gone from Redis and must come back from the outbox.
  expect(atWipe).toBeLessThan(RECIPIENTS);
  // The relay notices the loss at its next sweep (every 2 s) rather than when the rows' lease runs out
  // (a minute after they were enqueued).
  await waitFor(
    'the relay to enqueue the pending rows again',
    async () =>
      (await rig.queue.getJobCountByTypes('wait', 'prioritized', 'delayed')) > 0 ? true : undefined,
    { timeoutMs: 15_000, everyMs: 100 },
  );
  await rig.waitSettled(150_000);
  const tally = rig.tally('Redis wiped', { atWipe, seconds: Math.round((Date.now() - started) / 1000) });
  expect(tally.lost).toBe(0);
  // Sends in flight at the wipe lose their per-chat gate and job; at most those go twice.
  expect(tally.duplicated).toBeLessThanOrEqual(DELIVERY_CONCURRENCY);
  expect(await rig.outboxStates()).toEqual({ sent: RECIPIENTS });
}, 240_000);
