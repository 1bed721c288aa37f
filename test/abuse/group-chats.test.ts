import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventFromUpdate } from '../../src/channels/telegram/telegram.ts';
import { ZaloBotChannel } from '../../src/channels/zalo/bot-api.ts';
import { createZaloOaChannel } from '../../src/channels/zalo/oa.ts';
import { createLogger } from '../../src/logger.ts';
import type { OutboundMessage } from '../../src/domain/message.ts';
import { hashLinkCode, issueLinkCode, upsertOfficial } from '../../src/services/officials.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { TEST_LINK_CODE_KEYS } from '../support/link-codes.ts';
import { FakeZaloBot } from '../support/zalo-bot.ts';
import { FakeZaloOa } from '../support/zalo-oa.ts';
import {
  fingerprint,
  oaHeaders,
  SECRETS,
  startInProcess,
  tableNames,
  TEST_SECRETS_KEY,
  type InProcess,
} from './harness.ts';

/**
 * Only private chats are served. A Telegram group, supergroup or channel, a Zalo Bot group and a Zalo OA
 * group (GMF) each hear one line that the bot works in private chats, however many messages, instances or
 * redeliveries; nothing of the group is kept (no account, report, update id or text), and a link code
 * sent there is neither used nor counted, so it links afterwards in a private chat.
 */
let env: InProcess;
let zaloBot: FakeZaloBot;
let zaloOa: FakeZaloOa;
let tables: string[];
const codes = { telegram: '', zalo: '', oa: '' };
let nextUpdate = 1;

beforeAll(async () => {
  env = await startInProcess();
  zaloBot = await FakeZaloBot.start('12345689:abuse');
  zaloOa = await FakeZaloOa.start(SECRETS.oaAppId, 'abuse-app-secret', SECRETS.oaKey);
  await upsertUnit(env.db, 'GC-XA', { name: 'UBND xã Nhóm' });
  const deps = {
    clock: { now: () => new Date() },
    random: { bytes: (n: number) => randomBytes(n) },
    linkCodeKeys: TEST_LINK_CODE_KEYS,
  };
  for (const [key, code] of [
    ['telegram', 'GC-T'],
    ['zalo', 'GC-Z'],
    ['oa', 'GC-O'],
  ] as const) {
    await upsertOfficial(env.db, code, { name: `Cán bộ ${code}`, unitCode: 'GC-XA', role: 'focal' });
    codes[key] = (await issueLinkCode(env.db, code, deps)).code;
  }
  tables = await tableNames(env.db);
});

afterAll(async () => {
  await zaloBot?.stop();
  await zaloOa?.stop();
  await env?.close();
});

const groupLine = () => env.render.text('vi', 'link.groupOnly').text;

async function post(url: string, headers: Record<string, string>, payload: string | object): Promise<void> {
  const response = await env.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', ...headers },
    payload,
  });
  expect(response.statusCode).toBe(200);
}

const telegram = (update: object) =>
  post('/webhooks/telegram', { 'x-telegram-bot-api-secret-token': SECRETS.telegram }, update);
const zalo = (update: object) => post('/webhooks/zalo', { 'x-bot-api-secret-token': SECRETS.zalo }, update);
async function oa(event: { timestamp: string; [field: string]: unknown }): Promise<void> {
  const raw = JSON.stringify(event);
  await post('/webhooks/zalo-oa', oaHeaders(raw, event.timestamp), raw);
}

/** A Telegram message as the Bot API delivers it, in a chat of the given type. */
function telegramMessage(chat: { id: number; type: string }, from: number, text: string) {
  const id = nextUpdate++;
  const command = text.startsWith('/')
    ? [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]?.length }]
    : [];
  return {
    update_id: id,
    message: {
      message_id: id,
      date: Math.floor(Date.now() / 1000),
      chat: { ...chat, title: 'Nhóm thi đua' },
      from: { id: from, is_bot: false, first_name: 'Cán bộ' },
      text,
      ...(command.length > 0 ? { entities: command } : {}),
    },
  };
}

/** What the bot answered into a chat, oldest first (read from the outbox). */
async function answersIn(channel: string, chatId: string): Promise<string[]> {
  const rows = await env.db.outboxMessage.findMany({ where: { channel, chatId }, orderBy: { seq: 'asc' } });
  return rows.map((row) => (row.payload as unknown as OutboundMessage).text);
}

const codeRow = (code: string) =>
  env.db.linkCode.findUniqueOrThrow({ where: { codeHash: hashLinkCode(code, TEST_LINK_CODE_KEYS.current) } });

