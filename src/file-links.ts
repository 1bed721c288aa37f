import { createHmac } from 'node:crypto';
import { z } from 'zod';
import type { AttachmentRef } from './domain/message.ts';
import { safeEqual } from './secrets.ts';

/** How long a link to a chart picture or a workbook works after it was sent. */
export const FILE_LINK_TTL_MS = 7 * 24 * 60 * 60_000;

const EXTENSION = { chart: 'png', xlsx: 'xlsx' } as const;

const refSchema = z.strictObject({
  type: z.enum(['chart', 'xlsx']),
  campaignId: z.uuid(),
  unitCode: z.string().min(1).max(64).optional(),
  block: z.string().min(1).max(64).optional(),
  locale: z.string().min(2).max(8),
  at: z.iso.datetime(),
});
const payloadSchema = z.strictObject({ ref: refSchema, exp: z.number().int().positive() });

const mac = (secret: string, payload: string) =>
  createHmac('sha256', secret).update(payload).digest('base64url');

/**
 * A token naming what to render (the outbox's attachment reference) and until when, signed with
 * HMAC-SHA256: `base64url(JSON).base64url(mac)`. Nothing is stored: the file is made again on request.
 */
export function signFileToken(ref: AttachmentRef, expiresAt: Date, secret: string): string {
  const payload = Buffer.from(
    JSON.stringify({ ref, exp: Math.floor(expiresAt.getTime() / 1000) }),
    'utf8',
  ).toString('base64url');
  return `${payload}.${mac(secret, payload)}`;
}

/** The reference a token names; null when it is malformed, forged (compared in constant time) or expired. */
export function readFileToken(token: string, secret: string, now: Date): AttachmentRef | null {
  if (token.length > 2048) return null;
  const [payload = '', signature = '', ...rest] = token.split('.');
  if (rest.length > 0 || !/^[A-Za-z0-9_-]+$/.test(payload) || !safeEqual(signature, mac(secret, payload)))
    return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const result = payloadSchema.safeParse(parsed);
  if (!result.success || result.data.exp * 1000 <= now.getTime()) return null;
  const { unitCode, block, ...ref } = result.data.ref;
  return { ...ref, ...(unitCode ? { unitCode } : {}), ...(block ? { block } : {}) };
}

/** `/files/<token>.png` or `.xlsx`: the extension follows what the token names. */
export function fileLinkPath(ref: AttachmentRef, token: string): string {
  return `/files/${token}.${EXTENSION[ref.type]}`;
}

/** Parses `<token>.<ext>`; null when the extension is not the one the token's reference calls for. */
export function readFileLinkName(name: string, secret: string, now: Date): AttachmentRef | null {
  const match = /^([A-Za-z0-9_.-]+)\.(png|xlsx)$/.exec(name);
  if (!match) return null;
  const ref = readFileToken(match[1] ?? '', secret, now);
  return ref && EXTENSION[ref.type] === match[2] ? ref : null;
}

/** Public links to attachments, for channels that fetch media themselves (Zalo): PUBLIC_URL + /files/…. */
export function fileLinks(publicUrl: string, secret: string) {
  return (ref: AttachmentRef, now: Date): string =>
    `${publicUrl}${fileLinkPath(ref, signFileToken(ref, new Date(now.getTime() + FILE_LINK_TTL_MS), secret))}`;
}
