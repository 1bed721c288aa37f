import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Redis } from 'ioredis';
import { Renderer } from '../../src/conversation/render.ts';
import type { Db } from '../../src/db/client.ts';
import { buildServer } from '../../src/http/server.ts';
import { createTranslator } from '../../src/i18n.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { openSession } from '../../src/services/console-sessions.ts';
import type { Clock } from '../../src/services/ports.ts';
import { TEST_LINK_CODE_KEYS } from './link-codes.ts';

/**
 * The console over fastify's inject, for the integration tests of its pages: the server as the service
 * builds it (the bot's real renderer for launches), and a browser that keeps its cookies, reads each
 * page's form token and posts forms from the console's own origin.
 */
export const CONSOLE_TZ = 'Asia/Ho_Chi_Minh';
const random = { bytes: (n: number) => randomBytes(n) };

export async function consoleServer(
  db: Db,
  redis: Redis,
  clock: Clock,
  options: { deepLink?: (code: string) => string } = {},
): Promise<FastifyInstance> {
  const render = new Renderer(createTranslator(), CONSOLE_TZ);
  const app = buildServer({
    db,
    token: 'console-forms-admin-token',
    clock,
    random,
    render,
    timeZone: CONSOLE_TZ,
    channels: [],
    logger: createLogger('silent'),
    metrics: createMetrics(),
    readiness: {},
    boardQueues: [],
    console: {
      db,
      redis,
      prefix: `tcf${randomBytes(5).toString('hex')}`,
      clock,
      random,
      timeZone: CONSOLE_TZ,
      publicUrl: undefined,
      adminApiToken: 'console-forms-admin-token',
      signInMessage: (locale, vars) => render.text(locale, 'console.signInCode', vars),
      render,
      deepLink: options.deepLink,
      linkCodeKeys: TEST_LINK_CODE_KEYS,
    },
  });
  await app.ready();
  return app;
}

export type FormFields = Record<string, string | string[]>;

export class ConsoleBrowser {
  cookies = new Map<string, string>();
  csrf = '';
  constructor(readonly app: FastifyInstance) {}

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
    const response = await this.app.inject({ method: 'GET', url, cookies: Object.fromEntries(this.cookies) });
    this.remember(response);
    return response;
  }

  /** Posts a form as a browser does: repeated names for lists, the page's token unless `_csrf` is given. */
  async post(url: string, fields: FormFields = {}, headers: Record<string, string> = {}) {
    const form = new URLSearchParams();
    if (!('_csrf' in fields)) form.append('_csrf', this.csrf);
    for (const [name, value] of Object.entries(fields))
      for (const item of Array.isArray(value) ? value : [value]) form.append(name, item);
    return this.send(url, form.toString(), 'application/x-www-form-urlencoded', headers);
  }

  /** Posts a form with a file (multipart/form-data), as the plan upload does. */
  async upload(url: string, file: { name: string; bytes: Buffer; type: string }, fields: FormFields = {}) {
    const form = new FormData();
    form.append('_csrf', this.csrf);
    for (const [name, value] of Object.entries(fields))
      for (const item of Array.isArray(value) ? value : [value]) form.append(name, item);
    form.append('file', new Blob([file.bytes], { type: file.type }), file.name);
    const request = new Request('http://localhost/', { method: 'POST', body: form });
    const body = Buffer.from(await request.arrayBuffer());
    return this.send(url, body, request.headers.get('content-type') ?? '', {});
  }

  private async send(url: string, payload: string | Buffer, type: string, headers: Record<string, string>) {
    const response = await this.app.inject({
      method: 'POST',
      url,
      headers: { host: 'localhost:80', origin: 'http://localhost:80', 'content-type': type, ...headers },
      cookies: Object.fromEntries(this.cookies),
      payload,
    });
    this.remember(response);
    return response;
  }
}

/** A browser signed in as the official (a session opened by the sign-in service, as a code would). */
export async function signedInAs(
  app: FastifyInstance,
  db: Db,
  clock: Clock,
  code: string,
): Promise<ConsoleBrowser> {
  const official = await db.official.findUniqueOrThrow({ where: { code }, select: { id: true } });
  const session = await openSession(db, {
    officialId: official.id,
    method: 'code',
    now: clock.now(),
    random,
  });
  const browser = new ConsoleBrowser(app);
  browser.cookies.set('thidua_console', session.secret);
  await browser.get('/console');
  return browser;
}

/** The text of the element with this id in a page (its error message, its label…), tags left out. */
export function textOf(html: string, id: string): string {
  const match = new RegExp(`<(\\w+)[^>]*\\bid="${id}"[^>]*>([\\s\\S]*?)</\\1>`).exec(html);
  return (match?.[2] ?? '')
    .replace(/<[^>]+>/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}
