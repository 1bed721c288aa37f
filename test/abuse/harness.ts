import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import type { Redis } from 'ioredis';
import { WebhookInbox } from '../../src/channels/inbox.ts';
import { TelegramChannel } from '../../src/channels/telegram/telegram.ts';
import { ZaloBotChannel } from '../../src/channels/zalo/bot-api.ts';
import { createZaloOaChannel } from '../../src/channels/zalo/oa.ts';
import { oaSignature } from '../../src/channels/zalo/text.ts';
import { Dialogue } from '../../src/conversation/dialogue.ts';
import { Renderer } from '../../src/conversation/render.ts';
import type { Db } from '../../src/db/client.ts';
import { buildServer, type ServerDeps } from '../../src/http/server.ts';
import { authFailureCounter } from '../../src/http/slow-down.ts';
import { createTranslator } from '../../src/i18n.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { createRedis } from '../../src/redis.ts';
import type { Clock } from '../../src/services/ports.ts';
import { RedisLinkAttempts } from '../../src/throttle.ts';
import type { LinkAttemptLimits } from '../../src/services/ports.ts';
import { withTestDb } from '../support/db.ts';
import { REDIS_SERVER_URL } from '../support/env.ts';
import { TEST_LINK_CODE_KEYS } from '../support/link-codes.ts';

/**
 * The web role built in process, as app.ts builds it, with all three webhook channels and the admin API,
 * so thousands of requests go through fastify's inject. Outbound calls (answering a button press, token
 * refreshes) go to a closed port and fail fast: replies stay in the outbox, where the tests read them.
 * A webhook answers once its update is recorded and the turn runs after the answer (src/channels/inbox.ts):
 * `inject` here also waits for the turns the request started, so a test reads their outcome right after.
 * The inbox's sweep is not started: nothing here is left for it (a failed turn stays unprocessed, which
 * the fuzz test checks).
 */
export const SECRETS = {
  admin: 'abuse-admin-token-0123456789',
  telegram: 'abuse_telegram-secret_42',
  zalo: 'abuse-zalo-bot-secret',
  oaAppId: '4321098765432109876',
  oaKey: 'abuse-oa-secret-key',
} as const;

const CLOSED = 'http://127.0.0.1:9';

export interface InProcess {
  app: FastifyInstance;
  db: Db;
  redis: Redis;
  prefix: string;
  render: Renderer;
  /** The dialogue itself, for what a webhook does not show (the notice on a pressed button). */
  handle: Dialogue['handle'];
  close(): Promise<void>;
}

/** SECRETS_KEY of the in-process service: the OA's tokens are sealed with it. */
export const TEST_SECRETS_KEY = Buffer.alloc(32, 7);

