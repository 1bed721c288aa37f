import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Renderer } from '../../src/conversation/render.ts';
import { sessionCsrfToken } from '../../src/console/security.ts';
import { buildServer } from '../../src/http/server.ts';
import { createTranslator } from '../../src/i18n.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { openSession } from '../../src/services/console-sessions.ts';
import { upsertOfficial } from '../../src/services/officials.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { withTestDb } from '../support/db.ts';
import { REDIS_SERVER_URL } from '../support/env.ts';
import { OFFICIAL_HEADER, UNIT_HEADER, workbook } from '../support/spreadsheets.ts';

/**
 * The console's import page over HTTP (fastify inject): upload, preview row by row (nothing applied),
 * apply, errors shown with their row numbers, and a leader refused (403).
 */
let testDb: Awaited<ReturnType<typeof withTestDb>>;
let redis: Redis;
let app: FastifyInstance;
const now = new Date('2026-12-01T02:00:00Z');
const random = { bytes: (n: number) => randomBytes(n) };
const prefix = `tci${randomBytes(5).toString('hex')}`;
const ZONE = 'Asia/Ho_Chi_Minh';

/** A signed-in browser: the session cookie and its form token. */
interface Session {
  cookie: string;
  csrf: string;
}
let admin: Session;
let leader: Session;

async function sessionOf(code: string): Promise<Session> {
  const official = await testDb.db.official.findUniqueOrThrow({ where: { code } });
  const opened = await openSession(testDb.db, { officialId: official.id, method: 'code', now, random });
  return { cookie: opened.secret, csrf: sessionCsrfToken(opened.secret) };
}

