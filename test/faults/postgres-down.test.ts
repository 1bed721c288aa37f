import { afterAll, beforeAll, expect, it } from 'vitest';
import { DELIVERY_CONCURRENCY } from '../../src/delivery/worker.ts';
import { Fanout } from '../support/fanout.ts';
import { freePort } from '../support/ports.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { waitFor } from '../support/wait.ts';

/**
 * PostgreSQL goes away in the middle of a launch and comes back. The shared server cannot be stopped
 * (other test files use it), so the service reaches it through a TCP proxy that drops every connection
 * and refuses new ones, as a stopped server would, then lets them through again.
 */
const RECIPIENTS = 2000;
const SECRET = 'fault-webhook-secret';
/** A chat that writes to the bot during the outage (not one of the recipients). */
const WRITER = 69_999_999;
let pgProxy: TcpProxy;
let rig: Fanout;

beforeAll(async () => {
  pgProxy = await TcpProxy.start('127.0.0.1', 5432);
  rig = await Fanout.start({ recipients: RECIPIENTS, pgPort: pgProxy.port });
});

afterAll(async () => {
  await rig?.close();
  await pgProxy?.stop();
});

async function readiness(url: string): Promise<{ status: number; checks: Record<string, string> }> {
  const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(20_000) });
  return {
    status: response.status,
    checks: ((await response.json()) as { checks: Record<string, string> }).checks,
  };
}

it('reports the outage, refuses webhooks with 5xx, and recovers without a restart; none lost', async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const web = await rig.start('web', {
    PORT: String(port),
    PUBLIC_URL: url,
    TELEGRAM_WEBHOOK_SECRET: SECRET,
  });
  await rig.seed(web);
  const worker = await rig.start('worker');
  const update = {
    update_id: 424242,
    message: {
      message_id: 1,
      date: Math.floor(Date.now() / 1000),
      chat: { id: WRITER, type: 'private', first_name: 'Lò' },
      from: { id: WRITER, is_bot: false, first_name: 'Lò' },
      text: 'xin chào',
    },
  };
  const deliverUpdate = () =>
    fetch(`${url}/webhooks/telegram`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
      body: JSON.stringify(update),
      signal: AbortSignal.timeout(20_000),
    }).then((response) => response.status);

  await rig.launch(web);
  await rig.waitDelivered(RECIPIENTS / 2);
  pgProxy.cut();
  const atCut = rig.delivered();

  const down = await waitFor('/readyz to report the database', async () => {
    const ready = await readiness(url);
    return ready.status === 503 ? ready : undefined;
  });
  expect(down.checks.database).not.toBe('ok');
  expect(down.checks.redis).toBe('ok');
  expect(await deliverUpdate()).toBeGreaterThanOrEqual(500);
  // Keep it down until the worker has felt it: sends whose row could not be read wait to be retried.
  await waitFor('the worker to put sends off', async () =>
    (await rig.queue.getJobCountByTypes('delayed')) >= 100 ? true : undefined,
  );
  const duringOutage = rig.delivered();

  pgProxy.restore();
  await waitFor(
    '/readyz to recover',
    async () => ((await readiness(url)).status === 200 ? true : undefined),
    {
      timeoutMs: 30_000,
    },
  );
  // Telegram delivers the update again until it is answered 2xx.
  await waitFor('the redelivered update to be accepted', async () =>
    (await deliverUpdate()) === 200 ? true : undefined,
  );
  await rig.waitSettled(150_000);
  const tally = rig.tally('PostgreSQL down', { atCut, duringOutage });

  expect([web.child.exitCode, worker.child.exitCode]).toEqual([null, null]);
  expect(tally.lost).toBe(0);
  // Sends that reached Telegram while their row could not be marked sent go again: at most those in flight.
  expect(tally.duplicated).toBeLessThanOrEqual(DELIVERY_CONCURRENCY);
  expect(await rig.outboxStates()).toEqual({ sent: RECIPIENTS + 1 });
  const recorded = await rig.sql.query(`SELECT 1 FROM "InboundUpdate" WHERE "updateId" = '424242'`);
  expect(recorded.rowCount).toBe(1);
  expect(rig.telegram.accepted(WRITER)).toBe(1);
}, 240_000);
