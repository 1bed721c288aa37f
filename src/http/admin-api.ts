import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Channel } from '../channels/channel.ts';
import type { Db } from '../db/client.ts';
import { policySchema, reportScheduleSchema } from '../domain/policy.ts';
import { DIGEST_TIME } from '../domain/weekly-digest.ts';
import { callerForSecret } from '../services/api-tokens.ts';
import type { Actor } from '../services/audit.ts';
import {
  exemplarsInView,
  exportUnitInView,
  reportsInView,
  summaryInView,
} from '../services/campaign-reads.ts';
import { closeCampaign } from '../services/collection.ts';
import {
  createCampaign,
  getCampaign,
  launchCampaign,
  listCampaigns,
  updateCampaign,
} from '../services/campaigns.ts';
import { getOfficial, issueLinkCode, upsertOfficial, type LinkCodeKeys } from '../services/officials.ts';
import { eraseOfficial, exportOfficialData } from '../services/personal-data.ts';
import { DomainError } from '../services/errors.ts';
import type { ChaseRenderer, Clock, NewsRenderer, Random } from '../services/ports.ts';
import { requireSupervisor, requireWholeOrganisation } from '../services/scope.ts';
import { upsertUnit } from '../services/units.ts';
import type { AttachmentFile } from '../conversation/attachments.ts';
import type { AttachmentRef } from '../domain/message.ts';
import { code, codeParam, idParam, isoDate } from './api-fields.ts';
import { callerOf, setCaller } from './api-caller.ts';
import { registerAuditApi } from './audit-api.ts';
import { registerImportApi } from './import-api.ts';
import { registerTokensApi } from './tokens-api.ts';
import { registerUnitsApi } from './units-api.ts';

export interface AdminApiDeps {
  db: Db;
  token: string | undefined;
  clock: Clock;
  random: Random;
  render: NewsRenderer & ChaseRenderer;
  timeZone: string;
  channels: Channel[];
  /** The scheduled jobs (GET /api/jobs, POST /api/jobs/:name/run); absent: 404. */
  jobs?: JobsApi | undefined;
  /** Makes the summary workbook and chart (GET /api/campaigns/:id/export.xlsx); absent: 404. */
  attachments?: ((ref: AttachmentRef) => Promise<AttachmentFile>) | undefined;
  /** The keys link codes are hashed with; absent: no code can be issued (config.linkCodeKeys). */
  linkCodeKeys?: LinkCodeKeys | undefined;
}

export interface JobsApi {
  list(now: Date): Promise<unknown[]>;
  /** Undefined when no job has that name. A run by hand (not a dry run) is audited under `actor`. */
  run(name: string, options: { at: Date; dryRun: boolean; now: Date; actor?: Actor }): Promise<unknown>;
}

const text = (max: number) => z.string().trim().min(1).max(max);

const unitBody = z.strictObject({
  name: text(300),
  parentCode: code.nullish(),
  kind: z.string().trim().max(64).nullish(),
  blockCodes: z.array(code).max(50).optional(),
});

const officialBody = z.strictObject({
  name: text(200),
  unitCode: code,
  role: z.enum(['member', 'focal', 'leader', 'admin']),
  phone: z
    .string()
    .trim()
    .regex(/^\+?[0-9 .-]{8,20}$/, 'a phone number')
    .nullish(),
  locale: z.enum(['vi', 'en']).optional(),
  preferredChannel: z
    .string()
    .regex(/^[a-z_]{2,32}$/, 'a channel name such as telegram or zalo')
    .nullish(),
  digest: z
    .strictObject({
      weekday: z.number().int().min(1, '1 (Monday) to 7 (Sunday)').max(7, '1 (Monday) to 7 (Sunday)'),
      time: z.string().regex(DIGEST_TIME, 'a time as HH:mm'),
    })
    .nullable()
    .optional(),
  active: z.boolean().optional(),
});

const taskBody = z.strictObject({
  key: code,
  title: text(1000),
  dueOn: isoDate,
});

