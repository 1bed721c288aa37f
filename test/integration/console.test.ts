import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Renderer } from '../../src/conversation/render.ts';
import { SESSION_IDLE_MS, SESSION_WORKING_DAY_MS } from '../../src/domain/console-session.ts';
import { SIGN_IN_CODE_TTL_MS } from '../../src/domain/sign-in-code.ts';
import { buildServer } from '../../src/http/server.ts';
import { createTranslator } from '../../src/i18n.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { listAudit } from '../../src/services/audit.ts';
import { createCampaign } from '../../src/services/campaigns.ts';
import { issueLinkCode, redeemLinkCode, upsertOfficial } from '../../src/services/officials.ts';
import { WHOLE_ORGANISATION } from '../../src/services/scope.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { withTestDb } from '../support/db.ts';
import { REDIS_SERVER_URL } from '../support/env.ts';
import { redeemDeps, TEST_LINK_CODE_KEYS } from '../support/link-codes.ts';

/**
 * The console's sign-in and its defences over HTTP (fastify inject) against the real PostgreSQL and
 * Redis, with the injected clock moved by hand: codes through the outbox, the same answer for anybody,
 * CSRF and Origin refusals, throttles, a replayed link, a cookie after sign-out, session timeouts, scope.
 */
const ADMIN_TOKEN = 'console-test-admin-token';
let testDb: Awaited<ReturnType<typeof withTestDb>>;
let redis: Redis;
let app: FastifyInstance;
let now = new Date('2026-12-01T02:00:00Z');
const clock = { now: () => now };
const random = { bytes: (n: number) => randomBytes(n) };
let prefix = '';
let campaignId = '';

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
    ['LD-B', 'Lãnh đạo B', 'HUYEN-B', 'leader'],
    ['DM-A1', 'Đầu mối A1', 'XA-A1', 'focal'],
    ['LD-A2', 'Lãnh đạo xã A2 chưa liên kết', 'XA-A2', 'leader'],
  ] as const)
    await upsertOfficial(db, code, { name, unitCode, role });
  let chat = 7000;
  for (const code of ['ADM-A', 'LD-A', 'LD-B', 'DM-A1']) {
    const issued = await issueLinkCode(db, code, { clock, random, linkCodeKeys: TEST_LINK_CODE_KEYS });
    chat += 1;
    await redeemLinkCode(
      db,
      { channel: 'telegram', chatId: String(chat), code: issued.code, now },
      redeemDeps,
    );
  }
  campaignId = (
    await createCampaign(db, {
      docNumber: '07/KH-A',
      title: 'Phong trào của huyện A',
      issuerUnitCode: 'HUYEN-A',
      startsOn: '2026-11-01',
      endsOn: '2027-06-30',
      unitCodes: ['XA-A1', 'XA-A2'],
      tasks: [{ key: 'T1', title: 'Nhiệm vụ một', dueOn: '2027-01-15' }],
    })
  ).id;
});

