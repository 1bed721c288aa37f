import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/http/server.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import type { ChaseRenderer, NewsRenderer } from '../../src/services/ports.ts';
import { withTestDb } from '../support/db.ts';
import { UNIT_HEADER } from '../support/spreadsheets.ts';

/** The HTTP edges of the import and bull-board, in process (fastify inject): limits and tokens. */
const TOKEN = 'import-api-token';
let testDb: Awaited<ReturnType<typeof withTestDb>>;
const servers: FastifyInstance[] = [];

function server(token: string | undefined): FastifyInstance {
  const app = buildServer({
    db: testDb.db,
    token,
    clock: { now: () => new Date() },
    random: { bytes: (n) => randomBytes(n) },
    render: {} as NewsRenderer & ChaseRenderer,
    timeZone: 'Asia/Ho_Chi_Minh',
    channels: [],
    logger: createLogger('silent'),
    metrics: createMetrics(),
    readiness: {},
    boardQueues: [],
  });
  servers.push(app);
  return app;
}

async function multipart(file: Buffer, name: string): Promise<{ body: Buffer; type: string }> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(file)]), name);
  const request = new Request('http://localhost/', { method: 'POST', body: form });
  return { body: Buffer.from(await request.arrayBuffer()), type: request.headers.get('content-type') ?? '' };
}

beforeAll(async () => {
  testDb = await withTestDb();
});

afterAll(async () => {
  for (const app of servers) await app.close();
  await testDb?.close();
});

const auth = { authorization: `Bearer ${TOKEN}` };
const errorCode = (payload: string) => (JSON.parse(payload) as { error: { code: string } }).error.code;

describe('POST /api/import limits', () => {
  it('refuses files beyond 20 MB with 400, as a raw body and as a form upload', async () => {
    const app = server(TOKEN);
    const huge = Buffer.alloc(21 * 1024 * 1024, 0x41);
    const raw = await app.inject({
      method: 'POST',
      url: '/api/import',
      headers: { ...auth, 'content-type': 'text/csv' },
      payload: huge,
    });
    expect(raw.statusCode).toBe(400);
    expect(errorCode(raw.payload)).toBe('file_too_large');
    const form = await multipart(huge, 'huge.csv');
    const uploaded = await app.inject({
      method: 'POST',
      url: '/api/import',
      headers: { ...auth, 'content-type': form.type },
      payload: form.body,
    });
    expect(uploaded.statusCode).toBe(400);
    expect(errorCode(uploaded.payload)).toBe('file_too_large');
    expect(await testDb.db.unit.count()).toBe(0);
  });

  it('takes a form upload and refuses a form without a file, other media types and no token', async () => {
    const app = server(TOKEN);
    const form = await multipart(Buffer.from(`${UNIT_HEADER.join(',')}\nIA-1,Một,,\n`), 'units.csv');
    const ok = await app.inject({
      method: 'POST',
      url: '/api/import?dryRun=true',
      headers: { ...auth, 'content-type': form.type },
      payload: form.body,
    });
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.payload)).toMatchObject({ dryRun: true, units: { created: 1 } });

    const emptyForm = new Request('http://localhost/', { method: 'POST', body: new FormData() });
    const none = await app.inject({
      method: 'POST',
      url: '/api/import',
      headers: { ...auth, 'content-type': emptyForm.headers.get('content-type') ?? '' },
      payload: Buffer.from(await emptyForm.arrayBuffer()),
    });
    expect(none.statusCode).toBe(400);

    const json = await app.inject({
      method: 'POST',
      url: '/api/import',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"units":[]}',
    });
    expect(json.statusCode).toBe(400);
    expect(errorCode(json.payload)).toBe('unsupported_media_type');

    const anonymous = await app.inject({
      method: 'POST',
      url: '/api/import',
      headers: { 'content-type': 'text/csv' },
      payload: 'x',
    });
    expect(anonymous.statusCode).toBe(401);
  });
});

describe('bull-board', () => {
  it('is not mounted without an admin token configured', async () => {
    const app = server(undefined);
    expect((await app.inject({ method: 'GET', url: '/admin/queues' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/admin/queues/api/queues' })).statusCode).toBe(404);
  });

  it('asks browsers for the token with Basic auth', async () => {
    const app = server(TOKEN);
    const refused = await app.inject({ method: 'GET', url: '/admin/queues' });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['www-authenticate']).toContain('Basic');
    const basic = Buffer.from(`anyone:${TOKEN}`).toString('base64');
    const page = await app.inject({
      method: 'GET',
      url: '/admin/queues',
      headers: { authorization: `Basic ${basic}` },
    });
    expect(page.statusCode).toBe(200);
  });
});
