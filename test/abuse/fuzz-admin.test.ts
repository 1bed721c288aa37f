import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCampaign } from '../../src/services/campaigns.ts';
import { upsertOfficial } from '../../src/services/officials.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { fingerprint, heapAfterGc, SECRETS, startInProcess, tableNames, type InProcess } from './harness.ts';

/**
 * 5,500 generated requests against the admin API's writing calls (the webhooks' 4,500 are in
 * fuzz-webhooks.test.ts). Every request is invalid by construction: it starts from a body PRODUCT.md
 * accepts and gets one defect, or it is not a body of that call at all. Defects: a required field
 * missing, a field of the wrong type, out of its range or 1 MB long, a field the contract does not name,
 * 10,000 levels of nesting, a date that does not exist, an unknown or malformed code or id, a unit made
 * its own ancestor, a document number already used, a body that is not JSON (or not UTF-8 between its
 * tokens), a wrong content type. Expected for each: a 4xx answer with the `{ error: { code, message } }`
 * body, and every table byte for byte as before (checked after every request).
 */

let env: InProcess;
let tables: string[];
let campaignId = '';
const ONE_MB = 'x'.repeat(1_000_000);

beforeAll(async () => {
  env = await startInProcess();
  const { db } = env;
  await upsertUnit(db, 'AD-ROOT', { name: 'UBND tỉnh Thử' });
  await upsertUnit(db, 'AD-XA', { name: 'UBND xã Thử', parentCode: 'AD-ROOT' });
  await upsertOfficial(db, 'AD-CB', { name: 'Cán bộ Thử', unitCode: 'AD-XA', role: 'focal' });
  const campaign = await createCampaign(db, {
    docNumber: '01/KH-ADMIN',
    title: 'Phong trào thử',
    issuerUnitCode: 'AD-ROOT',
    startsOn: '2026-01-01',
    endsOn: '2026-12-31',
    unitCodes: ['AD-XA'],
    tasks: [{ key: 'NV1', title: 'Nhiệm vụ một', dueOn: '2026-06-30' }],
  });
  campaignId = campaign.id;
  tables = await tableNames(db);
});

afterAll(async () => {
  await env?.close();
});

interface Request {
  method: 'PUT' | 'POST' | 'PATCH';
  url: string;
  contentType?: string;
  /** Raw bytes; a string is JSON text. */
  payload?: string | Buffer;
}

// ---------- values that are never right ----------

const junk = fc.jsonValue({ maxDepth: 2 });
const notString = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.array(junk, { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), junk, { maxKeys: 3 }),
);
const notStringOrNull = fc.oneof(notString, fc.constant(null));
const blank = fc.constantFrom('', '   ', '\t\n');
const DEEP = '§DEEP§';
/** A marker replaced by 10,000 nested arrays once the body is serialised. */
const deepValue = fc.constant(DEEP);
const huge = fc.constant(ONE_MB);
const isCode = (value: string) => /^[\p{L}\p{N}_.\-/]+$/u.test(value.trim()) && value.trim().length <= 64;
const badCode = fc.oneof(
  fc.string({ minLength: 1, maxLength: 30 }).filter((value) => value.trim() !== '' && !isCode(value)),
  fc.constantFrom('a'.repeat(65), 'TD BL', '<b>x</b>', 'x;DROP TABLE "Unit"', 'đơn vị?', '🙂'),
);
/** Well formed, and no unit or official has it. */
const unknownCode = fc.stringMatching(/^ZZ-[A-Z0-9]{1,12}$/);
const badDate = fc.oneof(
  fc.constantFrom('2026-02-30', '2026-13-01', '2026-00-10', '26-1-1', '2026/06/15', '15/06/2026', 'hôm nay'),
  fc.string({ maxLength: 12 }).filter((value) => !/^\d{4}-\d{2}-\d{2}$/.test(value)),
  notString,
);
const unknownKey = fc
  .string({ minLength: 1, maxLength: 12 })
  .filter((key) => !['__proto__', 'constructor', 'prototype'].includes(key));

/** One defect applied to a valid body: a field removed, replaced by a bad value, or a key added. */
type Defect = (body: Record<string, unknown>) => Record<string, unknown>;
const set = (field: string, values: fc.Arbitrary<unknown>): fc.Arbitrary<Defect> =>
  values.map((value) => (body) => ({ ...body, [field]: value }));
