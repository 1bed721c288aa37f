import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { DateTime } from 'luxon';
import { expect } from 'vitest';
import { Renderer } from '../../src/conversation/render.ts';
import type { Db } from '../../src/db/client.ts';
import { buildServer } from '../../src/http/server.ts';
import { createTranslator } from '../../src/i18n.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { upsertOfficial } from '../../src/services/officials.ts';
import { recordStatus } from '../../src/services/reports.ts';

/**
 * The web role built in process over a test database (fastify inject), with a clock the test moves, the
 * real renderer and the break-glass token: for integration tests of the admin API and what it changes.
 */
export const ZONE = 'Asia/Ho_Chi_Minh';
export const ADMIN_TOKEN = 'integration-admin-token-0123456789';
export const local = (text: string): Date => DateTime.fromISO(text, { zone: ZONE }).toJSDate();
export const render = new Renderer(createTranslator(), ZONE);

export interface AdminApp {
  app: FastifyInstance;
  clock: { now: Date };
  api<T = Record<string, unknown>>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH',
    url: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; body: T }>;
}

export async function adminApp(db: Db, now: Date): Promise<AdminApp> {
  const clock = { now };
  const app = buildServer({
    db,
    token: ADMIN_TOKEN,
    clock: { now: () => clock.now },
    random: { bytes: (n) => randomBytes(n) },
    render,
    timeZone: ZONE,
    channels: [],
    logger: createLogger('silent'),
    metrics: createMetrics(),
    readiness: {},
    boardQueues: [],
  });
  await app.ready();
  return {
    app,
    clock,
    api: async <T>(method: string, url: string, body?: unknown, token = ADMIN_TOKEN) => {
      const response = await app.inject({
        method: method as 'GET',
        url,
        headers: { authorization: `Bearer ${token}` },
        ...(body === undefined ? {} : { payload: body as object }),
      });
      return { status: response.statusCode, body: response.json<T>() };
    },
  };
}

let chatIds = 50_000;

/** An official with a linked Telegram chat. */
export async function linkedOfficial(
  db: Db,
  code: string,
  unitCode: string,
  role: 'focal' | 'leader' | 'admin' | 'member',
) {
  await upsertOfficial(db, code, { name: `Cán bộ ${code}`, unitCode, role });
  const row = await db.official.findUniqueOrThrow({ where: { code } });
  chatIds += 1;
  await db.channelAccount.create({
    data: { officialId: row.id, channel: 'telegram', chatId: String(chatIds) },
  });
  return row;
}

/** A status report made in chat by the official (for their unit as it is now); answers its id. */
export async function reportAs(
  db: Db,
  code: string,
  taskId: string,
  status: 'done' | 'in_progress' | 'blocked' | 'not_started',
  percent: number | null,
  at: Date,
): Promise<string> {
  const row = await db.official.findUniqueOrThrow({ where: { code } });
  const result = await recordStatus(db, {
    officialId: row.id,
    unitId: row.unitId,
    taskId,
    status,
    percent,
    note: null,
    sourceText: null,
    channel: 'telegram',
    now: at,
  });
  expect(result.kind).toBe('recorded');
  return result.kind === 'recorded' ? result.reportId : '';
}
