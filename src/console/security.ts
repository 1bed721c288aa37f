import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/client.ts';

/**
 * The console's browser-facing defences, in one place: cookie names and options, the Origin check on
 * every POST, and CSRF tokens (tied to the session once signed in; before that a signed double-submit
 * token against a random cookie). The header policy (CSP and friends) is registered in index.ts.
 */

export interface CookieNames {
  session: string;
  /** The random value the pre-sign-in CSRF token is signed over. */
  preSession: string;
  secure: boolean;
  path: string;
}

/**
 * Over https (PUBLIC_URL https) cookies are Secure and carry the __Host- prefix (no Domain, Path=/,
 * Secure: a sibling subdomain cannot plant or overwrite them); over plain http they keep to /console.
 */
export function cookieNames(publicUrl: string | undefined): CookieNames {
  const secure = publicUrl?.startsWith('https://') ?? false;
  return secure
    ? { session: '__Host-thidua_console', preSession: '__Host-thidua_console_pre', secure, path: '/' }
    : { session: 'thidua_console', preSession: 'thidua_console_pre', secure, path: '/console' };
}

export const cookieOptions = (names: CookieNames, maxAgeSeconds?: number) => ({
  httpOnly: true,
  // Strict: the one-tap link works with it (its page posts a form from our own origin, and the cookie is
  // set on that answer), and a cross-site request never carries the session, not even a top-level GET.
  sameSite: 'strict' as const,
  secure: names.secure,
  path: names.path,
  ...(maxAgeSeconds !== undefined ? { maxAge: maxAgeSeconds } : {}),
});

const hmac = (key: string | Buffer, value: string): string =>
  createHmac('sha256', key).update(value).digest('base64url');

export const safeEqualText = (given: string, expected: string): boolean => {
  const left = Buffer.from(given);
  const right = Buffer.from(expected);
  return left.length === right.length && timingSafeEqual(left, right);
};

/** A signed-in form's token: bound to the session's own secret (from the cookie), so nothing is stored. */
export const sessionCsrfToken = (sessionSecret: string): string => hmac(sessionSecret, 'thidua:console-csrf');

/** A sign-in form's token: the pre-session cookie's random value, signed with the service's key. */
export const preSessionCsrfToken = (key: Buffer, cookieValue: string): string =>
  hmac(key, `thidua:console-pre:${cookieValue}`);

export const newPreSessionValue = (): string => randomBytes(18).toString('base64url');

/**
 * The console's signing key: made once by whichever instance first needs it and kept in PostgreSQL, so
 * every instance signs and checks the same tokens without any configuration.
 */
export async function consoleKey(db: Db): Promise<Buffer> {
  await db.$executeRaw`
    INSERT INTO "ServiceSecret" (name, value) VALUES ('console-csrf', ${randomBytes(32).toString('base64')})
    ON CONFLICT (name) DO NOTHING`;
  const row = await db.serviceSecret.findUniqueOrThrow({ where: { name: 'console-csrf' } });
  return Buffer.from(row.value, 'base64');
}

const originOf = (value: string): string | null => {
  try {
    return new URL(value).origin;
  } catch {
    return null;
  }
};

/**
 * Whether a POST comes from the console's own pages. A browser says where a form was posted from
 * (Sec-Fetch-Site, Origin, else Referer): another site, or a sibling subdomain, is refused. Our own origin
 * is PUBLIC_URL's, or the address the request was sent to (a page served from there posts back there). A
 * client that sends none of these headers is no browser acting for somebody else; its POST still needs
 * the form's CSRF token, which only our pages carry.
 */
export function fromOwnOrigin(request: FastifyRequest, publicUrl: string | undefined): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const header = request.headers.origin ?? request.headers.referer;
  if (header === undefined) return true;
  const origin = originOf(header);
  if (origin === null) return false;
  if (publicUrl && origin === originOf(publicUrl)) return true;
  const host = request.headers.host;
  if (host === undefined) return false;
  // The Host header read with the origin's scheme, so that "example.org:80" and "http://example.org" agree.
  const url = new URL(origin);
  return originOf(`${url.protocol}//${host}`) === origin;
}

/** The console's own base address, for the one-tap link: PUBLIC_URL, else the address asked. */
export function consoleBase(request: FastifyRequest, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl;
  return `${request.protocol}://${request.headers.host ?? `${request.hostname}`}`;
}

/** No page with data is kept by a browser or a proxy. */
export function noStore(reply: FastifyReply): void {
  void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}