const drop = (...fields: string[]): fc.Arbitrary<Defect> =>
  fc.constantFrom(...fields).map((field) => (body) => {
    const copy = { ...body };
    delete copy[field];
    return copy;
  });
const extraKey = (known: string[]): fc.Arbitrary<Defect> =>
  fc
    .tuple(
      unknownKey.filter((key) => !known.includes(key)),
      junk,
    )
    .map(([key, value]) => (body) => ({ ...body, [key]: value }));

function serialise(body: unknown): string {
  return (JSON.stringify(body) ?? 'null').replace(`"${DEEP}"`, `${'['.repeat(10_000)}${']'.repeat(10_000)}`);
}

const json = (method: Request['method'], url: string, body: unknown): Request => ({
  method,
  url,
  contentType: 'application/json',
  payload: serialise(body),
});

// ---------- units and officials ----------

const UNIT = { name: 'UBND xã Mới', parentCode: 'AD-ROOT', kind: 'xa', blockCodes: ['KHOI-XA'] };
const unitDefect = fc.oneof(
  set('name', fc.oneof(notStringOrNull, blank, huge, deepValue)),
  set('parentCode', fc.oneof(notString, badCode, unknownCode)),
  set('kind', fc.oneof(notString, fc.constant('k'.repeat(65)))),
  set(
    'blockCodes',
    fc.oneof(
      notStringOrNull.filter((value) => !Array.isArray(value)),
      badCode.map((code) => [code]),
      fc.constant(Array.from({ length: 51 }, (_, i) => `K${i}`)),
    ),
  ),
  drop('name'),
  extraKey(Object.keys(UNIT)),
);
const units: fc.Arbitrary<Request> = fc.oneof(
  unitDefect.map((defect) => json('PUT', '/api/units/AD-NEW', defect(UNIT))),
  badCode.map((code) => json('PUT', `/api/units/${encodeURIComponent(code)}`, UNIT)),
  // A unit put under its own descendant.
  fc.constant(json('PUT', '/api/units/AD-ROOT', { name: 'UBND tỉnh Thử', parentCode: 'AD-XA' })),
  fc.constant(json('PUT', '/api/units/AD-ROOT', { name: 'UBND tỉnh Thử', parentCode: 'AD-ROOT' })),
);

const OFFICIAL = {
  name: 'Nguyễn Văn Mới',
  unitCode: 'AD-XA',
  role: 'focal',
  phone: '0912345678',
  locale: 'vi',
  preferredChannel: 'zalo',
};
const officials: fc.Arbitrary<Request> = fc.oneof(
  fc
    .oneof(
      set('name', fc.oneof(notStringOrNull, blank, huge, deepValue)),
      set('unitCode', fc.oneof(notStringOrNull, badCode, unknownCode)),
      set(
        'role',
        fc.oneof(
          notStringOrNull,
          fc.string().filter((role) => !['member', 'focal', 'leader', 'admin'].includes(role)),
        ),
      ),
      set(
        'phone',
        fc.oneof(
          notString,
          fc.string({ maxLength: 30 }).filter((phone) => !/^\+?[0-9 .-]{8,20}$/.test(phone.trim())),
        ),
      ),
      set(
        'locale',
        fc.oneof(
          notStringOrNull,
          fc.string().filter((locale) => locale !== 'vi' && locale !== 'en'),
        ),
      ),
      set(
        'preferredChannel',
        fc.oneof(
          notString,
          fc.string().filter((channel) => !/^[a-z_]{2,32}$/.test(channel)),
        ),
      ),
      drop('name', 'unitCode', 'role'),
      extraKey(Object.keys(OFFICIAL)),
    )
    .map((defect) => json('PUT', '/api/officials/AD-MOI', defect(OFFICIAL))),
  badCode.map((code) => json('PUT', `/api/officials/${encodeURIComponent(code)}`, OFFICIAL)),
  fc
    .oneof(unknownCode, badCode)
    .map((code) => json('POST', `/api/officials/${encodeURIComponent(code)}/link-codes`, {})),
);

// ---------- campaigns ----------

