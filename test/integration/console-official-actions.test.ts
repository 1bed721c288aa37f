import ExcelJS from 'exceljs';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/services/audit.ts';
import { createCampaign, launchCampaign } from '../../src/services/campaigns.ts';
import { upsertOfficial } from '../../src/services/officials.ts';
import { mergeUnits } from '../../src/services/reorganise.ts';
import { WHOLE_ORGANISATION } from '../../src/services/scope.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { render, ZONE } from '../support/admin-app.ts';
import { consoleServer, signedInAs, textOf } from '../support/console-browser.ts';
import { withTestDb } from '../support/db.ts';
import { REDIS_SERVER_URL } from '../support/env.ts';

/**
 * The console's last organisation pages, over HTTP against the real PostgreSQL: an official deactivated
 * (after a page that says what happens), reactivated, erased (after typing their code) and exported as JSON;
 * the audit trail downloaded as a workbook with the page's filters; a unit's history, with the units merged
 * away found and shown as such; the dashboard naming a unit formed by a merge with what it was. Each change
 * makes its audit row; a leader is refused (403), a form without its token is refused, and what lies outside
 * the admin's subtree is not there (404).
 */
let testDb: Awaited<ReturnType<typeof withTestDb>>;
let redis: Redis;
let app: FastifyInstance;
const now = new Date('2026-12-01T03:00:00Z');
const clock = { now: () => now };
let chatIds = 9100;

beforeAll(async () => {
  testDb = await withTestDb();
  redis = new Redis(`${REDIS_SERVER_URL}/0`);
  const { db } = testDb;
  for (const [code, name, parentCode] of [
    ['HUYEN-A', 'UBND huyện A', null],
    ['XA-A1', 'UBND xã A1', 'HUYEN-A'],
    ['XA-A2', 'UBND xã A2', 'HUYEN-A'],
    ['XA-A3', 'UBND xã A3', 'HUYEN-A'],
    ['XA-A4', 'UBND xã A4', 'HUYEN-A'],
    ['HUYEN-B', 'UBND huyện B', null],
    ['XA-B1', 'UBND xã B1', 'HUYEN-B'],
  ] as const)
    await upsertUnit(db, code, { name, parentCode });
  for (const [code, name, unitCode, role] of [
    ['ADM-A', 'Quản trị A', 'HUYEN-A', 'admin'],
    ['ADM-A2', 'Quản trị A thứ hai', 'HUYEN-A', 'admin'],
    ['LD-A', 'Lãnh đạo A', 'HUYEN-A', 'leader'],
    ['ADM-B', 'Quản trị B', 'HUYEN-B', 'admin'],
    ['DM-A1', 'Tẩn Văn Chiến', 'XA-A1', 'focal'],
    ['DM-A2', 'Lý Thị Thu', 'XA-A2', 'focal'],
    ['DM-B1', 'Đầu mối xã B1', 'XA-B1', 'focal'],
  ] as const) {
    await upsertOfficial(db, code, { name, unitCode, role, phone: '0912 345 678' });
    const { id } = await db.official.findUniqueOrThrow({ where: { code } });
    await db.channelAccount.create({
      data: { officialId: id, channel: 'telegram', chatId: String((chatIds += 1)) },
    });
  }
  app = await consoleServer(db, redis, clock);
});

afterAll(async () => {
  await app?.close();
  await redis?.quit();
  await testDb?.close();
});

const as = (code: string) => signedInAs(app, testDb.db, clock, code);
const audit = (action: string, target?: string) =>
  listAudit(testDb.db, WHOLE_ORGANISATION, { action, ...(target ? { target } : {}) });
const officialRow = (code: string) =>
  testDb.db.official.findUniqueOrThrow({ where: { code }, include: { accounts: true } });
const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