export async function startInProcess(
  options: {
    clock?: Clock;
    slowDown?: boolean;
    /** Where log lines go (at `logLevel`), masked as the service masks them. */
    log?: { level: string; destination: DestinationStream };
    /** The Redis key prefix: two instances given the same one share their counters, as in production. */
    prefix?: string;
    /** Link-code limits other than the service's (a smaller guard, to flood it quickly). */
    linkLimits?: LinkAttemptLimits;
    /** More of the web role's settings (METRICS_TOKEN, the verification tag…). */
    server?: Partial<ServerDeps>;
  } = {},
): Promise<InProcess> {
  const testDb = await withTestDb();
  const db = testDb.db;
  const redis = createRedis(`${REDIS_SERVER_URL}/0`);
  const prefix = options.prefix ?? `t${randomBytes(6).toString('hex')}`;
  const logger = options.log
    ? createLogger(options.log.level, {
        destination: options.log.destination,
        secrets: Object.values(SECRETS),
      })
    : createLogger(process.env.ABUSE_LOG_LEVEL ?? 'silent');
  const clock = options.clock ?? { now: () => new Date() };
  const render = new Renderer(createTranslator(), 'Asia/Ho_Chi_Minh');
  const channels = [
    new TelegramChannel({
      token: '500000001:abuse',
      apiRoot: CLOSED,
      mode: 'webhook',
      webhookSecret: SECRETS.telegram,
      publicUrl: 'https://bot.example.gov.vn',
      logger,
    }),
    new ZaloBotChannel({
      token: '12345689:abuse',
      apiRoot: CLOSED,
      mode: 'webhook',
      webhookSecret: SECRETS.zalo,
      publicUrl: 'https://bot.example.gov.vn',
      logger,
    }),
    createZaloOaChannel({
      appId: SECRETS.oaAppId,
      secretKey: SECRETS.oaKey,
      appSecret: 'abuse-app-secret',
      accessToken: 'abuse-access',
      refreshToken: 'abuse-refresh',
      apiRoot: CLOSED,
      oauthRoot: CLOSED,
      secretsKeys: { current: TEST_SECRETS_KEY, previous: [] },
      db,
      logger,
      now: () => clock.now(),
    }),
  ];
  const dialogue = new Dialogue({
    db,
    render,
    linkAttempts: new RedisLinkAttempts(redis, prefix, options.linkLimits),
    clock,
    timeZone: 'Asia/Ho_Chi_Minh',
    logger,
    linkCodeKeys: TEST_LINK_CODE_KEYS,
    numberedChoiceChannels: new Set(['zalo', 'zalo_oa']),
  });
  const inbox = new WebhookInbox({
    db,
    channels,
    handler: (event) => dialogue.handle(event),
    clock,
    logger,
    retryAfterMs: 30_000,
    maxAttempts: 8,
  });
  const app = buildServer({
    db,
    token: SECRETS.admin,
    clock,
    random: { bytes: (n) => randomBytes(n) },
    render,
    timeZone: 'Asia/Ho_Chi_Minh',
    channels,
    logger,
    metrics: createMetrics(),
    inbox,
    readiness: {},
    boardQueues: [],
    linkCodeKeys: TEST_LINK_CODE_KEYS,
    ...(options.slowDown ? { authFailures: authFailureCounter(redis, prefix) } : {}),
    ...options.server,
  });
  await app.ready();
  const inject = app.inject.bind(app);
  app.inject = (async (...args: Parameters<typeof inject>) => {
    const response = await inject(...args);
    await inbox.settled();
    return response;
  }) as typeof app.inject;
  return {
    app,
    db,
    redis,
    prefix,
    render,
    handle: (event) => dialogue.handle(event),
    close: async () => {
      await app.close();
      await inbox.stop();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
      await testDb.close();
    },
  };
}

/** Signs a Zalo OA webhook body exactly as Zalo does (over the raw bytes). */
export function oaHeaders(raw: Buffer | string, timestamp: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-zevent-signature': oaSignature(SECRETS.oaAppId, raw, timestamp, SECRETS.oaKey),
  };
}

/** Every table of the schema (the migrations' bookkeeping aside), read from the catalogue once. */
export async function tableNames(db: Db): Promise<string[]> {
  const rows = await db.$queryRawUnsafe<{ tablename: string }[]>(
    `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY 1`,
  );
  return rows.map((row) => row.tablename);
}

/**
 * A fingerprint of the database: per table, its row count and a hash of every row's text, so an update
 * that changes no count (an upsert, a used link code) shows too. `countOnly` tables are only counted.
 */
export async function fingerprint(
  db: Db,
  tables: string[],
  countOnly: ReadonlySet<string> = new Set(),
): Promise<Record<string, string>> {
  const columns = tables.map((table) =>
    countOnly.has(table)
      ? `(SELECT count(*)::text FROM "${table}") AS "${table}"`
      : `(SELECT count(*)::text || ':' || md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM "${table}" t) AS "${table}"`,
  );
  const [row] = await db.$queryRawUnsafe<Record<string, string>[]>(`SELECT ${columns.join(', ')}`);
  return row ?? {};
}

/** Runs a full garbage collection (exposing gc for this process if need be) and returns the heap used. */
export function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
