import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Queryable } from '../db/client.ts';
import { canManageCampaign, viewIncludes, type CampaignView } from '../domain/scope.ts';
import { lateItems, nameWithFormer, type UnitRef } from '../domain/summary.ts';
import { listAudit } from '../services/audit.ts';
import type { ConsoleIdentity } from '../services/console-sessions.ts';
import { campaignsWithProgress, unreachableOfficials } from '../services/console-reads.ts';
import { campaignInView } from '../services/scope.ts';
import { campaignRollUp, summaryFromRollUp } from '../services/summaries.ts';
import { ConsoleHttpError, identityOf, type ConsoleContext } from './context.ts';
import { noStore } from './security.ts';
import type { ConsoleT } from './views.ts';

/** The campaign list and each campaign's dashboard, with its live figures, chart and workbook. */

// Any id that is not one of ours is simply not there (404), whatever its length.
const idParams = z.object({ id: z.string() });
const scopeQuery = z.object({
  unit: z
    .string()
    .max(64)
    .regex(/^[\p{L}\p{N}_.\-/]*$/u)
    .optional()
    .catch(undefined),
  v: z.string().max(64).optional().catch(undefined),
});
/** What the page says was just done (after a form or a confirmation sent the operator back here). */
const doneQuery = z.object({
  done: z.enum(['created', 'updated', 'launched', 'closed']).optional().catch(undefined),
  sent: z.coerce.number().int().min(0).optional().catch(undefined),
});

/** How often an open dashboard asks whether its figures changed (ms); a report shows within this. */
export const LIVE_REFRESH_MS = 1500;

export interface ScopedCampaign {
  campaign: { id: string; docNumber: string; title: string; issuerUnitId: string; issuerPath: string };
  view: CampaignView;
  /** The unit whose subtree is shown (undefined: every participant, the whole campaign). */
  unitCode: string | undefined;
  scopePath: string | null;
}

/**
 * A campaign as this operator may see it, narrowed to a unit of it when asked (a drill-down). A campaign
 * or unit outside their view is simply not there: 404, the same as one that does not exist.
 */
export async function scopedCampaign(
  db: Queryable,
  identity: ConsoleIdentity,
  campaignId: string,
  unitCode: string | undefined,
): Promise<ScopedCampaign> {
  const found = await campaignInView(db, identity.principal, campaignId);
  if (!('view' in found)) throw new ConsoleHttpError(404, 'errors.notFound');
  const { view } = found;
  if (!unitCode) {
    if (view.kind === 'whole') return { ...found, unitCode: undefined, scopePath: null };
    const root = identity.official?.unit.code;
    return { ...found, unitCode: root, scopePath: view.path };
  }
  const unit = await db.unit.findUnique({ where: { code: unitCode }, select: { code: true, path: true } });
  if (!unit || !viewIncludes(view, unit.path)) throw new ConsoleHttpError(404, 'errors.notFound');
  return { ...found, unitCode: unit.code, scopePath: unit.path };
}

/**
 * How the dashboard names a unit: a unit formed by a merge during the campaign with what it was formed from,
 * "UBND xã Bình Lư (trước đây: …)", by the rule the chat's summary and the workbook follow (domain/summary.ts nameWithFormer).
 */
export function unitNamer(
  t: ConsoleT,
  formerly: Record<string, UnitRef[]> | undefined,
): (unit: { code?: string; name: string }) => string {
  return (unit) => nameWithFormer(unit, formerly, (names) => t('dashboard.formerly', { names }));
}

/** The units from the top of the view down to the one shown, for the way back up a drill-down. */
async function trail(db: Queryable, scoped: ScopedCampaign) {
  if (!scoped.scopePath) return [];
  const ids = scoped.scopePath.split('/').filter(Boolean);
  const units = await db.unit.findMany({
    where: { id: { in: ids } },
    select: { id: true, code: true, path: true, name: true },
  });
  return units
    .filter((unit) => viewIncludes(scoped.view, unit.path))
    .sort((a, b) => a.path.length - b.path.length)
    .map(({ code, name }) => ({ code, name }));
}

