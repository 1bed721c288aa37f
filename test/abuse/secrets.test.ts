import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oaSignature } from '../../src/channels/zalo/text.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { fingerprint, oaHeaders, SECRETS, startInProcess, tableNames, type InProcess } from './harness.ts';

/** Webhooks and the admin API refuse anything but the exact secret or token: 401, and nothing recorded. */
let env: InProcess;
let tables: string[];
let nextUpdate = 1;

beforeAll(async () => {
  env = await startInProcess();
  await upsertUnit(env.db, 'SC-ROOT', { name: 'UBND tỉnh Thử' });
  tables = await tableNames(env.db);
});

afterAll(async () => {
  await env?.close();
});

/**
 * Variants of a secret that must all fail: off by one character, longer, shorter, other case, empty.
 * (Spaces around a header value are not part of it in HTTP, so padding is no variant.)
 */
function nearMisses(secret: string): string[] {
  const other = (char: string | undefined) => (char === 'a' ? 'b' : 'a');
  return [
    `${secret.slice(0, -1)}${other(secret.at(-1))}`,
    `${other(secret.at(0))}${secret.slice(1)}`,
    `${secret}x`,
    secret.slice(0, -1),
    secret.toUpperCase() === secret ? secret.toLowerCase() : secret.toUpperCase(),
    `${secret.slice(0, 8)}`,
    '',
    'x'.repeat(secret.length),
    `${secret}${secret}`,
  ];
}

async function unchanged<T>(work: () => Promise<T>): Promise<T> {
  const before = await fingerprint(env.db, tables);
  const result = await work();
  expect(await fingerprint(env.db, tables)).toEqual(before);
  return result;
}

const telegramUpdate = () => {
  const id = nextUpdate++;
  return JSON.stringify({
    update_id: id,
    message: {
      message_id: id,
      date: 1_760_000_000,
      chat: { id: 31_337, type: 'private' },
      from: { id: 31_337, is_bot: false, first_name: 'Khách' },
      text: '/start 23456789AB',
    },
  });
};
const zaloUpdate = () =>
  JSON.stringify({
    event_name: 'message.text.received',
    message: {
      message_id: `m${nextUpdate++}`,
      date: 1_760_000_000_000,
      from: { id: 'z-31337', display_name: 'Khách', is_bot: false },
      chat: { id: 'z-31337', chat_type: 'PRIVATE' },
      text: 'xin chào',
    },
  });
/** Signed now: events older than 24 h are refused as replays whatever their signature. */
const NOW_MS = String(Date.now());
const oaUpdate = (timestamp = NOW_MS) =>
  JSON.stringify({
    app_id: SECRETS.oaAppId,
    event_name: 'user_send_text',
    sender: { id: '9000000000000000001' },
    recipient: { id: '1' },
    message: { msg_id: `om${nextUpdate++}`, text: 'xin chào' },
    timestamp,
  });