describe('deactivating and reactivating an official', () => {
  let campaignId = '';

  beforeAll(async () => {
    const { db } = testDb;
    campaignId = (
      await createCampaign(db, {
        docNumber: '12/KH-A',
        title: 'Phong trào thi đua của huyện A',
        issuerUnitCode: 'HUYEN-A',
        startsOn: '2026-12-01',
        endsOn: '2027-12-31',
        unitCodes: ['XA-A1', 'XA-A2'],
        tasks: [{ key: 'NV1', title: 'Quán triệt kế hoạch', dueOn: '2027-03-31' }],
      })
    ).id;
    await launchCampaign(db, campaignId, render, now);
  });

  it('says what will happen first, then unlinks every chat, fails what waits and records it', async () => {
    const admin = await as('ADM-A');
    const list = await admin.get('/console/officials?unit=XA-A1');
    expect(list.body).toContain('href="/console/officials/DM-A1/deactivate"');
    const page = await admin.get('/console/officials/DM-A1/deactivate');
    expect(page.statusCode).toBe(200);
    const effects = text(/<ul data-deactivate-effects>([\s\S]*?)<\/ul>/.exec(page.body)?.[1] ?? '');
    expect(effects).toContain('Các cuộc trò chuyện đang liên kết (Telegram) bị hủy liên kết');
    expect(effects).toContain('Bot không gửi thêm gì tới cán bộ');
    // Only the page: nothing changed yet.
    expect((await officialRow('DM-A1')).active).toBe(true);
    const waiting = await testDb.db.outboxMessage.count({
      where: { official: { code: 'DM-A1' }, state: 'pending' },
    });
    expect(waiting).toBeGreaterThan(0);

    const answer = await admin.post('/console/officials/DM-A1/deactivate');
    expect(answer.statusCode).toBe(303);
    expect(answer.headers.location).toBe('/console/officials/DM-A1/edit?done=deactivated');
    const stored = await officialRow('DM-A1');
    expect(stored.active).toBe(false);
    expect(stored.accounts).toEqual([]);
    expect(
      await testDb.db.outboxMessage.count({ where: { official: { code: 'DM-A1' }, state: 'pending' } }),
    ).toBe(0);
    const [row] = await audit('official.deactivate', 'DM-A1');
    expect(row).toMatchObject({
      actor: { kind: 'official', code: 'ADM-A' },
      changes: { active: [true, false] },
    });

    const done = await admin.get(answer.headers.location as string);
    expect(done.body).toContain('data-done="deactivated"');
    const edit = await admin.get('/console/officials/DM-A1/edit');
    expect(edit.body).toContain('data-standing="inactive"');
    expect(edit.body).toContain('action="/console/officials/DM-A1/reactivate"');
    expect(edit.body).not.toContain('action="/console/officials/DM-A1/link-code"');
    const badge = await admin.get('/console/officials?unit=XA-A1');
    expect(badge.body).toContain('Đã ngừng hoạt động');
    // The campaign's dashboard says why the bot cannot reach them.
    const dashboard = await admin.get(`/console/campaigns/${campaignId}`);
    const unreachable = /<tr>\s*<td>Tẩn Văn Chiến[\s\S]*?<\/tr>/.exec(dashboard.body)?.[0] ?? '';
    expect(text(unreachable)).toContain('Đã ngừng hoạt động');
  });

  it('reactivates them: they may be given a new link code', async () => {
    const admin = await as('ADM-A');
    await admin.get('/console/officials/DM-A1/edit');
    const answer = await admin.post('/console/officials/DM-A1/reactivate');
    expect(answer.statusCode).toBe(303);
    expect(answer.headers.location).toBe('/console/officials/DM-A1/edit?done=reactivated');
    expect((await officialRow('DM-A1')).active).toBe(true);
    expect((await audit('official.reactivate', 'DM-A1'))[0]).toMatchObject({
      actor: { code: 'ADM-A' },
      changes: { active: [false, true] },
    });
    const page = await admin.get('/console/officials/DM-A1/edit');
    expect(page.body).toContain('action="/console/officials/DM-A1/link-code"');
    expect(page.body).not.toContain('data-standing="inactive"');
  });

  it('ends a deactivated admin’s console sessions, and reactivating brings none back', async () => {
    const other = await as('ADM-A2');
    expect((await other.get('/console/officials')).statusCode).toBe(200);
    const cookie = other.cookies.get('thidua_console') ?? '';
    const admin = await as('ADM-A');
    await admin.get('/console/officials/ADM-A2/deactivate');
    expect((await admin.post('/console/officials/ADM-A2/deactivate')).statusCode).toBe(303);
    const after = await other.get('/console/officials');
    expect(after.statusCode).toBe(303);
    expect(after.headers.location).toMatch(/^\/console\/login/);
    expect(
      await testDb.db.consoleSession.count({ where: { official: { code: 'ADM-A2' }, endedAt: null } }),
    ).toBe(0);
    // Whoever kept the cookie (a lost phone) is not let back in when the official is reactivated.
    await admin.post('/console/officials/ADM-A2/reactivate');
    other.cookies.set('thidua_console', cookie);
    expect((await other.get('/console/officials')).statusCode).toBe(303);
  });

  it('refuses a leader (403), an official of another district (404) and a form without its token', async () => {
    const leader = await as('LD-A');
    const admin = await as('ADM-A');
    // Signing in is an audit row of its own: counted from here, nothing more may be written.
    const before = (await listAudit(testDb.db, WHOLE_ORGANISATION)).length;
    const list = await leader.get('/console/officials');
    expect(list.body).not.toContain('/deactivate');
    expect(list.body).not.toContain('/reactivate');
    expect((await leader.get('/console/officials/DM-A2/deactivate')).statusCode).toBe(403);
    expect((await leader.post('/console/officials/DM-A2/deactivate')).statusCode).toBe(403);
    expect((await leader.post('/console/officials/DM-A2/reactivate')).statusCode).toBe(403);

    expect((await admin.get('/console/officials/DM-B1/deactivate')).statusCode).toBe(404);
    expect((await admin.post('/console/officials/DM-B1/deactivate')).statusCode).toBe(404);
    expect((await admin.post('/console/officials/DM-B1/reactivate')).statusCode).toBe(404);
    expect((await admin.post('/console/officials/NOBODY/deactivate')).statusCode).toBe(404);

    await admin.get('/console/officials/DM-A2/deactivate');
    expect((await admin.post('/console/officials/DM-A2/deactivate', { _csrf: '' })).statusCode).toBe(403);
    expect((await admin.post('/console/officials/DM-A2/reactivate', { _csrf: 'forged' })).statusCode).toBe(
      403,
    );
    const foreign = await admin.post(
      '/console/officials/DM-A2/deactivate',
      {},
      { origin: 'https://evil.example' },
    );
    expect(foreign.statusCode).toBe(403);

    for (const code of ['DM-A2', 'DM-B1']) {
      const stored = await officialRow(code);
      expect(stored.active).toBe(true);
      expect(stored.accounts).toHaveLength(1);
    }
    expect((await listAudit(testDb.db, WHOLE_ORGANISATION)).length).toBe(before);
  });
});

