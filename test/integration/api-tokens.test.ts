// Operators' API tokens through the admin API: made and revoked by admins within their subtree, the secret
// shown once and kept only as a hash, expiring; a token acts as its principal (404 outside its subtree, 403
// for a leader's change, lists and summaries limited to what it may see) and is audited under its name.
import { randomBytes } from 'node:crypto';
import ExcelJS from 'exceljs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobsApi } from '../../jobs/api.ts';
import { createJobs } from '../../jobs/index.ts';
import { makeAttachment } from '../../src/conversation/attachments.ts';
import { Renderer } from '../../src/conversation/render.ts';
import type { Db } from '../../src/db/client.ts';
import { buildServer } from '../../src/http/server.ts';
import { createTranslator } from '../../src/i18n.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { listAudit } from '../../src/services/audit.ts';
import { createCampaign, launchCampaign } from '../../src/services/campaigns.ts';
import { upsertOfficial } from '../../src/services/officials.ts';
import { recordStatus } from '../../src/services/reports.ts';
import { WHOLE_ORGANISATION } from '../../src/services/scope.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { withTestDb } from '../support/db.ts';
import { UNIT_HEADER } from '../support/spreadsheets.ts';

const ADMIN_TOKEN = 'break-glass-token-0123456789';
const TZ = 'Asia/Ho_Chi_Minh';
/** The server's clock: tests move it to see a token expire. */
let now = new Date('2026-06-16T02:00:00.000Z');
const render = new Renderer(createTranslator(), TZ);

let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let app: FastifyInstance;
const campaigns = new Map<string, string>();

type Answer = { status: number; body: unknown; headers: Record<string, unknown>; raw: Buffer };

