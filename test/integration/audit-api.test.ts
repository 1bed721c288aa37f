// GET /api/audit and its export: the shape of PRODUCT.md, newest first, filters, pages with a cursor, 400 on
// malformed parameters, and each caller's subtree only.
import { randomBytes } from 'node:crypto';
import ExcelJS from 'exceljs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Renderer } from '../../src/conversation/render.ts';
import type { Db } from '../../src/db/client.ts';
import { buildServer } from '../../src/http/server.ts';
import { createTranslator } from '../../src/i18n.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { recordAudit, type Actor, type AuditEntry } from '../../src/services/audit.ts';
import { upsertOfficial } from '../../src/services/officials.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { withTestDb } from '../support/db.ts';

const ADMIN_TOKEN = 'audit-api-token-0123456789';
const TZ = 'Asia/Ho_Chi_Minh';
const NOW = new Date('2026-06-16T02:00:00.000Z');
/** May 2026, 09:mm in Hà Nội (02:mm UTC) on the given day. */
const may = (day: number, minute = 0) => new Date(Date.UTC(2026, 4, day, 2, minute));

let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let app: FastifyInstance;
const unitIds = new Map<string, string>();
let leaderToken: string;
let district2Token: string;

type Row = {
  at: string;
  actor: { kind: string; code?: string; name?: string };
  action: string;
  target: { kind: string; code?: string; id?: string };
  changes?: unknown;
};

async function get(url: string, token = ADMIN_TOKEN) {
  const response = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  return {
    status: response.statusCode,
    headers: response.headers,
    raw: response.rawPayload,
    json: () => JSON.parse(response.payload) as unknown,
  };
}
const rowsOf = async (url: string, token?: string) => {
  const answer = await get(url, token);
  expect(answer.status, url).toBe(200);
  return answer.json() as Row[];
};
const unit = (code: string) => {
  const id = unitIds.get(code);
  if (!id) throw new Error(`no unit ${code}`);
  return id;
};

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  const render = new Renderer(createTranslator(), TZ);
  app = buildServer({
    db,
    token: ADMIN_TOKEN,
    clock: { now: () => NOW },
    random: { bytes: (n) => randomBytes(n) },
    render,
    timeZone: TZ,
    channels: [],
    logger: createLogger('silent'),
    metrics: createMetrics(),
    readiness: {},
    boardQueues: [],
  });
  await app.ready();
  await upsertUnit(db, 'TINH', { name: 'UBND tỉnh' });
  for (const code of ['HUYEN1', 'HUYEN2'])
    await upsertUnit(db, code, { name: `UBND ${code}`, parentCode: 'TINH' });
  await upsertUnit(db, 'XA1', { name: 'UBND xã Một', parentCode: 'HUYEN1' });
  for (const code of ['TINH', 'HUYEN1', 'HUYEN2', 'XA1'])
    unitIds.set(code, (await db.unit.findUniqueOrThrow({ where: { code } })).id);
  await upsertOfficial(db, 'XA1-F', { name: 'Nguyễn Thị Đầu Mối', unitCode: 'XA1', role: 'focal' });
  const focal = await db.official.findUniqueOrThrow({ where: { code: 'XA1-F' } });

  // A trail in May, before anything the setup itself wrote (those rows carry today's date).
  const official: Actor = { kind: 'official', officialId: focal.id };
  const script: Actor = { kind: 'token', tokenId: null, name: 'Kịch bản' };
  const rows: AuditEntry[] = [
    {
      actor: script,
      action: 'unit.rename',
      target: { kind: 'unit', code: 'XA1' },
      unitId: unit('XA1'),
      changes: { name: ['A', 'B'] },
      at: may(1),
    },
    {
      actor: official,
      action: 'report.create',
      target: { kind: 'task', code: 'NV1', id: 'task-1' },
      unitId: unit('XA1'),
      changes: { status: 'done' },
      at: may(2),
    },
    {
      actor: script,
      action: 'unit.rename',
      target: { kind: 'unit', code: 'HUYEN2' },
      unitId: unit('HUYEN2'),
      at: may(3),
    },
    {
      actor: { kind: 'system', name: 'reminders' },
      action: 'job.run',
      target: { kind: 'job', code: 'reminders' },
      at: may(4),
    },
    // Three rows at one instant: pages must neither repeat nor skip them.
    ...[1, 2, 3].map((n): AuditEntry => ({
      actor: official,
      action: 'campaign.acknowledge',
      target: { kind: 'campaign', code: `KH-${n}` },
      unitId: unit('XA1'),
      at: may(5),
    })),
    {
      actor: script,
      action: 'unit.update',
      target: { kind: 'unit', code: 'HUYEN1' },
      unitId: unit('HUYEN1'),
      at: may(31, 20),
    },
  ];
  await recordAudit(db, ...rows);

  const token = async (name: string, role: string, unitCode: string) => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/tokens',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      payload: { name, role, unitCode },
    });
    expect(response.statusCode).toBe(201);
    return (JSON.parse(response.payload) as { token: string }).token;
  };
  leaderToken = await token('Lãnh đạo huyện 1', 'leader', 'HUYEN1');
  district2Token = await token('Quản trị huyện 2', 'admin', 'HUYEN2');
});

