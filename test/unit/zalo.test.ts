import { describe, expect, it } from 'vitest';
import { eventFromZaloUpdate, ZaloBotChannel, ZaloBotError } from '../../src/channels/zalo/bot-api.ts';
import { ZaloNetworkError } from '../../src/channels/zalo/http.ts';
import { eventFromOaWebhook, untilMorning, ZaloOaChannel, ZaloOaError } from '../../src/channels/zalo/oa.ts';
import { OaTokenUnavailable, type OaTokenStore } from '../../src/channels/zalo/oa-tokens.ts';
import { numberedParts, oaSignature, plainText } from '../../src/channels/zalo/text.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { matchChoiceReply } from '../../src/domain/choice-reply.ts';
import { createLogger } from '../../src/logger.ts';

const logger = createLogger('silent');
const bot = new ZaloBotChannel({
  token: '1:t',
  apiRoot: 'http://127.0.0.1:9',
  mode: 'polling',
  webhookSecret: 'secret-123',
  publicUrl: undefined,
  logger,
});
const oa = new ZaloOaChannel({
  appId: '4321',
  oaSecretKey: 'oa-secret',
  apiRoot: 'http://127.0.0.1:9',
  tokens: {} as OaTokenStore,
  logger,
  // The events below were signed a minute before (their timestamp); older ones are refused.
  now: () => new Date(1_732_500_060_000),
});

describe('Zalo Bot Platform updates', () => {
  const update = {
    event_name: 'message.text.received',
    message: {
      message_id: 'abc123',
      date: 1732500000000,
      text: '/start ABCD234567',
      from: { id: 'u1', display_name: 'Mai', is_bot: false },
      chat: { id: 'u1', chat_type: 'PRIVATE' },
    },
  };

  it('reads the flat body (live traffic) and the wrapped one (the docs) alike', () => {
    const expected = {
      channel: 'zalo',
      updateId: 'abc123',
      chatId: 'u1',
      chatKind: 'private',
      senderId: 'u1',
      kind: 'command',
      command: 'start',
      args: 'ABCD234567',
    };
    expect(eventFromZaloUpdate(update)).toEqual(expected);
    expect(eventFromZaloUpdate({ ok: true, result: update })).toEqual(expected);
  });

  it('turns stickers, pictures and unsupported messages into one "unsupported" event; ignores reactions', () => {
    const sticker = {
      event_name: 'message.sticker.received',
      message: { ...update.message, text: undefined },
    };
    expect(eventFromZaloUpdate(sticker)).toMatchObject({ kind: 'unsupported', what: 'sticker' });
    expect(eventFromZaloUpdate({ ...sticker, event_name: 'message.reaction.received' })).toBeNull();
    expect(eventFromZaloUpdate({ event_name: 'message.unsupported.received' })).toBeNull();
    expect(
      eventFromZaloUpdate({ ...update, message: { ...update.message, from: { id: 'b', is_bot: true } } }),
    ).toBeNull();
    expect(eventFromZaloUpdate([1, 2])).toBeNull();
    expect(eventFromZaloUpdate({ malformed: true })).toBeNull();
  });

  it('checks the webhook secret before anything', () => {
    expect(bot.readWebhook({ headers: {}, body: update })).toEqual({ status: 401 });
    expect(bot.readWebhook({ headers: { 'x-bot-api-secret-token': 'secret-12' }, body: update })).toEqual({
      status: 401,
    });
    // Accepted: the update is handed over to be recorded under its message id, then handled.
    expect(bot.readWebhook({ headers: { 'x-bot-api-secret-token': 'secret-123' }, body: update })).toEqual({
      status: 200,
      update: {
        key: update.message.message_id,
        chatId: update.message.chat.id,
        body: update,
        fromGroup: false,
      },
    });
  });

  it('classifies the documented errors', () => {
    expect(bot.classify(new ZaloBotError(429, 'Quota exceeded', true))).toMatchObject({
      kind: 'rate_limited',
      quota: true,
    });
    expect(bot.classify(new ZaloBotError(400, 'Bad request', true)).kind).toBe('rejected');
    expect(bot.classify(new ZaloBotError(404, 'Not Found', true)).kind).toBe('unreachable');
    // A bad token or Zalo's internal error is not the chat's fault: never deactivate an official for it.
    expect(bot.classify(new ZaloBotError(401, 'Unauthorized', true)).kind).toBe('retry');
    expect(bot.classify(new ZaloBotError(403, 'Internal error', true)).kind).toBe('retry');
    expect(bot.classify(new ZaloBotError(404, 'HTTP 404 without a Bot API answer', false)).kind).toBe(
      'retry',
    );
    expect(bot.classify(new ZaloNetworkError('socket hang up', 'ECONNRESET', undefined)).kind).toBe('retry');
  });
});