async function call(
  token: string | undefined,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
): Promise<Answer> {
  const response = await app.inject({
    method,
    url,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  const type = String(response.headers['content-type'] ?? '');
  return {
    status: response.statusCode,
    body: type.includes('json') ? (JSON.parse(response.payload) as unknown) : response.payload,
    headers: response.headers,
    raw: response.rawPayload,
  };
}

const errorOf = (answer: Answer) => (answer.body as { error: { code: string; message: string } }).error;
const campaign = (doc: string): string => {
  const id = campaigns.get(doc);
  if (!id) throw new Error(`no campaign ${doc}`);
  return id;
};

interface MadeToken {
  id: string;
  token: string;
  name: string;
}

async function makeToken(
  by: string,
  body: { name: string; role: 'admin' | 'leader'; unitCode: string; expiresOn?: string },
): Promise<MadeToken> {
  const answer = await call(by, 'POST', '/api/tokens', body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body as MadeToken;
}

let district1Admin: MadeToken;
let district1Leader: MadeToken;
let district2Admin: MadeToken;

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  const logger = createLogger('silent');
  const clock = { now: () => now };
  app = buildServer({
    db,
    token: ADMIN_TOKEN,
    clock,
    random: { bytes: (n) => randomBytes(n) },
    render,
    timeZone: TZ,
    channels: [],
    jobs: createJobsApi(createJobs(TZ), { db, render, timeZone: TZ, logger }),
    attachments: (ref) => makeAttachment({ db, render, timeZone: TZ }, ref),
    logger,
    metrics: createMetrics(),
    readiness: {},
    boardQueues: [],
  });
  await app.ready();

  // A province with two districts of two communes each.
  await upsertUnit(db, 'TINH', { name: 'UBND tỉnh' });
  for (const d of ['1', '2']) {
    await upsertUnit(db, `HUYEN${d}`, { name: `UBND huyện ${d}`, parentCode: 'TINH' });
    for (const c of ['A', 'B'])
      await upsertUnit(db, `XA${d}${c}`, { name: `UBND xã ${d}${c}`, parentCode: `HUYEN${d}` });
  }
  for (const unit of ['XA1A', 'XA1B', 'XA2A'])
    await upsertOfficial(db, `${unit}-F`, { name: `Đầu mối ${unit}`, unitCode: unit, role: 'focal' });
  const make = async (docNumber: string, issuerUnitCode: string, unitCodes: string[]) => {
    const created = await createCampaign(db, {
      docNumber,
      title: `Kế hoạch ${docNumber}`,
      issuerUnitCode,
      startsOn: '2026-06-01',
      endsOn: '2026-12-31',
      unitCodes,
      tasks: [{ key: 'NV1', title: 'Nhiệm vụ một', dueOn: '2026-09-30' }],
    });
    campaigns.set(docNumber, created.id);
    await launchCampaign(db, created.id, render, now);
  };
  await make('H1/KH', 'HUYEN1', ['XA1A', 'XA1B']); // issued in district 1
  await make('T/KH', 'TINH', ['XA1A', 'XA2A']); // issued by the province, reaching into both districts
  await make('H2/KH', 'HUYEN2', ['XA2A', 'XA2B']); // district 2 only
  for (const [unit, doc] of [
    ['XA1A', 'T/KH'],
    ['XA2A', 'T/KH'],
  ] as const) {
    const official = await db.official.findUniqueOrThrow({ where: { code: `${unit}-F` } });
    const task = await db.task.findFirstOrThrow({ where: { campaignId: campaign(doc) } });
    await recordStatus(db, {
      officialId: official.id,
      unitId: official.unitId,
      taskId: task.id,
      status: 'done',
      percent: null,
      note: null,
      sourceText: null,
      channel: 'telegram',
      now,
    });
  }

  district1Admin = await makeToken(ADMIN_TOKEN, {
    name: 'Đồng bộ huyện 1',
    role: 'admin',
    unitCode: 'HUYEN1',
  });
  district1Leader = await makeToken(ADMIN_TOKEN, {
    name: 'Báo cáo huyện 1',
    role: 'leader',
    unitCode: 'HUYEN1',
  });
  district2Admin = await makeToken(ADMIN_TOKEN, {
    name: 'Đồng bộ huyện 2',
    role: 'admin',
    unitCode: 'HUYEN2',
  });
});

afterAll(async () => {
  await app?.close();
  await testDb?.close();
});

describe('making, listing and revoking tokens', () => {
  it('answers the secret once, keeps only its hash, and lists tokens without it', async () => {
    const made = await call(ADMIN_TOKEN, 'POST', '/api/tokens', {
      name: 'Kịch bản nhập liệu',
      role: 'admin',
      unitCode: 'TINH',
    });
    expect(made.status).toBe(201);
    expect(made.headers['cache-control']).toBe('no-store');
    const { token, id } = made.body as MadeToken;
    expect(token).toMatch(/^thidua_[A-Za-z0-9_-]{43}$/);
    expect(made.body).toMatchObject({
      name: 'Kịch bản nhập liệu',
      role: 'admin',
      unitCode: 'TINH',
      state: 'active',
    });
    const stored = await db.$queryRawUnsafe<Record<string, unknown>[]>(
      `SELECT * FROM "ApiToken" WHERE id = $1::uuid`,
      id,
    );
    expect(JSON.stringify(stored)).not.toContain(token.slice(7));
    const listed = await call(ADMIN_TOKEN, 'GET', '/api/tokens');
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.body)).not.toContain(token.slice(7));
    expect((listed.body as { name: string }[]).map((row) => row.name)).toEqual([
      'Kịch bản nhập liệu',
      'Đồng bộ huyện 2',
      'Báo cáo huyện 1',
      'Đồng bộ huyện 1',
    ]);
    // Names are unique for ever; the break-glass token's name is taken.
    const again = await call(ADMIN_TOKEN, 'POST', '/api/tokens', {
      name: 'Kịch bản nhập liệu',
      role: 'leader',
      unitCode: 'TINH',
    });
    expect([again.status, errorOf(again).code]).toEqual([409, 'duplicate_name']);
    const reserved = await call(ADMIN_TOKEN, 'POST', '/api/tokens', {
      name: 'ADMIN_API_TOKEN',
      role: 'admin',
      unitCode: 'TINH',
    });
    expect([reserved.status, errorOf(reserved).code]).toEqual([400, 'reserved_name']);
  });

  it('works until revoked, then answers 401; revoking is audited once', async () => {
    const made = await makeToken(ADMIN_TOKEN, { name: 'Tạm thời', role: 'leader', unitCode: 'HUYEN1' });
    expect((await call(made.token, 'GET', '/api/campaigns')).status).toBe(200);
    expect((await db.apiToken.findUniqueOrThrow({ where: { id: made.id } })).lastUsedAt).toEqual(now);
    expect((await call(ADMIN_TOKEN, 'DELETE', `/api/tokens/${made.id}`)).status).toBe(204);
    expect((await call(ADMIN_TOKEN, 'DELETE', `/api/tokens/${made.id}`)).status).toBe(204);
    const refused = await call(made.token, 'GET', '/api/campaigns');
    expect([refused.status, errorOf(refused).code]).toEqual([401, 'unauthorized']);
    const listed = (await call(ADMIN_TOKEN, 'GET', '/api/tokens')).body as { id: string; state: string }[];
    expect(listed.find((row) => row.id === made.id)?.state).toBe('revoked');
    expect(
      (await listAudit(db, WHOLE_ORGANISATION, { target: made.id })).map((row) => [
        row.action,
        row.actor.name,
      ]),
    ).toEqual([
      ['token.revoke', 'ADMIN_API_TOKEN'],
      ['token.create', 'ADMIN_API_TOKEN'],
    ]);
  });

  it('expires at the end of its last day in the time zone', async () => {
    const made = await makeToken(ADMIN_TOKEN, {
      name: 'Hết hạn hôm nay',
      role: 'admin',
      unitCode: 'HUYEN1',
      expiresOn: '2026-06-16',
    });
    expect(made).toMatchObject({ expiresOn: '2026-06-16', expiresAt: '2026-06-16T17:00:00.000Z' });
    const started = now;
    try {
      now = new Date('2026-06-16T16:59:59.000Z');
      expect((await call(made.token, 'GET', '/api/campaigns')).status).toBe(200);
      now = new Date('2026-06-16T17:00:00.000Z');
      expect((await call(made.token, 'GET', '/api/campaigns')).status).toBe(401);
    } finally {
      now = started;
    }
    const past = await call(ADMIN_TOKEN, 'POST', '/api/tokens', {
      name: 'Hôm qua',
      role: 'admin',
      unitCode: 'HUYEN1',
      expiresOn: '2026-06-15',
    });
    expect([past.status, errorOf(past).code]).toEqual([400, 'expires_in_past']);
  });

  it('lets only admins make tokens, and none wider than their own subtree', async () => {
    const byLeader = await call(district1Leader.token, 'POST', '/api/tokens', {
      name: 'Của lãnh đạo',
      role: 'leader',
      unitCode: 'XA1A',
    });
    expect([byLeader.status, errorOf(byLeader).code]).toEqual([403, 'forbidden']);
    expect((await call(district1Leader.token, 'GET', '/api/tokens')).status).toBe(403);
    for (const unitCode of ['TINH', 'HUYEN2', 'XA2A', 'KHONG-CO']) {
      const wider = await call(district1Admin.token, 'POST', '/api/tokens', {
        name: `Rộng ${unitCode}`,
        role: 'admin',
        unitCode,
      });
      expect([wider.status, errorOf(wider).code], unitCode).toEqual([400, 'unknown_unit']);
    }
    const narrower = await makeToken(district1Admin.token, {
      name: 'Xã 1A',
      role: 'admin',
      unitCode: 'XA1A',
    });
    expect(
      (await listAudit(db, WHOLE_ORGANISATION, { target: narrower.id })).map((row) => row.actor),
    ).toEqual([{ kind: 'token', name: 'Đồng bộ huyện 1' }]);
    // Each admin lists and revokes the tokens of their own subtree only.
    const listed = (await call(district1Admin.token, 'GET', '/api/tokens')).body as { name: string }[];
    expect(listed.map((row) => row.name)).not.toContain('Đồng bộ huyện 2');
    expect(listed.map((row) => row.name)).toContain('Xã 1A');
    const outside = await call(district1Admin.token, 'DELETE', `/api/tokens/${district2Admin.id}`);
    const unknown = await call(
      district1Admin.token,
      'DELETE',
      '/api/tokens/0190a0b0-0000-7000-8000-000000000000',
    );
    expect([outside.status, errorOf(outside).code]).toEqual([404, 'not_found']);
    expect([unknown.status, errorOf(unknown).code]).toEqual([404, 'not_found']);
    expect((await call(district2Admin.token, 'GET', '/api/campaigns')).status).toBe(200);
  });
});