describe('webhook secrets', () => {
  const cases = [
    {
      path: '/webhooks/telegram',
      header: 'x-telegram-bot-api-secret-token',
      secret: SECRETS.telegram,
      body: telegramUpdate,
    },
    { path: '/webhooks/zalo', header: 'x-bot-api-secret-token', secret: SECRETS.zalo, body: zaloUpdate },
  ];
  for (const { path, header, secret, body } of cases) {
    it(`${path}: a missing, wrong or near-miss secret is 401 and records nothing`, async () => {
      const post = (headers: Record<string, string | string[]>) =>
        env.app.inject({
          method: 'POST',
          url: path,
          headers: { 'content-type': 'application/json', ...headers },
          payload: body(),
        });
      await unchanged(async () => {
        expect((await post({})).statusCode).toBe(401);
        for (const wrong of nearMisses(secret))
          expect((await post({ [header]: wrong })).statusCode, wrong).toBe(401);
        // The header twice (once right): not one value, so not the secret.
        expect((await post({ [header]: [secret, secret] })).statusCode).toBe(401);
        // Another platform's secret, under the other platform's header.
        const other = cases.find((candidate) => candidate.path !== path);
        expect((await post({ [other?.header ?? '']: other?.secret ?? '' })).statusCode).toBe(401);
        expect((await post({ [header]: other?.secret ?? '' })).statusCode).toBe(401);
      });
      // The same body with the right secret is taken: what was refused above would have been recorded.
      const before = await env.db.inboundUpdate.count();
      expect((await post({ [header]: secret })).statusCode).toBe(200);
      expect(await env.db.inboundUpdate.count()).toBe(before + 1);
    });
  }

  it('/webhooks/zalo-oa: a missing, wrong or near-miss signature is 401 and records nothing', async () => {
    const post = (payload: string, headers: Record<string, string>) =>
      env.app.inject({ method: 'POST', url: '/webhooks/zalo-oa', headers, payload });
    await unchanged(async () => {
      const body = oaUpdate();
      const good = oaHeaders(body, NOW_MS)['x-zevent-signature'] ?? '';
      const hex = good.slice('mac='.length);
      const wrongSignatures = [
        ...nearMisses(good),
        hex,
        `mac=${hex.toUpperCase()}`,
        `mac=${hex.slice(0, -1)}${hex.endsWith('0') ? '1' : '0'}`,
        `mac=${'0'.repeat(64)}`,
        'mac=',
        // Signed with the app's secret instead of the OA secret key, or without the app id.
        oaSignature(SECRETS.oaAppId, body, NOW_MS, 'abuse-app-secret'),
        oaSignature('', body, NOW_MS, SECRETS.oaKey),
      ];
      expect((await post(body, { 'content-type': 'application/json' })).statusCode).toBe(401);
      for (const signature of wrongSignatures) {
        const response = await post(body, {
          'content-type': 'application/json',
          'x-zevent-signature': signature,
        });
        expect(response.statusCode, signature).toBe(401);
      }
      // A body changed after signing (the timestamp moved, a byte added) no longer matches.
      const resigned = oaUpdate(String(Number(NOW_MS) + 1));
      expect(
        (await post(resigned, { 'content-type': 'application/json', 'x-zevent-signature': good })).statusCode,
      ).toBe(401);
      expect(
        (await post(`${body} `, { 'content-type': 'application/json', 'x-zevent-signature': good }))
          .statusCode,
      ).toBe(401);
      // A body without its timestamp cannot be verified at all.
      const untimed = JSON.stringify({ ...(JSON.parse(body) as object), timestamp: undefined });
      expect((await post(untimed, oaHeaders(untimed, ''))).statusCode).toBe(401);
    });
    const body = oaUpdate();
    const before = await env.db.inboundUpdate.count();
    expect((await post(body, oaHeaders(body, NOW_MS))).statusCode).toBe(200);
    expect(await env.db.inboundUpdate.count()).toBe(before + 1);
  });
});

describe('admin API tokens', () => {
  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const wrongAuthorizations = [
    undefined,
    '',
    'Bearer',
    'Bearer ',
    ...nearMisses(SECRETS.admin).map((token) => `Bearer ${token}`),
    SECRETS.admin,
    `Token ${SECRETS.admin}`,
    `Bearer  ${SECRETS.admin}`,
    basic('admin', SECRETS.admin),
    basic(SECRETS.admin, ''),
    `Basic ${SECRETS.admin}`,
    `Bearer ${Buffer.from(SECRETS.admin).toString('base64')}`,
  ];
  const calls = [
    { method: 'GET' as const, url: '/api/campaigns' },
    {
      method: 'PUT' as const,
      url: '/api/units/SC-NEW',
      payload: { name: 'UBND xã Mới', parentCode: 'SC-ROOT' },
    },
    { method: 'POST' as const, url: '/api/units/SC-ROOT/link-codes?format=html' },
    { method: 'GET' as const, url: '/api/import/template.xlsx' },
    { method: 'POST' as const, url: '/api/jobs/reminders/run', payload: { dryRun: true } },
  ];

  it('refuses a missing, wrong, near-miss or Basic credential with 401 on every call, and writes nothing', async () => {
    await unchanged(async () => {
      for (const call of calls) {
        for (const authorization of wrongAuthorizations) {
          const response = await env.app.inject({
            ...call,
            headers: authorization === undefined ? {} : { authorization },
          });
          const what = `${call.method} ${call.url} with ${JSON.stringify(authorization)}`;
          expect(response.statusCode, what).toBe(401);
          expect(response.headers['www-authenticate'], what).toBe('Bearer');
          expect((JSON.parse(response.payload) as { error: { code: string } }).error.code, what).toBe(
            'unauthorized',
          );
        }
      }
    });
  });

  it('takes the exact bearer token (the refusals above were about the credential)', async () => {
    const response = await env.app.inject({
      method: 'PUT',
      url: '/api/units/SC-NEW',
      headers: { authorization: `Bearer ${SECRETS.admin}` },
      payload: { name: 'UBND xã Mới', parentCode: 'SC-ROOT' },
    });
    expect(response.statusCode).toBe(200);
    expect(await env.db.unit.count({ where: { code: 'SC-NEW' } })).toBe(1);
  });
});
