import { randomBytes } from 'node:crypto';
import type { Queue, Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Channel } from './channels/channel.ts';
import { ConfigError, type Config } from './config.ts';
import { makeAttachment, type AttachmentFile } from './conversation/attachments.ts';
import { Renderer } from './conversation/render.ts';
import { createDb, probePostgres, type Db } from './db/client.ts';
import { fileLinks } from './file-links.ts';
import { applyMigrations, ensureDatabase } from './db/migrate.ts';
import { createDeliveryQueue, type DeliveryJob } from './delivery/queues.ts';
import type { AttachmentRef } from './domain/message.ts';
import { OutboxRelay } from './delivery/relay.ts';
import { createTranslator } from './i18n.ts';
import type { Logger } from './logger.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { createRedis, logOutages, probeRedis } from './redis.ts';
import { waitUntilReachable } from './startup.ts';
import { alertAdmins } from './services/alerts.ts';
import type { LinkCodeKeys } from './services/officials.ts';
import { systemClock, type Clock, type Random } from './services/ports.ts';
import { createJobs } from '../jobs/index.ts';
import { JobScheduler, createJobsQueue, startJobsWorker } from '../jobs/scheduler.ts';
import type { JobContext } from '../jobs/types.ts';

// What only some roles use (the web role in web-role.ts with the HTTP server and the dialogue, the delivery
// worker, each channel's client, the demo's emulator) is imported where it is started, not here: a process
// loads only the modules of its own roles, which keeps the scheduler and the worker smaller
// (bench/RESULTS.md, memory).

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

type Role = 'web' | 'worker' | 'scheduler';

/** What start-up opened, closed in the reverse order (stop accepting, finish in-flight work, close). */
export class ShutdownSteps {
  private readonly steps: (() => Promise<unknown>)[] = [];

  constructor(private readonly logger: Logger) {}

  push(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        this.logger.warn({ err: error }, 'shutdown step failed');
      }
    }
  }
}

export type AttachmentMaker = (ref: AttachmentRef) => Promise<AttachmentFile>;

/** What every role of the process shares, built once by `startApp`. */
export interface Core {
  config: Config;
  logger: Logger;
  clock: Clock;
  random: Random;
  db: Db;
  redis: Redis;
  metrics: Metrics;
  render: Renderer;
  makeFile: AttachmentMaker;
  /** Signs public links to attachments (Zalo fetches pictures), when PUBLIC_URL and a secret allow it. */
  attachmentLink: ((ref: AttachmentRef) => { url: string; line: string }) | undefined;
  filesSecret: string | undefined;
  /** Where the Telegram channel talks: Telegram, the one set in the configuration, or the demo's emulator. */
  telegramApiRoot: string | undefined;
  channels: Channel[];
  queues: Map<string, Queue<DeliveryJob>>;
  jobs: ReturnType<typeof createJobs>;
  jobContext: JobContext;
  jobsQueue: ReturnType<typeof createJobsQueue>;
  /**
   * The keys link codes are hashed and checked with; without SECRETS_KEY or an admin token, keys no code was
   * ever hashed with (then nobody can issue a code, and only codes stored before keys existed still redeem).
   */
  keysForLinkCodes: LinkCodeKeys;
  shutdown: ShutdownSteps;
}

/**
 * The composition root: builds everything once, in order, for the roles this process runs,
 * and stops it in the reverse order (stop accepting, finish in-flight work, close connections).
 */