afterAll(async () => {
  await app?.close();
  await testDb?.close();
});

const MAY = 'since=2026-05-01&until=2026-05-31';

describe('GET /api/audit', () => {
  it('answers the trail newest first in the shape of PRODUCT.md', async () => {
    const rows = await rowsOf(`/api/audit?${MAY}`);
    expect(rows.map((row) => [row.action, row.target.code])).toEqual([
      ['unit.update', 'HUYEN1'],
      ['campaign.acknowledge', 'KH-3'],
      ['campaign.acknowledge', 'KH-2'],
      ['campaign.acknowledge', 'KH-1'],
      ['job.run', 'reminders'],
      ['unit.rename', 'HUYEN2'],
      ['report.create', 'NV1'],
      ['unit.rename', 'XA1'],
    ]);
    expect(rows[6]).toEqual({
      at: '2026-05-02T02:00:00.000Z',
      actor: { kind: 'official', code: 'XA1-F', name: 'Nguyễn Thị Đầu Mối' },
      action: 'report.create',
      target: { kind: 'task', code: 'NV1', id: 'task-1' },
      changes: { status: 'done' },
    });
    expect(rows[5]).toEqual({
      at: '2026-05-03T02:00:00.000Z',
      actor: { kind: 'token', name: 'Kịch bản' },
      action: 'unit.rename',
      target: { kind: 'unit', code: 'HUYEN2' },
    });
    // Changes made through the API are there, under the token that made them.
    const today = await rowsOf('/api/audit?since=2026-06-01&action=token.create');
    expect(today.map((row) => [row.target.code, row.actor])).toEqual([
      ['Quản trị huyện 2', { kind: 'token', name: 'ADMIN_API_TOKEN' }],
      ['Lãnh đạo huyện 1', { kind: 'token', name: 'ADMIN_API_TOKEN' }],
    ]);
  });

  it('filters by time (instants or days in the time zone), actor, target, action and campaign', async () => {
    const codes = async (query: string) =>
      (await rowsOf(`/api/audit?${query}`)).map((row) => row.target.code);
    expect(await codes('since=2026-05-02T09:00:00%2B07:00&until=2026-05-04T02:00:00Z')).toEqual([
      'HUYEN2',
      'NV1',
    ]);
    // Days: since the start of the first, until the end of the last, Hà Nội time (31 May 09:20 is in).
    expect(await codes('since=2026-05-31&until=2026-05-31')).toEqual(['HUYEN1']);
    expect(await codes(`${MAY}&actor=XA1-F`)).toEqual(['KH-3', 'KH-2', 'KH-1', 'NV1']);
    expect(await codes(`${MAY}&actor=${encodeURIComponent('Kịch bản')}`)).toEqual([
      'HUYEN1',
      'HUYEN2',
      'XA1',
    ]);
    expect(await codes(`${MAY}&actor=reminders`)).toEqual(['reminders']);
    expect(await codes(`${MAY}&target=XA1`)).toEqual(['XA1']);
    expect(await codes(`${MAY}&target=task-1`)).toEqual(['NV1']);
    expect(await codes(`${MAY}&action=unit.rename`)).toEqual(['HUYEN2', 'XA1']);
    expect(await codes(`${MAY}&actor=KHONG-AI`)).toEqual([]);
    expect(await codes(`${MAY}&campaign=0190a0b0-0000-7000-8000-000000000000`)).toEqual([]);
  });

  it('pages with a cursor: every row once, in order, ties included', async () => {
    const all = await rowsOf(`/api/audit?${MAY}`);
    const seen: Row[] = [];
    let url: string | undefined = `/api/audit?${MAY}&limit=3`;
    let pages = 0;
    while (url) {
      const answer = await get(url);
      expect(answer.status).toBe(200);
      const page = answer.json() as Row[];
      expect(page.length).toBeLessThanOrEqual(3);
      seen.push(...page);
      pages += 1;
      const link = answer.headers.link as string | undefined;
      const cursor = answer.headers['x-next-cursor'] as string | undefined;
      if (link) expect(link).toBe(`</api/audit?${MAY}&limit=3&cursor=${cursor ?? ''}>; rel="next"`);
      url = link ? /^<([^>]+)>/.exec(link)?.[1] : undefined;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(all);
  });

  it('answers 100 rows by default and at most 1000', async () => {
    await recordAudit(
      db,
      ...Array.from({ length: 120 }, (_, n): AuditEntry => ({
        actor: { kind: 'system', name: 'bulk' },
        action: 'unit.update',
        target: { kind: 'unit', code: `U${n}` },
        unitId: unit('HUYEN2'),
        at: new Date(Date.UTC(2026, 3, 1, 0, n)),
      })),
    );
    const first = await get('/api/audit?actor=bulk');
    expect((first.json() as Row[]).length).toBe(100);
    expect(first.headers['x-next-cursor']).toBeTruthy();
    expect((await rowsOf('/api/audit?actor=bulk&limit=1000')).length).toBe(120);
    expect((await get('/api/audit?limit=1001')).status).toBe(400);
  });

  it('refuses malformed parameters with 400 and says which', async () => {
    for (const query of [
      'since=yesterday',
      'until=2026-13-01',
      'since=2026-05-01T10:00:00',
      'since=2026-05-03&until=2026-05-02',
      'limit=0',
      'limit=abc',
      'cursor=not-a-cursor',
      `cursor=${Buffer.from('["2026-05-01T00:00:00Z","x"]').toString('base64url')}`,
      'campaign=42',
      'action=DROP TABLE',
      'actor=',
      'sort=asc',
    ]) {
      const answer = await get(`/api/audit?${query}`);
      expect(answer.status, query).toBe(400);
      const error = (answer.json() as { error: { code: string; message: string } }).error;
      expect(error.code, query).toMatch(/^(invalid_request|invalid_range|invalid_cursor)$/);
      expect(error.message.length, query).toBeGreaterThan(0);
    }
  });

  it('shows each caller their subtree only; rows about no unit are for the whole organisation', async () => {
    const leader = await rowsOf(`/api/audit?${MAY}`, leaderToken);
    expect(leader.map((row) => row.target.code)).toEqual(['HUYEN1', 'KH-3', 'KH-2', 'KH-1', 'NV1', 'XA1']);
    const district2 = await rowsOf(`/api/audit?${MAY}`, district2Token);
    expect(district2.map((row) => row.target.code)).toEqual(['HUYEN2']);
    expect(await rowsOf(`/api/audit?${MAY}&target=XA1`, district2Token)).toEqual([]);
  });
});

describe('GET /api/audit/export.xlsx', () => {
  async function sheetOf(url: string, token?: string) {
    const answer = await get(url, token);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(answer.raw as unknown as ExcelJS.Buffer);
    const sheet = book.worksheets[0];
    if (!sheet) throw new Error('no sheet');
    const rows: string[][] = [];
    sheet.eachRow((row) => {
      const cells: string[] = [];
      for (let column = 1; column <= row.cellCount; column++) cells.push(row.getCell(column).text);
      rows.push(cells);
    });
    return { name: sheet.name, rows };
  }

  it('holds the filtered trail with Vietnamese headers and local times', async () => {
    const { name, rows } = await sheetOf(`/api/audit/export.xlsx?${MAY}&actor=XA1-F`);
    expect(name).toBe('Nhật ký thay đổi');
    expect(rows[0]).toEqual([
      'Thời điểm',
      'Loại người thực hiện',
      'Người thực hiện',
      'Mã cán bộ',
      'Hành động',
      'Mã hành động',
      'Loại đối tượng',
      'Mã đối tượng',
      'Nội dung thay đổi',
    ]);
    expect(rows.slice(1).map((row) => row[5])).toEqual([
      'campaign.acknowledge',
      'campaign.acknowledge',
      'campaign.acknowledge',
      'report.create',
    ]);
    expect(rows[4]).toEqual([
      '02/05/2026 09:00',
      'Cán bộ',
      'Nguyễn Thị Đầu Mối',
      'XA1-F',
      'Báo cáo tiến độ',
      'report.create',
      'Nhiệm vụ',
      'NV1',
      '{"status":"done"}',
    ]);
  });

  it('speaks English when asked, is limited to the caller, and refuses what the list refuses', async () => {
    const english = await sheetOf(`/api/audit/export.xlsx?${MAY}&action=unit.rename&lang=en`);
    expect(english.name).toBe('Audit trail');
    expect(english.rows.slice(1).map((row) => [row[4], row[7]])).toEqual([
      ['Unit renamed', 'HUYEN2'],
      ['Unit renamed', 'XA1'],
    ]);
    const scoped = await sheetOf(`/api/audit/export.xlsx?${MAY}`, district2Token);
    expect(scoped.rows.slice(1).map((row) => row[7])).toEqual(['HUYEN2']);
    expect((await get('/api/audit/export.xlsx?since=soon')).status).toBe(400);
    expect((await get('/api/audit/export.xlsx?cursor=x')).status).toBe(400);
  });
});
