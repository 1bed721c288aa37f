import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callerForSecret } from '../../src/services/api-tokens.ts';
import { listAudit } from '../../src/services/audit.ts';
import { redeemLinkCode, upsertOfficial } from '../../src/services/officials.ts';
import { WHOLE_ORGANISATION } from '../../src/services/scope.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { consoleServer, signedInAs, textOf } from '../support/console-browser.ts';
import { withTestDb } from '../support/db.ts';
import { REDIS_SERVER_URL } from '../support/env.ts';
import { redeemDeps } from '../support/link-codes.ts';

/**
 * The console's organisation forms and the operators' API tokens page, over HTTP against the real
 * PostgreSQL: a unit created, renamed and moved, an official created and changed, a link code for one
 * official and a printable sheet for a subtree, a token made (its secret shown once) and revoked. Each
 * valid form makes its change and its audit row; each invalid one shows the message beside its field and
 * saves nothing; a form without its token, a leader, and anything outside the admin's subtree are refused.
 */
let testDb: Awaited<ReturnType<typeof withTestDb>>;
let redis: Redis;
let app: FastifyInstance;
const now = new Date('2026-12-01T03:00:00Z');
const clock = { now: () => now };

beforeAll(async () => {
  testDb = await withTestDb();
  redis = new Redis(`${REDIS_SERVER_URL}/0`);
  const { db } = testDb;
  for (const [code, name, parentCode] of [
    ['HUYEN-A', 'UBND huyện A', null],
    ['XA-A1', 'UBND xã A1', 'HUYEN-A'],
    ['XA-A2', 'UBND xã A2', 'HUYEN-A'],
    ['HUYEN-B', 'UBND huyện B', null],
    ['XA-B1', 'UBND xã B1', 'HUYEN-B'],
  ] as const)
    await upsertUnit(db, code, { name, parentCode });
  for (const [code, name, unitCode, role] of [
    ['ADM-A', 'Quản trị A', 'HUYEN-A', 'admin'],
    ['LD-A', 'Lãnh đạo A', 'HUYEN-A', 'leader'],
    ['ADM-B', 'Quản trị B', 'HUYEN-B', 'admin'],
    ['DM-A1', 'Đầu mối xã A1', 'XA-A1', 'focal'],
    ['DM-B1', 'Đầu mối xã B1', 'XA-B1', 'focal'],
  ] as const)
    await upsertOfficial(db, code, { name, unitCode, role });
  app = await consoleServer(db, redis, clock, {
    deepLink: (code) => `https://t.me/thidua_test_bot?start=${code}`,
  });
});

afterAll(async () => {
  await app?.close();
  await redis?.quit();
  await testDb?.close();
});

const as = (code: string) => signedInAs(app, testDb.db, clock, code);
const audit = (action: string, target?: string) =>
  listAudit(testDb.db, WHOLE_ORGANISATION, { action, ...(target ? { target } : {}) });

function errorBeside(html: string, id: string): string {
  const described = new RegExp(`id="${id}"[^>]*aria-describedby="([^"]*)"`).exec(html)?.[1] ?? '';
  expect(described.split(' '), `${id} is described by its error`).toContain(`${id}-error`);
  return textOf(html, `${id}-error`);
}

