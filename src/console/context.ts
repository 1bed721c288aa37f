import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleIdentity } from '../services/console-sessions.ts';
import type { ConsoleDeps } from './index.ts';
import type { CookieNames } from './security.ts';
import type { Views } from './views.ts';

/** What every page module of the console gets: its dependencies, the views and the form token. */
export interface ConsoleContext {
  deps: ConsoleDeps;
  views: Views;
  names: CookieNames;
  /** The CSRF token for this browser's forms (the session's, or the pre-sign-in one). */
  csrfFor(request: FastifyRequest, reply: FastifyReply): string;
}

/** A refusal shown as a page: 400 bad input, 401 signed out, 403 not allowed, 404 not there (or not yours). */
export class ConsoleHttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 429,
    readonly messageKey: string,
  ) {
    super(messageKey);
  }
}

/** The signed-in identity of a request that passed the console's session check. */
export function identityOf(request: FastifyRequest): ConsoleIdentity {
  const identity = request.consoleIdentity;
  if (!identity) throw new ConsoleHttpError(401, 'errors.signedOut');
  return identity;
}
