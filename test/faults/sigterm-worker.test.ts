import { afterAll, beforeAll, expect, it } from 'vitest';
import { Fanout } from '../support/fanout.ts';

/**
 * SIGTERM to the worker during a launch: it finishes what it started, exits 0, and a new one carries on.
 * The launch lists 50 tasks, so it goes out in two parts (Telegram takes 4,096 characters): a row stopped
 * between its parts must continue with the second, never send the first again.
 */
const RECIPIENTS = 2000;
const PARTS = 2;
let rig: Fanout;

beforeAll(async () => {
  rig = await Fanout.start({ recipients: RECIPIENTS });
});

afterAll(async () => {
  await rig?.close();
});

it('drains in-flight sends on SIGTERM; a restarted worker finishes with nothing sent twice', async () => {
  const web = await rig.start('web');
  await rig.seed(web, { tasks: 50 });
  const worker = await rig.start('worker');
  const started = Date.now();
  await rig.launch(web);
  await rig.waitDelivered((RECIPIENTS * PARTS) / 2);
  expect(await worker.stop('SIGTERM')).toBe(0);
  const atStop = rig.delivered();

  // Nothing half-done: each row records exactly the parts its chat received (sent = all of them).
  const { rows } = await rig.sql.query<{ chatId: string; state: string; partsSent: number }>(
    `SELECT "chatId", state, "partsSent" FROM "OutboxMessage"`,
  );
  const halfDone = rows.filter(
    (row) =>
      rig.telegram.accepted(row.chatId) !== row.partsSent ||
      (row.state === 'sent') !== (row.partsSent === PARTS),
  );
  expect(halfDone).toEqual([]);
  expect(atStop).toBeLessThan(RECIPIENTS * PARTS);
  // Rows stopped between their two parts: the case where a part could be sent twice.
  const betweenParts = rows.filter((row) => row.state === 'pending' && row.partsSent === 1).length;
  expect(betweenParts).toBeGreaterThan(0);

  await rig.start('worker');
  await rig.waitSettled(150_000);
  const tally = rig.tally(
    'SIGTERM worker',
    { parts: PARTS, atStop, betweenParts, seconds: Math.round((Date.now() - started) / 1000) },
    () => PARTS,
  );
  expect(tally).toMatchObject({ lost: 0, duplicated: 0 });
  expect(await rig.outboxStates()).toEqual({ sent: RECIPIENTS });
}, 240_000);
