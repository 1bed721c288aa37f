import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SIGN_IN_CODE_TTL_MS } from '../domain/sign-in-code.ts';
import {
  endAllSessions,
  endSession,
  openSessions,
  openTokenSession,
  type OpenedSession,
} from '../services/console-sessions.ts';
import { requestSignInCode, signInWithLink, verifySignInCode } from '../services/sign-in-codes.ts';
import { RedisAttempts, type AttemptCheck } from '../throttle.ts';
import { identityOf, type ConsoleContext } from './context.ts';
import { consoleBase, cookieOptions, safeEqualText } from './security.ts';

/**
 * Sign-in through the bot (a code and a one-tap link sent to the operator's chats), the break-glass
 * token, and sign-out. Every POST here has passed the Origin and CSRF checks of index.ts.
 */

/** Answers to a code request, and refusals of a code, take at least this long, whoever was named. */
const SIGN_IN_ANSWER_MS = 300;

const officialField = z.string().trim().min(1).max(64);
const loginBody = z.object({ official: z.string().optional(), next: z.string().optional() });
const verifyBody = z.object({
  official: z.string().optional(),
  code: z.string().optional(),
  next: z.string().optional(),
});
const tokenBody = z.object({ token: z.string().optional() });
const linkBody = z.object({ token: z.string().optional() });

