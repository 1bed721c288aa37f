import { randomBytes, randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LINK_CODE_ALPHABET, LINK_CODE_LENGTH } from '../../src/domain/link-code.ts';
import type { OutboundMessage } from '../../src/domain/message.ts';
import { hashLinkCode, issueLinkCode, upsertOfficial } from '../../src/services/officials.ts';
import { TEST_LINK_CODE_KEYS } from '../support/link-codes.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { LINK_GUARD_FAILURES } from '../../src/throttle.ts';
import { SECRETS, startInProcess, type InProcess } from './harness.ts';

/**
 * Guessing link codes through the Telegram webhook: from one chat (5 wrong codes in 15 minutes, then not
 * even checked) and from 1,000 chats with one try each (counted across all chats: after 300 wrong codes
 * in 15 minutes every chat waits). Neither links anybody; a real code works once the window has passed.
 */
let env: InProcess;
let nextUpdate = 1;
const real = { A: '', B: '' };

beforeAll(async () => {
  env = await startInProcess();
  await upsertUnit(env.db, 'LG-XA', { name: 'UBND xã Thử' });
  for (const code of ['LG-A', 'LG-B'] as const) {
    await upsertOfficial(env.db, code, { name: `Cán bộ ${code}`, unitCode: 'LG-XA', role: 'focal' });
  }
  const deps = {
    clock: { now: () => new Date() },
    random: { bytes: (n: number) => randomBytes(n) },
    linkCodeKeys: TEST_LINK_CODE_KEYS,
  };
  real.A = (await issueLinkCode(env.db, 'LG-A', deps)).code;
  real.B = (await issueLinkCode(env.db, 'LG-B', deps)).code;
});

afterAll(async () => {
  await env?.close();
});

const text = (key: string) => env.render.text('vi', key, { minutes: 15 }).text;

function guess(): string {
  for (;;) {
    const code = Array.from({ length: LINK_CODE_LENGTH }, () => LINK_CODE_ALPHABET[randomInt(30)]).join('');
    if (code !== real.A && code !== real.B) return code;
  }
}

/** Sends `/start CODE` from a chat and returns the bot's answer to it (read from the outbox). */
async function start(chat: number, code: string): Promise<string> {
  const id = nextUpdate++;
  const response = await env.app.inject({
    method: 'POST',
    url: '/webhooks/telegram',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRETS.telegram },
    payload: {
      update_id: id,
      message: {
        message_id: id,
        date: Math.floor(Date.now() / 1000),
        chat: { id: chat, type: 'private' },
        from: { id: chat, is_bot: false, first_name: 'Khách' },
        text: `/start ${code}`,
        entities: [{ type: 'bot_command', offset: 0, length: 6 }],
      },
    },
  });
  expect(response.statusCode).toBe(200);
  const row = await env.db.outboxMessage.findUniqueOrThrow({
    where: { dedupeKey: `reply:telegram:${id}:0` },
  });
  return (row.payload as unknown as OutboundMessage).text;
}

const codeRow = (code: string) =>
  env.db.linkCode.findUniqueOrThrow({ where: { codeHash: hashLinkCode(code, TEST_LINK_CODE_KEYS.current) } });
const linkedChats = () => env.db.channelAccount.count();
const key = (name: string) => `${env.prefix}:throttle:${name}`;

/** The end of a throttle's window, without waiting 15 minutes: the key is still there, then expires. */
async function windowPasses(name: string): Promise<void> {
  const ttl = await env.redis.ttl(key(name));
  expect(ttl).toBeGreaterThan(0);
  expect(ttl).toBeLessThanOrEqual(15 * 60);
  await env.redis.del(key(name));
}

describe('guessing link codes', () => {
  it('from one chat: 1,000 tries, only 5 are checked, and a real code as the 6th stays unused', async () => {
    const chat = 2001;
    const answers: string[] = [];
    for (let i = 0; i < 5; i++) answers.push(await start(chat, guess()));
    expect(answers).toEqual(Array(5).fill(text('link.invalid')));

    expect(await start(chat, real.A)).toBe(text('link.throttled'));
    expect((await codeRow(real.A)).usedAt).toBeNull();

    const started = Date.now();
    for (let i = 7; i <= 1_000; i++) {
      const answer = await start(chat, i === 500 ? real.B : guess());
      expect(answer).toBe(text('link.throttled'));
    }
    process.stdout.write(`one chat: 994 throttled tries in ${Date.now() - started} ms\n`);
    expect((await codeRow(real.B)).usedAt).toBeNull();
    expect(await linkedChats()).toBe(0);
    // Only the five checked codes counted as failures, here and across all chats.
    expect(await env.redis.get(key(`link:telegram:${chat}`))).toBe('5');
    expect(await env.redis.get(key('link:all-chats'))).toBe('5');

    await windowPasses(`link:telegram:${chat}`);
    expect(await start(chat, real.A)).toContain('Cán bộ LG-A');
    expect((await codeRow(real.A)).usedBy).toBe(`telegram:${chat}`);
  }, 120_000);

  it('from 1,000 chats, one try each: at most 300 checked, nobody linked; a real code works after the window', async () => {
    await env.redis.del(key('link:all-chats'));
    const linkedBefore = await linkedChats();
    const answers: string[] = [];
    const chats = Array.from({ length: 1_000 }, (_, i) => 10_000 + i);
    // Eight at a time, as Telegram delivers updates of different chats side by side.
    for (let i = 0; i < chats.length; i += 8) {
      answers.push(...(await Promise.all(chats.slice(i, i + 8).map((chat) => start(chat, guess())))));
    }
    const checked = answers.filter((answer) => answer === text('link.invalid')).length;
    const paused = answers.filter((answer) => answer === text('link.paused')).length;
    process.stdout.write(`1,000 chats: ${checked} codes checked, ${paused} told to wait\n`);
    expect(checked + paused).toBe(1_000);
    // A check and its count are not one step: up to one batch may slip past the limit.
    expect(checked).toBeGreaterThanOrEqual(LINK_GUARD_FAILURES);
    expect(checked).toBeLessThan(LINK_GUARD_FAILURES + 8);
    expect(await linkedChats()).toBe(linkedBefore);

    // A person with a real code meanwhile is told to wait too, and the code stays theirs.
    expect(await start(3001, real.B)).toBe(text('link.paused'));
    expect((await codeRow(real.B)).usedAt).toBeNull();

    await windowPasses('link:all-chats');
    expect(await start(3001, real.B)).toContain('Cán bộ LG-B');
    expect(await linkedChats()).toBe(linkedBefore + 1);
  }, 120_000);
});
