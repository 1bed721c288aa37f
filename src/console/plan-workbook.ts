import multipart from '@fastify/multipart';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DateTime } from 'luxon';
import { SAMPLE_UNITS, sampleCampaign } from '../demo/sample-data.ts';
import { PLAN_SHEETS, type PlanError } from '../domain/plan-workbook.ts';
import { DomainError } from '../services/errors.ts';
import { buildPlanTemplate, PLAN_MAX_BYTES, previewPlanWorkbook } from '../services/plan-workbook.ts';
import { requireAdmin } from '../services/scope.ts';
import { identityOf, type ConsoleContext } from './context.ts';
import { noStore } from './security.ts';

/**
 * A campaign from a filled plan workbook: the template, the upload, and what would be created (or every
 * problem, by sheet and row). Confirming posts the campaign as the form would (POST /console/campaigns),
 * so it is created, checked and audited exactly as one typed in.
 */

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export function registerPlanWorkbook(scope: FastifyInstance, context: ConsoleContext): void {
  const { deps, views } = context;

  const showUpload = (
    request: FastifyRequest,
    reply: FastifyReply,
    problems: { file?: string; rows?: PlanError[] } = {},
  ) => {
    const identity = identityOf(request);
    const failed = problems.file !== undefined || (problems.rows?.length ?? 0) > 0;
    return views.page(
      reply,
      'plan-upload',
      { identity, csrf: context.csrfFor(request, reply), section: 'campaigns', status: failed ? 400 : 200 },
      {
        title: views.t(identity.locale)('plan.title'),
        fileError: problems.file ?? '',
        rows: problems.rows ?? [],
        sheets: PLAN_SHEETS,
        maxMb: PLAN_MAX_BYTES / 1024 / 1024,
      },
    );
  };

  scope.get('/campaigns/plan', async (request, reply) => {
    requireAdmin(identityOf(request).principal);
    return showUpload(request, reply);
  });

  scope.get('/campaigns/plan/template.xlsx', async (request, reply) => {
    requireAdmin(identityOf(request).principal);
    const today = DateTime.fromJSDate(deps.clock.now(), { zone: deps.timeZone }).toISODate() ?? '';
    const sample = sampleCampaign(today);
    const file = await buildPlanTemplate(
      {
        ...sample,
        theme: sample.theme ?? null,
        kind: sample.kind ?? 'regular',
        reportSchedule: { cadence: 'quarterly', dueDay: 5 },
      },
      Object.fromEntries(SAMPLE_UNITS.map((unit) => [unit.code, unit.name])),
    );
    noStore(reply);
    return reply
      .type(XLSX_TYPE)
      .header('content-disposition', 'attachment; filename="mau-ke-hoach-phong-trao.xlsx"')
      .send(file);
  });

  // The upload has its own scope: only this route reads multipart bodies.
  void scope.register(async (upload) => {
    await upload.register(multipart, {
      attachFieldsToBody: 'keyValues',
      limits: { fileSize: PLAN_MAX_BYTES, files: 1, fields: 5 },
    });
    upload.setErrorHandler(async (error: FastifyError, request, reply) => {
      if (error.code === 'FST_REQ_FILE_TOO_LARGE')
        return showUpload(request, reply, { file: 'plan.errors.file_too_large' });
      throw error;
    });

    upload.post('/campaigns/plan', async (request, reply) => {
      const identity = identityOf(request);
      requireAdmin(identity.principal);
      const body = (request.body ?? {}) as Record<string, unknown>;
      const file = body.file;
      if (!Buffer.isBuffer(file) || file.length === 0)
        return showUpload(request, reply, { file: 'plan.errors.no_file' });
      let preview;
      try {
        preview = await previewPlanWorkbook(deps.db, file, {
          actor: identity.actor,
          principal: identity.principal,
        });
      } catch (error) {
        if (error instanceof DomainError && error.kind === 'invalid')
          return showUpload(request, reply, { file: `plan.errors.${error.code}` });
        throw error;
      }
      if (!preview.ok) return showUpload(request, reply, { rows: preview.errors });
      return views.page(
        reply,
        'plan-preview',
        { identity, csrf: context.csrfFor(request, reply), section: 'campaigns' },
        { title: views.t(identity.locale)('plan.previewTitle'), preview },
      );
    });
  });
}
