import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { campaignProblems, createCampaign, getCampaign, updateCampaign } from '../services/campaigns.ts';
import type { CampaignPatch, CampaignView } from '../services/campaigns.ts';
import { unitTree, type TreeUnit } from '../services/console-reads.ts';
import { DomainError } from '../services/errors.ts';
import { campaignToManage, requireAdmin } from '../services/scope.ts';
import {
  applyTaskOperation,
  campaignInputFrom,
  campaignValues,
  formErrorsOf,
  newCampaignValues,
  POLICY_DEFAULTS,
  POLICY_FIELDS,
  postedValues,
  type CampaignFormValues,
  type FormErrors,
} from './campaign-form.ts';
import { identityOf, type ConsoleContext } from './context.ts';
import { registerPlanWorkbook } from './plan-workbook.ts';

/** Creating a campaign from the form and changing one (admins of its issuer's subtree only). */

const idParams = z.object({ id: z.string().max(64) });
const formBody = z.record(z.string(), z.unknown()).catch({});

/** Every unit of a tree in tree order, with its depth (the issuer's choices). */
export function flatten(roots: TreeUnit[]): TreeUnit[] {
  const out: TreeUnit[] = [];
  const visit = (unit: TreeUnit) => {
    out.push(unit);
    unit.children.forEach(visit);
  };
  roots.forEach(visit);
  return out;
}

/** The emulation blocks of a tree, with how many of its units belong to each. */
function blocksOf(units: TreeUnit[]): { code: string; units: number }[] {
  const counts = new Map<string, number>();
  for (const unit of units)
    for (const block of unit.blockCodes) counts.set(block, (counts.get(block) ?? 0) + 1);
  return [...counts]
    .map(([code, count]) => ({ code, units: count }))
    .sort((a, b) => a.code.localeCompare(b.code));
}

/** JSON compared with its keys in order: a stored policy and the same one rebuilt by the form are equal. */
function sameJson(a: unknown, b: unknown): boolean {
  const canonical = (value: unknown): unknown =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(
          Object.entries(value)
            .sort(([x], [y]) => x.localeCompare(y))
            .map(([key, inner]) => [key, canonical(inner)]),
        )
      : value;
  const empty = (value: unknown) =>
    value === undefined || (value !== null && typeof value === 'object' && Object.keys(value).length === 0)
      ? null
      : value;
  return JSON.stringify(canonical(empty(a))) === JSON.stringify(canonical(empty(b)));
}

/** A refusal the form shows: 409 when the campaign's number is taken, else 400. */
const statusOf = (error: DomainError | undefined) => (error?.kind === 'conflict' ? 409 : 400);

