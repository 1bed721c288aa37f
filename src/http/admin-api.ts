import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Channel } from '../channels/channel.ts';
import type { Db } from '../db/client.ts';
import { isValidIsoDate } from '../domain/time.ts';
import {
  createCampaign,
  getCampaign,
  launchCampaign,
  listCampaigns,
  updateCampaign,
} from '../services/campaigns.ts';
import { issueLinkCode, upsertOfficial } from '../services/officials.ts';
import type { Clock, NewsRenderer, Random } from '../services/ports.ts';
import { campaignSummary, latestReports } from '../services/summaries.ts';
import { upsertUnit } from '../services/units.ts';

export interface AdminApiDeps {
  db: Db;
  token: string | undefined;
  clock: Clock;
  random: Random;
  render: NewsRenderer;
  timeZone: string;
  channels: Channel[];
}

const code = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[\p{L}\p{N}_.\-/]+$/u, 'letters, digits, _ . - / only');
const text = (max: number) => z.string().trim().min(1).max(max);
const isoDate = z.string().refine(isValidIsoDate, 'a date as YYYY-MM-DD');
const codeParam = z.object({ code });
const idParam = z.object({ id: z.string().min(1).max(64) });

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
});

const taskBody = z.strictObject({
  key: code,
  title: text(1000),
  dueOn: isoDate,
});

const scheduleBody = z.strictObject({
  cadence: z.enum(['monthly', 'quarterly', 'half-yearly', 'yearly']),
  dueDay: z.number().int().min(0).max(60).optional(),
});

const campaignFields = {
  title: text(500),
  theme: z.string().trim().max(1000).nullish(),
  kind: z.enum(['regular', 'thematic', 'special']).optional(),
  startsOn: isoDate,
  endsOn: isoDate,
  unitCodes: z.array(code).min(1).max(20_000),
  tasks: z.array(taskBody).max(200),
  reportSchedule: scheduleBody.nullish(),
  policy: z.record(z.string(), z.unknown()).nullish(),
};

const campaignBody = z.strictObject({ docNumber: text(100), issuerUnitCode: code, ...campaignFields });
const campaignPatch = z.strictObject(campaignFields).partial();
const summaryQuery = z.object({ unit: code.optional() });

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The admin API of PRODUCT.md. Handlers validate with zod and call services; errors are mapped in server.ts. */
export function registerAdminApi(app: FastifyInstance, deps: AdminApiDeps): void {
  const { db } = deps;

  app.register(
    (api, _opts, done) => {
      api.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
        const header = request.headers.authorization ?? '';
        const given = header.startsWith('Bearer ') ? header.slice(7) : '';
        if (!deps.token || !safeEqual(given, deps.token)) {
          await reply
            .code(401)
            .header('www-authenticate', 'Bearer')
            .send({
              error: { code: 'unauthorized', message: 'a valid bearer token is required', details: null },
            });
        }
      });

      api.put('/units/:code', async (request) => {
        const params = codeParam.parse(request.params);
        return upsertUnit(db, params.code, unitBody.parse(request.body));
      });

      api.put('/officials/:code', async (request) => {
        const params = codeParam.parse(request.params);
        return upsertOfficial(db, params.code, officialBody.parse(request.body));
      });

      api.post('/officials/:code/link-codes', async (request, reply) => {
        const params = codeParam.parse(request.params);
        const issued = await issueLinkCode(db, params.code, deps);
        const links: Record<string, string> = {};
        for (const channel of deps.channels) {
          const link = channel.deepLink?.(issued.code);
          if (link) links[channel.name] = link;
        }
        return reply.code(201).send({ code: issued.code, expiresAt: issued.expiresAt.toISOString(), links });
      });

      api.post('/campaigns', async (request, reply) => {
        const body = campaignBody.parse(request.body);
        return reply.code(201).send(await createCampaign(db, body));
      });

      api.get('/campaigns', async () => listCampaigns(db));

      api.get('/campaigns/:id', async (request) => getCampaign(db, idParam.parse(request.params).id));

      api.patch('/campaigns/:id', async (request) => {
        const { id } = idParam.parse(request.params);
        return updateCampaign(db, id, campaignPatch.parse(request.body ?? {}));
      });

      api.post('/campaigns/:id/launch', async (request, reply) => {
        const { id } = idParam.parse(request.params);
        const result = await launchCampaign(db, id, deps.render, deps.clock.now());
        return reply.code(202).send(result);
      });

      api.get('/campaigns/:id/summary', async (request) => {
        const { id } = idParam.parse(request.params);
        const query = summaryQuery.parse(request.query);
        const summary = await campaignSummary(db, id, {
          unitCode: query.unit,
          now: deps.clock.now(),
          timeZone: deps.timeZone,
        });
        return {
          campaign: summary.campaign,
          units: summary.units,
          tasks: summary.tasks,
          lateUnits: summary.lateUnits,
        };
      });

      api.get('/campaigns/:id/reports', async (request) =>
        latestReports(db, idParam.parse(request.params).id),
      );

      done();
    },
    { prefix: '/api' },
  );
}
