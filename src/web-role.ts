import type { FastifyInstance } from 'fastify';
import type { Core } from './app.ts';
import type { EventHandler } from './channels/channel.ts';
import { WebhookInbox } from './channels/inbox.ts';
import { Dialogue } from './conversation/dialogue.ts';
import { RawTransactions } from './db/raw-transactions.ts';
import { DirectReplies } from './delivery/direct-replies.ts';
import { refreshGauges } from './delivery/gauges.ts';
import { buildServer, type ServerDeps } from './http/server.ts';
import { authFailureCounter, fileDownloadCounters } from './http/slow-down.ts';
import { RedisLinkAttempts } from './throttle.ts';
import { createJobsApi } from '../jobs/api.ts';

// Loaded by startApp only in a process that runs the web role.

/**
 * The HTTP server (admin API, webhooks, console, files, demo page) and the dialogue behind the channels:
 * updates are handled here, and the answers to them sent from here (direct replies).
 */
export async function startWebRole(
  core: Core,
  demoReady: () => boolean,
): Promise<{ server: FastifyInstance; address: string }> {
  const { config, db, redis, logger, metrics, clock, channels, shutdown } = core;
  const directReplies = new DirectReplies({
    db,
    channels,
    redis,
    prefix: config.queuePrefix,
    logger,
    metrics,
    clock,
  });
  const raw = new RawTransactions(config.databaseUrl);
  shutdown.push(() => raw.end());
  // Stops after the server and the channels (steps run in reverse): no new answers, then the last ones.
  shutdown.push(() => directReplies.drain());
  const dialogue = new Dialogue({
    directReplies,
    raw,
    engineFallbacks: metrics.dialogueEngineFallbacks,
    db,
    render: core.render,
    linkAttempts: new RedisLinkAttempts(redis, config.queuePrefix),
    clock,
    timeZone: config.timeZone,
    logger,
    linkCodeKeys: core.keysForLinkCodes,
    numberedChoiceChannels: new Set(channels.filter((c) => c.numberedChoices).map((c) => c.name)),
  });
  const handleEvent: EventHandler = async (event) => {
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
  const inbox = new WebhookInbox({
    db,
    statements: raw.statements,
    channels,
    handler: handleEvent,
    clock,
    logger: logger.child({ component: 'webhook-inbox' }),
    ...config.webhookInbox,
    metrics: { processed: metrics.webhookUpdatesProcessed, failed: metrics.webhookUpdatesFailed },
  });
  inbox.start();
  // Stops after the server (steps run in reverse), before the replies it may still hand over.
  shutdown.push(() => inbox.stop());
  const server = buildServer(serverDependencies(core, inbox, demoReady));
  const address = await server.listen({ port: config.port, host: config.host });
  shutdown.push(() => server.close());
  for (const channel of channels) {
    await channel.start(handleEvent);
    shutdown.push(() => channel.stop());
  }
  logger.info({ address, role: config.role, demo: config.demo }, 'listening');
  return { server, address };
}

/** What the HTTP server is built from: the services it reaches and the guards in front of them. */
function serverDependencies(core: Core, inbox: ServerDeps['inbox'], demoReady: () => boolean): ServerDeps {
  const { config, db, redis, clock, random, render, channels, queues, jobsQueue, makeFile } = core;
  return {
    db,
    token: config.adminApiToken,
    clock,
    random,
    render,
    timeZone: config.timeZone,
    channels,
    jobs: createJobsApi(core.jobs, core.jobContext),
    attachments: makeFile,
    files: core.filesSecret
      ? {
          secret: core.filesSecret,
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
      config.demo && config.telegram && core.telegramApiRoot
        ? {
            db,
            clock,
            random,
            emulatorUrl: core.telegramApiRoot,
            botToken: config.telegram.token,
            linkCodeKeys: core.keysForLinkCodes,
            ready: demoReady,
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
    logger: core.logger,
    metrics: core.metrics,
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
      refreshGauges(core.metrics, db, [...queues, ['jobs', jobsQueue]], config.webhookInbox.maxAttempts),
  };
}
