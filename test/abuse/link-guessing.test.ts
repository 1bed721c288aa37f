import { randomBytes, randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LINK_CODE_ALPHABET, LINK_CODE_LENGTH } from '../../src/domain/link-code.ts';
import type { OutboundMessage } from '../../src/domain/message.ts';
import { hashLinkCode, issueLinkCode, upsertOfficial } from '../../src/services/officials.ts';
import { TEST_LINK_CODE_KEYS } from '../support/link-codes.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { LINK_ATTEMPT_LIMITS } from '../../src/throttle.ts';
import { SECRETS, startInProcess, type InProcess } from './harness.ts';

/**
 * Guessing link codes through the Telegram webhook: from one chat (5 attempts in 15 minutes, then not even
 * checked), twenty at once from one chat (counted before checking, so still 5), one person from several
 * chats (counted per person too), and from hundreds of chats with one try each (over 300 checked codes
 * across all chats in 15 minutes the admins are alerted once and each chat may try once a minute, so an
 * official with a right code still links). Nobody is linked by a guess.
 */
let env: InProcess;
let nextUpdate = 1;
const real = { A: '', B: '', C: '', D: '' };

beforeAll(async () => {
  env = await startInProcess();
  await upsertUnit(env.db, 'LG-XA', { name: 'UBND xã Thử' });
  for (const code of ['LG-A', 'LG-B', 'LG-C', 'LG-D'] as const) {
    await upsertOfficial(env.db, code, { name: `Cán bộ ${code}`, unitCode: 'LG-XA', role: 'focal' });
  }
  const deps = {
    clock: { now: () => new Date() },
    random: { bytes: (n: number) => randomBytes(n) },
    linkCodeKeys: TEST_LINK_CODE_KEYS,
  };
  real.A = (await issueLinkCode(env.db, 'LG-A', deps)).code;
  real.B = (await issueLinkCode(env.db, 'LG-B', deps)).code;
  real.C = (await issueLinkCode(env.db, 'LG-C', deps)).code;
  real.D = (await issueLinkCode(env.db, 'LG-D', deps)).code;
  // An admin with a linked chat, who is alerted when the guard of all chats is reached.
  await upsertOfficial(env.db, 'LG-ADMIN', { name: 'Quản trị', unitCode: 'LG-XA', role: 'admin' });
  const admin = await env.db.official.findUniqueOrThrow({ where: { code: 'LG-ADMIN' } });
  await env.db.channelAccount.create({ data: { officialId: admin.id, channel: 'telegram', chatId: '999' } });
});

afterAll(async () => {
  await env?.close();
});

const text = (key: string) => env.render.text('vi', key, { minutes: 15 }).text;

function guess(): string {
  for (;;) {
    const code = Array.from({ length: LINK_CODE_LENGTH }, () => LINK_CODE_ALPHABET[randomInt(30)]).join('');
    if (!Object.values(real).includes(code)) return code;
  }
}

/**
 * Sends `/start CODE` from a chat (by `from`, the chat's own person by default) and returns the bot's
 * answer to it (read from the outbox).
 */
