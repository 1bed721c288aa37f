import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { ZodError } from 'zod';
import type { AttachmentFile } from '../conversation/attachments.ts';
import type { LinkCodeKeys } from '../services/officials.ts';
import type { Db } from '../db/client.ts';
import type { AttachmentRef, OutboundMessage } from '../domain/message.ts';
import { resolveSession, type ConsoleIdentity } from '../services/console-sessions.ts';
import { DomainError } from '../services/errors.ts';
import type { ChaseRenderer, Clock, NewsRenderer, Random } from '../services/ports.ts';
import { registerAuditPages } from './audit.ts';
import { registerCampaignActions } from './campaign-actions.ts';
import { registerCampaignForms } from './campaign-writes.ts';
import { registerCampaignPages } from './campaigns.ts';
import { ConsoleHttpError, type ConsoleContext } from './context.ts';
import { registerImportPages } from './import.ts';
import { registerOfficialActions } from './official-actions.ts';
import { registerOrganisationForms } from './organisation-writes.ts';
import { registerOrganisationPages } from './organisation.ts';
import {
  consoleKey,
  cookieNames,
  fromOwnOrigin,
  preSessionCsrfToken,
  safeEqualText,
  sessionCsrfToken,
} from './security.ts';
import { registerSignIn } from './sign-in.ts';
import { registerTokenPages } from './tokens.ts';
import { Views } from './views.ts';

export interface ConsoleDeps {
  db: Db;
  redis: Redis;
  /** Redis key prefix (QUEUE_PREFIX): the sign-in throttles live under it. */
  prefix: string;
  clock: Clock;
  random: Random;
  timeZone: string;
  /** PUBLIC_URL: the console's own origin, the one-tap link's base, https → Secure cookies. */
  publicUrl: string | undefined;
  /** The break-glass ADMIN_API_TOKEN (POST /console/login/token); absent: nobody signs in with a token. */
  adminApiToken: string | undefined;
  /** The chat message with a sign-in code, from the bot's catalogue (locales/…/translation.json). */
  signInMessage: (locale: string, vars: { code: string; link: string; minutes: number }) => OutboundMessage;
  /** The chart picture and the workbook of a summary (as the bot sends them). */
  attachments?: ((ref: AttachmentRef) => Promise<AttachmentFile>) | undefined;
  /** The launch and closing messages (the bot's renderer); absent: campaigns cannot be launched or closed here. */
  render?: (NewsRenderer & ChaseRenderer) | undefined;
  /** A chat link that redeems a link code (Telegram's t.me/<bot>?start=CODE), for the printed sheets. */
  deepLink?: ((code: string) => string | undefined) | undefined;
  /** The server-side keys link codes are hashed with; absent: link codes cannot be issued here. */
  linkCodeKeys?: LinkCodeKeys | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    consoleIdentity: ConsoleIdentity | null;
    consoleSecret: string | null;
  }
  interface FastifyContextConfig {
    /** Reachable without a session (sign-in pages). */
    public?: boolean;
    /** A background refresh: does not count as use for the idle timeout. */
    background?: boolean;
  }
}

/** A service's refusal as a page's status: a leader's change is 403, what is outside the subtree 404. */
const DOMAIN_STATUS = { invalid: 400, not_found: 404, forbidden: 403, conflict: 409 } as const;

const ASSETS = fileURLToPath(new URL('./assets/', import.meta.url));

/**
 * The operators' console under /console: server-rendered pages over the same services as the admin API,
 * each decision of who sees what made by services/scope.ts. Everything here is in its own encapsulated
 * scope (cookies, form bodies, security headers, error pages), so the API and webhooks are untouched.
 */