const TASK = { key: 'NV2', title: 'Nhiệm vụ hai', dueOn: '2026-09-30' };
const CAMPAIGN = {
  docNumber: '02/KH-MOI',
  title: 'Phong trào mới',
  theme: 'Chủ đề',
  kind: 'thematic',
  issuerUnitCode: 'AD-ROOT',
  startsOn: '2026-03-01',
  endsOn: '2026-12-31',
  unitCodes: ['AD-XA'],
  tasks: [TASK],
  reportSchedule: { cadence: 'quarterly', dueDay: 5 },
  policy: { daysBefore: [3, 1], sendAt: '07:30' },
};
const campaignFieldDefects = [
  set('title', fc.oneof(notStringOrNull, blank, huge, deepValue)),
  set('theme', fc.oneof(notString, fc.constant('t'.repeat(1001)))),
  set(
    'kind',
    fc.oneof(
      notStringOrNull,
      fc.string().filter((kind) => !['regular', 'thematic', 'special'].includes(kind)),
    ),
  ),
  set('startsOn', badDate),
  set('endsOn', fc.oneof(badDate, fc.constant('2026-02-01'))),
  set(
    'unitCodes',
    fc.oneof(
      fc.constant([]),
      notStringOrNull.filter((value) => !Array.isArray(value)),
      fc.oneof(badCode, unknownCode).map((code) => ['AD-XA', code]),
    ),
  ),
  set(
    'tasks',
    fc.oneof(
      notStringOrNull.filter((value) => !Array.isArray(value)),
      fc.constant([{ ...TASK, dueOn: '2027-06-30' }]),
      fc.constant([TASK, { ...TASK, title: 'Trùng mã' }]),
      fc.constant([{ key: 'NV3', title: 'Thiếu hạn' }]),
      badDate.map((dueOn) => [{ ...TASK, dueOn }]),
      badCode.map((key) => [{ ...TASK, key }]),
      fc.constant(Array.from({ length: 201 }, (_, i) => ({ ...TASK, key: `T${i}` }))),
    ),
  ),
  set(
    'reportSchedule',
    fc.oneof(
      notString.filter((value) => typeof value !== 'object' || Array.isArray(value)),
      fc.constant({ cadence: 'weekly' }),
      fc.constant({ cadence: 'monthly', dueDay: 99 }),
      fc.constant({ cadence: 'monthly', extra: 1 }),
    ),
  ),
  set(
    'policy',
    fc.oneof(
      fc.constant({ daysBefore: [0] }),
      fc.constant({ sendAt: '25:00' }),
      fc.constant({ overdueEveryWorkingDays: -1 }),
      fc.constant({ quietHours: { start: '07:00', end: '21:00' } }),
      fc.constant({ surprise: true }),
    ),
  ),
];
const createDefect = fc.oneof(
  ...campaignFieldDefects,
  set(
    'docNumber',
    fc.oneof(notStringOrNull, blank, fc.constant('d'.repeat(101)), fc.constant('01/KH-ADMIN')),
  ),
  set('issuerUnitCode', fc.oneof(notStringOrNull, badCode, unknownCode)),
  drop('docNumber', 'title', 'issuerUnitCode', 'startsOn', 'endsOn', 'unitCodes', 'tasks'),
  extraKey(Object.keys(CAMPAIGN)),
);
const PATCH = { title: 'Tên mới', endsOn: '2026-11-30' };
const patchDefect = fc.oneof(
  ...campaignFieldDefects,
  set('docNumber', fc.constant('03/KH-DOI')),
  extraKey(Object.keys(CAMPAIGN)),
);
const unknownId = fc.oneof(
  fc.uuid(),
  fc.string({ minLength: 1, maxLength: 80 }).filter((id) => !id.includes('/') && id.trim() !== ''),
);
const campaigns: fc.Arbitrary<Request> = fc.oneof(
  createDefect.map((defect) => json('POST', '/api/campaigns', defect(CAMPAIGN))),
  patchDefect.map((defect) => json('PATCH', `/api/campaigns/${campaignId}`, defect(PATCH))),
  notString
    .filter((body) => !(typeof body === 'object' && body !== null && !Array.isArray(body)))
    .map((body) => json('PATCH', `/api/campaigns/${campaignId}`, body)),
  unknownId.map((id) => json('PATCH', `/api/campaigns/${encodeURIComponent(id)}`, PATCH)),
  unknownId.map((id) => json('POST', `/api/campaigns/${encodeURIComponent(id)}/launch`, {})),
);