describe('units', () => {
  it('creates a unit under one of the subtree, with its audit row', async () => {
    const admin = await as('ADM-A');
    const page = await admin.get('/console/units/new?parent=HUYEN-A');
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/<option value="HUYEN-A" selected>/);
    expect(page.body).not.toContain('UBND huyện B');
    const answer = await admin.post('/console/units', {
      code: 'XA-A3',
      name: 'UBND xã A3',
      parentCode: 'XA-A1',
      kind: 'xã',
      blockCodes: 'KHOI-XA, KHOI-MOI',
    });
    expect(answer.statusCode).toBe(303);
    expect(answer.headers.location).toBe('/console/units/XA-A3?done=created');
    const unit = await testDb.db.unit.findUniqueOrThrow({
      where: { code: 'XA-A3' },
      include: { parent: true },
    });
    expect(unit).toMatchObject({ name: 'UBND xã A3', kind: 'xã', blockCodes: ['KHOI-XA', 'KHOI-MOI'] });
    expect(unit.parent?.code).toBe('XA-A1');
    const [row] = await audit('unit.create', 'XA-A3');
    expect(row?.actor).toMatchObject({ kind: 'official', code: 'ADM-A' });
  });

  it('renames and moves a unit, each an audit row; a move under itself is refused beside the field', async () => {
    const admin = await as('ADM-A');
    const page = await admin.get('/console/units/XA-A3');
    expect(page.body).toContain('value="UBND xã A3"');
    // Its own subtree is no place to move it to.
    expect(page.body).not.toMatch(/<option value="XA-A3"/);
    const fields = {
      name: 'UBND xã A3 (mới)',
      parentCode: 'XA-A2',
      kind: 'xã',
      blockCodes: 'KHOI-XA, KHOI-MOI',
    };
    expect((await admin.post('/console/units/XA-A3', fields)).statusCode).toBe(303);
    expect((await audit('unit.rename', 'XA-A3'))[0]?.changes).toEqual({
      name: ['UBND xã A3', 'UBND xã A3 (mới)'],
    });
    expect((await audit('unit.move', 'XA-A3'))[0]?.changes).toEqual({ parentCode: ['XA-A1', 'XA-A2'] });
    const cycle = await admin.post('/console/units/XA-A2', { name: 'UBND xã A2', parentCode: 'XA-A3' });
    expect(cycle.statusCode).toBe(400);
    expect(errorBeside(cycle.body, 'parentCode')).toBe(
      'Không thể đặt đơn vị vào chính nó hoặc đơn vị trực thuộc của nó.',
    );
    expect(
      (await testDb.db.unit.findUniqueOrThrow({ where: { code: 'XA-A2' }, include: { parent: true } })).parent
        ?.code,
    ).toBe('HUYEN-A');
  });

  it('shows what is wrong beside each field and saves nothing', async () => {
    const admin = await as('ADM-A');
    await admin.get('/console/units/new');
    const count = await testDb.db.unit.count();
    const bad = await admin.post('/console/units', { code: 'XA A4', name: '', parentCode: 'HUYEN-A' });
    expect(bad.statusCode).toBe(400);
    expect(errorBeside(bad.body, 'code')).toBe('Chỉ gồm chữ, số và các dấu _ . - / (không có dấu cách).');
    expect(errorBeside(bad.body, 'name')).toBe('Bắt buộc phải điền.');
    const taken = await admin.post('/console/units', { code: 'XA-A1', name: 'Trùng', parentCode: 'HUYEN-A' });
    expect(errorBeside(taken.body, 'code')).toBe('Đã có đơn vị mang mã này.');
    // A parent in another district is not one the admin knows.
    const outside = await admin.post('/console/units', {
      code: 'XA-A5',
      name: 'UBND xã A5',
      parentCode: 'HUYEN-B',
    });
    expect(outside.statusCode).toBe(400);
    expect(errorBeside(outside.body, 'parentCode')).toBe(
      'Không có đơn vị cấp trên này trong phạm vi của bạn.',
    );
    expect(await testDb.db.unit.count()).toBe(count);
    expect(await testDb.db.unit.findUniqueOrThrow({ where: { code: 'XA-A1' } })).toMatchObject({
      name: 'UBND xã A1',
    });
  });

  it('refuses a form without its token, a leader (403) and a unit of another district (404)', async () => {
    const admin = await as('ADM-A');
    await admin.get('/console/units/new');
    expect(
      (await admin.post('/console/units', { code: 'XA-A6', name: 'A6', parentCode: 'HUYEN-A', _csrf: '' }))
        .statusCode,
    ).toBe(403);
    const leader = await as('LD-A');
    expect((await leader.get('/console/organisation')).body).not.toContain('/console/units/');
    expect((await leader.get('/console/units/new')).statusCode).toBe(403);
    expect(
      (await leader.post('/console/units', { code: 'XA-A6', name: 'A6', parentCode: 'HUYEN-A' })).statusCode,
    ).toBe(403);
    expect((await leader.post('/console/units/XA-A1', { name: 'Đổi tên' })).statusCode).toBe(403);
    expect((await admin.get('/console/units/XA-B1')).statusCode).toBe(404);
    expect((await admin.post('/console/units/XA-B1', { name: 'Đổi tên' })).statusCode).toBe(404);
    expect(await testDb.db.unit.findUnique({ where: { code: 'XA-A6' } })).toBeNull();
    expect((await testDb.db.unit.findUniqueOrThrow({ where: { code: 'XA-B1' } })).name).toBe('UBND xã B1');
  });

  it('prints a link-code sheet for a subtree: HTML with QR codes under its own policy, or a workbook', async () => {
    const admin = await as('ADM-A');
    await admin.get('/console/units/HUYEN-A');
    const sheet = await admin.post('/console/units/HUYEN-A/link-codes', {
      roles: ['focal', 'leader'],
      unlinked: '1',
      format: 'html',
    });
    expect(sheet.statusCode).toBe(200);
    expect(sheet.headers['content-type']).toContain('text/html');
    expect(sheet.body).toContain('Đầu mối xã A1');
    expect(sheet.body).toContain('Lãnh đạo A');
    expect(sheet.body).not.toContain('Quản trị A');
    expect(sheet.body).not.toContain('Đầu mối xã B1');
    expect(sheet.body).toMatch(/<img src="data:image\/png;base64,/);
    expect(sheet.body).toContain('https://t.me/thidua_test_bot?start=');
    const policy = String(sheet.headers['content-security-policy']);
    expect(policy).toContain('img-src data:');
    expect(policy).toMatch(/style-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(policy).not.toContain('unsafe-inline');
    const code = /<p class="code">([^<]+)<\/p>/.exec(sheet.body)?.[1] ?? '';
    const linked = await redeemLinkCode(
      testDb.db,
      { channel: 'telegram', chatId: '7001', code, now },
      redeemDeps,
    );
    expect(linked.kind).toBe('linked');
    expect((await audit('official.link_code')).map((row) => row.target.code).sort()).toEqual([
      'DM-A1',
      'LD-A',
    ]);

    const workbook = await admin.post('/console/units/XA-A1/link-codes', {
      roles: ['focal'],
      format: 'xlsx',
    });
    expect(workbook.headers['content-type']).toContain('spreadsheetml');
    expect(workbook.headers['content-disposition']).toContain('ma-lien-ket-XA-A1.xlsx');
    // Nobody left to give a code to: said on the page, nothing issued.
    const none = await admin.post('/console/units/XA-A1/link-codes', { roles: ['leader'], format: 'html' });
    expect(none.statusCode).toBe(400);
    expect(none.body).toContain('Không có cán bộ nào phù hợp để cấp mã.');

    const leader = await as('LD-A');
    expect((await leader.post('/console/units/HUYEN-A/link-codes', { format: 'html' })).statusCode).toBe(403);
    expect((await admin.post('/console/units/HUYEN-B/link-codes', { format: 'html' })).statusCode).toBe(404);
  });
});

describe('officials', () => {
  const official = {
    code: 'DM-A2',
    name: 'Đầu mối xã A2',
    unitCode: 'XA-A2',
    role: 'focal',
    phone: '0912 345 678',
    locale: 'vi',
    preferredChannel: '',
    digestWeekday: '1',
    digestTime: '08:00',
  };

  it('creates an official of the subtree, with its audit row (without the phone number)', async () => {
    const admin = await as('ADM-A');
    const page = await admin.get('/console/officials/new?unit=XA-A2');
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/<option value="XA-A2" selected>/);
    const answer = await admin.post('/console/officials/new', official);
    expect(answer.statusCode).toBe(303);
    const stored = await testDb.db.official.findUniqueOrThrow({
      where: { code: 'DM-A2' },
      include: { unit: true },
    });
    expect(stored).toMatchObject({ name: 'Đầu mối xã A2', role: 'focal', phone: '0912 345 678' });
    expect(stored.unit.code).toBe('XA-A2');
    const [row] = await audit('official.create', 'DM-A2');
    expect(row?.actor).toMatchObject({ code: 'ADM-A' });
    expect(JSON.stringify(row?.changes)).not.toContain('0912');
  });

  it('changes an official: the role and the weekly summary, each field in the audit', async () => {
    const admin = await as('ADM-A');
    const page = await admin.get('/console/officials/DM-A2/edit');
    expect(page.body).toContain('value="Đầu mối xã A2"');
    const answer = await admin.post('/console/officials/DM-A2/edit', {
      ...official,
      role: 'leader',
      digestWeekday: '',
    });
    expect(answer.statusCode).toBe(303);
    const [row] = await audit('official.update', 'DM-A2');
    expect(row?.changes).toMatchObject({
      role: ['focal', 'leader'],
      digest: [{ weekday: 1, time: '08:00' }, null],
    });
  });

  it('shows a bad phone and an unknown unit beside their fields and saves nothing', async () => {
    const admin = await as('ADM-A');
    await admin.get('/console/officials/new');
    const count = await testDb.db.official.count();
    const bad = await admin.post('/console/officials/new', { ...official, code: 'DM-A9', phone: 'gọi tôi' });
    expect(bad.statusCode).toBe(400);
    expect(errorBeside(bad.body, 'phone')).toBe('Số điện thoại không hợp lệ.');
    const outside = await admin.post('/console/officials/new', {
      ...official,
      code: 'DM-A9',
      unitCode: 'XA-B1',
    });
    expect(outside.statusCode).toBe(400);
    expect(errorBeside(outside.body, 'unitCode')).toBe('Không có đơn vị này trong phạm vi của bạn.');
    expect(await testDb.db.official.count()).toBe(count);
  });

  it('issues one official a link code, shown once, that links their chat', async () => {
    const admin = await as('ADM-A');
    await admin.get('/console/officials/DM-A2/edit');
    const answer = await admin.post('/console/officials/DM-A2/link-code');
    expect(answer.statusCode).toBe(200);
    const code = /<p class="code-shown" data-link-code>([^<]+)<\/p>/.exec(answer.body)?.[1] ?? '';
    expect(answer.body).toContain(`https://t.me/thidua_test_bot?start=${code}`);
    const linked = await redeemLinkCode(
      testDb.db,
      { channel: 'telegram', chatId: '7002', code, now },
      redeemDeps,
    );
    expect(linked.kind).toBe('linked');
    expect((await admin.get('/console/officials/DM-A2/edit')).body).not.toContain(code);
  });

  it('refuses a leader (403), an official of another district (404), and a form without its token', async () => {
    const leader = await as('LD-A');
    const list = await leader.get('/console/officials');
    expect(list.body).not.toContain('/console/officials/new');
    expect(list.body).not.toContain('/edit"');
    expect((await leader.get('/console/officials/DM-A1/edit')).statusCode).toBe(403);
    expect(
      (await leader.post('/console/officials/DM-A1/edit', { ...official, code: 'DM-A1' })).statusCode,
    ).toBe(403);
    expect((await leader.post('/console/officials/DM-A1/link-code')).statusCode).toBe(403);
    const admin = await as('ADM-A');
    expect((await admin.get('/console/officials/DM-B1/edit')).statusCode).toBe(404);
    expect(
      (await admin.post('/console/officials/DM-B1/edit', { ...official, unitCode: 'XA-B1' })).statusCode,
    ).toBe(404);
    await admin.get('/console/officials/new');
    expect(
      (await admin.post('/console/officials/new', { ...official, code: 'DM-A8', _csrf: 'forged' }))
        .statusCode,
    ).toBe(403);
    expect(await testDb.db.official.findUnique({ where: { code: 'DM-A8' } })).toBeNull();
    expect((await testDb.db.official.findUniqueOrThrow({ where: { code: 'DM-A1' } })).role).toBe('focal');
  });
});