describe('Zalo OA', () => {
  const event = {
    app_id: '4321',
    event_name: 'user_send_text',
    sender: { id: '2512523625412515125' },
    recipient: { id: '579745863508352884' },
    message: { text: 'đã xong', msg_id: 'm-1' },
    timestamp: '1732500000000',
    user_id_by_app: '552177279717587730',
  };

  it('keeps ids beyond 2^53 as strings and reads button taps as choices', () => {
    expect(eventFromOaWebhook(event)).toEqual({
      channel: 'zalo_oa',
      updateId: 'm-1',
      chatId: '2512523625412515125',
      chatKind: 'private',
      senderId: '2512523625412515125',
      kind: 'text',
      text: 'đã xong',
    });
    expect(eventFromOaWebhook({ ...event, message: { text: '#c:ack:x', msg_id: 'm-2' } })).toMatchObject({
      kind: 'choice',
      data: 'ack:x',
    });
    expect(
      eventFromOaWebhook({
        ...event,
        event_name: 'user_send_image',
        message: { msg_id: 'm-3', attachments: [] },
      }),
    ).toMatchObject({ kind: 'unsupported', what: 'image' });
    expect(eventFromOaWebhook({ ...event, event_name: 'follow' })).toBeNull();
    expect(eventFromOaWebhook({ ...event, event_name: 'user_seen_message' })).toBeNull();
  });

  it('verifies mac = sha256(app_id + raw body + timestamp + OA secret key) over the exact bytes', () => {
    const raw = Buffer.from(JSON.stringify(event));
    const mac = oaSignature('4321', raw, event.timestamp, 'oa-secret');
    expect(mac).toMatch(/^mac=[0-9a-f]{64}$/);
    const request = (signature: string | undefined, rawBody: Buffer | undefined = raw) => ({
      headers: signature ? { 'x-zevent-signature': signature } : {},
      body: event,
      rawBody,
    });
    expect(oa.readWebhook(request(mac))).toEqual({
      status: 200,
      update: { key: 'm-1', chatId: event.sender.id, body: event, fromGroup: false },
    });
    expect(oa.readWebhook(request(undefined))).toEqual({ status: 401 });
    expect(oa.readWebhook(request(oaSignature('4321', raw, event.timestamp, 'app-secret')))).toEqual({
      status: 401,
    });
    expect(oa.readWebhook(request(mac, Buffer.from(JSON.stringify(event, null, 2))))).toEqual({
      status: 401,
    });
    expect(oa.readWebhook({ headers: { 'x-zevent-signature': mac }, body: event })).toEqual({
      status: 401,
    });
  });

  it('classifies the documented errors', () => {
    expect(oa.classify(new ZaloOaError(-230, 'outside window')).kind).toBe('unreachable');
    expect(oa.classify(new ZaloOaError(-232, 'outside window')).kind).toBe('unreachable');
    expect(oa.classify(new ZaloOaError(-213, 'not a follower')).kind).toBe('unreachable');
    expect(oa.classify(new ZaloOaError(-217, 'blocked')).kind).toBe('unreachable');
    expect(oa.classify(new ZaloOaError(-32, 'rate limit'))).toMatchObject({
      kind: 'rate_limited',
      retryAfterMs: 60_000,
    });
    expect(oa.classify(new ZaloOaError(-234, 'night')).kind).toBe('rate_limited');
    expect(oa.classify(new ZaloOaError(-201, 'invalid field')).kind).toBe('rejected');
    expect(oa.classify(new ZaloOaError(-216, 'invalid token')).kind).toBe('retry');
    expect(oa.classify(new OaTokenUnavailable('refresh failed')).kind).toBe('retry');
  });

  it('waits until 06:00 in Việt Nam for night-time refusals', () => {
    // 23:00 in Hà Nội is 16:00 UTC; 06:00 the next morning is 7 hours later.
    expect(untilMorning(new Date('2026-11-25T16:00:00Z'))).toBe(7 * 3600_000);
    expect(untilMorning(new Date('2026-11-25T22:59:00Z'))).toBe(60_000);
  });
});

