import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Queue } from 'bullmq';
import { ZodError } from 'zod';
import type { Channel, WebhookUpdate } from '../channels/channel.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { DomainError } from '../services/errors.ts';
import { registerAdminApi, type AdminApiDeps } from './admin-api.ts';
import { registerFileRoutes, type FileRoutesDeps } from './files.ts';
import { QUEUES_BOARD_PATH, registerQueuesBoard } from './queues-board.ts';
import type { AddressCounter } from './slow-down.ts';
import { registerDemoPage, type DemoPageDeps } from '../demo/page.ts';
import { registerConsole, type ConsoleDeps } from '../console/index.ts';
import { ReadinessProblem } from '../readiness.ts';
import { safeEqual } from '../secrets.ts';

export interface ServerDeps extends AdminApiDeps {
  logger: Logger;
  metrics: Metrics;
  channels: Channel[];
  /**
   * Where a webhook's update is recorded before the answer (src/channels/inbox.ts); it throws when the row
   * could not be written, and handles the update after the answer.
   */
  inbox?: { accept(channel: string, update: WebhookUpdate): Promise<void> };
  /** Named readiness checks; each throws when its dependency is unreachable. */
  readiness: Record<string, () => Promise<unknown>>;
  /** Refreshes gauges (queue depths) before /metrics is read. */
  beforeMetrics?: () => Promise<void>;
  /** Queues shown by bull-board at /admin/queues (behind the admin token). */
  boardQueues?: Queue[];
  /** With PUBLIC_URL: signed public links to chart pictures and workbooks at /files/…; absent: 404. */
  files?: FileRoutesDeps | undefined;
  /** Demo mode only: the demo chat page at /demo; without it /demo and /demo/api/* answer 404. */
  demo?: DemoPageDeps | undefined;
  /** The operators' console at /console; absent: 404. */
  console?: ConsoleDeps | undefined;
  /** METRICS_TOKEN: when set, /metrics needs it as a bearer token. */
  metricsToken?: string | undefined;
  /** Counts wrong credentials per address (Redis); over its limit the address waits (429). */
  authFailures?: AddressCounter | undefined;
  /** ZALO_SITE_VERIFICATION: `/` serves Zalo's domain-verification meta tag; unset: `/` is 404. */
  zaloSiteVerification?: string | undefined;
  /** Fastify's trustProxy (TRUST_PROXY): whose X-Forwarded-For gives the caller's address. */
  trustProxy?: boolean | number | string[] | undefined;
}

/** Where wrong credentials are counted and, over the limit, refused before anything is checked. */
const GUARDED_PREFIXES = ['/api/', '/api?', '/webhooks/', '/metrics', QUEUES_BOARD_PATH];
const guarded = (url: string) =>
  GUARDED_PREFIXES.some((prefix) => url === prefix.replace(/[/?]$/, '') || url.startsWith(prefix));

const errorBody = (code: string, message: string, details: unknown = null) => ({
  error: { code, message, details },
});

/** TRUST_PROXY as fastify takes it: a hop count becomes "trust the nearest n proxies". */
function trustProxyOption(value: ServerDeps['trustProxy']): {
  trustProxy?: boolean | string[] | ((address: string, hop: number) => boolean);
} {
  if (value === undefined || value === false) return {};
  if (typeof value === 'number') return { trustProxy: (_address, hop) => hop < value };
  return { trustProxy: value };
}

/** A check that does not answer in time counts as down (a Redis that is away queues commands forever). */
const READINESS_DEADLINE_MS = 3_000;

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** The address is logged when its refused credentials reach this count in a window. */
const AUTH_WARN_AT = 5;

/** `/` for Zalo's domain verification: their meta tag and nothing else. */
export function zaloVerificationPage(code: string): string {
  const content = code.replace(/[^A-Za-z0-9_-]/g, '');
  return `<!doctype html>\n<html><head><meta charset="utf-8"><meta property="zalo-platform-site-verification" content="${content}"><title>Thi đua</title></head><body></body></html>\n`;
}