export async function startApp(config: Config, logger: Logger, options: AppOptions = {}): Promise<App> {
  const runs = (role: Role) => config.role === 'all' || config.role === role;
  const shutdown = new ShutdownSteps(logger);
  const stop = () => shutdown.run();
  try {
    await prepareDatabase(config, logger, options);
    const core = await openCore(config, logger, options, shutdown, runs('web'));
    if (runs('worker')) await startWorkerRole(core);
    if (runs('scheduler')) startSchedulerRole(core);
    if (!runs('web')) return { db: core.db, server: undefined, address: undefined, stop };

    let demoSeeded = false;
    const { startWebRole } = await import('./web-role.ts');
    const { server, address } = await startWebRole(core, () => demoSeeded);
    if (config.demo) {
      await seedDemoData(core, address);
      demoSeeded = true;
    }
    return { db: core.db, server, address, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Waits for PostgreSQL and Redis, refuses a foreign database in demo mode, and migrates. */
async function prepareDatabase(config: Config, logger: Logger, options: AppOptions): Promise<void> {
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
}

/** Connections, the renderer, the channels, their delivery queues and the scheduled jobs' context. */
async function openCore(
  config: Config,
  logger: Logger,
  options: AppOptions,
  shutdown: ShutdownSteps,
  runsWeb: boolean,
): Promise<Core> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? systemRandom;
  const db = createDb(config.databaseUrl);
  shutdown.push(() => db.$disconnect());
  const redis: Redis = createRedis(config.redisUrl);
  logOutages(redis, logger);
  shutdown.push(() => redis.quit());
  const metrics = createMetrics();
  const render = new Renderer(createTranslator(), config.timeZone);
  const makeFile: AttachmentMaker = (ref) => makeAttachment({ db, render, timeZone: config.timeZone }, ref);
  // Zalo fetches pictures from a URL and takes no files: with a public address, attachments get
  // signed links (the web role serves them, any worker signs them with the same secret).
  const filesSecret = config.publicUrl ? config.filesUrlSecret : undefined;
  const linkTo = config.publicUrl && filesSecret ? fileLinks(config.publicUrl, filesSecret) : undefined;
  const attachmentLink = linkTo
    ? (ref: AttachmentRef) => {
        const url = linkTo(ref, clock.now());
        const key = ref.type === 'chart' ? 'summary.chartLink' : 'summary.xlsxLink';
        return { url, line: render.text(ref.locale, key, { url }).text };
      }
    : undefined;

  const telegramApiRoot = await telegramApiRootFor(config, runsWeb, shutdown);
  const channels = await createChannels(config, { db, render, clock, logger }, telegramApiRoot);
  const queues = new Map<string, Queue<DeliveryJob>>(
    channels.map((channel) => [channel.name, createDeliveryQueue(channel.name, redis, config.queuePrefix)]),
  );
  shutdown.push(() => Promise.all([...queues.values()].map((queue) => queue.close())));

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
  shutdown.push(() => jobsQueue.close());
  return {
    config,
    logger,
    clock,
    random,
    db,
    redis,
    metrics,
    render,
    makeFile,
    attachmentLink,
    filesSecret,
    telegramApiRoot,
    channels,
    queues,
    jobs,
    jobContext,
    jobsQueue,
    keysForLinkCodes: config.linkCodeKeys ?? { current: randomBytes(32), previous: [] },
    shutdown,
  };
}

/** In demo mode the web role runs the Telegram emulator (loopback only) and every role talks to it. */
async function telegramApiRootFor(
  config: Config,
  runsWeb: boolean,
  shutdown: ShutdownSteps,
): Promise<string | undefined> {
  if (!config.demo) return config.telegram?.apiRoot;
  if (!runsWeb) return `http://127.0.0.1:${config.demoTelegramPort}`;
  const { startEmulator } = await import('./demo/demo.ts');
  const emulator = await startEmulator(config.demoTelegramPort);
  shutdown.push(emulator.stop);
  return emulator.url;
}

/** One client per configured platform; each is imported only when configured. */
async function createChannels(
  config: Config,
  deps: { db: Db; render: Renderer; clock: Clock; logger: Logger },
  telegramApiRoot: string | undefined,
): Promise<Channel[]> {
  const { logger } = deps;
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
  if (config.zaloOa) channels.push(await zaloOaChannel(config, deps));
  return channels;
}

/** Sends the outbox: one delivery worker per channel, the relay that feeds them, and the jobs' worker. */
async function startWorkerRole(core: Core): Promise<void> {
  const { config, db, redis, logger, metrics, clock, channels, queues, shutdown } = core;
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
      attachments: core.makeFile,
      ...(core.attachmentLink ? { attachmentLink: core.attachmentLink } : {}),
    }),
  );
  shutdown.push(() => Promise.all(workers.map((worker) => worker.close())));
  const relay = new OutboxRelay({ db, databaseUrl: config.databaseUrl, queues, redis, logger });
  await relay.start();
  shutdown.push(() => relay.stop());
  const jobsWorker = startJobsWorker({
    jobs: core.jobs,
    ctx: core.jobContext,
    connection: redis,
    prefix: config.queuePrefix,
    logger,
  });
  shutdown.push(() => jobsWorker.close());
}

function startSchedulerRole(core: Core): void {
  const scheduler = new JobScheduler({ jobs: core.jobs, queue: core.jobsQueue, logger: core.logger });
  scheduler.start();
  core.shutdown.push(() => scheduler.stop());
}

/** Demo mode: the sample organisations and campaigns, then the instructions printed for a person. */
async function seedDemoData(core: Core, address: string): Promise<void> {
  const { config } = core;
  const [{ seedDemo }, { printDemoHelp }] = await Promise.all([
    import('./demo/demo.ts'),
    import('./demo/help.ts'),
  ]);
  const codes = await seedDemo({
    db: core.db,
    clock: core.clock,
    random: core.random,
    render: core.render,
    timeZone: config.timeZone,
    logger: core.logger,
    linkCodeKeys: core.keysForLinkCodes,
  });
  printDemoHelp(config, core.telegramApiRoot ?? '', address, codes);
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