export function registerCampaignPages(scope: FastifyInstance, context: ConsoleContext): void {
  const { deps, views } = context;
  const { db } = deps;

  /** The live part of a dashboard: the figures, the tables, the late and unreported units, the chart. */
  const liveFigures = async (scoped: ScopedCampaign, locale: string) => {
    const now = deps.clock.now();
    const rolled = await campaignRollUp(db, scoped.campaign.id, { unitCode: scoped.unitCode });
    const summary = summaryFromRollUp(rolled, { now, timeZone: deps.timeZone });
    const late = lateItems(rolled.tasks, rolled.units, now, deps.timeZone);
    const version = createHash('sha256')
      .update(JSON.stringify({ summary, late }))
      .digest('base64url')
      .slice(0, 22);
    const html = views.render('live', locale, {
      summary,
      late,
      version,
      now,
      campaignId: scoped.campaign.id,
      unitCode: scoped.unitCode ?? '',
      scopeCode: summary.scope?.code ?? '',
      charts: Boolean(deps.attachments),
      unitName: unitNamer(views.t(locale), summary.formerly),
    });
    return { summary, rolled, version, html };
  };

  scope.get('/', async (request, reply) => {
    const identity = identityOf(request);
    const campaigns = await campaignsWithProgress(db, identity.principal, identity.official?.unit.code, {
      now: deps.clock.now(),
      timeZone: deps.timeZone,
    });
    return views.page(
      reply,
      'campaigns',
      { identity, csrf: context.csrfFor(request, reply), section: 'campaigns' },
      {
        title: views.t(identity.locale)('campaigns.title'),
        campaigns,
        // Creating is for admins (createCampaign refuses anyone else); a leader sees no such button.
        canCreate: identity.principal.role === 'admin',
      },
    );
  });

  scope.get('/campaigns/:id', async (request, reply) => {
    const identity = identityOf(request);
    const { id } = idParams.parse(request.params);
    const query = scopeQuery.parse(request.query);
    const scoped = await scopedCampaign(db, identity, id, query.unit);
    const [campaign, live, unreachable, audit, path] = await Promise.all([
      db.campaign.findUniqueOrThrow({
        where: { id: scoped.campaign.id },
        include: { issuerUnit: { select: { name: true } } },
      }),
      liveFigures(scoped, identity.locale),
      unreachableOfficials(db, scoped.campaign.id, scoped.scopePath),
      listAudit(db, identity.principal, { campaignId: scoped.campaign.id, limit: 20 }),
      trail(db, scoped),
    ]);
    return views.page(
      reply,
      'dashboard',
      { identity, csrf: context.csrfFor(request, reply), section: 'campaigns' },
      {
        title: `${campaign.docNumber} · ${views.t(identity.locale)('dashboard.title')}`,
        campaign,
        scoped,
        live,
        unreachable,
        audit,
        trail: path,
        refreshMs: LIVE_REFRESH_MS,
        unitName: unitNamer(views.t(identity.locale), live.summary.formerly),
        canManage: canManageCampaign(identity.principal, scoped.campaign),
        done: doneQuery.parse(request.query),
      },
    );
  });

  // Asked every LIVE_REFRESH_MS by an open dashboard: 204 while nothing changed, else the new figures.
  scope.get('/campaigns/:id/live', { config: { background: true } }, async (request, reply) => {
    const identity = identityOf(request);
    const { id } = idParams.parse(request.params);
    const query = scopeQuery.parse(request.query);
    const scoped = await scopedCampaign(db, identity, id, query.unit);
    const live = await liveFigures(scoped, identity.locale);
    noStore(reply);
    if (query.v === live.version) return reply.code(204).send();
    return reply.header('x-version', live.version).type('text/html; charset=utf-8').send(live.html);
  });

  const attachment = async (request: FastifyRequest, reply: FastifyReply, type: 'chart' | 'xlsx') => {
    const identity = identityOf(request);
    const { id } = idParams.parse(request.params);
    const query = scopeQuery.parse(request.query);
    const scoped = await scopedCampaign(db, identity, id, query.unit);
    if (!deps.attachments) throw new ConsoleHttpError(404, 'errors.notFound');
    const file = await deps.attachments({
      type,
      campaignId: scoped.campaign.id,
      ...(scoped.unitCode ? { unitCode: scoped.unitCode } : {}),
      locale: identity.locale,
      at: deps.clock.now().toISOString(),
    });
    noStore(reply);
    if (type === 'xlsx') void reply.header('content-disposition', `attachment; filename="${file.filename}"`);
    return reply.type(file.contentType).send(file.bytes);
  };
  scope.get('/campaigns/:id/chart.png', { config: { background: true } }, (request, reply) =>
    attachment(request, reply, 'chart'),
  );
  scope.get('/campaigns/:id/export.xlsx', (request, reply) => attachment(request, reply, 'xlsx'));
}
