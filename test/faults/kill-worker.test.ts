import { afterAll, beforeAll, expect, it } from 'vitest';
import { DELIVERY_CONCURRENCY } from '../../src/delivery/worker.ts';
import { Fanout } from '../support/fanout.ts';

/** kill -9 of the worker in the middle of a launch: a new worker finishes it; nobody is skipped. */
const RECIPIENTS = 2000;
let rig: Fanout;

beforeAll(async () => {
  rig = await Fanout.start({ recipients: RECIPIENTS });
});

afterAll(async () => {
  await rig?.close();
});

it('loses nothing and repeats at most what was in flight when the worker is killed', async () => {
  const web = await rig.start('web');
  await rig.seed(web);
  const worker = await rig.start('worker');
  const t0 = Date.now();
  await rig.launch(web);
  await rig.waitDelivered(RECIPIENTS / 2);
  const tKill = Date.now() - t0;
  expect(await worker.stop('SIGKILL')).toBe(null);
  const atKill = rig.delivered();
  // The kill came mid-launch: the rest is the new worker's to deliver.
  expect(atKill).toBeLessThan(RECIPIENTS);
  // The killed worker's jobs are handed out again once their locks lapse (BullMQ's stalled check).
  await rig.start('worker');
  const tStarted = Date.now() - t0;
  await rig.waitDelivered(RECIPIENTS - DELIVERY_CONCURRENCY, 150_000);
  const tMost = Date.now() - t0;
  await rig.waitSettled(150_000);
  const tally = rig.tally('kill -9 worker', { atKill, tKill, tStarted, tMost, tDone: Date.now() - t0 });
  expect(tally.lost).toBe(0);
  expect(tally.duplicated).toBeLessThanOrEqual(DELIVERY_CONCURRENCY);
  expect(await rig.outboxStates()).toEqual({ sent: RECIPIENTS });
}, 240_000);
