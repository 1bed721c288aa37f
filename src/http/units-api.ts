import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { dissolveUnit, mergeUnits } from '../services/reorganise.ts';
import { unitHistory } from '../services/unit-history.ts';
import { describeUnit } from '../services/units.ts';
import type { AdminApiDeps } from './admin-api.ts';
import { code, codeParam, isoDate } from './api-fields.ts';
import { callerOf } from './api-caller.ts';

const mergeBody = z.strictObject({
  from: z.array(code).min(1).max(1_000),
  into: z.strictObject({
    code,
    name: z.string().trim().min(1).max(300).optional(),
    parentCode: code.nullish(),
    blockCodes: z.array(code).max(50).optional(),
  }),
  effectiveOn: isoDate.optional(),
});
const dissolveBody = z.strictObject({ effectiveOn: isoDate.optional() }).optional();

/**
 * The organisation's changes with history (PRODUCT.md): merges, dissolved levels, a unit's history, and a
 * unit by code (a unit that left the tree says where it went). Registered inside the admin API's /api scope.
 */
export function registerUnitsApi(api: FastifyInstance, deps: AdminApiDeps): void {
  const reorganise = () => ({
    db: deps.db,
    render: deps.render,
    now: deps.clock.now(),
    timeZone: deps.timeZone,
  });

  api.post('/units/merge', async (request) =>
    mergeUnits(reorganise(), mergeBody.parse(request.body), callerOf(request)),
  );

  api.post('/units/:code/dissolve', async (request) => {
    const { code: unitCode } = codeParam.parse(request.params);
    return dissolveUnit(reorganise(), unitCode, dissolveBody.parse(request.body) ?? {}, callerOf(request));
  });

  api.get('/units/:code/history', async (request) => {
    const { code: unitCode } = codeParam.parse(request.params);
    return (await unitHistory(deps.db, callerOf(request).principal, unitCode)).history;
  });

  api.get('/units/:code', async (request) =>
    describeUnit(deps.db, callerOf(request).principal, codeParam.parse(request.params).code),
  );
}