describe('a subject-access export and an erasure', () => {
  it('exports what is kept about an official as a JSON download, recorded in the audit', async () => {
    const admin = await as('ADM-A');
    const page = await admin.get('/console/officials/DM-A2/edit');
    expect(page.body).toContain('action="/console/officials/DM-A2/export"');
    const answer = await admin.post('/console/officials/DM-A2/export');
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toContain('application/json');
    expect(answer.headers['content-disposition']).toBe('attachment; filename="can-bo-DM-A2.json"');
    expect(answer.headers['cache-control']).toBe('no-store');
    const data = JSON.parse(answer.body) as {
      official: { code: string; name: string; phone: string };
      chatAccounts: { channel: string }[];
      messages: unknown[];
    };
    expect(data.official).toMatchObject({ code: 'DM-A2', name: 'Lý Thị Thu', phone: '0912 345 678' });
    expect(data.chatAccounts).toMatchObject([{ channel: 'telegram' }]);
    expect(data.messages.length).toBeGreaterThan(0);
    expect((await audit('official.export', 'DM-A2'))[0]?.actor).toMatchObject({ code: 'ADM-A' });
  });

  it('asks for the official’s code before erasing; a wrong or missing code erases nothing', async () => {
    const admin = await as('ADM-A');
    const page = await admin.get('/console/officials/DM-A2/erase');
    expect(page.statusCode).toBe(200);
    expect(text(/<ul data-erase-removed>([\s\S]*?)<\/ul>/.exec(page.body)?.[1] ?? '')).toContain(
      'Họ tên «Lý Thị Thu»',
    );
    expect(text(/<ul data-erase-kept>([\s\S]*?)<\/ul>/.exec(page.body)?.[1] ?? '')).toContain(
      'Các báo cáo tiến độ',
    );
    for (const [typed, message] of [
      ['DM-A1', 'Mã nhập không khớp với mã cán bộ.'],
      ['', 'Bắt buộc phải điền.'],
    ] as const) {
      const refused = await admin.post('/console/officials/DM-A2/erase', { confirm: typed });
      expect(refused.statusCode).toBe(400);
      expect(textOf(refused.body, 'confirm-error')).toBe(message);
      expect(refused.body).toMatch(/id="confirm"[^>]*aria-describedby="confirm-error"/);
    }
    expect(await officialRow('DM-A2')).toMatchObject({ name: 'Lý Thị Thu', erasedAt: null });
    expect(await audit('official.erase')).toEqual([]);
  });

  it('erases with the code typed: anonymous name, no phone or chats, an audit row; the page says so', async () => {
    const admin = await as('ADM-A');
    await admin.get('/console/officials/DM-A2/erase');
    const answer = await admin.post('/console/officials/DM-A2/erase', { confirm: ' dm-a2 ' });
    expect(answer.statusCode).toBe(303);
    expect(answer.headers.location).toBe('/console/officials/DM-A2/edit?done=erased');
    const stored = await officialRow('DM-A2');
    expect(stored).toMatchObject({ name: 'Cán bộ đã xóa 1', phone: null, active: false });
    expect(stored.erasedAt).not.toBeNull();
    expect(stored.accounts).toEqual([]);
    expect((await audit('official.erase', 'DM-A2'))[0]?.actor).toMatchObject({ code: 'ADM-A' });
    const page = await admin.get('/console/officials/DM-A2/edit');
    expect(page.body).toContain('data-standing="erased"');
    expect(page.body).not.toContain('action="/console/officials/DM-A2/edit"');
    expect(page.body).not.toContain('href="/console/officials/DM-A2/erase"');
    expect(page.body).not.toContain('Lý Thị Thu');
    const list = await admin.get('/console/officials?unit=XA-A2');
    expect(list.body).toContain('Đã xóa dữ liệu cá nhân');
  });

  it('refuses a leader (403), another district (404) and a form without its token', async () => {
    const leader = await as('LD-A');
    expect((await leader.get('/console/officials/DM-A1/erase')).statusCode).toBe(403);
    expect((await leader.post('/console/officials/DM-A1/erase', { confirm: 'DM-A1' })).statusCode).toBe(403);
    expect((await leader.post('/console/officials/DM-A1/export')).statusCode).toBe(403);
    const admin = await as('ADM-A');
    expect((await admin.get('/console/officials/DM-B1/erase')).statusCode).toBe(404);
    expect((await admin.post('/console/officials/DM-B1/erase', { confirm: 'DM-B1' })).statusCode).toBe(404);
    expect((await admin.post('/console/officials/DM-B1/export')).statusCode).toBe(404);
    await admin.get('/console/officials/DM-A1/erase');
    expect(
      (await admin.post('/console/officials/DM-A1/erase', { confirm: 'DM-A1', _csrf: 'forged' })).statusCode,
    ).toBe(403);
    expect((await admin.post('/console/officials/DM-A1/export', { _csrf: '' })).statusCode).toBe(403);
    for (const code of ['DM-A1', 'DM-B1'])
      expect((await officialRow(code)).erasedAt, `${code} is not erased`).toBeNull();
    expect((await audit('official.erase')).map((row) => row.target.code)).toEqual(['DM-A2']);
    expect((await audit('official.export')).map((row) => row.target.code)).toEqual(['DM-A2']);
  });
});

