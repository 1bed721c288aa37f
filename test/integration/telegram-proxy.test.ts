import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { TelegramChannel } from '../../src/channels/telegram/telegram.ts';
import { Emulator } from '../support/telegram.ts';
import { FAULTS, FaultyTelegram } from '../support/telegram-proxy.ts';

/** The test Telegram itself: its limits and faults answer as Telegram documents them. */
const TOKEN = '500000001:proxy';
let emulator: Emulator;

beforeAll(async () => {
  emulator = await Emulator.start();
});

afterAll(async () => {
  await emulator?.stop();
});

async function send(proxy: FaultyTelegram, chatId: number) {
  const response = await fetch(`${proxy.url}/bot${TOKEN}/sendMessage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ chat_id: chatId, text: 'Thông báo' }),
  });
  return {
    status: response.status,
    body: (await response.json()) as { description?: string; parameters?: { retry_after: number } },
  };
}

describe('FaultyTelegram', () => {
  it("enforces Telegram's limits with 429 and retry_after: per chat, per group, overall", async () => {
    const proxy = await FaultyTelegram.start(emulator.url, { limits: {} });
    try {
      expect((await send(proxy, 1)).status).toBe(200);
      const again = await send(proxy, 1);
      expect(again.status).toBe(429);
      expect(again.body.parameters?.retry_after).toBe(1);
      expect([proxy.accepted(1), proxy.tooManyRequests]).toEqual([1, 1]);
    } finally {
      await proxy.stop();
    }

    // Sent together, so all within one second: three pass, the fourth waits.
    const overall = await FaultyTelegram.start(emulator.url, { limits: { perSecond: 3 } });
    try {
      const statuses = await Promise.all(
        [11, 12, 13, 14].map(async (chat) => (await send(overall, chat)).status),
      );
      expect(statuses.sort()).toEqual([200, 200, 200, 429]);
    } finally {
      await overall.stop();
    }

    const groups = await FaultyTelegram.start(emulator.url, { limits: { perChatSeconds: 0 } });
    try {
      for (let i = 0; i < 20; i += 1) expect((await send(groups, -100200)).status).toBe(200);
      const over = await send(groups, -100200);
      expect(over.status).toBe(429);
      expect(over.body.parameters?.retry_after).toBeGreaterThan(50);
      expect((await send(groups, 100200)).status).toBe(200);
    } finally {
      await groups.stop();
    }
  });

  it('answers injected faults in order, per chat and for any chat, and counts attempts', async () => {
    const proxy = await FaultyTelegram.start(emulator.url);
    try {
      proxy.inject(7, FAULTS.blocked, FAULTS.neverStarted, FAULTS.chatNotFound, FAULTS.serverError);
      proxy.injectNext(1, FAULTS.tooManyRequests(3));
      const answers = [];
      for (let i = 0; i < 6; i += 1) answers.push(await send(proxy, 7));
      expect(answers.map((answer) => [answer.status, answer.body.description])).toEqual([
        [403, 'Forbidden: bot was blocked by the user'],
        [403, "Forbidden: bot can't initiate conversation with a user"],
        [400, 'Bad Request: chat not found'],
        [502, 'Bad Gateway'],
        [429, 'Too Many Requests: retry after 3'],
        [200, undefined],
      ]);
      expect(answers[4]?.body.parameters?.retry_after).toBe(3);
      expect(proxy.attempts.map((attempt) => attempt.status)).toEqual([403, 403, 400, 502, 429, 200]);
      expect(proxy.accepted(7)).toBe(1);
    } finally {
      await proxy.stop();
    }
  });

  it('delivers a message and then loses the answer, and adds latency', async () => {
    const proxy = await FaultyTelegram.start(emulator.url, { latencyMs: 150 });
    try {
      proxy.inject(8, FAULTS.timeout);
      await expect(send(proxy, 8)).rejects.toThrow();
      expect([proxy.accepted(8), proxy.timedOut]).toEqual([1, 1]);
      const user = emulator.user(TOKEN, 8);
      await user.waitFor('the message behind the lost answer', (message) => message.text === 'Thông báo');
      const started = Date.now();
      expect((await send(proxy, 9)).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    } finally {
      await proxy.stop();
    }
  });
});

describe('TelegramChannel against a Telegram that does not answer', () => {
  it('gives up on a send after its timeout, and the failure is retried rather than lost', async () => {
    const slow = await FaultyTelegram.start(emulator.url, { latencyMs: 20_000 });
    const channel = new TelegramChannel({
      token: TOKEN,
      apiRoot: slow.url,
      mode: 'polling',
      webhookSecret: undefined,
      publicUrl: undefined,
      logger: pino({ level: 'silent' }),
      sendTimeoutMs: 300,
    });
    try {
      const failure = await channel.send('42', { text: 'Thông báo' }).then(
        () => undefined,
        (error: unknown) => channel.classify(error),
      );
      expect(failure?.kind).toBe('retry');
    } finally {
      slow.latencyMs = 0;
      await slow.stop();
    }
  }, 10_000);
});