export function registerConsole(app: FastifyInstance, deps: ConsoleDeps): void {
  void app.register(
    async (scope) => {
      const names = cookieNames(deps.publicUrl);
      const key = await consoleKey(deps.db);
      const views = new Views(deps.timeZone);
      await scope.register(fastifyCookie);
      await scope.register(fastifyFormbody);
      await scope.register(fastifyHelmet, {
        contentSecurityPolicy: {
          useDefaults: false,
          directives: {
            defaultSrc: ["'none'"],
            scriptSrc: ["'self'"],
            styleSrc: ["'self'"],
            imgSrc: ["'self'"],
            connectSrc: ["'self'"],
            formAction: ["'self'"],
            frameAncestors: ["'none'"],
            baseUri: ["'none'"],
          },
        },
        frameguard: { action: 'deny' },
        hsts: names.secure ? { maxAge: 31_536_000 } : false,
        referrerPolicy: { policy: 'same-origin' },
        crossOriginEmbedderPolicy: false,
      });
      await scope.register(fastifyStatic, {
        root: ASSETS,
        prefix: '/assets/',
        decorateReply: false,
        index: false,
        list: false,
        maxAge: '1h',
      });
      scope.decorateRequest('consoleIdentity', null);
      scope.decorateRequest('consoleSecret', null);

      const csrfFor = (request: FastifyRequest, reply: FastifyReply): string => {
        if (request.consoleIdentity && request.consoleSecret) return sessionCsrfToken(request.consoleSecret);
        return preSessionToken(request, reply);
      };
      const preSessionToken = (request: FastifyRequest, reply: FastifyReply): string => {
        let value = request.cookies[names.preSession];
        if (!value || !/^[A-Za-z0-9_-]{24}$/.test(value)) {
          value = newValue();
          request.cookies[names.preSession] = value;
          void reply.setCookie(names.preSession, value, {
            httpOnly: true,
            sameSite: 'strict',
            secure: names.secure,
            path: names.path,
          });
        }
        return preSessionCsrfToken(key, value);
      };
      const newValue = () => Buffer.from(deps.random.bytes(18)).toString('base64url');

      const context: ConsoleContext = { deps, views, names, csrfFor };

      scope.addHook('onRequest', async (request, reply) => {
        if (request.url.startsWith('/console/assets/')) return;
        if (request.method === 'POST' && !fromOwnOrigin(request, deps.publicUrl)) {
          throw new ConsoleHttpError(403, 'errors.origin');
        }
        const secret = request.cookies[names.session];
        if (!secret) return;
        const background = request.routeOptions.config.background === true;
        const identity = await resolveSession(deps.db, secret, deps.clock.now(), { touch: !background });
        if (identity) {
          request.consoleIdentity = identity;
          request.consoleSecret = secret;
        } else if (!background) {
          // A cookie of a session that ended: the browser forgets it.
          void reply.clearCookie(names.session, { path: names.path });
        }
      });

      scope.addHook('preHandler', async (request, reply) => {
        if (request.url.startsWith('/console/assets/')) return;
        const isPublic = request.routeOptions.config.public === true;
        if (!isPublic && !request.consoleIdentity) {
          if (request.routeOptions.config.background) throw new ConsoleHttpError(401, 'errors.signedOut');
          const next = request.method === 'GET' ? request.url : undefined;
          const query = next && next !== '/console' ? `?next=${encodeURIComponent(next)}` : '';
          return reply.redirect(`/console/login${query}`, 303);
        }
        if (request.method !== 'POST') return;
        const given = (request.body as Record<string, unknown> | undefined)?._csrf;
        const token = typeof given === 'string' ? given : '';
        const expected: string[] = [];
        if (request.consoleSecret) expected.push(sessionCsrfToken(request.consoleSecret));
        const pre = request.cookies[names.preSession];
        if (isPublic && pre) expected.push(preSessionCsrfToken(key, pre));
        if (!expected.some((value) => safeEqualText(token, value)))
          throw new ConsoleHttpError(403, 'errors.csrf');
      });

      scope.setErrorHandler(async (error, request, reply) => {
        const known = error instanceof ConsoleHttpError;
        const status = known
          ? error.status
          : error instanceof ZodError
            ? 400
            : error instanceof DomainError
              ? DOMAIN_STATUS[error.kind]
              : ((error as { statusCode?: number }).statusCode ?? 500);
        if (status >= 500) request.log.error({ err: error }, 'console request failed');
        const messageKey = known
          ? error.messageKey
          : status >= 500
            ? 'errors.internal'
            : status === 404
              ? 'errors.notFound'
              : status === 403
                ? 'errors.forbidden'
                : status === 409
                  ? 'errors.conflict'
                  : 'errors.badRequest';
        if (request.routeOptions.config.background) return reply.code(status).send();
        return views.page(
          reply,
          'error',
          { identity: request.consoleIdentity, csrf: csrfFor(request, reply), status },
          {
            title: views.t(request.consoleIdentity?.locale ?? 'vi')(`errors.title${status}`, {
              defaultValue: views.t(request.consoleIdentity?.locale ?? 'vi')('errors.title'),
            }),
            message: messageKey,
            status,
          },
        );
      });

      scope.setNotFoundHandler(async (request, reply) =>
        views.page(
          reply,
          'error',
          { identity: request.consoleIdentity, csrf: csrfFor(request, reply), status: 404 },
          {
            title: views.t(request.consoleIdentity?.locale ?? 'vi')('errors.title404'),
            message: 'errors.notFound',
            status: 404,
          },
        ),
      );

      registerSignIn(scope, context);
      registerCampaignPages(scope, context);
      registerOrganisationPages(scope, context);
      registerAuditPages(scope, context);
      registerCampaignForms(scope, context);
      registerCampaignActions(scope, context);
      registerOrganisationForms(scope, context);
      registerOfficialActions(scope, context);
      registerTokenPages(scope, context);
      registerImportPages(scope, context);
    },
    { prefix: '/console' },
  );
}
