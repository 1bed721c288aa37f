import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { AttachmentFile } from '../conversation/attachments.ts';
import type { AttachmentRef } from '../domain/message.ts';
import { readFileLinkName } from '../file-links.ts';
import type { Clock } from '../services/ports.ts';
import type { AddressCounter } from './slow-down.ts';

export interface FileRoutesDeps {
  /** Signs and checks the links (FILES_URL_SECRET, or derived from the admin token). */
  secret: string;
  clock: Clock;
  attachments: (ref: AttachmentRef) => Promise<AttachmentFile>;
  /** Downloads per link and per address (Redis); over either limit: 429. Absent: not limited. */
  limits?: { perLink: AddressCounter; perAddress: AddressCounter } | undefined;
  /** The rendered files kept per link in this process. */
  cache?: { maxEntries?: number; maxBytes?: number; ttlMs?: number };
}

/**
 * The files made for links, per link, for a while: Zalo's fetcher, a retry, a person opening a workbook twice
 * all get the bytes made the first time, and requests arriving together wait for the same rendering.
 * Least recently used first out, bounded by count and bytes. Per process: nothing another instance needs.
 */
export class RenderedFiles {
  private readonly entries = new Map<
    string,
    { file: Promise<AttachmentFile>; bytes: number; until: number }
  >();
  private bytes = 0;

  constructor(
    private readonly options: { maxEntries: number; maxBytes: number; ttlMs: number },
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  async get(key: string, make: () => Promise<AttachmentFile>): Promise<AttachmentFile> {
    const found = this.entries.get(key);
    if (found && found.until > this.now()) {
      this.entries.delete(key);
      this.entries.set(key, found);
      return found.file;
    }
    if (found) this.drop(key);
    const entry = { file: make(), bytes: 0, until: this.now() + this.options.ttlMs };
    this.entries.set(key, entry);
    try {
      const file = await entry.file;
      if (this.entries.get(key) === entry) {
        entry.bytes = file.bytes.length;
        this.bytes += entry.bytes;
        this.evict();
      }
      return file;
    } catch (error) {
      if (this.entries.get(key) === entry) this.drop(key);
      throw error;
    }
  }

  private drop(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.bytes -= entry.bytes;
    this.entries.delete(key);
  }

  private evict(): void {
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.options.maxEntries && this.bytes <= this.options.maxBytes) return;
      this.drop(key);
    }
  }
}

const notFound = { error: { code: 'not_found', message: 'no such file', details: null } };

/**
 * GET /files/<token>.png and /files/<token>.xlsx: the chart picture or the workbook a signed link names,
 * made on request (Zalo fetches pictures itself and has no file upload). A malformed, forged or expired
 * token is a plain 404, the same as a path that never existed, so a guesser learns nothing.
 */
export function registerFileRoutes(app: FastifyInstance, deps: FileRoutesDeps): void {
  const files = new RenderedFiles(
    {
      maxEntries: deps.cache?.maxEntries ?? 100,
      maxBytes: deps.cache?.maxBytes ?? 64 * 1024 * 1024,
      ttlMs: deps.cache?.ttlMs ?? 10 * 60_000,
    },
    () => deps.clock.now().getTime(),
  );
  // A wildcard, not a parameter: a token is longer than Fastify's 100-character parameter limit. Request
  // lines are logged only at warn: each URL is a working link to a campaign's figures for a week.
  app.get('/files/*', { logLevel: 'warn' }, async (request, reply) => {
    const name = (request.params as { '*'?: string })['*'] ?? '';
    if (deps.limits) {
      const link = createHash('sha256').update(name).digest('base64url').slice(0, 22);
      const [perAddress, perLink] = await Promise.all([
        deps.limits.perAddress.count(request.ip),
        deps.limits.perLink.count(link),
      ]);
      const over = [
        [perAddress, deps.limits.perAddress.max],
        [perLink, deps.limits.perLink.max],
      ] as const;
      const wait = Math.max(...over.map(([seen, max]) => (seen.count > max ? seen.resetSeconds : 0)));
      if (wait > 0)
        return reply
          .code(429)
          .header('retry-after', String(wait))
          .send({ error: { code: 'too_many_requests', message: `retry in ${wait} s`, details: null } });
    }
    const ref = readFileLinkName(name, deps.secret, deps.clock.now());
    if (!ref) return reply.code(404).send(notFound);
    const file = await files.get(name, () => deps.attachments(ref));
    const disposition = ref.type === 'chart' ? 'inline' : 'attachment';
    return reply
      .header('content-type', file.contentType)
      .header('content-disposition', `${disposition}; filename="${file.filename}"`)
      .header('cache-control', 'private, max-age=3600')
      .header('x-content-type-options', 'nosniff')
      .send(file.bytes);
  });
}