describe('the audit trail as a workbook', () => {
  async function rowsOf(body: Buffer): Promise<string[][]> {
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(body as unknown as ArrayBuffer);
    const sheet = book.worksheets[0];
    const rows: string[][] = [];
    sheet?.eachRow((row) => {
      const cells: string[] = [];
      for (let column = 1; column <= row.cellCount; column++) cells.push(row.getCell(column).text);
      rows.push(cells);
    });
    return rows;
  }

  it('downloads the rows the page’s filters select, in the operator’s subtree', async () => {
    const admin = await as('ADM-A');
    const page = await admin.get('/console/audit?actor=ADM-A&since=2026-12-01&until=2026-12-01');
    expect(page.statusCode).toBe(200);
    const href = /href="([^"]*export\.xlsx[^"]*)"/.exec(page.body)?.[1]?.replace(/&amp;/g, '&') ?? '';
    expect(href).toBe('/console/audit/export.xlsx?since=2026-12-01&until=2026-12-01&actor=ADM-A');
    const file = await admin.get(href);
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toContain('spreadsheetml');
    expect(file.headers['content-disposition']).toMatch(/^attachment; filename="nhat-ky-\d{8}-\d{4}\.xlsx"$/);
    expect(file.headers['cache-control']).toBe('no-store');
    const [header, ...rows] = await rowsOf(file.rawPayload);
    expect(header).toEqual([
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
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((row) => row[3]))).toEqual(new Set(['ADM-A']));
    const actions = rows.map((row) => row[5]);
    for (const action of ['official.deactivate', 'official.reactivate', 'official.erase', 'official.export'])
      expect(actions).toContain(action);
    expect(rows.find((row) => row[5] === 'official.deactivate')?.[4]).toBe('Ngừng hoạt động cán bộ');
  });

  it('leaves out what lies outside the subtree, for an admin and a leader alike', async () => {
    for (const code of ['ADM-A', 'LD-A']) {
      const browser = await as(code);
      const file = await browser.get('/console/audit/export.xlsx');
      expect(file.statusCode).toBe(200);
      const targets = (await rowsOf(file.rawPayload)).slice(1).map((row) => row[7]);
      expect(targets).toContain('XA-A1');
      expect(targets).not.toContain('XA-B1');
      expect(targets).not.toContain('HUYEN-B');
      expect(targets).not.toContain('DM-B1');
    }
    const other = await as('ADM-B');
    const theirs = (await rowsOf((await other.get('/console/audit/export.xlsx')).rawPayload)).slice(1);
    expect(theirs.map((row) => row[7])).toContain('XA-B1');
    expect(theirs.map((row) => row[7])).not.toContain('XA-A1');
  });

  it('refuses a bad filter, and a browser that is not signed in', async () => {
    const admin = await as('ADM-A');
    const bad = await admin.get('/console/audit/export.xlsx?since=2026-12-05&until=2026-12-01');
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('text/html');
    const anonymous = await app.inject({ method: 'GET', url: '/console/audit/export.xlsx' });
    expect(anonymous.statusCode).toBe(303);
    expect(anonymous.headers.location).toMatch(/^\/console\/login/);
  });
});