/** Only the console's own pages are places to go back to after signing in. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string') return '/console';
  return /^\/console(\/[A-Za-z0-9/_.~%?=&-]*)?$/.test(next) && !next.includes('//') ? next : '/console';
}

const address = (request: FastifyRequest) => request.ip;

function holdUntil(startedAt: number): Promise<void> {
  const wait = startedAt + SIGN_IN_ANSWER_MS - Date.now();
  return wait > 0 ? new Promise((resolve) => setTimeout(resolve, wait)) : Promise.resolve();
}

export function registerSignIn(scope: FastifyInstance, context: ConsoleContext): void {
  const { deps, views, names } = context;
  // Counted per official code typed (whoever it names) and per address; see README, "The operator console".
  // Every attempt is counted before it is checked (parallel posts cannot slip past the limit); the failure
  // counts then forgive the attempts that signed in.
  const limits = {
    requestsPerOfficial: { max: 5, windowSeconds: 15 * 60 },
    requestsPerAddress: { max: 30, windowSeconds: 15 * 60 },
    failuresPerOfficial: { max: 10, windowSeconds: 60 * 60 },
    failuresPerAddress: { max: 30, windowSeconds: 15 * 60 },
  };
  const attempts = new RedisAttempts(deps.redis, deps.prefix);
  const officialKey = (code: string) => code.trim().toUpperCase();
  const blocked = async (checks: AttemptCheck[]) => (await attempts.take(checks)) > 0;

  const page = (
    request: FastifyRequest,
    reply: FastifyReply,
    template: string,
    data: Record<string, unknown>,
    status = 200,
  ) => views.page(reply, template, { identity: null, csrf: context.csrfFor(request, reply), status }, data);

  const signIn = (reply: FastifyReply, session: OpenedSession, next: unknown) => {
    const maxAge = Math.max(
      60,
      Math.floor((session.expiresAt.getTime() - deps.clock.now().getTime()) / 1000),
    );
    return reply
      .setCookie(names.session, session.secret, cookieOptions(names, maxAge))
      .redirect(safeNext(next), 303);
  };

  const origin = (request: FastifyRequest) => ({
    userAgent: request.headers['user-agent'],
    address: address(request),
  });

  scope.get('/login', { config: { public: true } }, async (request, reply) => {
    const next = safeNext((request.query as { next?: unknown }).next);
    if (request.consoleIdentity) return reply.redirect(next, 303);
    // Opened from another site (a link in a chat app), the browser kept our SameSite=Strict cookie back:
    // one reload from our own page shows whether this browser is signed in after all.
    const reload = request.headers['sec-fetch-site'] === 'cross-site';
    return page(request, reply, 'login', {
      next,
      reload,
      official: '',
      tokenEnabled: Boolean(deps.adminApiToken),
    });
  });

  scope.post('/login', { config: { public: true } }, async (request, reply) => {
    const startedAt = Date.now();
    const body = loginBody.parse(request.body ?? {});
    const next = safeNext(body.next);
    const official = officialField.safeParse(body.official);
    if (!official.success)
      return page(
        request,
        reply,
        'login',
        {
          next,
          official: body.official ?? '',
          error: 'login.officialMissing',
          tokenEnabled: Boolean(deps.adminApiToken),
        },
        400,
      );
    const checks: AttemptCheck[] = [
      [limits.requestsPerOfficial, `console:request:o:${officialKey(official.data)}`],
      [limits.requestsPerAddress, `console:request:a:${address(request)}`],
    ];
    if (await blocked(checks)) {
      await holdUntil(startedAt);
      return page(
        request,
        reply,
        'login',
        {
          next,
          official: official.data,
          error: 'login.throttled',
          tokenEnabled: Boolean(deps.adminApiToken),
        },
        429,
      );
    }
    await requestSignInCode(deps, {
      officialCode: official.data,
      linkBase: consoleBase(request, deps.publicUrl),
      message: deps.signInMessage,
      ...origin(request),
    });
    await holdUntil(startedAt);
    return page(request, reply, 'code', {
      next,
      official: official.data,
      minutes: SIGN_IN_CODE_TTL_MS / 60_000,
    });
  });

  scope.post('/login/verify', { config: { public: true } }, async (request, reply) => {
    const startedAt = Date.now();
    const body = verifyBody.parse(request.body ?? {});
    const next = safeNext(body.next);
    const official = officialField.safeParse(body.official);
    const code = z.string().trim().min(1).max(20).safeParse(body.code);
    const minutes = SIGN_IN_CODE_TTL_MS / 60_000;
    if (!official.success || !code.success)
      return page(
        request,
        reply,
        'code',
        {
          next,
          official: body.official ?? '',
          minutes,
          error: official.success ? 'code.missing' : 'login.officialMissing',
        },
        400,
      );
    const checks: AttemptCheck[] = [
      [limits.failuresPerOfficial, `console:fail:o:${officialKey(official.data)}`],
      [limits.failuresPerAddress, `console:fail:a:${address(request)}`],
    ];
    if (await blocked(checks)) {
      await holdUntil(startedAt);
      return page(
        request,
        reply,
        'code',
        { next, official: official.data, minutes, error: 'login.throttled' },
        429,
      );
    }
    const outcome = await verifySignInCode(deps, {
      officialCode: official.data,
      code: code.data,
      ...origin(request),
    });
    if (outcome.kind === 'signed_in') {
      await attempts.forgive(checks);
      return signIn(reply, outcome.session, next);
    }
    await holdUntil(startedAt);
    return page(request, reply, 'code', { next, official: official.data, minutes, error: 'code.wrong' }, 400);
  });

  scope.post('/login/token', { config: { public: true } }, async (request, reply) => {
    const body = tokenBody.parse(request.body ?? {});
    const token = body.token?.trim() ?? '';
    const check: AttemptCheck[] = [[limits.failuresPerAddress, `console:fail:a:${address(request)}`]];
    const tokenEnabled = Boolean(deps.adminApiToken);
    if (await blocked(check))
      return page(
        request,
        reply,
        'login',
        { next: '/console', official: '', tokenError: 'login.throttled', tokenEnabled },
        429,
      );
    if (!deps.adminApiToken || token.length === 0 || !safeEqualText(token, deps.adminApiToken)) {
      return page(
        request,
        reply,
        'login',
        { next: '/console', official: '', tokenError: 'login.tokenWrong', tokenEnabled },
        400,
      );
    }
    await attempts.forgive(check);
    const session = await openTokenSession(deps.db, {
      now: deps.clock.now(),
      random: deps.random,
      ...origin(request),
    });
    return signIn(reply, session, '/console');
  });

  // The link's token travels after '#': it reaches neither this server's logs nor a link preview's
  // fetcher. The page's script posts it from the browser that opened the link.
  scope.get('/login/link', { config: { public: true } }, async (request, reply) =>
    page(request, reply, 'link', {}),
  );

  scope.post('/login/link', { config: { public: true } }, async (request, reply) => {
    const body = linkBody.parse(request.body ?? {});
    const check: AttemptCheck[] = [[limits.failuresPerAddress, `console:fail:a:${address(request)}`]];
    if (await blocked(check)) return page(request, reply, 'link', { error: 'login.throttled' }, 429);
    const outcome = await signInWithLink(deps, { token: body.token?.trim() ?? '', ...origin(request) });
    if (outcome.kind === 'signed_in') {
      await attempts.forgive(check);
      return signIn(reply, outcome.session, '/console');
    }
    return page(request, reply, 'link', { error: 'link.refused' }, 400);
  });

  scope.post('/logout', async (request, reply) => {
    await endSession(deps.db, identityOf(request), deps.clock.now());
    return reply.clearCookie(names.session, { path: names.path }).redirect('/console/login', 303);
  });

  scope.post('/logout/everywhere', async (request, reply) => {
    const identity = identityOf(request);
    await endAllSessions(deps.db, {
      officialId: identity.official?.id ?? null,
      ...(identity.official
        ? { target: { code: identity.official.code, unitId: identity.official.unitId } }
        : {}),
      actor: identity.actor,
      now: deps.clock.now(),
    });
    return reply.clearCookie(names.session, { path: names.path }).redirect('/console/login', 303);
  });

  scope.get('/account', async (request, reply) => {
    const identity = identityOf(request);
    const sessions = await openSessions(deps.db, identity.official?.id ?? null, deps.clock.now());
    return views.page(
      reply,
      'account',
      { identity, csrf: context.csrfFor(request, reply), section: 'account' },
      {
        title: views.t(identity.locale)('account.title'),
        sessions,
      },
    );
  });
}