beforeAll(async () => {
  testDb = await withTestDb();
  redis = new Redis(`${REDIS_SERVER_URL}/0`);
  const { db } = testDb;
  await upsertUnit(db, 'HUYEN-A', { name: 'UBND huyện A' });
  await upsertUnit(db, 'XA-A1', { name: 'UBND xã A1', parentCode: 'HUYEN-A' });
  await upsertUnit(db, 'XA-A2', { name: 'UBND xã A2', parentCode: 'HUYEN-A' });
  await upsertUnit(db, 'HUYEN-B', { name: 'UBND huyện B' });
  await upsertOfficial(db, 'ADM-A', { name: 'Quản trị A', unitCode: 'HUYEN-A', role: 'admin' });
  await upsertOfficial(db, 'LD-A', { name: 'Lãnh đạo A', unitCode: 'HUYEN-A', role: 'leader' });
  admin = await sessionOf('ADM-A');
  leader = await sessionOf('LD-A');
  const render = new Renderer(createTranslator(), ZONE);
  app = buildServer({
    db,
    token: 'console-import-token-0123456789',
    clock: { now: () => now },
    random,
    render,
    timeZone: ZONE,
    channels: [],
    logger: createLogger('silent'),
    metrics: createMetrics(),
    readiness: {},
    boardQueues: [],
    console: {
      db,
      redis,
      prefix,
      clock: { now: () => now },
      random,
      timeZone: ZONE,
      publicUrl: undefined,
      adminApiToken: undefined,
      signInMessage: (locale, vars) => render.text(locale, 'console.signInCode', vars),
    },
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await testDb?.close();
});

const ORIGIN = { host: 'localhost:80', origin: 'http://localhost:80' };

async function upload(session: Session, file: Buffer, fields: Record<string, string> = {}) {
  const form = new FormData();
  form.append('_csrf', fields._csrf ?? session.csrf);
  form.append('file', new Blob([new Uint8Array(file)]), 'to-chuc.xlsx');
  const request = new Request('http://localhost/', { method: 'POST', body: form });
  return app.inject({
    method: 'POST',
    url: '/console/import',
    headers: { ...ORIGIN, 'content-type': request.headers.get('content-type') ?? '' },
    cookies: { thidua_console: session.cookie },
    payload: Buffer.from(await request.arrayBuffer()),
  });
}

const apply = (session: Session, uploadId: string) =>
  app.inject({
    method: 'POST',
    url: '/console/import/apply',
    headers: { ...ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
    cookies: { thidua_console: session.cookie },
    payload: new URLSearchParams({ _csrf: session.csrf, upload: uploadId }).toString(),
  });

async function snapshot() {
  return {
    units: await testDb.db.unit.findMany({ orderBy: { code: 'asc' } }),
    officials: await testDb.db.official.findMany({ orderBy: { code: 'asc' } }),
    history: await testDb.db.unitEvent.count(),
  };
}

/** The rows of the page's tables: "row:change" for the preview, "row" for the errors. */
const rowsOf = (html: string, attribute: 'data-change' | null = 'data-change') =>
  [...html.matchAll(/<tr data-row="(\d+)"(?: data-change="(\w+)")?/g)].map((match) =>
    attribute ? `${match[1] ?? ''}:${match[2] ?? ''}` : (match[1] ?? ''),
  );

const file = () =>
  workbook({
    'Đơn vị': [
      [...UNIT_HEADER, 'sáp nhập vào'],
      ['XA-A1', 'UBND xã A1', 'HUYEN-A', null, 'XA-A2'],
      ['XA-A2', 'UBND xã A2 (mới)', 'HUYEN-A', null, null],
      ['XA-A3', 'UBND xã A3', 'HUYEN-A', null, null],
    ],
    'Cán bộ': [OFFICIAL_HEADER, ['CB-A3', 'Cán bộ <A3>', 'XA-A3', 'đầu mối', null]],
  });

describe("the console's import page", () => {
  it('previews the file row by row and applies nothing; applying it then applies it once', async () => {
    const form = await app.inject({
      method: 'GET',
      url: '/console/import',
      cookies: { thidua_console: admin.cookie },
    });
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('enctype="multipart/form-data"');
    expect(form.body).toContain('href="/console/import"');
    const before = await snapshot();
    const preview = await upload(admin, await file());
    expect(preview.statusCode).toBe(200);
    expect(rowsOf(preview.body)).toEqual(['2:merged', '3:updated', '4:created', '2:created']);
    expect(preview.body).toContain('Sáp nhập: 1');
    expect(preview.body).toContain('Tên: UBND xã A2 → UBND xã A2 (mới)');
    expect(preview.body).toContain('vào XA-A2');
    expect(await snapshot()).toEqual(before);

    const uploadId = /name="upload" value="([^"]+)"/.exec(preview.body)?.[1] ?? '';
    const applied = await apply(admin, uploadId);
    expect(applied.statusCode).toBe(200);
    expect(applied.body).toContain('Đã nhập xong');
    expect(applied.body).toContain('Sáp nhập XA-A1 vào XA-A2');
    const successor = await testDb.db.unit.findUniqueOrThrow({ where: { code: 'XA-A2' } });
    expect(successor.name).toBe('UBND xã A2 (mới)');
    expect((await testDb.db.unit.findUniqueOrThrow({ where: { code: 'XA-A1' } })).successorId).toBe(
      successor.id,
    );
    expect(await testDb.db.official.count({ where: { code: 'CB-A3' } })).toBe(1);
    // The upload is spent: applying it again asks for the file again and changes nothing.
    const after = await snapshot();
    const again = await apply(admin, uploadId);
    expect(again.statusCode).toBe(410);
    expect(await snapshot()).toEqual(after);
  });

  it('shows every error with its row number, escapes what the file says, and applies nothing', async () => {
    const before = await snapshot();
    const page = await upload(
      admin,
      await workbook({
        'Đơn vị': [
          UNIT_HEADER,
          ['XA-OK', 'UBND xã OK', 'HUYEN-A', null],
          ['XA-BAD', 'UBND xã <b>lỗi</b>', 'KHONG-CO', null],
          ['XA-B1', 'Ngoài phạm vi', 'HUYEN-B', null],
        ],
        'Cán bộ': [OFFICIAL_HEADER, ['CB-X', 'Cán bộ X', 'XA-OK', 'giám đốc', null]],
      }),
    );
    expect(page.statusCode).toBe(400);
    expect(rowsOf(page.body, null)).toEqual(['3', '4', '2']);
    expect(page.body).toContain('Tệp có lỗi ở một số dòng');
    expect(page.body).toContain('KHONG-CO');
    expect(page.body).not.toContain('<b>lỗi</b>');
    expect(page.body).not.toContain('name="upload"');
    expect(await snapshot()).toEqual(before);
  });

  it("refuses a leader (403), shows them no import entry, and needs the form's token", async () => {
    const before = await snapshot();
    const home = await app.inject({
      method: 'GET',
      url: '/console',
      cookies: { thidua_console: leader.cookie },
    });
    expect(home.statusCode).toBe(200);
    expect(home.body).not.toContain('href="/console/import"');
    const form = await app.inject({
      method: 'GET',
      url: '/console/import',
      cookies: { thidua_console: leader.cookie },
    });
    expect(form.statusCode).toBe(403);
    expect((await upload(leader, await file())).statusCode).toBe(403);
    expect((await upload(admin, await file(), { _csrf: 'forged' })).statusCode).toBe(403);
    expect(await snapshot()).toEqual(before);
  });
});