const campaignFields = {
  title: text(500),
  theme: z.string().trim().max(1000).nullish(),
  kind: z.enum(['regular', 'thematic', 'special']).optional(),
  startsOn: isoDate,
  endsOn: isoDate,
  unitCodes: z.array(code).min(1).max(20_000),
  tasks: z.array(taskBody).max(200),
  reportSchedule: reportScheduleSchema.nullish(),
  policy: policySchema.nullish(),
};

const campaignBody = z.strictObject({ docNumber: text(100), issuerUnitCode: code, ...campaignFields });
const campaignPatch = z.strictObject(campaignFields).partial();
const summaryQuery = z.object({ unit: code.optional(), block: code.optional() });
const exemplarsQuery = z.object({ unit: code.optional() });
const jobParam = z.object({ name: z.string().min(1).max(64) });
const jobRunBody = z
  .strictObject({ at: z.iso.datetime({ offset: true }).optional(), dryRun: z.boolean().optional() })
  .optional();
const YEAR_MS = 366 * 24 * 3600_000;

/** The admin API of PRODUCT.md. Handlers validate with zod and call services; errors are mapped in server.ts. */
export function registerAdminApi(app: FastifyInstance, deps: AdminApiDeps): void {
  const { db } = deps;

  app.register(
    (api, _opts, done) => {
      // Every call acts as the token's caller: the break-glass ADMIN_API_TOKEN (the whole organisation) or
      // an operator's token (its role over its unit's subtree). Anything else is 401 and changes nothing.
      api.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
        const header = request.headers.authorization ?? '';
        const given = header.startsWith('Bearer ') ? header.slice(7) : '';
        const caller =
          given === ''
            ? null
            : await callerForSecret(db, given, { adminToken: deps.token, now: deps.clock.now() });
        if (caller) {
          setCaller(request, caller);
          return;
        }
        await reply
          .code(401)
          .header('www-authenticate', 'Bearer')
          .send({
            error: { code: 'unauthorized', message: 'a valid bearer token is required', details: null },
          });
      });

      api.put('/units/:code', async (request) => {
        const params = codeParam.parse(request.params);
        return upsertUnit(db, params.code, unitBody.parse(request.body), callerOf(request));
      });

      api.put('/officials/:code', async (request) => {
        const params = codeParam.parse(request.params);
        return upsertOfficial(db, params.code, officialBody.parse(request.body), callerOf(request), {
          now: deps.clock.now(),
        });
      });

      api.get('/officials/:code', async (request) =>
        getOfficial(db, codeParam.parse(request.params).code, callerOf(request).principal),
      );

      api.post('/officials/:code/erase', async (request) => {
        const erased = await eraseOfficial(
          db,
          codeParam.parse(request.params).code,
          deps.clock.now(),
          callerOf(request),
        );
        return { ...erased, erasedAt: erased.erasedAt.toISOString() };
      });

      api.get('/officials/:code/export', async (request, reply) => {
        const { code: officialCode } = codeParam.parse(request.params);
        const data = await exportOfficialData(db, officialCode, deps.clock.now(), callerOf(request));
        return reply
          .header('cache-control', 'no-store')
          .header(
            'content-disposition',
            `attachment; filename="official-${officialCode.replace(/[^A-Za-z0-9_.-]/g, '_')}.json"`,
          )
          .send(data);
      });

      api.post('/officials/:code/link-codes', async (request, reply) => {
        const params = codeParam.parse(request.params);
        const issued = await issueLinkCode(db, params.code, deps, callerOf(request));
        const links: Record<string, string> = {};
        for (const channel of deps.channels) {
          const link = channel.deepLink?.(issued.code);
          if (link) links[channel.name] = link;
        }
        return reply.code(201).send({ code: issued.code, expiresAt: issued.expiresAt.toISOString(), links });
      });

      api.post('/campaigns', async (request, reply) => {
        const body = campaignBody.parse(request.body);
        return reply.code(201).send(await createCampaign(db, body, callerOf(request)));
      });

      api.get('/campaigns', async (request) => listCampaigns(db, callerOf(request).principal));

      api.get('/campaigns/:id', async (request) =>
        getCampaign(db, idParam.parse(request.params).id, callerOf(request).principal),
      );

      api.patch('/campaigns/:id', async (request) => {
        const { id } = idParam.parse(request.params);
        return updateCampaign(
          db,
          id,
          campaignPatch.parse(request.body ?? {}),
          callerOf(request),
          deps.clock.now(),
        );
      });

      api.post('/campaigns/:id/launch', async (request, reply) => {
        const { id } = idParam.parse(request.params);
        const result = await launchCampaign(db, id, deps.render, deps.clock.now(), callerOf(request));
        return reply.code(202).send(result);
      });

      api.get('/campaigns/:id/summary', async (request) => {
        const { id } = idParam.parse(request.params);
        const query = summaryQuery.parse(request.query);
        return summaryInView(db, callerOf(request).principal, id, {
          unitCode: query.unit,
          block: query.block,
          now: deps.clock.now(),
          timeZone: deps.timeZone,
        });
      });

      api.get('/campaigns/:id/export.xlsx', async (request, reply) => {
        const { id } = idParam.parse(request.params);
        const query = summaryQuery.extend({ lang: z.enum(['vi', 'en']).optional() }).parse(request.query);
        if (!deps.attachments)
          throw new DomainError('not_found', 'exports are not available', {}, 'not_found');
        const unitCode = await exportUnitInView(db, callerOf(request).principal, id, query.unit);
        const file = await deps.attachments({
          type: 'xlsx',
          campaignId: id,
          ...(unitCode ? { unitCode } : {}),
          ...(query.block ? { block: query.block } : {}),
          locale: query.lang ?? 'vi',
          at: deps.clock.now().toISOString(),
        });
        return reply
          .header('content-type', file.contentType)
          .header('content-disposition', `attachment; filename="${file.filename}"`)
          .send(file.bytes);
      });

      api.post('/campaigns/:id/close', async (request) => {
        const { id } = idParam.parse(request.params);
        return closeCampaign(
          { db, render: deps.render, timeZone: deps.timeZone },
          id,
          deps.clock.now(),
          callerOf(request),
        );
      });

      api.get('/jobs', async (request) => {
        requireSupervisor(callerOf(request).principal);
        if (!deps.jobs) return [];
        return deps.jobs.list(deps.clock.now());
      });

      api.post('/jobs/:name/run', async (request) => {
        const { name } = jobParam.parse(request.params);
        const caller = callerOf(request);
        // A job sweeps every unit: running one (even dry, which shows everyone's messages) is for the
        // whole organisation's admins.
        requireWholeOrganisation(caller.principal);
        const body = jobRunBody.parse(request.body) ?? {};
        const now = deps.clock.now();
        const at = body.at ? new Date(body.at) : now;
        const dryRun = body.dryRun ?? false;
        if (!dryRun && Math.abs(at.getTime() - now.getTime()) > YEAR_MS) {
          throw new DomainError(
            'at_out_of_range',
            'at is more than a year from now; only a dry run may go that far',
            {
              at: at.toISOString(),
            },
          );
        }
        const result = deps.jobs
          ? await deps.jobs.run(name, { at, dryRun, now, actor: caller.actor })
          : undefined;
        if (result === undefined)
          throw new DomainError('not_found', `job ${name} does not exist`, { job: name }, 'not_found');
        return result;
      });

      api.get('/campaigns/:id/reports', async (request) =>
        reportsInView(db, callerOf(request).principal, idParam.parse(request.params).id),
      );

      api.get('/campaigns/:id/exemplars', async (request) => {
        const { id } = idParam.parse(request.params);
        const query = exemplarsQuery.parse(request.query);
        const exemplars = await exemplarsInView(db, callerOf(request).principal, id, query.unit);
        return {
          exemplars: exemplars.map((exemplar) => ({
            ...exemplar,
            createdAt: exemplar.createdAt.toISOString(),
          })),
        };
      });

      registerImportApi(api, deps);
      registerTokensApi(api, deps);
      registerUnitsApi(api, deps);
      registerAuditApi(api, deps);
      done();
    },
    { prefix: '/api' },
  );
}