async function start(chat: number, code: string, from = chat): Promise<string> {
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
        from: { id: from, is_bot: false, first_name: 'Khách' },
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
const linkedChats = () => env.db.channelAccount.count({ where: { official: { role: { not: 'admin' } } } });
const key = (name: string) => `${env.prefix}:throttle:{link}:${name}`;

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
    expect(await env.redis.get(key(`telegram:${chat}`))).toBe('5');
    expect(await env.redis.get(key('all-chats'))).toBe('5');

    await windowPasses(`telegram:${chat}`);
    expect(await start(chat, real.A)).toContain('Cán bộ LG-A');
    expect((await codeRow(real.A)).usedBy).toBe(`telegram:${chat}`);
  }, 120_000);

  it('twenty guesses sent at once from one chat: only five are checked, the rest are refused', async () => {
    const chat = 2101;
    const answers = await Promise.all(Array.from({ length: 20 }, () => start(chat, guess())));
    const checked = answers.filter((answer) => answer === text('link.invalid')).length;
    const refused = answers.filter((answer) => answer === text('link.throttled')).length;
    process.stdout.write(`20 at once from one chat: ${checked} checked, ${refused} refused\n`);
    expect(checked).toBe(LINK_ATTEMPT_LIMITS.perChat);
    expect(refused).toBe(20 - LINK_ATTEMPT_LIMITS.perChat);
    // Even the right code waits for the window, unused.
    expect(await start(chat, real.C)).toBe(text('link.throttled'));
    expect((await codeRow(real.C)).usedAt).toBeNull();
  });

  it('one person from several chats shares one count; another person is not slowed by it', async () => {
    const person = 77_001;
    const answers: string[] = [];
    for (const chat of [4001, 4001, 4001, 4002, 4002]) answers.push(await start(chat, guess(), person));
    expect(answers).toEqual(Array(5).fill(text('link.invalid')));
    // A chat that never tried before is refused: its person has used their attempts.
    expect(await start(4003, real.C, person)).toBe(text('link.throttled'));
    expect((await codeRow(real.C)).usedAt).toBeNull();
    expect(await start(4004, guess(), 77_002)).toBe(text('link.invalid'));
  });

  it('a flood over the guard of all chats: one alert to the admins, and a right code still links', async () => {
    await env.redis.del(key('all-chats'));
    const linkedBefore = await linkedChats();
    const chats = Array.from({ length: LINK_ATTEMPT_LIMITS.allChats + 40 }, (_, i) => 10_000 + i);
    const answers: string[] = [];
    // Eight at a time, as Telegram delivers updates of different chats side by side.
    for (let i = 0; i < chats.length; i += 8) {
      answers.push(...(await Promise.all(chats.slice(i, i + 8).map((chat) => start(chat, guess())))));
    }
    // Each chat tried once: all were checked (one attempt a minute each is still allowed), nobody linked.
    expect(answers.filter((answer) => answer === text('link.invalid'))).toHaveLength(chats.length);
    expect(await linkedChats()).toBe(linkedBefore);
    const alerts = await env.db.outboxMessage.findMany({
      where: { dedupeKey: { startsWith: 'alert:link-guessing:' } },
    });
    expect(alerts).toHaveLength(1);
    expect((alerts[0]?.payload as unknown as OutboundMessage).text).toBe(
      env.render.text('vi', 'admin.linkGuessing', {
        count: LINK_ATTEMPT_LIMITS.allChats,
        minutes: 15,
        seconds: LINK_ATTEMPT_LIMITS.slowSeconds,
      }).text,
    );

    // A chat that tried in the slowed-down minutes and tries again within its minute waits, told for how
    // long, and its code is not checked.
    const late = chats.at(-1) ?? 0;
    const slowed = env.render.text('vi', 'link.slowed', { seconds: LINK_ATTEMPT_LIMITS.slowSeconds }).text;
    expect(await start(late, real.D)).toBe(slowed);
    expect((await codeRow(real.D)).usedAt).toBeNull();
    // After its one wait (the minute's slot ends), the official's right code links.
    const slot = key(`slot:telegram:${late}`);
    expect(await env.redis.pttl(slot)).toBeGreaterThan(0);
    expect(await env.redis.pttl(slot)).toBeLessThanOrEqual(LINK_ATTEMPT_LIMITS.slowSeconds * 1000);
    await env.redis.del(slot);
    expect(await start(late, real.D)).toContain('Cán bộ LG-D');

    // A fresh chat with a right code links at its first try, and the admins hear nothing more.
    expect(await start(3001, real.B)).toContain('Cán bộ LG-B');
    expect(await linkedChats()).toBe(linkedBefore + 2);
    expect(
      await env.db.outboxMessage.count({ where: { dedupeKey: { startsWith: 'alert:link-guessing:' } } }),
    ).toBe(1);
  }, 120_000);
});
