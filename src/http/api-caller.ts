import type { FastifyRequest } from 'fastify';
import type { Caller } from '../services/audit.ts';

/** Who each request to /api acts as, set by the admin API's bearer-token hook before any route runs. */
const callers = new WeakMap<FastifyRequest, Caller>();

export function setCaller(request: FastifyRequest, caller: Caller): void {
  callers.set(request, caller);
}

/** The caller of a request to /api (the hook has refused every request without one with 401). */
export function callerOf(request: FastifyRequest): Caller {
  const caller = callers.get(request);
  if (!caller) throw new Error('no caller: the route is outside the admin API');
  return caller;
}
