import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertUnit } from '../../src/services/units.ts';
import { fingerprint, SECRETS, startInProcess, tableNames, type InProcess } from './harness.ts';

/**
 * Operators' API tokens against guessing: random, near-miss, revoked and expired secrets, and the secret's
 * hash itself, are all 401 with nothing written (not even the token's last use); the real token works.
 */
let env: InProcess;
let tables: string[];
let now = new Date('2026-06-16T02:00:00.000Z');
let live = '';
let revoked = '';
let expired = '';

async function makeToken(name: string, expiresOn?: string): Promise<{ id: string; token: string }> {
  const response = await env.app.inject({
    method: 'POST',
    url: '/api/tokens',
    headers: { authorization: `Bearer ${SECRETS.admin}` },
    payload: { name, role: 'admin', unitCode: 'TG-ROOT', ...(expiresOn ? { expiresOn } : {}) },
  });
  expect(response.statusCode).toBe(201);
  return JSON.parse(response.payload) as { id: string; token: string };
}

beforeAll(async () => {
  env = await startInProcess({ clock: { now: () => now } });
  await upsertUnit(env.db, 'TG-ROOT', { name: 'UBND tỉnh Thử' });
  live = (await makeToken('Đang dùng')).token;
  const gone = await makeToken('Đã thu hồi');
  revoked = gone.token;
  const response = await env.app.inject({
    method: 'DELETE',
    url: `/api/tokens/${gone.id}`,
    headers: { authorization: `Bearer ${SECRETS.admin}` },
  });
  expect(response.statusCode).toBe(204);
  expired = (await makeToken('Hết hạn', '2026-06-16')).token;
  now = new Date('2026-06-17T02:00:00.000Z');
  tables = await tableNames(env.db);
});

afterAll(async () => {
  await env?.close();
});

/** Variants of a token that must all fail. */
function nearMisses(secret: string): string[] {
  const flip = (char: string | undefined) => (char === 'A' ? 'B' : 'A');
  const body = secret.slice('thidua_'.length);
  return [
    `${secret.slice(0, -1)}${flip(secret.at(-1))}`,
    `thidua_${flip(body.at(0))}${body.slice(1)}`,
    `${secret.slice(0, 20)}${flip(secret.at(20))}${secret.slice(21)}`,
    `${secret}A`,
    secret.slice(0, -1),
    secret.toUpperCase(),
    secret.toLowerCase(),
    body,
    `THIDUA_${body}`,
    `thidua-${body}`,
    ` ${secret}`,
  ].filter((variant) => variant !== secret);
}

describe('guessing operators’ tokens', () => {
  it('answers 401 to random, near-miss, revoked and expired tokens on every call, and writes nothing', async () => {
    const guesses = [
      ...Array.from({ length: 200 }, () => `thidua_${randomBytes(32).toString('base64url')}`),
      ...nearMisses(live),
      revoked,
      expired,
      createHash('sha256').update(live).digest('hex'),
    ];
    const calls = [
      { method: 'GET' as const, url: '/api/campaigns' },
      { method: 'GET' as const, url: '/api/audit' },
      {
        method: 'POST' as const,
        url: '/api/tokens',
        payload: { name: 'Kẻ lạ', role: 'admin', unitCode: 'TG-ROOT' },
      },
      { method: 'PUT' as const, url: '/api/units/TG-NEW', payload: { name: 'X', parentCode: 'TG-ROOT' } },
    ];
    const before = await fingerprint(env.db, tables);
    for (const guess of guesses) {
      for (const call of calls) {
        const response = await env.app.inject({ ...call, headers: { authorization: `Bearer ${guess}` } });
        expect(response.statusCode, `${call.method} ${call.url} with ${JSON.stringify(guess)}`).toBe(401);
        expect((JSON.parse(response.payload) as { error: { code: string } }).error.code).toBe('unauthorized');
      }
    }
    expect(await fingerprint(env.db, tables)).toEqual(before);
  });

  it('takes the real token, and records its use', async () => {
    const response = await env.app.inject({
      method: 'PUT',
      url: '/api/units/TG-NEW',
      headers: { authorization: `Bearer ${live}` },
      payload: { name: 'UBND xã Mới', parentCode: 'TG-ROOT' },
    });
    expect(response.statusCode).toBe(200);
    const token = await env.db.apiToken.findUniqueOrThrow({ where: { name: 'Đang dùng' } });
    expect(token.lastUsedAt).toEqual(now);
    const [row] = await env.db.auditEvent.findMany({ where: { targetCode: 'TG-NEW' } });
    expect([row?.actorKind, row?.actorId, row?.actorLabel]).toEqual(['token', token.id, 'Đang dùng']);
  });
});