describe('API tokens', () => {
  it('makes a token whose secret is shown once and works; revoking it is an audit row', async () => {
    const admin = await as('ADM-A');
    const page = await admin.get('/console/tokens');
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    const answer = await admin.post('/console/tokens', {
      name: 'Đồng bộ phần mềm huyện',
      role: 'leader',
      unitCode: 'XA-A1',
      expiresOn: '2027-12-31',
    });
    expect(answer.statusCode).toBe(200);
    const secret = /<code data-token-secret>([^<]+)<\/code>/.exec(answer.body)?.[1] ?? '';
    expect(secret).toMatch(/^thidua_[A-Za-z0-9_-]{43}$/);
    const caller = await callerForSecret(testDb.db, secret, { adminToken: undefined, now });
    expect(caller?.principal).toMatchObject({ role: 'leader' });
    const [created] = await audit('token.create');
    expect(created).toMatchObject({ actor: { code: 'ADM-A' }, target: { code: 'Đồng bộ phần mềm huyện' } });
    const list = await admin.get('/console/tokens');
    expect(list.body).toContain('Đồng bộ phần mềm huyện');
    expect(list.body).not.toContain(secret);

    const token = await testDb.db.apiToken.findFirstOrThrow({ where: { name: 'Đồng bộ phần mềm huyện' } });
    const revoked = await admin.post(`/console/tokens/${token.id}/revoke`);
    expect(revoked.statusCode).toBe(303);
    expect(await callerForSecret(testDb.db, secret, { adminToken: undefined, now })).toBeNull();
    expect((await audit('token.revoke'))[0]?.target).toMatchObject({ code: 'Đồng bộ phần mềm huyện' });
  });

  it('shows a bad name and a name in use beside the field, and makes nothing', async () => {
    const admin = await as('ADM-A');
    await admin.get('/console/tokens');
    const count = await testDb.db.apiToken.count();
    const bad = await admin.post('/console/tokens', {
      name: 'tên <xấu>',
      role: 'admin',
      unitCode: 'HUYEN-A',
    });
    expect(bad.statusCode).toBe(400);
    expect(errorBeside(bad.body, 'name')).toContain('Tên chỉ gồm chữ, số');
    const reused = await admin.post('/console/tokens', {
      name: 'Đồng bộ phần mềm huyện',
      role: 'admin',
      unitCode: 'HUYEN-A',
    });
    expect(errorBeside(reused.body, 'name')).toBe('Đã có mã mang tên này (tên không dùng lại được).');
    const outside = await admin.post('/console/tokens', {
      name: 'Ngoài phạm vi',
      role: 'admin',
      unitCode: 'XA-B1',
    });
    expect(errorBeside(outside.body, 'unitCode')).toBe('Không có đơn vị này trong phạm vi của bạn.');
    expect(await testDb.db.apiToken.count()).toBe(count);
  });

  it('refuses a leader (403), a token of another district (404), and a form without its token', async () => {
    const leader = await as('LD-A');
    expect((await leader.get('/console')).body).not.toContain('/console/tokens');
    expect((await leader.get('/console/tokens')).statusCode).toBe(403);
    expect(
      (await leader.post('/console/tokens', { name: 'Lãnh đạo', role: 'leader', unitCode: 'HUYEN-A' }))
        .statusCode,
    ).toBe(403);
    const other = await as('ADM-B');
    await other.get('/console/tokens');
    await other.post('/console/tokens', { name: 'Huyện B', role: 'leader', unitCode: 'HUYEN-B' });
    const theirs = await testDb.db.apiToken.findFirstOrThrow({ where: { name: 'Huyện B' } });
    const admin = await as('ADM-A');
    expect((await admin.get('/console/tokens')).body).not.toContain('Huyện B');
    expect((await admin.post(`/console/tokens/${theirs.id}/revoke`)).statusCode).toBe(404);
    expect((await admin.post(`/console/tokens/${theirs.id}/revoke`, { _csrf: '' })).statusCode).toBe(403);
    expect((await testDb.db.apiToken.findUniqueOrThrow({ where: { id: theirs.id } })).revokedAt).toBeNull();
  });
});
