import { afterAll, beforeAll, expect, it } from 'vitest';
import { WorkCalendar } from '../../src/domain/calendar.ts';
import { DEFAULT_POLICY } from '../../src/domain/policy.ts';
import { trackUntil } from '../../src/domain/reminder-planner.ts';
import { Fanout } from '../support/fanout.ts';
import { freePort } from '../support/ports.ts';
import type { ServiceProcess } from '../support/service.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Two instances of every role (web, worker, scheduler) on one PostgreSQL and one Redis, with a launch to
 * 2,000 officials in flight: every launch once, every reminder once although both web instances run the
 * reminders job at the same instant, and the same update delivered three times, out of order and
 * concurrently to both web instances, recorded and answered once.
 */
const RECIPIENTS = 2000;
const SECRET = 'fault-webhook-secret';
/** Chats that write to the bot (not recipients); each sends one update, delivered three times. */
const WRITERS = [69_999_990, 69_999_991, 69_999_992];
let rig: Fanout;
let webs: ServiceProcess[];

beforeAll(async () => {
  rig = await Fanout.start({ recipients: RECIPIENTS });
  webs = [];
  for (let i = 0; i < 2; i += 1) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    webs.push(
      await rig.start('web', { PORT: String(port), PUBLIC_URL: url, TELEGRAM_WEBHOOK_SECRET: SECRET }),
    );
  }
  await rig.seed(webs[0] as ServiceProcess);
  for (let i = 0; i < 2; i += 1) {
    await rig.start('worker');
    await rig.start('scheduler');
  }
});

afterAll(async () => {
  await rig?.close();
});

function update(updateId: number, chatId: number) {
  return {
    update_id: updateId,
    message: {
      message_id: updateId,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chatId, type: 'private', first_name: 'Giàng' },
      from: { id: chatId, is_bot: false, first_name: 'Giàng' },
      text: '/huongdan',
      entities: [{ type: 'bot_command', offset: 0, length: 9 }],
    },
  };
}

it('sends every launch and every reminder once, and records every update once', async () => {
  const [webA, webB] = webs as [ServiceProcess, ServiceProcess];
  await rig.launch(webA);
  await rig.waitDelivered(RECIPIENTS / 4);

  // Each update three times, in the order 3, 1, 2, 2, 3, 1, 1, 2, 3, all at once, alternating instances.
  const updates = WRITERS.map((chatId, i) => update(7000 + i, chatId));
  const order = [2, 0, 1, 1, 2, 0, 0, 1, 2];
  const statuses = await Promise.all(
    order.map((index, i) =>
      fetch(`${(i % 2 === 0 ? webA : webB).url}/webhooks/telegram`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        body: JSON.stringify(updates[index]),
      }).then((response) => response.status),
    ),
  );
  expect(statuses).toEqual(order.map(() => 200));

  // The first reminder of the task, run by both web instances as of the same instant.
  const calendar = new WorkCalendar('Asia/Ho_Chi_Minh');
  const first = trackUntil({ dueOn: rig.dueOn }, DEFAULT_POLICY, calendar, rig.dueOn)[0];
  const at = first?.at.toISOString() ?? '';
  const runs = await Promise.all(
    [webA, webB].map((web) => web.api<{ sent: number }>('POST', '/api/jobs/reminders/run', { at })),
  );
  expect(runs.map((run) => run.status)).toEqual([200, 200]);
  expect(runs.reduce((sum, run) => sum + run.body.sent, 0)).toBe(RECIPIENTS / 2);

  // Both schedulers tick the outbox relay every minute: each minute's slot runs once.
  await waitFor(
    'a scheduled run of the outbox relay',
    async () => {
      const { rowCount } = await rig.sql.query(`SELECT 1 FROM "JobRun" WHERE trigger = 'schedule'`);
      return (rowCount ?? 0) > 0 ? true : undefined;
    },
    { timeoutMs: 75_000, everyMs: 500 },
  );
  await rig.waitSettled(150_000);

  const tally = rig.tally('two of each role', { reminders: RECIPIENTS / 2 }, (chatId) =>
    rig.isFocal(chatId) ? 2 : 1,
  );
  expect(tally).toMatchObject({ lost: 0, duplicated: 0 });
  expect(await rig.outboxStates()).toEqual({ sent: RECIPIENTS + RECIPIENTS / 2 + WRITERS.length });
  const reminders = await rig.sql.query(`SELECT 1 FROM "ReminderSent"`);
  expect(reminders.rowCount).toBe(RECIPIENTS / 2);
  const slots = await rig.sql.query<{ name: string; slot: string; runs: string }>(
    `SELECT name, slot, count(*) AS runs FROM "JobRun" WHERE trigger = 'schedule' GROUP BY name, slot`,
  );
  expect(slots.rows.filter((row) => row.runs !== '1')).toEqual([]);

  const recorded = await rig.sql.query<{ updateId: string }>(
    `SELECT "updateId" FROM "InboundUpdate" ORDER BY "updateId"`,
  );
  expect(recorded.rows.map((row) => row.updateId)).toEqual(['7000', '7001', '7002']);
  expect(WRITERS.map((chatId) => rig.telegram.accepted(chatId))).toEqual([1, 1, 1]);
}, 240_000);