beforeEach(async () => {
  // A fresh Redis prefix (throttles) and server per test: one test's attempts never slow another.
  prefix = `tcon${randomBytes(5).toString('hex')}`;
  now = new Date(now.getTime() + 3600_000);
  app = buildServer({
    db: testDb.db,
    token: ADMIN_TOKEN,
    clock,
    random,
    render: {} as Renderer,
    timeZone: 'Asia/Ho_Chi_Minh',
    channels: [],
    logger: createLogger('silent'),
    metrics: createMetrics(),
    readiness: {},
    boardQueues: [],
    console: {
      db: testDb.db,
      redis,
      prefix,
      clock,
      random,
      timeZone: 'Asia/Ho_Chi_Minh',
      publicUrl: undefined,
      adminApiToken: ADMIN_TOKEN,
      signInMessage: (locale, vars) =>
        new Renderer(createTranslator(), 'Asia/Ho_Chi_Minh').text(locale, 'console.signInCode', vars),
    },
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  const keys = await redis.keys('tcon*');
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await testDb?.close();
});

/** A browser: keeps its cookies, reads the form token off each page, posts from the console's origin. */
class Browser {
  cookies = new Map<string, string>();
  csrf = '';
  constructor(readonly address = '10.1.1.1') {}

  private remember(response: LightMyRequestResponse) {
    for (const cookie of response.cookies) {
      if (cookie.value === '' || (cookie.maxAge !== undefined && cookie.maxAge <= 0))
        this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    const token = /name="_csrf" value="([^"]+)"/.exec(response.body)?.[1];
    if (token) this.csrf = token;
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    const response = await app.inject({
      method: 'GET',
      url,
      cookies: Object.fromEntries(this.cookies),
      remoteAddress: this.address,
    });
    this.remember(response);
    return response;
  }

  async post(
    url: string,
    fields: Record<string, string>,
    headers: Record<string, string> = { origin: 'http://localhost:80' },
  ): Promise<LightMyRequestResponse> {
    const response = await app.inject({
      method: 'POST',
      url,
      headers: { host: 'localhost:80', 'content-type': 'application/x-www-form-urlencoded', ...headers },
      cookies: Object.fromEntries(this.cookies),
      payload: new URLSearchParams({ _csrf: this.csrf, ...fields }).toString(),
      remoteAddress: this.address,
    });
    this.remember(response);
    return response;
  }
}

async function outboxFor(officialCode: string) {
  return testDb.db.outboxMessage.findMany({
    where: { official: { code: officialCode }, dedupeKey: { startsWith: 'reply:console-sign-in:' } },
    orderBy: { seq: 'asc' },
  });
}

/** Asks for a code as `official` and reads it (and the link's token) from the message in the outbox. */
async function requestCode(browser: Browser, official: string) {
  const before = (await outboxFor(official)).length;
  await browser.get('/console/login');
  const answer = await browser.post('/console/login', { official });
  const rows = await outboxFor(official);
  const text = rows.length > before ? String((rows.at(-1)?.payload as { text: string }).text) : '';
  return {
    answer,
    code: /(\d{6})/.exec(text)?.[1] ?? '',
    token: /#([A-Za-z0-9_-]+)/.exec(text)?.[1] ?? '',
    sent: rows.length - before,
  };
}

async function signedIn(official: string): Promise<Browser> {
  const browser = new Browser(`10.2.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`);
  const { code } = await requestCode(browser, official);
  const verified = await browser.post('/console/login/verify', { official, code });
  expect(verified.statusCode).toBe(303);
  await browser.get('/console');
  return browser;
}

const sessionCookie = 'thidua_console';

describe('signing in to the console through the bot', () => {
  it('sends the redirect to the sign-in page without a session', async () => {
    const response = await new Browser().get('/console');
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/console/login');
    const deep = await new Browser().get(`/console/campaigns/${campaignId}`);
    expect(deep.headers.location).toBe(
      `/console/login?next=${encodeURIComponent(`/console/campaigns/${campaignId}`)}`,
    );
  });

  it('sends an operator a code and a link in their chat, through the outbox, and signs them in with it', async () => {
    const browser = new Browser();
    const { answer, code, token, sent } = await requestCode(browser, 'ADM-A');
    expect(answer.statusCode).toBe(200);
    expect(sent).toBe(1);
    expect(code).toMatch(/^\d{6}$/);
    expect(token.length).toBeGreaterThan(30);
    const verified = await browser.post('/console/login/verify', {
      official: 'ADM-A',
      code,
      next: '/console/audit',
    });
    expect(verified.statusCode).toBe(303);
    expect(verified.headers.location).toBe('/console/audit');
    const cookie = verified.cookies.find((candidate) => candidate.name === sessionCookie);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });
    expect((await browser.get('/console')).statusCode).toBe(200);
    // Only a hash of the cookie's secret is kept.
    const stored = await testDb.db.consoleSession.findMany({ where: { official: { code: 'ADM-A' } } });
    expect(stored.some((row) => row.secretHash === cookie?.value)).toBe(false);
    const audit = await listAudit(testDb.db, WHOLE_ORGANISATION, { actor: 'ADM-A' });
    expect(audit.map((row) => row.action)).toEqual(
      expect.arrayContaining(['console.code_sent', 'console.sign_in']),
    );
  });

  it('answers exactly the same for a focal official, an unlinked leader and an unknown code, and sends them nothing', async () => {
    const browser = new Browser();
    const pages: string[] = [];
    for (const official of ['ADM-A', 'DM-A1', 'LD-A2', 'NOBODY-42']) {
      const { answer } = await requestCode(browser, official);
      expect(answer.statusCode).toBe(200);
      pages.push(answer.body.replaceAll(official, 'X'));
    }
    expect(new Set(pages).size).toBe(1);
    expect(await outboxFor('DM-A1')).toHaveLength(0);
    expect(await outboxFor('LD-A2')).toHaveLength(0);
    expect(
      await testDb.db.signInCode.count({ where: { official: { code: { in: ['DM-A1', 'LD-A2'] } } } }),
    ).toBe(0);
  });

  it('refuses a wrong code, allows 5 tries, and a spent or expired code signs nobody in', async () => {
    const browser = new Browser();
    const { code } = await requestCode(browser, 'LD-A');
    const wrong = code === '000000' ? '111111' : '000000';
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const refused = await browser.post('/console/login/verify', { official: 'LD-A', code: wrong });
      expect(refused.statusCode).toBe(400);
      expect(refused.body).toContain('Mã không đúng hoặc đã hết hạn');
    }
    // The right code after five wrong tries: the code is used up.
    expect((await browser.post('/console/login/verify', { official: 'LD-A', code })).statusCode).toBe(400);
    const failed = await listAudit(testDb.db, WHOLE_ORGANISATION, { actor: 'LD-A' });
    expect(failed.filter((row) => row.action === 'console.sign_in_failed').length).toBeGreaterThanOrEqual(6);
    expect(failed[0]?.changes).toMatchObject({ method: 'code', reason: 'exhausted' });

    const other = new Browser('10.9.9.9');
    const fresh = await requestCode(other, 'LD-A');
    now = new Date(now.getTime() + SIGN_IN_CODE_TTL_MS);
    expect(
      (await other.post('/console/login/verify', { official: 'LD-A', code: fresh.code })).statusCode,
    ).toBe(400);

    const third = await requestCode(other, 'LD-A');
    expect(
      (await other.post('/console/login/verify', { official: 'LD-A', code: third.code })).statusCode,
    ).toBe(303);
    // Single use: the same code again, in another browser.
    const again = new Browser('10.9.9.8');
    await again.get('/console/login');
    expect(
      (await again.post('/console/login/verify', { official: 'LD-A', code: third.code })).statusCode,
    ).toBe(400);
  });

  it('signs in the browser that opens the one-tap link, once: a replayed link is refused', async () => {
    const requester = new Browser();
    const { token } = await requestCode(requester, 'LD-B');
    const phone = new Browser('10.3.3.3');
    const page = await phone.get('/console/login/link');
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain(token);
    const opened = await phone.post('/console/login/link', { token });
    expect(opened.statusCode).toBe(303);
    expect(phone.cookies.has(sessionCookie)).toBe(true);
    const replay = new Browser('10.3.3.4');
    await replay.get('/console/login/link');
    const refused = await replay.post('/console/login/link', { token });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain('đã được dùng hoặc đã hết hạn');
    expect(replay.cookies.has(sessionCookie)).toBe(false);
    const audit = await listAudit(testDb.db, WHOLE_ORGANISATION, { actor: 'LD-B' });
    expect(audit[0]).toMatchObject({
      action: 'console.sign_in_failed',
      changes: { method: 'link', reason: 'used' },
    });
  });

  it('signs the break-glass token in, and refuses a wrong one', async () => {
    const browser = new Browser();
    await browser.get('/console/login');
    const wrong = await browser.post('/console/login/token', { token: 'not-the-token' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain('Mã quản trị không đúng');
    const right = await browser.post('/console/login/token', { token: ADMIN_TOKEN });
    expect(right.statusCode).toBe(303);
    expect((await browser.get('/console/organisation')).body).toContain('UBND huyện B');
    const audit = await listAudit(testDb.db, WHOLE_ORGANISATION, { actor: 'ADMIN_API_TOKEN' });
    expect(audit[0]).toMatchObject({ action: 'console.sign_in', actor: { kind: 'token' } });
  });
});