/** Tables whose rows changed between two fingerprints. */
function changed(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys(after).filter((table) => after[table] !== before[table]);
}

/** What a group could leave behind: every table's rows, and the link-attempt counters in Redis. */
async function snapshot(): Promise<{
  rows: Record<string, string>;
  counters: Record<string, string | null>;
}> {
  const keys = (await env.redis.keys(`${env.prefix}:throttle:*`)).sort();
  const values = keys.length > 0 ? await env.redis.mget(...keys) : [];
  return {
    rows: await fingerprint(env.db, tables),
    counters: Object.fromEntries(keys.map((key, i) => [key, values[i] ?? null])),
  };
}

/** Nothing about a group is anywhere but its one notice and that notice's outbox row; nothing was counted. */
async function expectNothingKeptBut(before: Awaited<ReturnType<typeof snapshot>>): Promise<void> {
  const after = await snapshot();
  expect(changed(before.rows, after.rows)).toEqual(['GroupChatNotice', 'OutboxMessage']);
  expect(after.counters).toEqual(before.counters);
}

describe('group chats', () => {
  it('Telegram: a supergroup, a group that adds the bot and a channel each hear one line; the code links in private later', async () => {
    const before = await snapshot();
    const supergroup = { id: -1001234567890, type: 'supergroup' };
    const first = telegramMessage(supergroup, 501, `/start ${codes.telegram}`);
    // Two members writing at the same moment (as two instances would take them): still one line.
    await Promise.all([telegram(first), telegram(telegramMessage(supergroup, 502, 'đã xong 100%'))]);
    await telegram(first); // a redelivery
    await telegram(telegramMessage(supergroup, 501, codes.telegram));
    await telegram({
      update_id: nextUpdate++,
      edited_message: { ...first.message, text: 'vướng kinh phí', edit_date: Math.floor(Date.now() / 1000) },
    });
    // A button pressed under a message in the group: a short notice on the button, nothing written.
    const press = (updateId: number) => ({
      update_id: updateId,
      callback_query: {
        id: `cb-${updateId}`,
        from: { id: 501, is_bot: false, first_name: 'Cán bộ' },
        chat_instance: '1',
        data: 'ack:0190f0f0-1234-7abc-8def-0123456789ab',
        message: { message_id: 1, date: 1, chat: supergroup, text: 'Kế hoạch' },
      },
    });
    await telegram(press(nextUpdate++));
    expect(await answersIn('telegram', String(supergroup.id))).toEqual([groupLine()]);
    // What such a press answers on the button (the adapter hands it to Telegram's answerCallbackQuery).
    const event = eventFromUpdate(press(nextUpdate++));
    if (!event) throw new Error('the press was not read');
    const pressed = await env.handle(event);
    expect(pressed.notice).toBe(env.render.text('vi', 'link.groupOnlyShort').text);
    expect(await answersIn('telegram', String(supergroup.id))).toEqual([groupLine()]);

    // A group that adds the bot hears the line then, and not again when someone writes there.
    const group = { id: -4242, type: 'group' };
    await telegram({
      update_id: nextUpdate++,
      my_chat_member: {
        chat: { ...group, title: 'Tổ công tác' },
        from: { id: 503, is_bot: false, first_name: 'Trưởng nhóm' },
        date: 1,
        old_chat_member: { user: { id: 500000001, is_bot: true, first_name: 'bot' }, status: 'left' },
        new_chat_member: { user: { id: 500000001, is_bot: true, first_name: 'bot' }, status: 'member' },
      },
    });
    await telegram(telegramMessage(group, 503, `/start ${codes.telegram}`));
    expect(await answersIn('telegram', String(group.id))).toEqual([groupLine()]);

    // A channel's post.
    const channel = { id: -1009876543210, type: 'channel' };
    const post = telegramMessage(channel, 0, codes.telegram);
    await telegram({ update_id: post.update_id, channel_post: { ...post.message, from: undefined } });
    expect(await answersIn('telegram', String(channel.id))).toEqual([groupLine()]);

    await expectNothingKeptBut(before);
    expect((await codeRow(codes.telegram)).usedAt).toBeNull();
    expect(await env.db.groupChatNotice.count({ where: { channel: 'telegram' } })).toBe(3);

    // The same code, in the member's private chat, links.
    await telegram(telegramMessage({ id: 501, type: 'private' }, 501, `/start ${codes.telegram}`));
    expect((await answersIn('telegram', '501')).at(-1)).toContain('Cán bộ GC-T');
    expect((await codeRow(codes.telegram)).usedBy).toBe('telegram:501');
  });

  it('Zalo Bot Platform: a GROUP chat hears one line; the code links in the private chat later', async () => {
    const before = await snapshot();
    const first = zaloBot.groupUpdate('grp-77', 'u-601', 'message.text.received', {
      text: `/start ${codes.zalo}`,
    });
    await zalo(first);
    await zalo(first);
    await zalo(zaloBot.groupUpdate('grp-77', 'u-602', 'message.text.received', { text: 'đã xong' }));
    await zalo({
      ok: true,
      result: zaloBot.groupUpdate('grp-77', 'u-601', 'message.text.received', { text: codes.zalo }),
    });
    await zalo(
      zaloBot.groupUpdate('grp-77', 'u-601', 'message.image.received', {
        photo_url: 'https://zalo.example/a.jpg',
        caption: 'Ảnh điển hình',
      }),
    );
    expect(await answersIn('zalo', 'grp-77')).toEqual([groupLine()]);
    await expectNothingKeptBut(before);
    // Delivered as the worker would, the line goes to the group's chat id.
    const channel = new ZaloBotChannel({
      token: '12345689:abuse',
      apiRoot: zaloBot.url,
      mode: 'polling',
      webhookSecret: undefined,
      publicUrl: undefined,
      logger: createLogger('silent'),
    });
    const row = await env.db.outboxMessage.findFirstOrThrow({ where: { channel: 'zalo', chatId: 'grp-77' } });
    await channel.send(row.chatId, row.payload as unknown as OutboundMessage);
    expect(zaloBot.sent.map(({ chatId, text }) => ({ chatId, text }))).toEqual([
      { chatId: 'grp-77', text: groupLine() },
    ]);
    expect(zaloBot.violations).toEqual([]);
    expect((await codeRow(codes.zalo)).usedAt).toBeNull();

    await zalo(zaloBot.update('u-601', 'message.text.received', { text: `/start ${codes.zalo}` }));
    expect((await answersIn('zalo', 'u-601')).at(-1)).toContain('Cán bộ GC-Z');
    expect((await codeRow(codes.zalo)).usedBy).toBe('zalo:u-601');
  });

  it('Zalo OA: a GMF group hears one line, sent through group/message; the code links in the private chat later', async () => {
    const before = await snapshot();
    const member = '2512523625412515125';
    const first = zaloOa.groupTextEvent('8a9bada229cec09099df', member, `/start ${codes.oa}`);
    await oa(first);
    await oa(first);
    await oa(zaloOa.groupTextEvent('8a9bada229cec09099df', '3512523625412515126', 'đã xong'));
    await oa({
      ...zaloOa.groupTextEvent('8a9bada229cec09099df', member, codes.oa),
      event_name: 'user_send_group_image',
    });
    const rows = await env.db.outboxMessage.findMany({ where: { channel: 'zalo_oa' } });
    expect(rows.map((row) => (row.payload as unknown as OutboundMessage).text)).toEqual([groupLine()]);
    await expectNothingKeptBut(before);
    expect((await codeRow(codes.oa)).usedAt).toBeNull();

    // The row is delivered as the worker would: to the group, through GMF, as plain text.
    const tokens = zaloOa.issue();
    const channel = createZaloOaChannel({
      appId: SECRETS.oaAppId,
      secretKey: SECRETS.oaKey,
      appSecret: 'abuse-app-secret',
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      apiRoot: zaloOa.url,
      oauthRoot: zaloOa.url,
      secretsKeys: { current: TEST_SECRETS_KEY, previous: [] },
      db: env.db,
      logger: createLogger('silent'),
    });
    await channel.prepare();
    const row = rows[0];
    if (!row) throw new Error('no notice was written');
    await channel.send(row.chatId, row.payload as unknown as OutboundMessage);
    expect(zaloOa.groupSent).toEqual([{ groupId: '8a9bada229cec09099df', text: groupLine() }]);
    expect(zaloOa.sent).toEqual([]);
    expect(zaloOa.violations).toEqual([]);

    await oa(zaloOa.textEvent(member, `/start ${codes.oa}`));
    expect((await answersIn('zalo_oa', member)).at(-1)).toContain('Cán bộ GC-O');
    expect((await codeRow(codes.oa)).usedBy).toBe(`zalo_oa:${member}`);
  });
});