describe('numbered choices', () => {
  const offered = [
    { n: 1, label: '👍 Đã nhận', data: 'ack:1' },
    { n: 2, label: '📝 Đăng ký thi đua', data: 'reg:1' },
    { n: 3, label: '✅ Hoàn thành', data: 'st:a:d' },
    { n: 4, label: '✅ Hoàn thành', data: 'st:b:d' },
  ];

  it('answers by number or by the words of exactly one label', () => {
    expect(matchChoiceReply('2', offered)).toEqual({ kind: 'choice', data: 'reg:1' });
    expect(matchChoiceReply(' #1. ', offered)).toEqual({ kind: 'choice', data: 'ack:1' });
    expect(matchChoiceReply('da nhan', offered)).toEqual({ kind: 'choice', data: 'ack:1' });
    expect(matchChoiceReply('ĐĂNG KÝ THI ĐUA!', offered)).toEqual({ kind: 'choice', data: 'reg:1' });
    expect(matchChoiceReply('9', offered)).toEqual({ kind: 'unknown_number', n: 9 });
    expect(matchChoiceReply('hoàn thành', offered)).toBeNull();
    expect(matchChoiceReply('đã nhận rồi nhé', offered)).toBeNull();
    expect(matchChoiceReply('1', [])).toBeNull();
  });

  it('renders plain text with the numbered list, split under the limit', () => {
    expect(plainText('<b>Số: 01/KH</b> &lt;tag&gt; &amp; x')).toBe('Số: 01/KH <tag> & x');
    const parts = numberedParts(
      { text: `${'dòng chữ dài '.repeat(300)}`, choices: [[{ label: 'Một', data: 'a', n: 5 }]] },
      2000,
    );
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.every((part) => part.length <= 2000)).toBe(true);
    expect(parts.at(-1)).toMatch(/5\. Một$/);
  });
});

describe('Zalo configuration', () => {
  it('exposes the Zalo channels and still runs the demo without any token', () => {
    expect(loadConfig({}).demo).toBe(true);
    const config = loadConfig({
      ZALO_BOT_TOKEN: '1:abc',
      ZALO_OA_APP_ID: '4321',
      ZALO_OA_SECRET_KEY: 'k',
      ZALO_OA_REFRESH_TOKEN: 'r',
      SECRETS_KEY: Buffer.alloc(32, 1).toString('base64'),
    });
    expect(config.demo).toBe(false);
    expect(config.telegram).toBeUndefined();
    expect(config.zaloBot).toMatchObject({ mode: 'polling', apiRoot: 'https://bot-api.zaloplatforms.com' });
    expect(config.zaloOa).toMatchObject({ appId: '4321', secretKey: 'k', appSecret: 'k' });
  });

  it.each([
    [
      { ZALO_BOT_TOKEN: 't', PUBLIC_URL: 'https://x.vn', ZALO_BOT_WEBHOOK_SECRET: 'short' },
      'ZALO_BOT_WEBHOOK_SECRET',
    ],
    [
      { ZALO_BOT_TOKEN: 't', PUBLIC_URL: 'http://x.vn', ZALO_BOT_WEBHOOK_SECRET: 'long-enough-secret' },
      'PUBLIC_URL',
    ],
    [{ ZALO_OA_APP_ID: '1', ZALO_OA_REFRESH_TOKEN: 'r' }, 'ZALO_OA_SECRET_KEY'],
    [{ ZALO_OA_APP_ID: '1', ZALO_OA_SECRET_KEY: 'k', ZALO_OA_REFRESH_TOKEN: 'r' }, 'SECRETS_KEY'],
    [{ ZALO_OA_REFRESH_TOKEN: 'r' }, 'ZALO_OA_APP_ID'],
  ])('stops with one line naming the variable: %j', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid configuration: ${name} `));
  });
});