// ---------- jobs, link-code sheets, import ----------

const jobs: fc.Arbitrary<Request> = fc.oneof(
  fc
    .oneof(
      fc.record({ at: badDate }),
      fc.record({ at: fc.constantFrom('2026-06-15T07:30:00', '2026-06-15', 'now') }),
      fc.record({ dryRun: notStringOrNull.filter((value) => typeof value !== 'boolean') }),
      fc.record({ at: fc.constant('2099-01-01T00:00:00Z'), dryRun: fc.constant(false) }),
      fc
        .tuple(
          unknownKey.filter((key) => key !== 'at' && key !== 'dryRun'),
          junk,
        )
        .map(([key, value]) => ({
          [key]: value,
        })),
      notString.filter((body) => !(typeof body === 'object' && body !== null && !Array.isArray(body))),
      fc.constant(null),
    )
    .map((body) => json('POST', '/api/jobs/reminders/run', body)),
  fc
    .string({ minLength: 1, maxLength: 70 })
    .map((name) => json('POST', `/api/jobs/${encodeURIComponent(`zz${name}`)}/run`, { dryRun: true })),
);

const sheets: fc.Arbitrary<Request> = fc.oneof(
  fc
    .oneof(
      fc
        .string()
        .filter((format) => format !== 'xlsx' && format !== 'html')
        .map((format) => ({ format })),
      fc
        .string({ minLength: 1 })
        .filter((role) => !['member', 'focal', 'leader', 'admin'].includes(role.trim()))
        .map((roles) => ({ roles })),
      fc
        .string({ minLength: 1 })
        .filter((flag) => !['true', 'false', '1', '0'].includes(flag))
        .map((unlinked) => ({ unlinked })),
    )
    .map((query) => ({
      method: 'POST' as const,
      url: `/api/units/AD-ROOT/link-codes?${new URLSearchParams(query).toString()}`,
    })),
  fc.oneof(unknownCode, fc.constant('a'.repeat(65))).map((code) => ({
    method: 'POST' as const,
    url: `/api/units/${encodeURIComponent(code)}/link-codes?format=html`,
  })),
);

const RAW_TYPES = [
  'text/csv',
  'application/octet-stream',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
];
const imports: fc.Arbitrary<Request> = fc.oneof(
  fc.tuple(fc.constantFrom(...RAW_TYPES), fc.uint8Array({ maxLength: 2000 })).map(([type, bytes]) => ({
    method: 'POST' as const,
    url: '/api/import',
    contentType: type,
    payload: Buffer.from(bytes),
  })),
  // A CSV with the units header and rows that cannot all be applied.
  fc
    .array(
      fc.oneof(
        badCode.map((code) => `${code.replace(/[,;\t\n"]/g, '')}x y,Tên,,`),
        unknownCode.map((parent) => `AD-N1,Tên mới,${parent},`),
        fc.constant('AD-N2,,AD-ROOT,'),
      ),
      { minLength: 1, maxLength: 20 },
    )
    .map((rows) => ({
      method: 'POST' as const,
      url: '/api/import',
      contentType: 'text/csv',
      payload: Buffer.from(`mã đơn vị,tên đơn vị,mã đơn vị cấp trên,khối thi đua\n${rows.join('\n')}\n`),
    })),
  fc.string({ maxLength: 200 }).map((text) => ({
    method: 'POST' as const,
    url: '/api/import',
    contentType: 'text/csv',
    payload: Buffer.from(`cột lạ,khác\n${text}`),
  })),
  junk.map((body) => json('POST', '/api/import', body)),
  fc.constant<Request>({
    method: 'POST',
    url: '/api/import',
    contentType: 'multipart/form-data; boundary=x',
    payload: '--x--\r\n',
  }),
);

// ---------- bodies that are not JSON, or not of this type ----------