describe('the console refuses forged and hurried requests', () => {
  it('refuses a form without its CSRF token, or with another browser’s, and changes nothing', async () => {
    const browser = new Browser();
    await browser.get('/console/login');
    browser.csrf = '';
    const missing = await browser.post('/console/login', { official: 'ADM-A' });
    expect(missing.statusCode).toBe(403);
    const other = new Browser();
    await other.get('/console/login');
    browser.csrf = other.csrf;
    expect((await browser.post('/console/login', { official: 'ADM-A' })).statusCode).toBe(403);

    const admin = await signedIn('ADM-A');
    const token = admin.csrf;
    admin.csrf = 'forged';
    expect((await admin.post('/console/logout', {})).statusCode).toBe(403);
    admin.csrf = token;
    expect((await admin.get('/console')).statusCode).toBe(200);
  });

  it('refuses a POST from another origin or another site with 403', async () => {
    const browser = new Browser();
    await browser.get('/console/login');
    const before = (await outboxFor('ADM-A')).length;
    const evil = await browser.post(
      '/console/login',
      { official: 'ADM-A' },
      { origin: 'https://evil.example' },
    );
    expect(evil.statusCode).toBe(403);
    expect(evil.body).toContain('không được gửi từ trang của bảng điều khiển');
    const referer = await browser.post(
      '/console/login',
      { official: 'ADM-A' },
      { referer: 'https://evil.example/x' },
    );
    expect(referer.statusCode).toBe(403);
    const site = await browser.post(
      '/console/login',
      { official: 'ADM-A' },
      { 'sec-fetch-site': 'cross-site' },
    );
    expect(site.statusCode).toBe(403);
    expect(await outboxFor('ADM-A')).toHaveLength(before);
  });

  it('throttles code requests per official and per address, and wrong codes per official', async () => {
    const browser = new Browser('10.4.4.4');
    for (let attempt = 0; attempt < 5; attempt += 1)
      expect((await requestCode(browser, 'LD-B')).answer.statusCode).toBe(200);
    const sixth = await requestCode(new Browser('10.4.4.5'), 'LD-B');
    expect(sixth.answer.statusCode).toBe(429);
    expect(sixth.sent).toBe(0);
    // The same for a code that names nobody: the throttle says nothing about who exists.
    for (let attempt = 0; attempt < 5; attempt += 1) await requestCode(browser, 'NOBODY-7');
    expect((await requestCode(new Browser('10.4.4.6'), 'NOBODY-7')).answer.statusCode).toBe(429);

    const crowd = new Browser('10.5.5.5');
    let last = 0;
    for (let attempt = 0; attempt < 31; attempt += 1)
      last = (await requestCode(crowd, `X-${attempt}`)).answer.statusCode;
    expect(last).toBe(429);

    const guesser = new Browser('10.6.6.6');
    await guesser.get('/console/login');
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 11; attempt += 1)
      statuses.push(
        (await guesser.post('/console/login/verify', { official: 'ADM-A', code: '123456' })).statusCode,
      );
    expect(statuses.slice(0, 10).every((status) => status === 400)).toBe(true);
    expect(statuses[10]).toBe(429);
  }, 120_000);

  it('counts wrong codes and tokens posted all at once before checking them: none slips past the limit', async () => {
    const guesser = new Browser('10.7.7.7');
    await guesser.get('/console/login');
    const codes = await Promise.all(
      Array.from({ length: 20 }, () =>
        guesser.post('/console/login/verify', { official: 'ADM-B', code: '654321' }),
      ),
    );
    const statusesOf = (answers: { statusCode: number }[]) =>
      answers.map((answer) => answer.statusCode).sort((a, b) => a - b);
    // Ten wrong codes per official and hour were checked; the other ten were refused unchecked.
    expect(statusesOf(codes)).toEqual([...Array<number>(10).fill(400), ...Array<number>(10).fill(429)]);

    const tokenGuesser = new Browser('10.8.8.8');
    await tokenGuesser.get('/console/login');
    const tokens = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        tokenGuesser.post('/console/login/token', { token: `wrong-token-${index}-xxxxxxxx` }),
      ),
    );
    expect(statusesOf(tokens)).toEqual([...Array<number>(30).fill(400), ...Array<number>(10).fill(429)]);
  }, 120_000);

  it('does not count a sign-in that succeeded against the address', async () => {
    const browser = new Browser('10.9.9.9');
    await browser.get('/console/login');
    for (let attempt = 0; attempt < 35; attempt += 1)
      expect((await browser.post('/console/login/token', { token: ADMIN_TOKEN })).statusCode).toBe(303);
    expect(
      (await browser.post('/console/login/token', { token: 'wrong-token-xxxxxxxxxxxx' })).statusCode,
    ).toBe(400);
  }, 120_000);
});