export function registerCampaignForms(scope: FastifyInstance, context: ConsoleContext): void {
  const { deps, views } = context;
  const { db } = deps;

  const showForm = async (
    request: FastifyRequest,
    reply: FastifyReply,
    page: {
      campaign?: CampaignView;
      values: CampaignFormValues;
      errors?: FormErrors;
      roots: TreeUnit[];
      status?: number;
    },
  ) => {
    const identity = identityOf(request);
    const t = views.t(identity.locale);
    const units = flatten(page.roots);
    // Codes typed that the tree holds are shown ticked in it.
    const inTree = new Set(units.map((unit) => unit.code));
    const typed = page.values.otherUnits.split(/[\s,;]+/).filter(Boolean);
    const values: CampaignFormValues = {
      ...page.values,
      units: [...new Set([...page.values.units, ...typed.filter((code) => inTree.has(code))])],
      otherUnits: typed.filter((code) => !inTree.has(code)).join(', '),
    };
    const errors = page.errors ?? {};
    return views.page(
      reply,
      'campaign-form',
      {
        identity,
        csrf: context.csrfFor(request, reply),
        section: 'campaigns',
        status: page.status ?? (Object.keys(errors).length > 0 ? 400 : 200),
      },
      {
        title: page.campaign ? `${page.campaign.docNumber} · ${t('form.editTitle')}` : t('form.newTitle'),
        campaign: page.campaign ?? null,
        action: page.campaign ? `/console/campaigns/${page.campaign.id}/edit` : '/console/campaigns',
        values,
        errors,
        roots: page.roots,
        issuers: units,
        blocks: blocksOf(units),
        picked: new Set(values.units),
        pickedSubtrees: new Set(values.subtrees),
        pickedBlocks: new Set(values.blocks),
        policyFields: POLICY_FIELDS,
        policyDefaults: POLICY_DEFAULTS,
      },
    );
  };

  const treeOf = (request: FastifyRequest) => unitTree(db, identityOf(request).principal.root?.path ?? null);
  const today = () => DateTime.fromJSDate(deps.clock.now(), { zone: deps.timeZone }).toISODate() ?? '';
  const blank = (request: FastifyRequest, roots: TreeUnit[]) =>
    newCampaignValues(identityOf(request).official?.unit.code ?? roots[0]?.code ?? '', today());

  scope.get('/campaigns/new', async (request, reply) => {
    requireAdmin(identityOf(request).principal);
    const roots = await treeOf(request);
    return showForm(request, reply, { values: blank(request, roots), roots });
  });

  scope.post('/campaigns', async (request, reply) => {
    const identity = identityOf(request);
    requireAdmin(identity.principal);
    const body = formBody.parse(request.body);
    const roots = await treeOf(request);
    const values = postedValues(body, blank(request, roots));
    const op = typeof body.op === 'string' ? body.op : '';
    if (op) {
      values.tasks = applyTaskOperation(values.tasks, op) ?? values.tasks;
      return showForm(request, reply, { values, roots });
    }
    const { input, errors } = campaignInputFrom(values, roots);
    if (Object.keys(errors).length > 0) return showForm(request, reply, { values, errors, roots });
    const caller = { actor: identity.actor, principal: identity.principal };
    const problems = await campaignProblems(db, input, caller);
    if (problems.length > 0) {
      const found = Object.assign(
        {},
        ...problems.map((problem) => formErrorsOf(problem, values)),
      ) as FormErrors;
      return showForm(request, reply, { values, errors: found, roots, status: statusOf(problems[0]) });
    }
    try {
      const created = await createCampaign(db, input, caller);
      return reply.redirect(`/console/campaigns/${created.id}?done=created`, 303);
    } catch (error) {
      if (!(error instanceof DomainError) || error.kind === 'forbidden' || error.kind === 'not_found')
        throw error;
      const found = formErrorsOf(error, values);
      return showForm(request, reply, { values, errors: found, roots, status: statusOf(error) });
    }
  });

  const editable = async (request: FastifyRequest) => {
    const identity = identityOf(request);
    const { id } = idParams.parse(request.params);
    // 404 outside the subtree, 403 for a leader or an admin who only sees part of it.
    await campaignToManage(db, identity.principal, id);
    const [campaign, roots] = await Promise.all([getCampaign(db, id, identity.principal), treeOf(request)]);
    const stored = campaignValues(campaign, new Set(flatten(roots).map((unit) => unit.code)));
    return { identity, campaign, roots, stored };
  };

  scope.get('/campaigns/:id/edit', async (request, reply) => {
    const { campaign, roots, stored } = await editable(request);
    return showForm(request, reply, { campaign, values: stored, roots });
  });

  scope.post('/campaigns/:id/edit', async (request, reply) => {
    const { identity, campaign, roots, stored } = await editable(request);
    const body = formBody.parse(request.body);
    const values = postedValues(body, stored);
    const op = typeof body.op === 'string' ? body.op : '';
    if (op) {
      values.tasks = applyTaskOperation(values.tasks, op) ?? values.tasks;
      return showForm(request, reply, { campaign, values, roots });
    }
    const { input, errors } = campaignInputFrom(values, roots);
    if (Object.keys(errors).length > 0) return showForm(request, reply, { campaign, values, errors, roots });
    const patch: CampaignPatch = {
      title: input.title,
      theme: input.theme,
      kind: input.kind,
      startsOn: input.startsOn,
      endsOn: input.endsOn,
      tasks: input.tasks,
      unitCodes: input.unitCodes,
      ...(sameJson(input.reportSchedule, campaign.reportSchedule)
        ? {}
        : { reportSchedule: input.reportSchedule }),
      ...(sameJson(input.policy, campaign.policy) ? {} : { policy: input.policy }),
    };
    try {
      await updateCampaign(
        db,
        campaign.id,
        patch,
        { actor: identity.actor, principal: identity.principal },
        deps.clock.now(),
      );
      return reply.redirect(`/console/campaigns/${campaign.id}?done=updated`, 303);
    } catch (error) {
      if (!(error instanceof DomainError) || error.kind === 'forbidden' || error.kind === 'not_found')
        throw error;
      const found = formErrorsOf(error, values);
      if (error.code === 'task_has_reports') {
        // The tasks that keep their reports come back to the form (at its end), marked.
        const keys = (error.details as { taskKeys?: string[] }).taskKeys ?? [];
        const kept = campaign.tasks.filter((task) => keys.includes(task.key));
        values.tasks = [...values.tasks, ...kept];
        kept.forEach((_task, i) => {
          found[`task-${values.tasks.length - kept.length + i}-key`] = { key: 'form.errors.keptTask' };
        });
      }
      return showForm(request, reply, { campaign, values, errors: found, roots, status: statusOf(error) });
    }
  });

  registerPlanWorkbook(scope, context);
}
