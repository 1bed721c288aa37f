import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { SECRETS, startInProcess, type InProcess } from './harness.ts';

/**
 * Logs carry no secrets and no personal data: tokens and secrets (also inside URLs and errors), link codes
 * (also inside "/start CODE"), phone numbers, cookies; and no line at info or above carries what a person
 * wrote. The logs of a whole session are captured and searched, and the logger is fed the worst cases.
 */

interface Line {
  level: number;
  raw: string;
}

function capture(): { destination: Writable; lines: Line[] } {
  const lines: Line[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const raw of chunk.toString('utf8').split('\n').filter(Boolean))
        lines.push({ level: (JSON.parse(raw) as { level: number }).level, raw });
      done();
    },
  });
  return { destination, lines };
}

const PHONE = '0987 654 321';
const WORDS = 'bí mật của xã Bình Lư';
const COOKIE = 'thidua_session=cookie-value-0123456789';

describe('the logs of a session', () => {
  let env: InProcess;
  const logs = capture();
  const codes: string[] = [];
  let nextUpdate = 1;

  const api = (
    method: 'GET' | 'PUT' | 'POST',
    url: string,
    payload?: unknown,
    token: string = SECRETS.admin,
  ) =>
    env.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, cookie: COOKIE },
      ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
    });

  const telegram = (text: string, secret: string = SECRETS.telegram) =>
    env.app.inject({
      method: 'POST',
      url: '/webhooks/telegram',
      headers: {
        'content-type': 'application/json',
        'x-telegram-bot-api-secret-token': secret,
        cookie: COOKIE,
      },
      payload: {
        update_id: nextUpdate++,
        message: {
          message_id: nextUpdate,
          date: Math.floor(Date.now() / 1000),
          chat: { id: 73_001, type: 'private' },
          from: { id: 73_001, is_bot: false, first_name: 'Mai' },
          text,
        },
      },
    });

  beforeAll(async () => {
    env = await startInProcess({ log: { level: 'trace', destination: logs.destination } });
    await api('PUT', '/api/units/LG-XA', { name: 'UBND xã Bình Lư' });
    await api('PUT', '/api/officials/LG-CB', {
      name: 'Trần Thị Mai',
      unitCode: 'LG-XA',
      role: 'focal',
      phone: PHONE,
    });
    for (let i = 0; i < 3; i += 1)
      codes.push((await api('POST', '/api/officials/LG-CB/link-codes')).json<{ code: string }>().code);
    await telegram(`/start ${codes[0] ?? ''}`);
    await telegram(`${WORDS}, gọi ${PHONE.replace(/ /g, '')}`);
    // A code typed alone (Zalo users do), a wrong secret, a wrong token.
    await telegram(codes[1] ?? '');
    await telegram('xin chào', 'not-the-secret-0123');
    // An update the bot ignores is logged whole at debug: with its code and phone number masked.
    await env.app.inject({
      method: 'POST',
      url: '/webhooks/zalo',
      headers: { 'content-type': 'application/json', 'x-bot-api-secret-token': SECRETS.zalo },
      payload: {
        event_name: 'message.reaction.received',
        message: {
          message_id: 'lg-1',
          caption: `/start ${codes[2] ?? ''} ${PHONE}`,
          chat: { id: 'z-73002', chat_type: 'PRIVATE' },
        },
      },
    });
    await api('GET', '/api/officials/LG-CB', undefined, 'wrong-token-0123456789');
    await api('GET', '/api/officials/LG-CB');
  });

  afterAll(async () => {
    await env?.close();
  });

  it('logged the session (the search below is not over nothing)', () => {
    expect(logs.lines.length).toBeGreaterThan(10);
    expect(logs.lines.some((line) => line.level >= 30)).toBe(true);
    expect(logs.lines.filter((line) => line.raw.includes('/webhooks/telegram')).length).toBeGreaterThan(4);
    expect(logs.lines.some((line) => line.raw.includes('webhook refused'))).toBe(true);
    expect(logs.lines.some((line) => line.raw.includes('zalo update ignored'))).toBe(true);
  });

  it('never holds a secret, a link code, a phone number or a cookie', () => {
    const needles = [
      SECRETS.admin,
      SECRETS.telegram,
      SECRETS.zalo,
      SECRETS.oaKey,
      ...codes,
      PHONE,
      PHONE.replace(/ /g, ''),
      'cookie-value-0123456789',
      'wrong-token-0123456789',
    ];
    for (const line of logs.lines)
      for (const needle of needles) expect(line.raw, line.raw).not.toContain(needle);
  });

  it('carries no words a person wrote at info or above', () => {
    for (const line of logs.lines.filter((candidate) => candidate.level >= 30))
      expect(line.raw, line.raw).not.toContain('bí mật');
  });
});

describe('the logger', () => {
  const logged = (level: 'debug' | 'info' | 'error', ...args: unknown[]): string => {
    const logs = capture();
    const logger = createLogger('trace', {
      destination: logs.destination,
      secrets: ['configured-secret-value'],
    });
    // Called as the service calls it: (object or error, message).
    const [first, message] = args;
    logger[level](first, typeof message === 'string' ? message : undefined);
    return logs.lines.map((line) => line.raw).join('\n');
  };

  it('masks configured secrets and bot tokens wherever they appear, errors included', () => {
    const error = Object.assign(
      new Error(
        'request to https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getUpdates failed',
      ),
      { config: { headers: { secret_key: 'configured-secret-value' } } },
    );
    const line = logged('error', { err: error }, 'configured-secret-value in the message');
    expect(line).not.toContain('AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw');
    expect(line).not.toContain('configured-secret-value');
    expect(line).toContain('"type":"Error"');
    const first = logged('error', error, 'an error given first');
    expect(first).not.toContain('AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw');
    expect(first).toContain('"err":{');
  });

  it('masks link codes, phone numbers, bearer tokens and signed file links in any text', () => {
    const line = logged(
      'debug',
      { text: '/start 23456789AB', url: 'https://t.me/bot?start=BCDEFGHJKM', note: 'gọi +84 912 345 678' },
      'Authorization: Bearer abc.def.ghi; link /files/eyJyZWYiOnt9fQ.abc.png; code ABCDEFGHJK',
    );
    for (const needle of [
      '23456789AB',
      'BCDEFGHJKM',
      '912 345 678',
      'abc.def.ghi',
      'eyJyZWYiOnt9fQ',
      'ABCDEFGHJK',
    ])
      expect(line).not.toContain(needle);
  });

  it('drops values under keys that name secrets, and update bodies at info and above', () => {
    const update = { message: { text: 'đã xong, gọi tôi' } };
    const info = logged(
      'info',
      { update, accessToken: 'at-1', cookie: 'c=1', phone: '0912345678' },
      'update',
    );
    expect(info).not.toContain('đã xong');
    expect(info).not.toContain('at-1');
    expect(info).not.toContain('c=1');
    expect(info).not.toContain('0912345678');
    // Debug may show what was written (not its secrets): that is what debug is for.
    expect(logged('debug', { update }, 'update')).toContain('đã xong');
    // An error never carries the payload it was about, at any level.
    const error = Object.assign(new Error('send failed'), {
      on: { method: 'sendMessage', payload: { text: 'x-body' } },
    });
    expect(logged('debug', { err: error }, 'failed')).not.toContain('x-body');
  });
});
