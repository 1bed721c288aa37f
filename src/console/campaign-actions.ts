import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { resolvePolicy } from '../domain/policy.ts';
import { launchCampaign } from '../services/campaigns.ts';
import { closeCampaign } from '../services/collection.ts';
import { launchPreview } from '../services/launch-preview.ts';
import { campaignToManage } from '../services/scope.ts';
import { ConsoleHttpError, identityOf, type ConsoleContext } from './context.ts';

/**
 * Launching and closing a campaign, each after a page that says what will happen: who the launch reaches,
 * on which channels, and who it cannot reach; that closing stops the reminders and asks every unit for
 * its closing report. The services decide who may (the admins of the issuer's subtree).
 */

const idParams = z.object({ id: z.string().max(64) });

export function registerCampaignActions(scope: FastifyInstance, context: ConsoleContext): void {
  const { deps, views } = context;
  const { db } = deps;

  const acting = (request: FastifyRequest) => {
    const identity = identityOf(request);
    const { id } = idParams.parse(request.params);
    // Without the bot's renderer (a console built without chat) nothing can be announced.
    if (!deps.render) throw new ConsoleHttpError(404, 'errors.notFound');
    return {
      identity,
      id,
      render: deps.render,
      caller: { actor: identity.actor, principal: identity.principal },
    };
  };

  scope.get('/campaigns/:id/launch', async (request, reply) => {
    const { identity, id, caller } = acting(request);
    const preview = await launchPreview(db, id, caller);
    return views.page(
      reply,
      'launch',
      { identity, csrf: context.csrfFor(request, reply), section: 'campaigns' },
      {
        title: `${preview.campaign.docNumber} · ${views.t(identity.locale)('launch.title')}`,
        preview,
        toSend: preview.reachable - preview.alreadySent,
      },
    );
  });

  scope.post('/campaigns/:id/launch', async (request, reply) => {
    const { id, render, caller } = acting(request);
    const result = await launchCampaign(db, id, render, deps.clock.now(), caller);
    return reply.redirect(`/console/campaigns/${id}?done=launched&sent=${result.newlySent}`, 303);
  });

  scope.get('/campaigns/:id/close', async (request, reply) => {
    const { identity, id, caller } = acting(request);
    await campaignToManage(db, caller.principal, id);
    const campaign = await db.campaign.findUniqueOrThrow({
      where: { id },
      select: {
        id: true,
        docNumber: true,
        title: true,
        state: true,
        policy: true,
        _count: { select: { units: true } },
      },
    });
    return views.page(
      reply,
      'close',
      { identity, csrf: context.csrfFor(request, reply), section: 'campaigns' },
      {
        title: `${campaign.docNumber} · ${views.t(identity.locale)('close.title')}`,
        campaign,
        units: campaign._count.units,
        closingDays: resolvePolicy(campaign.policy).closingReportDays,
      },
    );
  });

  scope.post('/campaigns/:id/close', async (request, reply) => {
    const { id, render, caller } = acting(request);
    await closeCampaign({ db, render, timeZone: deps.timeZone }, id, deps.clock.now(), caller);
    return reply.redirect(`/console/campaigns/${id}?done=closed`, 303);
  });
}