export function buildServer(deps: ServerDeps): FastifyInstance {
  // Typed as Fastify's logger so the instance is the plain FastifyInstance the routes are written for.
  const loggerInstance: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance,
    bodyLimit: 2 * 1024 * 1024,
    requestIdHeader: 'x-request-id',
    ...trustProxyOption(deps.trustProxy),
  });

  const authFailures = deps.authFailures;
  if (authFailures) {
    app.addHook('onRequest', async (request, reply) => {
      if (!guarded(request.url)) return;
      const wait = await authFailures.waitFor(request.ip);
      if (wait === 0) return;
      await reply
        .code(429)
        .header('retry-after', String(wait))
        .send(
          errorBody(
            'too_many_failures',
            `too many refused credentials from this address: retry in ${wait} s`,
          ),
        );
    });
    app.addHook('onResponse', async (request, reply) => {
      if (reply.statusCode !== 401 || !guarded(request.url)) return;
      const { count } = await authFailures.count(request.ip);
      if (count === AUTH_WARN_AT)
        request.log.warn({ address: request.ip }, 'repeated refused credentials; slowing down');
    });
  }

  // An empty JSON body is an empty object (POST …/launch is often sent without one).
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const source = typeof body === 'string' ? body : body.toString('utf8');
    if (source.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(source) as unknown);
    } catch {
      // A platform's webhook gets its secret checked first, then 200 for what it cannot read (no retry storm).
      if (request.url.startsWith('/webhooks/')) {
        done(null, { malformed: true });
        return;
      }
      done(
        Object.assign(new Error('the body is not valid JSON'), { statusCode: 400, code: 'invalid_json' }),
        undefined,
      );
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    deps.metrics.httpDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  app.setErrorHandler(async (error: FastifyError | ZodError | DomainError, request, reply) => {
    if (error instanceof ZodError) {
      return reply.code(400).send(
        errorBody(
          'invalid_request',
          error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; '),
          error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
        ),
      );
    }
    if (error instanceof DomainError) {
      const status = { not_found: 404, conflict: 409, forbidden: 403, invalid: 400 }[error.kind];
      return reply.code(status).send(errorBody(error.code, error.message, error.details ?? null));
    }
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.code(500).send(errorBody('internal', 'internal error'));
    }
    return reply.code(status).send(errorBody(error.code ?? 'bad_request', error.message));
  });

  app.setNotFoundHandler(async (request, reply) =>
    reply
      .code(404)
      .send(errorBody('not_found', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`)),
  );

  app.get('/healthz', () => ({ status: 'ok' }));

  // The last state of each check, so that a dependency going down (and coming back) is logged once.
  const lastReadiness = new Map<string, string>();
  app.get('/readyz', async (request, reply) => {
    const results = await Promise.all(
      Object.entries(deps.readiness).map(async ([name, check]) => {
        try {
          await withDeadline(check(), READINESS_DEADLINE_MS);
          return [name, 'ok'] as const;
        } catch (error) {
          // Which dependency is down, never its raw error (hosts, users, internals): that goes to the log.
          const state = error instanceof ReadinessProblem ? error.message : 'unreachable';
          if (lastReadiness.get(name) !== state)
            request.log.warn({ err: error, check: name }, 'readiness check failed');
          return [name, state] as const;
        }
      }),
    );
    for (const [name, state] of results) lastReadiness.set(name, state);
    const checks = Object.fromEntries(results);
    const ready = results.every(([, state]) => state === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks });
  });

  if (deps.zaloSiteVerification) {
    const page = zaloVerificationPage(deps.zaloSiteVerification);
    app.get('/', async (_request, reply) =>
      reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('x-content-type-options', 'nosniff')
        .send(page),
    );
  }

  app.get('/metrics', async (request, reply) => {
    const metricsToken = deps.metricsToken;
    if (metricsToken) {
      const header = request.headers.authorization ?? '';
      if (!safeEqual(header.startsWith('Bearer ') ? header.slice(7) : '', metricsToken))
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer')
          .send(errorBody('unauthorized', 'a valid bearer token (METRICS_TOKEN) is required'));
    }
    await deps.beforeMetrics?.().catch(() => undefined);
    return reply
      .header('content-type', deps.metrics.registry.contentType)
      .send(await deps.metrics.registry.metrics());
  });

  // Bodies of webhooks signed over their exact bytes (Zalo OA), kept beside the parsed body.
  const rawBodies = new WeakMap<FastifyRequest, Buffer>();
  for (const channel of deps.channels) {
    if (!channel.webhookPath || !channel.readWebhook) continue;
    const inbox = deps.inbox;
    if (!inbox) throw new Error(`the webhook of ${channel.name} needs an inbox to record its updates`);
    const readWebhook = channel.readWebhook.bind(channel);
    const path = channel.webhookPath;
    // Record, answer, then process: the platform's 200 never waits for the dialogue (src/channels/inbox.ts).
    const route = async (request: FastifyRequest, reply: FastifyReply) => {
      const verdict = readWebhook({
        headers: request.headers,
        body: request.body,
        rawBody: rawBodies.get(request),
      });
      if (verdict.status === 401) {
        request.log.warn({ path }, 'webhook refused: bad secret or signature');
        return reply.code(401).send({ ok: false });
      }
      if (!verdict.update) request.log.debug({ update: request.body }, `${channel.name} update ignored`);
      else {
        try {
          await inbox.accept(channel.name, verdict.update);
        } catch (error) {
          request.log.error({ err: error }, 'webhook update not recorded; the platform will retry');
          return reply.code(500).send({ ok: false });
        }
      }
      return reply.code(200).send({ ok: true });
    };
    if (!channel.rawBody) {
      app.post(path, route);
      continue;
    }
    void app.register((scope, _options, registered) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
        const raw = Buffer.isBuffer(body) ? body : Buffer.from(body);
        rawBodies.set(request, raw);
        try {
          done(null, raw.length === 0 ? undefined : (JSON.parse(raw.toString('utf8')) as unknown));
        } catch {
          done(null, { malformed: true });
        }
      });
      scope.post(path, route);
      registered();
    });
  }

  registerAdminApi(app, deps);
  registerQueuesBoard(app, { token: deps.token, queues: deps.boardQueues ?? [] });
  if (deps.files) registerFileRoutes(app, deps.files);
  if (deps.demo) registerDemoPage(app, deps.demo);
  if (deps.console) registerConsole(app, deps.console);
  return app;
}
