import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INBOUND_IDS_KEPT_DAYS } from '../../jobs/cleanup.ts';
import { createJobs } from '../../jobs/index.ts';
import { OA_EVENT_MAX_AGE_MS, OA_EVENT_MAX_AHEAD_MS } from '../../src/channels/zalo/oa.ts';
import { AUTH_FAILURES_MAX } from '../../src/http/slow-down.ts';
import { createLogger } from '../../src/logger.ts';
import { ReadinessProblem } from '../../src/readiness.ts';
import { fingerprint, oaHeaders, SECRETS, startInProcess, tableNames, type InProcess } from './harness.ts';

/**
 * What the HTTP surface refuses: guessing credentials from one address (slowed down for every instance),
 * /metrics without METRICS_TOKEN, /readyz telling more than which dependency is down, anything at `/` but
 * Zalo's verification tag, and a signed Zalo OA event replayed outside its time window.
 */
const METRICS_TOKEN = 'metrics-token-0123456789';
const VERIFICATION = 'MeVd6DceSpupfjWIxOznI1I4v7FuyZOgD3Gp';
let prefix: string;
let first: InProcess;
let second: InProcess;
let tables: string[];

beforeAll(async () => {
  prefix = `t${randomBytes(6).toString('hex')}`;
  const server = { metricsToken: METRICS_TOKEN, zaloSiteVerification: VERIFICATION };
  // Two instances of the web role sharing one Redis (same key prefix), as behind a load balancer.
  first = await startInProcess({ slowDown: true, prefix, server });
  second = await startInProcess({ slowDown: true, prefix, server });
  tables = await tableNames(first.db);
});

afterAll(async () => {
  await first?.close();
  await second?.close();
});

const call = (
  env: InProcess,
  from: string,
  url: string,
  headers: Record<string, string> = {},
  method: 'GET' | 'POST' = 'GET',
  payload?: string,
) => env.app.inject({ method, url, headers, remoteAddress: from, ...(payload ? { payload } : {}) });

describe('repeated 401s from one address', () => {
  it(`are answered 429 after ${AUTH_FAILURES_MAX}, right token or not, on every instance; others are served`, async () => {
    const attacker = '203.0.113.7';
    for (let i = 0; i < AUTH_FAILURES_MAX; i += 1) {
      const wrong = await call(i % 2 ? first : second, attacker, '/api/campaigns', {
        authorization: `Bearer guess-${i}-0123456789`,
      });
      expect(wrong.statusCode).toBe(401);
    }
    const before = await fingerprint(first.db, tables);
    for (const env of [first, second]) {
      const refused = await call(env, attacker, '/api/campaigns', {
        authorization: `Bearer ${SECRETS.admin}`,
      });
      expect(refused.statusCode).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.json()).toMatchObject({ error: { code: 'too_many_failures' } });
      // The webhooks and /metrics from that address wait too; nothing is checked or recorded.
      const hook = await call(
        env,
        attacker,
        '/webhooks/telegram',
        { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRETS.telegram },
        'POST',
        JSON.stringify({
          update_id: 1,
          message: { message_id: 1, chat: { id: 1, type: 'private' }, text: 'x' },
        }),
      );
      expect(hook.statusCode).toBe(429);
    }
    expect(await fingerprint(first.db, tables)).toEqual(before);
    // Another address is served as usual.
    const other = await call(second, '198.51.100.4', '/api/campaigns', {
      authorization: `Bearer ${SECRETS.admin}`,
    });
    expect(other.statusCode).toBe(200);
  });

  it('counts wrong webhook secrets as well', async () => {
    const attacker = '203.0.113.8';
    for (let i = 0; i < AUTH_FAILURES_MAX; i += 1) {
      const wrong = await call(
        first,
        attacker,
        '/webhooks/zalo',
        {
          'content-type': 'application/json',
          'x-bot-api-secret-token': `wrong-secret-${i}-0123`,
        },
        'POST',
        '{}',
      );
      expect(wrong.statusCode).toBe(401);
    }
    expect(
      (await call(second, attacker, '/api/campaigns', { authorization: `Bearer ${SECRETS.admin}` }))
        .statusCode,
    ).toBe(429);
  });
});