const WRITES: [Request['method'], string][] = [
  ['PUT', '/api/units/AD-NEW'],
  ['PUT', '/api/officials/AD-MOI'],
  ['POST', '/api/campaigns'],
  ['PATCH', '/api/campaigns/CAMPAIGN'],
  ['POST', '/api/jobs/reminders/run'],
];
const notJson: fc.Arbitrary<Request> = fc
  .tuple(
    fc.constantFrom(...WRITES),
    fc.oneof(
      fc.string({ minLength: 1, maxLength: 200 }).map((text) => `{${text}`),
      fc
        .uint8Array({ minLength: 1, maxLength: 40 })
        .map((bytes) =>
          Buffer.concat([Buffer.from('{"name":"a",'), Buffer.from([0xff, ...bytes]), Buffer.from('}')]),
        ),
      fc.constantFrom(
        `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
        `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`,
        `[${'['.repeat(100_000)}`,
      ),
    ),
    fc.constantFrom(
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/xml',
      'application/json; charset=latin1',
    ),
  )
  .map(([[method, url], payload, contentType]) => ({
    method,
    url: url.replace('CAMPAIGN', campaignId),
    contentType,
    payload,
  }));
const wrongType: fc.Arbitrary<Request> = fc
  .tuple(
    fc.constantFrom(...WRITES.slice(0, 3)),
    fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'text/csv'),
  )
  .map(([[method, url], contentType]) => ({
    method,
    url,
    contentType,
    payload: serialise(url.includes('units') ? UNIT : url.includes('officials') ? OFFICIAL : CAMPAIGN),
  }));

// ---------- the property ----------

const statuses = new Map<number, number>();
let sent = 0;

async function check(request: Request): Promise<void> {
  const before = await fingerprint(env.db, tables);
  const response = await env.app.inject({
    method: request.method,
    url: request.url,
    headers: {
      authorization: `Bearer ${SECRETS.admin}`,
      ...(request.contentType ? { 'content-type': request.contentType } : {}),
    },
    ...(request.payload !== undefined ? { payload: request.payload } : {}),
  });
  const after = await fingerprint(env.db, tables);
  sent += 1;
  statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
  const payload = typeof request.payload === 'string' ? request.payload : request.payload?.toString('utf8');
  const what = `${request.method} ${request.url} ${request.contentType ?? ''} ${JSON.stringify(
    (payload ?? '').slice(0, 300),
  )} -> ${response.statusCode} ${response.payload.slice(0, 300)}`;
  expect(response.statusCode, what).toBeGreaterThanOrEqual(400);
  expect(response.statusCode, what).toBeLessThan(500);
  const body = JSON.parse(response.payload) as { error?: { code?: unknown; message?: unknown } };
  expect(typeof body.error?.code, what).toBe('string');
  expect(typeof body.error?.message, what).toBe('string');
  expect(after, what).toEqual(before);
}

const CASES: [string, fc.Arbitrary<Request>, number][] = [
  ['PUT /api/units/:code', units, 800],
  ['PUT /api/officials/:code and their link codes', officials, 800],
  ['POST /api/campaigns, PATCH, launch', campaigns, 1_500],
  ['POST /api/jobs/:name/run', jobs, 500],
  ['POST /api/units/:code/link-codes', sheets, 300],
  ['POST /api/import', imports, 600],
  ['bodies that are not JSON or of the wrong type', fc.oneof(notJson, wrongType), 950],
];

describe('fuzzing the admin API', () => {
  let heapAtStart = 0;

  it('warms up', async () => {
    await fc.assert(fc.asyncProperty(units, check), { numRuns: 50, seed: 1 });
    heapAtStart = heapAfterGc();
  });

  for (const [name, requests, runs] of CASES) {
    it(`${name}: ${runs} invalid requests, each 4xx and writing nothing`, async () => {
      await fc.assert(fc.asyncProperty(requests, check), { numRuns: runs });
    }, 120_000);
  }

  it('keeps memory flat', () => {
    const heapAtEnd = heapAfterGc();
    process.stdout.write(
      `admin fuzz: ${sent} requests ${JSON.stringify(Object.fromEntries(statuses))}; heap after GC ${(heapAtStart / 1048576).toFixed(1)} -> ${(heapAtEnd / 1048576).toFixed(1)} MB\n`,
    );
    expect(sent).toBeGreaterThanOrEqual(5_500);
    expect((heapAtEnd - heapAtStart) / 1024 / 1024).toBeLessThan(24);
  });
});