describe('console sessions', () => {
  it('forgets a session cookie after sign-out, and sign-out everywhere ends the other browsers', async () => {
    const first = await signedIn('LD-A');
    const second = await signedIn('LD-A');
    const third = await signedIn('LD-A');
    const stolen = first.cookies.get(sessionCookie) ?? '';
    expect((await first.post('/console/logout', {})).headers.location).toBe('/console/login');
    const replayed = new Browser();
    replayed.cookies.set(sessionCookie, stolen);
    expect((await replayed.get('/console')).headers.location).toBe('/console/login');
    expect((await second.get('/console')).statusCode).toBe(200);
    expect((await third.get('/console')).statusCode).toBe(200);
    expect((await second.post('/console/logout/everywhere', {})).statusCode).toBe(303);
    expect((await third.get('/console')).headers.location).toBe('/console/login');
    expect((await second.get('/console')).headers.location).toBe('/console/login');
    const audit = await listAudit(testDb.db, WHOLE_ORGANISATION, { actor: 'LD-A' });
    expect(audit.map((row) => row.action)).toEqual(
      expect.arrayContaining(['console.sign_out', 'console.sign_out_everywhere']),
    );
  });

  it('ends a session after two idle hours, and after a working day however busy', async () => {
    const idle = await signedIn('ADM-A');
    now = new Date(now.getTime() + SESSION_IDLE_MS - 60_000);
    expect((await idle.get('/console')).statusCode).toBe(200);
    now = new Date(now.getTime() + SESSION_IDLE_MS);
    expect((await idle.get('/console')).headers.location).toBe('/console/login');

    const busy = await signedIn('ADM-A');
    for (let hour = 1; hour < SESSION_WORKING_DAY_MS / 3600_000; hour += 1) {
      now = new Date(now.getTime() + 3600_000);
      expect((await busy.get('/console')).statusCode).toBe(200);
    }
    now = new Date(now.getTime() + 3600_000);
    expect((await busy.get('/console')).headers.location).toBe('/console/login');
  });
});