describe('/metrics with METRICS_TOKEN', () => {
  it('needs the token as a bearer token', async () => {
    const from = '198.51.100.20';
    expect((await call(first, from, '/metrics')).statusCode).toBe(401);
    expect(
      (await call(first, from, '/metrics', { authorization: 'Bearer wrong-metrics-token' })).statusCode,
    ).toBe(401);
    expect(
      (await call(first, from, '/metrics', { authorization: `Bearer ${SECRETS.admin}` })).statusCode,
    ).toBe(401);
    const served = await call(first, from, '/metrics', { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(served.statusCode).toBe(200);
    expect(served.body).toContain('thidua_messages_sent_total');
  });
});

describe('/readyz', () => {
  it('says which dependency is down, never its raw error', async () => {
    const env = await startInProcess({
      server: {
        readiness: {
          database: () => Promise.reject(new Error('connect ECONNREFUSED 10.20.30.40:5432 (user thidua)')),
          redis: () => new Promise(() => undefined),
          zalo_oa: () => Promise.reject(new ReadinessProblem('token refresh failed')),
          telegram: () => Promise.resolve(),
        },
        logger: createLogger('silent'),
      },
    });
    try {
      const answer = await env.app.inject({ method: 'GET', url: '/readyz' });
      expect(answer.statusCode).toBe(503);
      expect(answer.json()).toEqual({
        status: 'unavailable',
        checks: {
          database: 'unreachable',
          redis: 'unreachable',
          zalo_oa: 'token refresh failed',
          telegram: 'ok',
        },
      });
      expect(answer.body).not.toMatch(/10\.20\.30\.40|ECONNREFUSED|thidua/);
    } finally {
      await env.close();
    }
  });
});

describe('/ for Zalo domain verification', () => {
  it("serves Zalo's meta tag and nothing else", async () => {
    const page = await call(first, '198.51.100.30', '/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain(
      `<meta property="zalo-platform-site-verification" content="${VERIFICATION}">`,
    );
    expect(page.body).not.toMatch(/<a |<script|<link|<img|<form/i);
  });

  it('is 404 without ZALO_SITE_VERIFICATION', async () => {
    const env = await startInProcess();
    try {
      expect((await env.app.inject({ method: 'GET', url: '/' })).statusCode).toBe(404);
    } finally {
      await env.close();
    }
  });
});

describe('a signed Zalo OA event replayed', () => {
  const event = (timestamp: number, msgId: string) =>
    JSON.stringify({
      app_id: SECRETS.oaAppId,
      event_name: 'user_send_text',
      sender: { id: '9000000000000000042' },
      recipient: { id: '1' },
      message: { msg_id: msgId, text: 'đã xong' },
      timestamp: String(timestamp),
    });
  const post = (body: string) =>
    first.app.inject({
      method: 'POST',
      url: '/webhooks/zalo-oa',
      headers: oaHeaders(body, (JSON.parse(body) as { timestamp: string }).timestamp),
      payload: body,
      remoteAddress: '198.51.100.40',
    });

  it('is refused when older than 24 h or more than 5 minutes ahead, and nothing is recorded', async () => {
    const before = await fingerprint(first.db, tables);
    const now = Date.now();
    for (const timestamp of [now - OA_EVENT_MAX_AGE_MS - 60_000, now + OA_EVENT_MAX_AHEAD_MS + 60_000, 0])
      expect((await post(event(timestamp, `old-${timestamp}`))).statusCode).toBe(401);
    expect(await fingerprint(first.db, tables)).toEqual(before);
    // Within the window it is taken (and a retry of it is recorded once).
    const fresh = event(now - OA_EVENT_MAX_AGE_MS + 3_600_000, 'fresh-1');
    expect((await post(fresh)).statusCode).toBe(200);
    expect((await post(fresh)).statusCode).toBe(200);
    expect(await first.db.inboundUpdate.count({ where: { channel: 'zalo_oa', updateId: 'fresh-1' } })).toBe(
      1,
    );
  });

  it('finds its id still kept by the cleanup job for as long as it would be accepted', async () => {
    expect(INBOUND_IDS_KEPT_DAYS * 24 * 3600_000).toBeGreaterThan(
      OA_EVENT_MAX_AGE_MS + OA_EVENT_MAX_AHEAD_MS,
    );
    const cleanup = createJobs('Asia/Ho_Chi_Minh').find((job) => job.name === 'cleanup');
    if (!cleanup) throw new Error('no cleanup job');
    await cleanup.run(
      { db: first.db, render: first.render, timeZone: 'Asia/Ho_Chi_Minh', logger: createLogger('silent') },
      { at: new Date(Date.now() + OA_EVENT_MAX_AGE_MS + OA_EVENT_MAX_AHEAD_MS), dryRun: false },
    );
    expect(await first.db.inboundUpdate.count({ where: { channel: 'zalo_oa', updateId: 'fresh-1' } })).toBe(
      1,
    );
  });
});