describe('a token acts as its principal', () => {
  it('lists the campaigns in its reach', async () => {
    const docs = async (token: string) =>
      ((await call(token, 'GET', '/api/campaigns')).body as { docNumber: string }[])
        .map((c) => c.docNumber)
        .sort();
    expect(await docs(district1Admin.token)).toEqual(['H1/KH', 'T/KH']);
    expect(await docs(district1Leader.token)).toEqual(['H1/KH', 'T/KH']);
    expect(await docs(district2Admin.token)).toEqual(['H2/KH', 'T/KH']);
    expect(await docs(ADMIN_TOKEN)).toEqual(['H1/KH', 'H2/KH', 'T/KH']);
  });

  it('answers 404 outside its subtree, exactly as for what does not exist', async () => {
    const pairs: [string, string, 'GET' | 'POST'][] = [
      [`/api/campaigns/${campaign('H2/KH')}`, '/api/campaigns/0190a0b0-0000-7000-8000-000000000000', 'GET'],
      [
        `/api/campaigns/${campaign('H2/KH')}/summary`,
        '/api/campaigns/0190a0b0-0000-7000-8000-000000000000/summary',
        'GET',
      ],
      [
        `/api/campaigns/${campaign('H2/KH')}/reports`,
        '/api/campaigns/0190a0b0-0000-7000-8000-000000000000/reports',
        'GET',
      ],
      [
        `/api/campaigns/${campaign('H2/KH')}/export.xlsx`,
        '/api/campaigns/0190a0b0-0000-7000-8000-000000000000/export.xlsx',
        'GET',
      ],
      [
        `/api/campaigns/${campaign('H2/KH')}/exemplars`,
        '/api/campaigns/0190a0b0-0000-7000-8000-000000000000/exemplars',
        'GET',
      ],
      [
        `/api/campaigns/${campaign('H2/KH')}/launch`,
        '/api/campaigns/0190a0b0-0000-7000-8000-000000000000/launch',
        'POST',
      ],
      ['/api/officials/XA2A-F', '/api/officials/KHONG-CO', 'GET'],
      ['/api/officials/XA2A-F/link-codes', '/api/officials/KHONG-CO/link-codes', 'POST'],
      ['/api/units/XA2A/link-codes', '/api/units/KHONG-CO/link-codes', 'POST'],
    ];
    const before = await db.auditEvent.count();
    for (const [outside, missing, method] of pairs) {
      const a = await call(district1Admin.token, method, outside);
      const b = await call(district1Admin.token, method, missing);
      expect([a.status, errorOf(a).code], `${method} ${outside}`).toEqual([404, 'not_found']);
      expect([b.status, errorOf(b).code], `${method} ${missing}`).toEqual([404, 'not_found']);
      // The message names only what was asked for, in the same words.
      const words = (answer: Answer, asked: string) => errorOf(answer).message.replace(asked, '…');
      expect(words(a, outside.split('/')[3] ?? '')).toBe(words(b, missing.split('/')[3] ?? ''));
    }
    // Changing what lies outside: as unknown, and nothing changes.
    const unit = await call(district1Admin.token, 'PUT', '/api/units/XA2A', {
      name: 'Đổi tên',
      parentCode: 'HUYEN1',
    });
    const official = await call(district1Admin.token, 'PUT', '/api/officials/XA2A-F', {
      name: 'Đổi tên',
      unitCode: 'XA1A',
      role: 'focal',
    });
    expect([unit.status, errorOf(unit).code]).toEqual([404, 'not_found']);
    expect([official.status, errorOf(official).code]).toEqual([404, 'not_found']);
    expect(await db.auditEvent.count()).toBe(before);
    expect((await db.unit.findUniqueOrThrow({ where: { code: 'XA2A' } })).name).toBe('UBND xã 2A');
  });

  it('refuses references outside its subtree as unknown: a parent, a unit, an issuer, a participant', async () => {
    const cases: [string, string, unknown, string][] = [
      ['PUT', '/api/units/XA1C', { name: 'Xã 1C', parentCode: 'HUYEN2' }, 'unknown_parent'],
      ['PUT', '/api/units/XA1C', { name: 'Xã 1C' }, 'parent_required'],
      ['PUT', '/api/officials/XA1A-2', { name: 'X', unitCode: 'XA2B', role: 'member' }, 'unknown_unit'],
      ['PUT', '/api/units/HUYEN1', { name: 'UBND huyện 1', parentCode: 'XA1A' }, 'cycle'],
    ];
    for (const [method, url, body, code] of cases) {
      const answer = await call(district1Admin.token, method as 'PUT', url, body);
      expect([answer.status, errorOf(answer).code], url).toEqual([400, code]);
    }
    const campaignBody = (issuerUnitCode: string, unitCodes: string[]) => ({
      docNumber: `${issuerUnitCode}-${unitCodes.join('-')}`,
      title: 'Kế hoạch',
      issuerUnitCode,
      startsOn: '2026-06-01',
      endsOn: '2026-12-31',
      unitCodes,
      tasks: [],
    });
    const issuer = await call(district1Admin.token, 'POST', '/api/campaigns', campaignBody('TINH', ['XA1A']));
    expect([issuer.status, errorOf(issuer).code]).toEqual([400, 'unknown_issuer']);
    const participant = await call(
      district1Admin.token,
      'POST',
      '/api/campaigns',
      campaignBody('HUYEN1', ['XA1A', 'XA2A']),
    );
    expect([participant.status, errorOf(participant).code]).toEqual([400, 'unknown_units']);
    expect((participant.body as { error: { details: unknown } }).error.details).toEqual({
      unitCodes: ['XA2A'],
    });
    // Renaming the root of its own subtree keeps its parent (outside the subtree) and is fine.
    const renamed = await call(district1Admin.token, 'PUT', '/api/units/HUYEN1', {
      name: 'UBND huyện Một',
      parentCode: 'TINH',
    });
    expect(renamed.status).toBe(200);
    const created = await call(
      district1Admin.token,
      'POST',
      '/api/campaigns',
      campaignBody('HUYEN1', ['XA1A']),
    );
    expect(created.status).toBe(201);
    expect(
      (await listAudit(db, WHOLE_ORGANISATION, { actor: 'Đồng bộ huyện 1', action: 'campaign.create' })).map(
        (row) => row.target.code,
      ),
    ).toEqual(['HUYEN1-XA1A']);
  });

  it('refuses a leader token every change with 403, wherever it points, and lets it read', async () => {
    const before = await db.auditEvent.count();
    const changes: [string, string, unknown?][] = [
      ['PUT', '/api/units/XA1A', { name: 'X', parentCode: 'HUYEN1' }],
      ['PUT', '/api/units/XA2A', { name: 'X', parentCode: 'HUYEN2' }],
      ['PUT', '/api/officials/XA1A-F', { name: 'X', unitCode: 'XA1A', role: 'focal' }],
      ['POST', '/api/officials/XA1A-F/link-codes'],
      ['POST', '/api/units/HUYEN1/link-codes'],
      [
        'POST',
        '/api/campaigns',
        {
          docNumber: 'L/KH',
          title: 'X',
          issuerUnitCode: 'HUYEN1',
          startsOn: '2026-06-01',
          endsOn: '2026-12-31',
          unitCodes: ['XA1A'],
          tasks: [],
        },
      ],
      ['PATCH', `/api/campaigns/${campaign('H1/KH')}`, { title: 'X' }],
      ['POST', `/api/campaigns/${campaign('H1/KH')}/launch`],
      ['POST', `/api/campaigns/${campaign('H1/KH')}/close`],
      ['PATCH', `/api/campaigns/${campaign('H2/KH')}`, { title: 'X' }],
      ['POST', '/api/jobs/reminders/run', { dryRun: true }],
    ];
    for (const [method, url, body] of changes) {
      const answer = await call(district1Leader.token, method as 'PUT', url, body);
      expect([answer.status, errorOf(answer).code], `${method} ${url}`).toEqual([403, 'forbidden']);
    }
    const csv = Buffer.from(`${UNIT_HEADER.join(',')}\nXA1C,Xã 1C,HUYEN1,\n`);
    const imported = await app.inject({
      method: 'POST',
      url: '/api/import',
      headers: { authorization: `Bearer ${district1Leader.token}`, 'content-type': 'text/csv' },
      payload: csv,
    });
    expect(imported.statusCode).toBe(403);
    expect(await db.auditEvent.count()).toBe(before);
    for (const url of [
      `/api/campaigns/${campaign('H1/KH')}`,
      `/api/campaigns/${campaign('H1/KH')}/summary`,
      `/api/campaigns/${campaign('H1/KH')}/reports`,
      '/api/officials/XA1A-F',
      '/api/audit',
      '/api/jobs',
    ])
      expect((await call(district1Leader.token, 'GET', url)).status, url).toBe(200);
  });

  it('sees only its part of a campaign issued above it, and may not manage it', async () => {
    const id = campaign('T/KH');
    const summary = await call(district1Admin.token, 'GET', `/api/campaigns/${id}/summary`);
    expect(summary.status).toBe(200);
    expect(summary.body).toMatchObject({ units: { total: 1, reported: 1 } });
    const whole = await call(ADMIN_TOKEN, 'GET', `/api/campaigns/${id}/summary`);
    expect(whole.body).toMatchObject({ units: { total: 2, reported: 2 } });
    const reports = (await call(district1Admin.token, 'GET', `/api/campaigns/${id}/reports`)).body as {
      unitCode: string;
    }[];
    expect(reports.map((row) => row.unitCode)).toEqual(['XA1A']);
    const drill = await call(district1Admin.token, 'GET', `/api/campaigns/${id}/summary?unit=XA2A`);
    expect([drill.status, errorOf(drill).code]).toEqual([404, 'not_found']);
    const workbook = await call(district1Admin.token, 'GET', `/api/campaigns/${id}/export.xlsx`);
    expect(workbook.status).toBe(200);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(workbook.raw as unknown as ExcelJS.Buffer);
    const units = new Set<string>();
    book.worksheets[1]?.eachRow((row, number) => {
      if (number > 1) units.add(row.getCell(1).text);
    });
    expect([...units]).toEqual(['XA1A']);
    for (const [method, url] of [
      ['PATCH', `/api/campaigns/${id}`],
      ['POST', `/api/campaigns/${id}/launch`],
      ['POST', `/api/campaigns/${id}/close`],
    ] as const) {
      const answer = await call(
        district1Admin.token,
        method,
        url,
        method === 'PATCH' ? { title: 'X' } : undefined,
      );
      expect([answer.status, errorOf(answer).code], url).toEqual([403, 'forbidden']);
    }
  });

  it('manages the campaigns of its own subtree, under its name', async () => {
    const id = campaign('H1/KH');
    const patched = await call(district1Admin.token, 'PATCH', `/api/campaigns/${id}`, {
      title: 'Kế hoạch mới',
    });
    expect(patched.status).toBe(200);
    const rows = await listAudit(db, WHOLE_ORGANISATION, { target: id, action: 'campaign.update' });
    expect(rows.map((row) => [row.actor, row.changes])).toEqual([
      [{ kind: 'token', name: 'Đồng bộ huyện 1' }, { title: ['Kế hoạch H1/KH', 'Kế hoạch mới'] }],
    ]);
  });

  it('refuses import rows outside its subtree row by row, applying nothing', async () => {
    const csv = [
      UNIT_HEADER.join(','),
      'XA1D,UBND xã 1D,HUYEN1,',
      'XA2C,UBND xã 2C,HUYEN2,',
      'XA2A,UBND xã 2A (đổi),HUYEN1,',
      'HUYEN3,UBND huyện 3,,',
    ].join('\n');
    const answer = await app.inject({
      method: 'POST',
      url: '/api/import',
      headers: { authorization: `Bearer ${district1Admin.token}`, 'content-type': 'text/csv' },
      payload: Buffer.from(csv),
    });
    expect(answer.statusCode).toBe(400);
    const error = (
      JSON.parse(answer.payload) as {
        error: { code: string; details: { errors: { row: number; code: string }[] } };
      }
    ).error;
    expect(error.code).toBe('import_invalid');
    expect(error.details.errors.map((row) => [row.row, row.code])).toEqual([
      [3, 'unknown_parent'],
      [4, 'out_of_scope'],
      [5, 'out_of_scope'],
    ]);
    expect(await db.unit.count({ where: { code: { in: ['XA1D', 'XA2C', 'HUYEN3'] } } })).toBe(0);
    const fine = await app.inject({
      method: 'POST',
      url: '/api/import',
      headers: { authorization: `Bearer ${district1Admin.token}`, 'content-type': 'text/csv' },
      payload: Buffer.from([UNIT_HEADER.join(','), 'XA1D,UBND xã 1D,HUYEN1,'].join('\n')),
    });
    expect(fine.statusCode).toBe(200);
    expect(
      (await listAudit(db, WHOLE_ORGANISATION, { target: 'XA1D' })).map((row) => row.actor.name),
    ).toEqual(['Đồng bộ huyện 1']);
  });

  it('runs scheduled jobs by hand only for the whole organisation, audited unless dry', async () => {
    const scoped = await call(district1Admin.token, 'POST', '/api/jobs/reminders/run', {});
    expect([scoped.status, errorOf(scoped).code]).toEqual([403, 'forbidden']);
    expect((await call(ADMIN_TOKEN, 'POST', '/api/jobs/reminders/run', { dryRun: true })).status).toBe(200);
    expect(await listAudit(db, WHOLE_ORGANISATION, { action: 'job.run' })).toEqual([]);
    const ran = await call(ADMIN_TOKEN, 'POST', '/api/jobs/reminders/run', {});
    expect(ran.status).toBe(200);
    expect(await listAudit(db, WHOLE_ORGANISATION, { action: 'job.run' })).toMatchObject([
      {
        actor: { kind: 'token', name: 'ADMIN_API_TOKEN' },
        target: { kind: 'job', code: 'reminders' },
        changes: { ok: true, at: now.toISOString(), messages: (ran.body as { sent: number }).sent },
      },
    ]);
  });
});