describe('scope in the console', () => {
  it('shows a leader the campaign of their district, refuses them a change (403), and another district 404', async () => {
    const leader = await signedIn('LD-A');
    const dashboard = await leader.get(`/console/campaigns/${campaignId}`);
    expect(dashboard.statusCode).toBe(200);
    expect(dashboard.body).toContain('07/KH-A');
    expect((await leader.get(`/console/campaigns/${campaignId}?unit=XA-A1`)).statusCode).toBe(200);
    expect((await leader.get(`/console/campaigns/${campaignId}?unit=XA-B1`)).statusCode).toBe(404);
    expect((await leader.post('/console/officials/ADM-A/sessions/end', {})).statusCode).toBe(403);
    expect((await leader.post('/console/officials/LD-B/sessions/end', {})).statusCode).toBe(404);

    const other = await signedIn('LD-B');
    const refused = await other.get(`/console/campaigns/${campaignId}`);
    expect(refused.statusCode).toBe(404);
    expect(refused.body).not.toContain('07/KH-A');
    expect((await other.get('/console')).body).not.toContain('07/KH-A');
    expect((await other.get(`/console/campaigns/${campaignId}/export.xlsx`)).statusCode).toBe(404);
    expect((await other.get('/console/organisation?unit=XA-A1')).statusCode).toBe(404);

    const admin = await signedIn('ADM-A');
    const ended = await admin.post('/console/officials/LD-A/sessions/end', {});
    expect(ended.statusCode).toBe(303);
    expect((await leader.get('/console')).headers.location).toBe('/console/login');
  });

  it('answers 404 for a malformed campaign id, and shows an English-speaking official the console in English', async () => {
    const admin = await signedIn('ADM-A');
    expect((await admin.get('/console/campaigns/not-a-campaign')).statusCode).toBe(404);
    expect((await admin.get(`/console/campaigns/${'x'.repeat(80)}`)).statusCode).toBe(404);

    await upsertOfficial(testDb.db, 'LD-EN', {
      name: 'Leader B (English)',
      unitCode: 'HUYEN-B',
      role: 'leader',
      locale: 'en',
    });
    const issued = await issueLinkCode(testDb.db, 'LD-EN', {
      clock,
      random,
      linkCodeKeys: TEST_LINK_CODE_KEYS,
    });
    await redeemLinkCode(
      testDb.db,
      { channel: 'telegram', chatId: '7999', code: issued.code, now },
      redeemDeps,
    );
    const english = new Browser('10.7.7.7');
    const { code } = await requestCode(english, 'LD-EN');
    const [message] = await outboxFor('LD-EN');
    expect(String((message?.payload as { text: string }).text)).toContain('Console sign-in code');
    expect((await english.post('/console/login/verify', { official: 'LD-EN', code })).statusCode).toBe(303);
    const page = await english.get('/console');
    expect(page.body).toContain('<html lang="en">');
    expect(page.body).toContain('Campaigns');
  });

  it('sets a strict content security policy and keeps pages with data out of caches', async () => {
    const admin = await signedIn('ADM-A');
    const page = await admin.get(`/console/campaigns/${campaignId}`);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).not.toMatch(/<script>|style="/);

    // What people typed is printed as text, never as markup.
    await upsertUnit(testDb.db, 'XA-A3', {
      name: '<img src=x onerror=alert(1)> "xã" A3',
      parentCode: 'HUYEN-A',
    });
    const tree = await admin.get('/console/organisation?q=xa a3');
    expect(tree.body).toContain('&lt;img src=x onerror=alert(1)&gt; &quot;xã&quot; A3');
    expect(tree.body).not.toContain('<img src=x');
  });
});
