import { randomBytes } from 'node:crypto';
import multipart from '@fastify/multipart';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Renderer } from '../conversation/render.ts';
import { createTranslator } from '../i18n.ts';
import type { ConsoleIdentity } from '../services/console-sessions.ts';
import { DomainError } from '../services/errors.ts';
import { IMPORT_MAX_BYTES, importSpreadsheet, type ImportResult } from '../services/import.ts';
import { requireAdmin } from '../services/scope.ts';
import { ConsoleHttpError, identityOf, type ConsoleContext } from './context.ts';

/**
 * The organisation import in the console (admins): upload a workbook or CSV, see what it would change per
 * sheet and row (the import's dry run), then apply it. Between the two the file waits in Redis for 30
 * minutes under the session that uploaded it, so the operator does not pick it again; nothing about who may
 * import what is decided here (services/import.ts checks every row against the operator's subtree).
 */

/** How long an uploaded file waits for "apply". */
const UPLOAD_TTL_SECONDS = 30 * 60;
const applyBody = z.object({ upload: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/) });

interface RowErrorView {
  sheet: string;
  row: number;
  column?: string;
  message: string;
}

/** A leader (or anyone not an admin) changes nothing: 403, as the services answer them. */
function requireManager(identity: ConsoleIdentity): void {
  try {
    requireAdmin(identity.principal);
  } catch (error) {
    if (error instanceof DomainError && error.kind === 'forbidden')
      throw new ConsoleHttpError(403, 'errors.forbidden');
    throw error;
  }
}

export function registerImportPages(scope: FastifyInstance, context: ConsoleContext): void {
  const { deps, views } = context;
  const render = new Renderer(createTranslator(), deps.timeZone);
  const uploadKey = (identity: ConsoleIdentity, id: string) =>
    `${deps.prefix}:console:import:${identity.sessionId}:${id}`;

  const page = (
    request: FastifyRequest,
    reply: FastifyReply,
    identity: ConsoleIdentity,
    data: Record<string, unknown>,
    status = 200,
  ) =>
    views.page(
      reply,
      'import',
      { identity, csrf: context.csrfFor(request, reply), section: 'import', status },
      {
        title: views.t(identity.locale)('import.title'),
        maxMegabytes: IMPORT_MAX_BYTES / 1024 / 1024,
        ...data,
      },
    );

  /** Runs the import (dry or not); a refusal is shown on the page with its rows, never as an error page. */
  const attempt = async (
    identity: ConsoleIdentity,
    file: Buffer,
    dryRun: boolean,
  ): Promise<
    { result: ImportResult } | { problem: { code: string; message: string; rows: RowErrorView[] } }
  > => {
    try {
      const result = await importSpreadsheet(deps.db, file, {
        dryRun,
        caller: { actor: identity.actor, principal: identity.principal },
        reorganise: { render, now: deps.clock.now(), timeZone: deps.timeZone },
      });
      return { result };
    } catch (error) {
      if (!(error instanceof DomainError) || error.kind !== 'invalid') throw error;
      const details = error.details as { errors?: RowErrorView[] } | null;
      return { problem: { code: error.code, message: error.message, rows: details?.errors ?? [] } };
    }
  };

  void scope.register(async (child) => {
    // Multipart only here: the file and the form's token arrive as fields of the body.
    await child.register(multipart, {
      attachFieldsToBody: 'keyValues',
      limits: { fileSize: IMPORT_MAX_BYTES, files: 1, fields: 5 },
    });
    // A file over the limit is refused on the page, like any other file the import cannot take.
    child.setErrorHandler(async (error: FastifyError, request, reply) => {
      const identity = request.consoleIdentity;
      if (
        !identity ||
        (error.code !== 'FST_REQ_FILE_TOO_LARGE' && error.code !== 'FST_ERR_CTP_BODY_TOO_LARGE')
      )
        throw error;
      return page(request, reply, identity, { problem: { code: 'file_too_large', rows: [] } }, 400);
    });

    child.get('/import', async (request, reply) => {
      const identity = identityOf(request);
      requireManager(identity);
      return page(request, reply, identity, {});
    });

    child.post('/import', { bodyLimit: IMPORT_MAX_BYTES + 1024 * 1024 }, async (request, reply) => {
      const identity = identityOf(request);
      requireManager(identity);
      const file = (request.body as Record<string, unknown> | undefined)?.file;
      if (!Buffer.isBuffer(file) || file.length === 0)
        return page(request, reply, identity, { problem: { code: 'empty_file', rows: [] } }, 400);
      const outcome = await attempt(identity, file, true);
      if ('problem' in outcome) return page(request, reply, identity, { problem: outcome.problem }, 400);
      const upload = randomBytes(18).toString('base64url');
      await deps.redis.set(uploadKey(identity, upload), file, 'EX', UPLOAD_TTL_SECONDS);
      return page(request, reply, identity, { preview: outcome.result, upload });
    });

    child.post('/import/apply', async (request, reply) => {
      const identity = identityOf(request);
      requireManager(identity);
      const parsed = applyBody.safeParse(request.body);
      if (!parsed.success) throw new ConsoleHttpError(400, 'errors.badRequest');
      const key = uploadKey(identity, parsed.data.upload);
      const file = await deps.redis.getBuffer(key);
      // Gone (applied already, too old, another session's): upload it again.
      if (!file) return page(request, reply, identity, { expired: true }, 410);
      const outcome = await attempt(identity, file, false);
      if ('problem' in outcome) return page(request, reply, identity, { problem: outcome.problem }, 400);
      await deps.redis.del(key);
      return page(request, reply, identity, { applied: outcome.result });
    });
  });
}
