import type { FastifyInstance } from 'fastify';
import type { AttachmentFile } from '../conversation/attachments.ts';
import type { AttachmentRef } from '../domain/message.ts';
import { readFileLinkName } from '../file-links.ts';
import type { Clock } from '../services/ports.ts';

export interface FileRoutesDeps {
  /** Signs and checks the links (FILES_URL_SECRET, or derived from the admin token). */
  secret: string;
  clock: Clock;
  attachments: (ref: AttachmentRef) => Promise<AttachmentFile>;
}

/**
 * GET /files/<token>.png and /files/<token>.xlsx: the chart picture or the workbook a signed link names,
 * made on request (Zalo fetches pictures itself and has no file upload). A malformed, forged or expired
 * token is a plain 404, the same as a path that never existed, so a guesser learns nothing.
 */
export function registerFileRoutes(app: FastifyInstance, deps: FileRoutesDeps): void {
  // A wildcard, not a parameter: a token is longer than Fastify's 100-character parameter limit. Request
  // lines are logged only at warn: each URL is a working link to a campaign's figures for a week.
  app.get('/files/*', { logLevel: 'warn' }, async (request, reply) => {
    const name = (request.params as { '*'?: string })['*'] ?? '';
    const ref = readFileLinkName(name, deps.secret, deps.clock.now());
    if (!ref) {
      return reply.code(404).send({ error: { code: 'not_found', message: 'no such file', details: null } });
    }
    const file = await deps.attachments(ref);
    const disposition = ref.type === 'chart' ? 'inline' : 'attachment';
    return reply
      .header('content-type', file.contentType)
      .header('content-disposition', `${disposition}; filename="${file.filename}"`)
      .header('cache-control', 'private, max-age=3600')
      .header('x-content-type-options', 'nosniff')
      .send(file.bytes);
  });
}
