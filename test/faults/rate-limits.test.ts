import { afterAll, beforeAll, expect, it } from 'vitest';
import { Fanout, FIRST_CHAT } from '../support/fanout.ts';
import { FAULTS } from '../support/telegram-proxy.ts';

/**
 * 429 storms at Telegram's real limits (30 messages/s, 1/s per chat) with bursts of injected 429s, and
 * chats that cannot be reached (403 blocked, 403 never started, 400 chat not found) among the recipients.
 * 600 recipients rather than 2,000: at 30/s the launch alone takes 20 s instead of 67 s, and the
 * limits bite the same way; the fault suite stays within its share of CI time.
 */
const RECIPIENTS = 600;
const PER_SECOND = 30;
const unreachable = new Map<string, { status: number; description: string }>([
  ...Array.from({ length: 10 }, (_, i) => [String(FIRST_CHAT + 100 + i), FAULTS.blocked] as const),
  ...Array.from({ length: 10 }, (_, i) => [String(FIRST_CHAT + 300 + i), FAULTS.neverStarted] as const),
  ...Array.from({ length: 5 }, (_, i) => [String(FIRST_CHAT + 500 + i), FAULTS.chatNotFound] as const),
]);
let rig: Fanout;

beforeAll(async () => {
  rig = await Fanout.start({ recipients: RECIPIENTS, perSecond: PER_SECOND, limits: {} });
});

afterAll(async () => {
  await rig?.close();
});

it('slows to the allowed rate, drops nothing and never retries a 403', async () => {
  const web = await rig.start('web');
  await rig.seed(web);
  await rig.start('worker');
  for (const [chatId, fault] of unreachable) rig.telegram.inject(chatId, fault);
  const started = Date.now();
  await rig.launch(web);
  await rig.waitDelivered(RECIPIENTS / 4);
  rig.telegram.injectNext(40, FAULTS.tooManyRequests(2));
  await rig.waitDelivered(RECIPIENTS / 2);
  rig.telegram.injectNext(40, FAULTS.tooManyRequests(1));
  await rig.waitSettled(120_000);
  const seconds = (Date.now() - started) / 1000;

  const reachable = RECIPIENTS - unreachable.size;
  const tally = rig.tally(
    '429 storm',
    {
      unreachable: unreachable.size,
      injected429s: 80,
      perSecond: Math.round((reachable / seconds) * 10) / 10,
    },
    (chatId) => (unreachable.has(chatId) ? 0 : 1),
  );
  expect(tally).toMatchObject({ sent: reachable, lost: 0, duplicated: 0 });
  // The 80 injected ones, and next to none for the limits: the service keeps to 30 in any second itself
  // (a send reaches Telegram a few ms after it is admitted, unevenly, hence the small allowance).
  const forLimits = rig.telegram.tooManyRequests - 80;
  expect(forLimits).toBeGreaterThanOrEqual(0);
  expect(forLimits).toBeLessThanOrEqual(3);
  // Every refusal that is not a 429 came from an unreachable chat, and each of those was tried once.
  for (const chatId of unreachable.keys()) {
    expect(rig.telegram.attempts.filter((attempt) => attempt.chatId === chatId)).toHaveLength(1);
  }
  const { rows } = await rig.sql.query<{ chatId: string; active: boolean; reason: string; state: string }>(
    `SELECT a."chatId", a.active, a."inactiveReason" AS reason, o.state
     FROM "ChannelAccount" a JOIN "OutboxMessage" o ON o."channelAccountId" = a.id
     WHERE a.active = false OR o.state <> 'sent'`,
  );
  expect(new Map(rows.map((row) => [row.chatId, row]))).toEqual(
    new Map(
      [...unreachable].map(([chatId, fault]) => [
        chatId,
        { chatId, active: false, reason: fault.description, state: 'failed' },
      ]),
    ),
  );
}, 180_000);
