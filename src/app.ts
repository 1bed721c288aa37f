import { randomBytes } from 'node:crypto';
import type { Queue, Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Channel } from './channels/channel.ts';
import { ConfigError, type Config } from './config.ts';
import { makeAttachment } from './conversation/attachments.ts';
import type { Dialogue } from './conversation/dialogue.ts';
import { Renderer } from './conversation/render.ts';
import { createDb, probePostgres, type Db } from './db/client.ts';
import { fileLinks } from './file-links.ts';
import { applyMigrations, ensureDatabase } from './db/migrate.ts';
import { createDeliveryQueue, type DeliveryJob } from './delivery/queues.ts';
import { refreshGauges } from './delivery/gauges.ts';
import { OutboxRelay } from './delivery/relay.ts';
import { createTranslator } from './i18n.ts';
import type { Logger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { createRedis, logOutages, probeRedis } from './redis.ts';
import { printableUrl, waitUntilReachable } from './startup.ts';
import { alertAdmins } from './services/alerts.ts';
import type { LinkCodeKeys } from './services/officials.ts';
import { systemClock, type Clock, type Random } from './services/ports.ts';
import { RedisLinkAttempts } from './throttle.ts';
import { createJobs } from '../jobs/index.ts';
import { JobScheduler, createJobsQueue, startJobsWorker } from '../jobs/scheduler.ts';
import type { JobContext } from '../jobs/types.ts';

// What only some roles use (the HTTP server and the dialogue, the delivery worker, each channel's
// client, the demo's emulator) is imported where it is started, not here: a process loads only the
// modules of its own roles, which keeps the scheduler and the worker smaller (bench/RESULTS.md, memory).

export interface AppOptions {
  clock?: Clock;
  random?: Random;
  /** Ends the wait for PostgreSQL and Redis (a stop signal during start-up). */
  signal?: AbortSignal;
  /** Where start-up tells a person what it waits for (one line each); stderr by default. */
  say?: (line: string) => void;
}

/** PostgreSQL and Redis, waited for in parallel: each says in one line what it waits for (startup.ts). */
function waitForDependencies(
  config: Pick<Config, 'databaseUrl' | 'redisUrl'>,
  options: { say: (line: string) => void; signal?: AbortSignal },
): Promise<unknown> {
  return Promise.all([
    waitUntilReachable(
      {
        name: 'PostgreSQL',
        variable: 'DATABASE_URL',
        url: config.databaseUrl,
        hint: 'Start PostgreSQL (e.g. on 127.0.0.1:5432) or set DATABASE_URL; see README, "If start-up waits".',
        probe: () => probePostgres(config.databaseUrl),
      },
      options,
    ),
    waitUntilReachable(
      {
        name: 'Redis',
        variable: 'REDIS_URL',
        url: config.redisUrl,
        hint: 'Start Redis (e.g. on 127.0.0.1:6379) or set REDIS_URL; see README, "If start-up waits".',
        probe: () => probeRedis(config.redisUrl),
      },
      options,
    ),
  ]);
}

export interface App {
  db: Db;
  server: FastifyInstance | undefined;
  /** The address the HTTP server listens on, once started. */
  address: string | undefined;
  stop(): Promise<void>;
}

const systemRandom: Random = { bytes: (length) => randomBytes(length) };

/**
 * The composition root: builds everything once, in order, for the roles this process runs,
 * and stops it in the reverse order (stop accepting, finish in-flight work, close connections).
 */
export async function startApp(config: Config, logger: Logger, options: AppOptions = {}): Promise<App> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? systemRandom;
  const runs = (role: 'web' | 'worker' | 'scheduler') => config.role === 'all' || config.role === role;
  const stoppers: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const step of stoppers.reverse()) {
      try {
        await step();
      } catch (error) {
        logger.warn({ err: error }, 'shutdown step failed');
      }
    }
  };

  try {
    await waitForDependencies(config, {
      say: options.say ?? ((line: string) => process.stderr.write(`${line}\n`)),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    await ensureDatabase(config.databaseUrl);
    if (config.demo) {
      // Before anything is migrated or written: demo mode never touches a database that is not its own.
      const { refuseForeignDatabase } = await import('./demo/demo.ts');
      await refuseForeignDatabase(config.databaseUrl, config.databaseUrlFromEnvironment);
    }
    const applied = await applyMigrations(config.databaseUrl);
    if (applied.length > 0) logger.info({ applied }, 'database migrated');

    const db = createDb(config.databaseUrl);
    stoppers.push(() => db.$disconnect());
    const redis: Redis = createRedis(config.redisUrl);
    logOutages(redis, logger);
    stoppers.push(() => redis.quit());
    const metrics = createMetrics();
    const render = new Renderer(createTranslator(), config.timeZone);
    const makeFile = (ref: Parameters<typeof makeAttachment>[1]) =>
      makeAttachment({ db, render, timeZone: config.timeZone }, ref);
    // Zalo fetches pictures from a URL and takes no files: with a public address, attachments get
    // signed links (the web role serves them, any worker signs them with the same secret).
    const filesSecret = config.publicUrl ? config.filesUrlSecret : undefined;
    const linkTo = config.publicUrl && filesSecret ? fileLinks(config.publicUrl, filesSecret) : undefined;
    const attachmentLink = linkTo
      ? (ref: Parameters<typeof makeAttachment>[1]) => {
          const url = linkTo(ref, clock.now());
          const key = ref.type === 'chart' ? 'summary.chartLink' : 'summary.xlsxLink';
          return { url, line: render.text(ref.locale, key, { url }).text };
        }
      : undefined;

    let telegramApiRoot = config.telegram?.apiRoot;
    if (config.demo && runs('web')) {
      const { startEmulator } = await import('./demo/demo.ts');
      const emulator = await startEmulator(config.demoTelegramPort);
      stoppers.push(emulator.stop);
      telegramApiRoot = emulator.url;
    } else if (config.demo) {
      telegramApiRoot = `http://127.0.0.1:${config.demoTelegramPort}`;
    }

    const channels: Channel[] = [];
    if (config.telegram && telegramApiRoot) {
      const { TelegramChannel } = await import('./channels/telegram/telegram.ts');
      channels.push(
        new TelegramChannel({
          token: config.telegram.token,
          apiRoot: telegramApiRoot,
          mode: config.telegram.mode,
          webhookSecret: config.telegram.webhookSecret,
          maxPerSecond: config.telegram.maxPerSecond,
          publicUrl: config.publicUrl,
          logger: logger.child({ channel: 'telegram' }),
        }),
      );
    }
    if (config.zaloBot) {
      const { ZaloBotChannel } = await import('./channels/zalo/bot-api.ts');
      channels.push(
        new ZaloBotChannel({
          ...config.zaloBot,
          publicUrl: config.publicUrl,
          logger: logger.child({ channel: 'zalo' }),
        }),
      );
    }
    if (config.zaloOa) channels.push(await zaloOaChannel(config, { db, render, clock, logger }));

    const queues = new Map<string, Queue<DeliveryJob>>(
      channels.map((channel) => [channel.name, createDeliveryQueue(channel.name, redis, config.queuePrefix)]),
    );
    stoppers.push(() => Promise.all([...queues.values()].map((queue) => queue.close())));

    // Scheduled jobs: the scheduler role enqueues one BullMQ job per (job, slot), the worker role runs
    // them, the web role runs them on demand (POST /api/jobs/:name/run). The relay here is only swept.
    const jobs = createJobs(config.timeZone);
    const jobContext: JobContext = {
      db,
      render,
      timeZone: config.timeZone,
      logger: logger.child({ component: 'jobs' }),
      relay: new OutboxRelay({ db, databaseUrl: config.databaseUrl, queues, redis, logger }),
      retention: config.retention,
    };
    const jobsQueue = createJobsQueue(redis, config.queuePrefix);
    stoppers.push(() => jobsQueue.close());

    if (runs('worker')) {
      const { startDeliveryWorker } = await import('./delivery/worker.ts');
      const workers: Worker<DeliveryJob>[] = channels.map((channel) =>
        startDeliveryWorker({
          channel,
          db,
          connection: redis,
          prefix: config.queuePrefix,
          logger,
          metrics,
          clock,
          fallbackChannels: channels.map((other) => other.name),
          attachments: makeFile,
          ...(attachmentLink ? { attachmentLink } : {}),
        }),
      );
      stoppers.push(() => Promise.all(workers.map((worker) => worker.close())));
      const relay = new OutboxRelay({ db, databaseUrl: config.databaseUrl, queues, redis, logger });
      await relay.start();
      stoppers.push(() => relay.stop());
      const jobsWorker = startJobsWorker({
        jobs,
        ctx: jobContext,
        connection: redis,
        prefix: config.queuePrefix,
        logger,
      });
      stoppers.push(() => jobsWorker.close());
    }

    if (runs('scheduler')) {
      const scheduler = new JobScheduler({ jobs, queue: jobsQueue, logger });
      scheduler.start();
      stoppers.push(() => scheduler.stop());
    }

    let server: FastifyInstance | undefined;
    let demoSeeded = false;
    let address: string | undefined;
    if (runs('web')) {
      const [{ Dialogue }, { buildServer }, { createJobsApi }, { DirectReplies }] = await Promise.all([
        import('./conversation/dialogue.ts'),
        import('./http/server.ts'),
        import('../jobs/api.ts'),
        import('./delivery/direct-replies.ts'),
      ]);
      const directReplies = new DirectReplies({
        db,
        channels,
        redis,
        prefix: config.queuePrefix,
        logger,
        metrics,
        clock,
      });
      const [{ RawTransactions }, { authFailureCounter, fileDownloadCounters }] = await Promise.all([
        import('./db/raw-transactions.ts'),
        import('./http/slow-down.ts'),
      ]);
      const raw = new RawTransactions(config.databaseUrl);
      stoppers.push(() => raw.end());
      // Stops after the server and the channels (stoppers run in reverse): no new answers, then the last ones.
      stoppers.push(() => directReplies.drain());
      const dialogue = new Dialogue({
        directReplies,
        raw,
        engineFallbacks: metrics.dialogueEngineFallbacks,
        db,
        render,
        linkAttempts: new RedisLinkAttempts(redis, config.queuePrefix),
        clock,
        timeZone: config.timeZone,
        logger,
        linkCodeKeys: config.linkCodeKeys ?? unusableLinkCodeKeys(),
        numberedChoiceChannels: new Set(channels.filter((c) => c.numberedChoices).map((c) => c.name)),
      });
      const handleEvent = async (event: Parameters<Dialogue['handle']>[0]) => {
        // Every line about an update carries its channel and id, so one update can be followed in the logs.
        const log = logger.child({ channel: event.channel, updateId: event.updateId });
        try {
          const result = await dialogue.handle(event);
          directReplies.send(result.held ?? []);
          metrics.updatesReceived.inc({ channel: event.channel, kind: event.kind });
          log.debug({ kind: event.kind, fresh: result.fresh }, 'update handled');
          return result;
        } catch (error) {
          log.error({ err: error, kind: event.kind }, 'update failed; it will be retried');
          throw error;
        }
      };
      const { WebhookInbox } = await import('./channels/inbox.ts');
      const inbox = new WebhookInbox({
        db,
        channels,
        handler: handleEvent,
        clock,
        logger: logger.child({ component: 'webhook-inbox' }),
        ...config.webhookInbox,
        metrics: { processed: metrics.webhookUpdatesProcessed, failed: metrics.webhookUpdatesFailed },
      });
      inbox.start();
      // Stops after the server (stoppers run in reverse), before the replies it may still hand over.
      stoppers.push(() => inbox.stop());
      server = buildServer({
        db,
        token: config.adminApiToken,
        clock,
        random,
        render,
        timeZone: config.timeZone,
        channels,
        jobs: createJobsApi(jobs, jobContext),
        attachments: makeFile,
        files: filesSecret
          ? {
              secret: filesSecret,
              clock,
              attachments: makeFile,
              limits: fileDownloadCounters(redis, config.queuePrefix),
            }
          : undefined,
        linkCodeKeys: config.linkCodeKeys,
        metricsToken: config.metricsToken,
        authFailures: authFailureCounter(redis, config.queuePrefix),
        zaloSiteVerification: config.zaloSiteVerification,
        trustProxy: config.trustProxy,
        boardQueues: [...queues.values(), jobsQueue],
        demo:
          config.demo && config.telegram && telegramApiRoot
            ? {
                db,
                clock,
                random,
                emulatorUrl: telegramApiRoot,
                botToken: config.telegram.token,
                linkCodeKeys: config.linkCodeKeys ?? unusableLinkCodeKeys(),
                ready: () => demoSeeded,
              }
            : undefined,
        console: {
          db,
          redis,
          prefix: config.queuePrefix,
          clock,
          random,
          timeZone: config.timeZone,
          publicUrl: config.publicUrl,
          adminApiToken: config.adminApiToken,
          signInMessage: (locale, vars) => render.text(locale, 'console.signInCode', vars),
          attachments: makeFile,
          render,
          // The first channel with deep links (Telegram's t.me/<bot>?start=CODE), as the admin API's sheets.
          deepLink: (code) => channels.map((channel) => channel.deepLink?.(code)).find(Boolean),
          linkCodeKeys: config.linkCodeKeys,
        },
        logger,
        metrics,
        inbox,
        readiness: {
          database: () => db.$queryRaw`SELECT 1`,
          redis: () => redis.ping(),
          ...Object.fromEntries(
            channels.flatMap((channel) =>
              channel.readiness ? [[channel.name, channel.readiness.bind(channel)] as const] : [],
            ),
          ),
        },
        beforeMetrics: () =>
          refreshGauges(metrics, db, [...queues, ['jobs', jobsQueue]], config.webhookInbox.maxAttempts),
      });
      address = await server.listen({ port: config.port, host: config.host });
      const listening = server;
      stoppers.push(() => listening.close());
      for (const channel of channels) {
        await channel.start(handleEvent);
        stoppers.push(() => channel.stop());
      }
      logger.info({ address, role: config.role, demo: config.demo }, 'listening');
    }

    if (config.demo && runs('web')) {
      const { seedDemo } = await import('./demo/demo.ts');
      const codes = await seedDemo({
        db,
        clock,
        random,
        render,
        timeZone: config.timeZone,
        logger,
        linkCodeKeys: config.linkCodeKeys ?? unusableLinkCodeKeys(),
      });
      demoSeeded = true;
      printDemoHelp(config, telegramApiRoot ?? '', address ?? '', codes);
    }

    return { db, server, address, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The Zalo OA channel, its stored tokens sealed with SECRETS_KEY before anything uses them. */
async function zaloOaChannel(
  config: Config,
  deps: { db: Db; render: Renderer; clock: Clock; logger: Logger },
): Promise<Channel> {
  const { createZaloOaChannel } = await import('./channels/zalo/oa.ts');
  const { SecretBoxError } = await import('./secret-box.ts');
  const oaConfig = config.zaloOa;
  if (!oaConfig || !config.secretsKeys)
    throw new ConfigError('Invalid configuration: SECRETS_KEY is required with ZALO_OA_APP_ID');
  const logger = deps.logger.child({ channel: 'zalo_oa' });
  const appId = oaConfig.appId;
  const onTokenFailure = (reason: string) =>
    void alertAdmins(deps.db, {
      dedupeKey: `alert:zalo_oa_token:${appId}:${deps.clock.now().toISOString().slice(0, 13)}`,
      message: (locale) => deps.render.text(locale, 'admin.oaTokenFailed', { appId, reason }),
      avoidChannels: ['zalo_oa'],
    }).catch((error: unknown) => logger.error({ err: error }, 'could not alert the admins'));
  const oa = createZaloOaChannel({
    ...oaConfig,
    secretsKeys: config.secretsKeys,
    db: deps.db,
    logger,
    onTokenFailure,
    now: () => deps.clock.now(),
  });
  // Seals tokens kept in the clear (or under SECRETS_KEY_PREVIOUS); a key that opens none stops here.
  await oa.prepare().catch((error: unknown) => {
    if (!(error instanceof SecretBoxError)) throw error;
    throw new ConfigError(
      `Zalo OA tokens in the database cannot be read: ${error.message}. Check SECRETS_KEY (and SECRETS_KEY_PREVIOUS after a rotation), or put new tokens in ZALO_OA_ACCESS_TOKEN and ZALO_OA_REFRESH_TOKEN.`,
    );
  });
  return oa;
}

/**
 * Keys no code was ever hashed with, for a service that has no key (no SECRETS_KEY, no admin token): then
 * nobody can issue a code either, and only codes stored before keys existed (plain SHA-256) still redeem.
 */
function unusableLinkCodeKeys(): LinkCodeKeys {
  return { current: randomBytes(32), previous: [] };
}

function printDemoHelp(
  config: Config,
  emulatorUrl: string,
  address: string,
  codes: { code: string; name: string; role: string; linkCode: string }[],
): void {
  const token = config.telegram?.token ?? '';
  // A token the operator set is theirs to know: it is never printed, only referred to.
  const adminToken = config.adminTokenFromEnvironment ? '$ADMIN_API_TOKEN' : (config.adminApiToken ?? '');
  const lines = [
    '',
    '=== Demo mode: no TELEGRAM_BOT_TOKEN, so the bot talks to a local Telegram emulator ===',
    `Database: ${printableUrl(config.databaseUrl)} (the demo's own; set DATABASE_URL to use another empty one)`,
    `Emulator: ${emulatorUrl} (this machine only)   Service: ${address}   Admin API token: ${
      config.adminTokenFromEnvironment ? 'the ADMIN_API_TOKEN you set' : adminToken
    }`,
    'Sample data: UBND huyện Tam Đường, its departments and communes, and plan 01/KH-UBND (already launched).',
    'Link codes for the sample officials (single use, valid 72 h):',
    ...codes.map((c) => `  ${c.linkCode}  ${c.name} (${c.role}, ${c.code})`),
    '',
    `Or chat in a browser as any sample official: ${address}/demo`,
    'Talk to the bot as a user (chat 1001 here), then read its answers:',
    `  curl -s -XPOST ${emulatorUrl}/sendMessage -H 'content-type: application/json' \\`,
    `    -d '{"botToken":"${token}","from":{"id":1001,"first_name":"Demo"},"chat":{"id":1001,"type":"private"},"text":"/start ${codes[0]?.linkCode ?? 'CODE'}"}'`,
    `  curl -s -XPOST ${emulatorUrl}/getUpdates -H 'content-type: application/json' -d '{"token":"${token}","chatId":1001}'`,
    'Then try: /nhiemvu, /baocao, "đã xong", "đang triển khai 60%", "vướng kinh phí", /tonghop, /ngonngu, /huongdan.',
    `Admin API: curl -H "Authorization: Bearer ${adminToken}" ${address}/api/campaigns`,
    '',
    'A second sample organisation, after the 2025 reform: UBND tỉnh Lai Châu (LAICHAU), its departments and',
    'communes, no district level, and plan 02/KH-UBND. Merge two of its communes mid-campaign (their officials',
    'are told in chat, summaries show "(trước đây: …)", GET /api/units/LC-BANBO/history says where it went):',
    `  curl -XPOST -H "Authorization: Bearer ${adminToken}" -H 'content-type: application/json' \\`,
    `    ${address}/api/units/merge -d '{"from":["LC-BINHLU","LC-BANBO"],"into":{"code":"LC-BINHLU-MOI","name":"UBND xã Bình Lư (mới)"}}'`,
    '  or: npm run cli -- merge LC-BINHLU,LC-BANBO --into LC-BINHLU-MOI --name "UBND xã Bình Lư (mới)"',
    '',
    `Operator console: ${address}/console`,
    `  Sign in as the sample admin Lò Thị Hoa: first pick her on ${address}/demo (that links her chat),`,
    "  then type CB-ADMIN on the console's sign-in page: the 6-digit code and a one-tap link arrive in her",
    '  chat on the demo page. Or open "Sign in with the admin token" there and paste the admin API token.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
