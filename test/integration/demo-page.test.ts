import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoPageDeps } from '../../src/demo/page.ts';
import { buildServer } from '../../src/http/server.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import type { ChaseRenderer, NewsRenderer } from '../../src/services/ports.ts';
import { withTestDb } from '../support/db.ts';
import { TEST_LINK_CODE_KEYS } from '../support/link-codes.ts';

/** The demo chat page exists only in demo mode (fastify inject; the browser test is in test/e2e). */
let testDb: Awaited<ReturnType<typeof withTestDb>>;
const servers: FastifyInstance[] = [];

function server(demo: Partial<DemoPageDeps> | undefined): FastifyInstance {
  const clock = { now: () => new Date() };
  const random = { bytes: (n: number) => randomBytes(n) };
  const app = buildServer({
    db: testDb.db,
    token: 'demo-page-token',
    clock,
    random,
    render: {} as NewsRenderer & ChaseRenderer,
    timeZone: 'Asia/Ho_Chi_Minh',
    channels: [],
    logger: createLogger('silent'),
    metrics: createMetrics(),
    readiness: {},
    boardQueues: [],
    demo: demo && {
      db: testDb.db,
      clock,
      random,
      emulatorUrl: 'http://127.0.0.1:9',
      botToken: '1:TEST',
      linkCodeKeys: TEST_LINK_CODE_KEYS,
      ready: () => false,
      ...demo,
    },
  });
  servers.push(app);
  return app;
}

beforeAll(async () => {
  testDb = await withTestDb();
});

afterAll(async () => {
  for (const app of servers) await app.close();
  await testDb?.close();
});

describe('the demo chat page', () => {
  it('answers 404 outside demo mode, for the page and its whole API', async () => {
    const app = server(undefined);
    for (const [method, url] of [
      ['GET', '/demo'],
      ['GET', '/demo/'],
      ['GET', '/demo/api/officials'],
      ['GET', '/demo/api/chats/100000/messages'],
      ['POST', '/demo/api/chats/100000/send'],
      ['POST', '/demo/api/chats/100000/press'],
    ] as const) {
      const response = await app.inject({
        method,
        url,
        payload: method === 'POST' ? { text: 'x' } : undefined,
      });
      expect(response.statusCode, `${method} ${url}`).toBe(404);
    }
  });

  it('serves a self-contained page with its labels inlined in demo mode', async () => {
    const app = server({});
    const page = await app.inject({ method: 'GET', url: '/demo' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.body).toContain('Chọn cán bộ');
    expect(page.body).not.toContain('__DEMO_STRINGS__');
    expect(page.body).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
  });

  it('asks the page to wait while the sample data loads, and refuses chats that are not samples', async () => {
    const app = server({});
    expect((await app.inject({ method: 'GET', url: '/demo/api/officials' })).statusCode).toBe(503);
    const stranger = await app.inject({
      method: 'POST',
      url: '/demo/api/chats/42/send',
      payload: { text: 'hi' },
    });
    expect(stranger.statusCode).toBe(404);
    const empty = await app.inject({
      method: 'POST',
      url: '/demo/api/chats/100000/send',
      payload: { text: ' ' },
    });
    expect(empty.statusCode).toBe(400);
  });
});
