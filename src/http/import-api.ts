import multipart from '@fastify/multipart';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SAMPLE_OFFICIALS, SAMPLE_UNITS } from '../demo/sample-data.ts';
import { DomainError } from '../services/errors.ts';
import { buildImportTemplate, IMPORT_MAX_BYTES, importSpreadsheet } from '../services/import.ts';
import { linkCodeHtml, linkCodeWorkbook } from '../services/link-code-sheet.ts';
import { issueSubtreeLinkCodes } from '../services/link-codes.ts';
import type { AdminApiDeps } from './admin-api.ts';
import { callerOf } from './api-caller.ts';

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
/** Raw bodies accepted by POST /api/import besides multipart/form-data. */
const RAW_TYPES = [
  XLSX_TYPE,
  'application/vnd.ms-excel',
  'application/octet-stream',
  'text/csv',
  'text/plain',
  'application/csv',
];

const flag = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((value) => value === 'true' || value === '1' || value === '');
const importQuery = z.object({ dryRun: flag });
const linkCodesParams = z.object({ code: z.string().trim().min(1).max(64) });
const linkCodesQuery = z.object({
  format: z.enum(['xlsx', 'html']).default('xlsx'),
  roles: z
    .string()
    .optional()
    .transform((value) => (value ? value.split(',').map((role) => role.trim()) : undefined))
    .pipe(z.array(z.enum(['member', 'focal', 'leader', 'admin'])).optional()),
  unlinked: flag,
});

const tooLarge = () =>
  new DomainError('file_too_large', `the file is larger than ${IMPORT_MAX_BYTES / 1024 / 1024} MB`, {
    maxBytes: IMPORT_MAX_BYTES,
  });

async function uploadedFile(request: FastifyRequest): Promise<Buffer> {
  if (request.isMultipart()) {
    const part = await request.file({ limits: { fileSize: IMPORT_MAX_BYTES, files: 1 } });
    if (!part) throw new DomainError('empty_file', 'the form has no file field');
    return part.toBuffer();
  }
  if (Buffer.isBuffer(request.body)) return request.body;
  throw new DomainError(
    'unsupported_media_type',
    `send the file as multipart/form-data or as the body with one of: ${RAW_TYPES.join(', ')}`,
  );
}

/**
 * Onboarding routes, registered inside the admin API's /api scope (so behind its bearer token):
 * the organisation import, its template, and printable link-code sheets for a unit's subtree.
 */
export function registerImportApi(api: FastifyInstance, deps: AdminApiDeps): void {
  void api.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: IMPORT_MAX_BYTES, files: 1, fields: 10 } });
    scope.addContentTypeParser(
      RAW_TYPES,
      { parseAs: 'buffer', bodyLimit: IMPORT_MAX_BYTES },
      (_r, body, done) => done(null, body),
    );
    // Too large is a 400 here, as for any other file we cannot take.
    scope.setErrorHandler((error: FastifyError) => {
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || error.code === 'FST_REQ_FILE_TOO_LARGE')
        throw tooLarge();
      throw error;
    });

    scope.post('/import', { bodyLimit: IMPORT_MAX_BYTES }, async (request) => {
      const { dryRun } = importQuery.parse(request.query);
      const file = await uploadedFile(request);
      return importSpreadsheet(deps.db, file, {
        dryRun,
        caller: callerOf(request),
        reorganise: { render: deps.render, now: deps.clock.now(), timeZone: deps.timeZone },
      });
    });

    scope.get('/import/template.xlsx', async (_request, reply) => {
      const unit = SAMPLE_UNITS.find((u) => u.code === 'TD-BINHLU') ?? SAMPLE_UNITS[0];
      const official = SAMPLE_OFFICIALS.find((o) => o.unitCode === unit?.code) ?? SAMPLE_OFFICIALS[0];
      const file = await buildImportTemplate({
        unit: {
          code: unit?.code ?? '',
          name: unit?.name ?? '',
          parentCode: unit?.parentCode ?? null,
          blockCodes: ['KHOI-XA'],
        },
        official: {
          code: official?.code ?? '',
          name: official?.name ?? '',
          unitCode: official?.unitCode ?? '',
          role: 'đầu mối',
          phone: '0912345678',
        },
      });
      return reply
        .header('content-type', XLSX_TYPE)
        .header('content-disposition', 'attachment; filename="mau-nhap-don-vi-can-bo.xlsx"')
        .send(file);
    });

    scope.post('/units/:code/link-codes', async (request, reply) => {
      const { code } = linkCodesParams.parse(request.params);
      const query = linkCodesQuery.parse(request.query);
      const issued = await issueSubtreeLinkCodes(
        deps.db,
        code,
        { roles: query.roles, unlinkedOnly: query.unlinked },
        deps,
        callerOf(request),
      );
      const sheet = {
        unit: issued.unit,
        timeZone: deps.timeZone,
        codes: issued.codes.map((entry) => ({
          ...entry,
          // The first channel with deep links (Telegram's t.me/<bot>?start=CODE).
          link: deps.channels.map((channel) => channel.deepLink?.(entry.code)).find(Boolean),
        })),
      };
      const filename = `ma-lien-ket-${issued.unit.code.replace(/[^A-Za-z0-9_-]/g, '_')}`;
      if (query.format === 'html')
        return reply
          .header('content-type', 'text/html; charset=utf-8')
          .header('content-disposition', `inline; filename="${filename}.html"`)
          .send(await linkCodeHtml(sheet));
      return reply
        .header('content-type', XLSX_TYPE)
        .header('content-disposition', `attachment; filename="${filename}.xlsx"`)
        .send(await linkCodeWorkbook(sheet));
    });
  });
}
