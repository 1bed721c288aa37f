import { randomBytes } from 'node:crypto';
import type { Queue, Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Channel } from './channels/channel.ts';
import { TelegramChannel } from './channels/telegram/telegram.ts';
import type { Config } from './config.ts';
import { Dialogue } from './conversation/dialogue.ts';
import { Renderer } from './conversation/render.ts';
import { createDb, type Db } from './db/client.ts';
import { applyMigrations, ensureDatabase } from './db/migrate.ts';
import { createDeliveryQueue, type DeliveryJob } from './delivery/queues.ts';
import { OutboxRelay } from './delivery/relay.ts';
import { startDeliveryWorker } from './delivery/worker.ts';
import { seedDemo, startEmulator } from './demo/demo.ts';
import { buildServer } from './http/server.ts';
import { createTranslator } from './i18n.ts';
import type { Logger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { createRedis } from './redis.ts';
import { systemClock, type Clock, type Random } from './services/ports.ts';
import { RedisThrottle } from './throttle.ts';

export interface AppOptions {
  clock?: Clock;
  random?: Random;
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
    await ensureDatabase(config.databaseUrl);
    const applied = await applyMigrations(config.databaseUrl);
    if (applied.length > 0) logger.info({ applied }, 'database migrated');

    const db = createDb(config.databaseUrl);
    stoppers.push(() => db.$disconnect());
    const redis: Redis = createRedis(config.redisUrl);
    stoppers.push(() => redis.quit());
    const metrics = createMetrics();
    const render = new Renderer(createTranslator(), config.timeZone);

    let telegramApiRoot = config.telegram?.apiRoot;
    if (config.demo && runs('web')) {
      const emulator = await startEmulator(config.demoTelegramPort);
      stoppers.push(emulator.stop);
      telegramApiRoot = emulator.url;
    } else if (config.demo) {
      telegramApiRoot = `http://127.0.0.1:${config.demoTelegramPort}`;
    }

    const channels: Channel[] = [];
    if (config.telegram && telegramApiRoot) {
      channels.push(
        new TelegramChannel({
          token: config.telegram.token,
          apiRoot: telegramApiRoot,
          mode: config.telegram.mode,
          webhookSecret: config.telegram.webhookSecret,
          publicUrl: config.publicUrl,
          logger: logger.child({ channel: 'telegram' }),
        }),
      );
    }

    const queues = new Map<string, Queue<DeliveryJob>>(
      channels.map((channel) => [channel.name, createDeliveryQueue(channel.name, redis, config.queuePrefix)]),
    );
    stoppers.push(() => Promise.all([...queues.values()].map((queue) => queue.close())));

    if (runs('worker')) {
      const workers: Worker<DeliveryJob>[] = channels.map((channel) =>
        startDeliveryWorker({ channel, db, connection: redis, prefix: config.queuePrefix, logger, metrics }),
      );
      stoppers.push(() => Promise.all(workers.map((worker) => worker.close())));
      const relay = new OutboxRelay({ db, databaseUrl: config.databaseUrl, queues, logger });
      await relay.start();
      stoppers.push(() => relay.stop());
    }

    if (runs('scheduler')) {
      logger.info('scheduler role: no scheduled jobs are defined yet');
    }

    let server: FastifyInstance | undefined;
    let address: string | undefined;
    if (runs('web')) {
      const dialogue = new Dialogue({
        db,
        render,
        throttle: new RedisThrottle(redis, config.queuePrefix),
        clock,
        timeZone: config.timeZone,
        logger,
      });
      const handleEvent = async (event: Parameters<Dialogue['handle']>[0]) => {
        const result = await dialogue.handle(event);
        metrics.updatesReceived.inc({ channel: event.channel, kind: event.kind });
        return result;
      };
      server = buildServer({
        db,
        token: config.adminApiToken,
        clock,
        random,
        render,
        timeZone: config.timeZone,
        channels,
        logger,
        metrics,
        handleEvent,
        readiness: {
          database: () => db.$queryRaw`SELECT 1`,
          redis: () => redis.ping(),
        },
        beforeMetrics: async () => {
          for (const [name, queue] of queues) {
            const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'failed');
            for (const [state, count] of Object.entries(counts))
              metrics.queueDepth.set({ queue: name, state }, count);
          }
        },
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
      const codes = await seedDemo({ db, clock, random, render, timeZone: config.timeZone, logger });
      printDemoHelp(config, telegramApiRoot ?? '', address ?? '', codes);
    }

    return { db, server, address, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function printDemoHelp(
  config: Config,
  emulatorUrl: string,
  address: string,
  codes: { code: string; name: string; role: string; linkCode: string }[],
): void {
  const token = config.telegram?.token ?? '';
  const lines = [
    '',
    '=== Demo mode: no TELEGRAM_BOT_TOKEN, so the bot talks to a local Telegram emulator ===',
    `Emulator: ${emulatorUrl}   Service: ${address}   Admin API token: ${config.adminApiToken ?? ''}`,
    'Sample data: UBND huyện Tam Đường, its departments and communes, and plan 01/KH-UBND (already launched).',
    'Link codes for the sample officials (single use, valid 72 h):',
    ...codes.map((c) => `  ${c.linkCode}  ${c.name} (${c.role}, ${c.code})`),
    '',
    'Talk to the bot as a user (chat 1001 here), then read its answers:',
    `  curl -s -XPOST ${emulatorUrl}/sendMessage -H 'content-type: application/json' \\`,
    `    -d '{"botToken":"${token}","from":{"id":1001,"first_name":"Demo"},"chat":{"id":1001,"type":"private"},"text":"/start ${codes[0]?.linkCode ?? 'CODE'}"}'`,
    `  curl -s -XPOST ${emulatorUrl}/getUpdates -H 'content-type: application/json' -d '{"token":"${token}","chatId":1001}'`,
    'Then try: /nhiemvu, /baocao, "đã xong", "đang triển khai 60%", "vướng kinh phí", /tonghop, /ngonngu, /huongdan.',
    `Admin API: curl -H 'Authorization: Bearer ${config.adminApiToken ?? ''}' ${address}/api/campaigns`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