describe('a unit’s history, and units merged away', () => {
  let campaignId = '';

  beforeAll(async () => {
    const { db } = testDb;
    await upsertUnit(db, 'XA-A3', { name: 'UBND xã A3 (cũ)', parentCode: 'HUYEN-A' });
    campaignId = (
      await createCampaign(db, {
        docNumber: '13/KH-A',
        title: 'Phong trào xây dựng nông thôn mới',
        issuerUnitCode: 'HUYEN-A',
        startsOn: '2026-12-01',
        endsOn: '2027-12-31',
        unitCodes: ['XA-A3', 'XA-A4'],
        tasks: [{ key: 'NV1', title: 'Rà soát tiêu chí', dueOn: '2027-03-31' }],
      })
    ).id;
    await launchCampaign(db, campaignId, render, now);
    await mergeUnits(
      { db, render, now, timeZone: ZONE },
      { from: ['XA-A3', 'XA-A4'], into: { code: 'XA-A34', name: 'UBND xã A34', parentCode: 'HUYEN-A' } },
    );
  });

  it('links every unit of the tree to its history, for leaders too', async () => {
    for (const code of ['ADM-A', 'LD-A']) {
      const tree = await (await as(code)).get('/console/organisation');
      expect(tree.body).toContain('href="/console/organisation/XA-A34/history"');
      expect(tree.body).toContain('href="/console/organisation/XA-A1/history"');
      expect(tree.body).not.toContain('organisation/XA-A3/history');
    }
  });

  it('shows the successor’s history with the units that went into it', async () => {
    const leader = await as('LD-A');
    const page = await leader.get('/console/organisation/XA-A34/history');
    expect(page.statusCode).toBe(200);
    const kinds = [...page.body.matchAll(/<tr data-kind="(\w+)">/g)].map((match) => match[1]);
    expect(kinds).toEqual(['created', 'merged', 'merged']);
    expect(page.body).toContain('href="/console/organisation/XA-A3/history"');
    expect(text(page.body)).toContain('UBND xã A3 (cũ) (XA-A3) sáp nhập vào đơn vị này');
    expect(page.body).not.toContain('data-departure');
  });

  it('answers an old code with its history, saying where it went', async () => {
    const admin = await as('ADM-A');
    const page = await admin.get('/console/organisation/XA-A3/history');
    expect(page.statusCode).toBe(200);
    const kinds = [...page.body.matchAll(/<tr data-kind="(\w+)">/g)].map((match) => match[1]);
    expect(kinds).toEqual(['created', 'renamed', 'merged']);
    const notice = text(
      /<p class="notice" data-departure="merged">([\s\S]*?)<\/p>/.exec(page.body)?.[1] ?? '',
    );
    expect(notice).toContain('Đã sáp nhập vào UBND xã A34 (XA-A34)');
    for (const url of ['/console/organisation?unit=XA-A3', '/console/units/XA-A3']) {
      const answer = await admin.get(url);
      expect(answer.statusCode, url).toBe(303);
      expect(answer.headers.location).toBe('/console/organisation/XA-A3/history');
    }
    const search = await admin.get('/console/organisation?q=a3');
    const found = /<li data-retired="XA-A3">([\s\S]*?)<\/li>/.exec(search.body)?.[1] ?? '';
    expect(text(found)).toBe('UBND xã A3 (cũ) (XA-A3) Đã sáp nhập → UBND xã A34');
  });

  it('names the merged unit on the dashboard with what it was formed from', async () => {
    const admin = await as('ADM-A');
    const page = await admin.get(`/console/campaigns/${campaignId}`);
    expect(page.statusCode).toBe(200);
    const unreported = text(/<ul class="plain unreported-list">([\s\S]*?)<\/ul>/.exec(page.body)?.[1] ?? '');
    expect(unreported).toBe('UBND xã A34 (trước đây: UBND xã A3 (cũ), UBND xã A4)');
  });

  it('keeps the history of another district out of reach (404), old codes included', async () => {
    const other = await as('ADM-B');
    for (const url of [
      '/console/organisation/XA-A34/history',
      '/console/organisation/XA-A3/history',
      '/console/organisation?unit=XA-A3',
      '/console/units/XA-A3',
    ])
      expect((await other.get(url)).statusCode, url).toBe(404);
    const search = await other.get('/console/organisation?q=a3');
    expect(search.body).not.toContain('XA-A3');
  });
});
