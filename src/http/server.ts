import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Queue } from 'bullmq';
import { ZodError } from 'zod';
import type { Channel, EventHandler } from '../channels/channel.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { DomainError } from '../services/errors.ts';
import { registerAdminApi, type AdminApiDeps } from './admin-api.ts';
import { registerFileRoutes, type FileRoutesDeps } from './files.ts';
import { registerQueuesBoard } from './queues-board.ts';
import { registerDemoPage, type DemoPageDeps } from '../demo/page.ts';
import { registerConsole, type ConsoleDeps } from '../console/index.ts';

export interface ServerDeps extends AdminApiDeps {
  logger: Logger;
  metrics: Metrics;
  channels: Channel[];
  handleEvent: EventHandler;
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
}

const errorBody = (code: string, message: string, details: unknown = null) => ({
  error: { code, message, details },
});

export function buildServer(deps: ServerDeps): FastifyInstance {
  // Typed as Fastify's logger so the instance is the plain FastifyInstance the routes are written for.
  const loggerInstance: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance,
    bodyLimit: 2 * 1024 * 1024,
    requestIdHeader: 'x-request-id',
  });

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

  app.get('/readyz', async (_request, reply) => {
    const checks: Record<string, string> = {};
    let ready = true;
    for (const [name, check] of Object.entries(deps.readiness)) {
      try {
        await check();
        checks[name] = 'ok';
      } catch (error) {
        ready = false;
        checks[name] = error instanceof Error ? error.message : 'unreachable';
      }
    }
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks });
  });

  app.get('/metrics', async (_request, reply) => {
    await deps.beforeMetrics?.().catch(() => undefined);
    return reply
      .header('content-type', deps.metrics.registry.contentType)
      .send(await deps.metrics.registry.metrics());
  });

  // Bodies of webhooks signed over their exact bytes (Zalo OA), kept beside the parsed body.
  const rawBodies = new WeakMap<FastifyRequest, Buffer>();
  for (const channel of deps.channels) {
    if (!channel.webhookPath || !channel.handleWebhook) continue;
    const handleWebhook = channel.handleWebhook.bind(channel);
    const path = channel.webhookPath;
    const route = async (request: FastifyRequest, reply: FastifyReply) => {
      const outcome = await handleWebhook(
        { headers: request.headers, body: request.body, rawBody: rawBodies.get(request) },
        deps.handleEvent,
      );
      if (outcome.status === 500) {
        request.log.error({ err: outcome.error }, 'webhook update failed; the platform will retry');
        return reply.code(500).send({ ok: false });
      }
      if (outcome.status === 401) request.log.warn({ path }, 'webhook refused: bad secret or signature');
      return reply.code(outcome.status).send({ ok: outcome.status === 200 });
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
