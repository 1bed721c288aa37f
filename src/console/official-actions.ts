import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Queryable } from '../db/client.ts';
import { getOfficial, upsertOfficial, type OfficialView } from '../services/officials.ts';
import { eraseOfficial, exportOfficialData } from '../services/personal-data.ts';
import { requireAdmin } from '../services/scope.ts';
import { formText, type FormErrors } from './campaign-form.ts';
import { identityOf, type ConsoleContext } from './context.ts';
import { noStore } from './security.ts';

/**
 * Taking an official's access away and giving it back, erasing their personal data, and exporting what is
 * kept about them (Decree 13/2023/NĐ-CP), each from the official's page. Deactivating and erasing come after
 * a page that says what will happen (erasing also asks for the official's code to be typed). The services
 * decide who may (an admin of the official's subtree) and write the audit rows.
 */

const codeParams = z.object({ code: z.string().min(1).max(64) });

/** Where an official stands: deactivated since when, erased when (what OfficialView does not say). */
export interface OfficialStanding {
  active: boolean;
  deactivatedAt: Date | null;
  erasedAt: Date | null;
  unitName: string;
  /** Console sessions still open: deactivating ends them. */
  sessions: number;
}

/** Read after a service answered that the official is the caller's to see. */
export async function officialStanding(db: Queryable, code: string, now: Date): Promise<OfficialStanding> {
  const official = await db.official.findUniqueOrThrow({
    where: { code },
    select: {
      active: true,
      deactivatedAt: true,
      erasedAt: true,
      unit: { select: { name: true } },
      _count: { select: { consoleSessions: { where: { endedAt: null, expiresAt: { gt: now } } } } },
    },
  });
  return {
    active: official.active,
    deactivatedAt: official.deactivatedAt,
    erasedAt: official.erasedAt,
    unitName: official.unit.name,
    sessions: official._count.consoleSessions,
  };
}

/** The official as stored, with only `active` changed: what PUT /api/officials/:code takes to (de)activate. */
const withActive = (view: OfficialView, active: boolean) => ({
  name: view.name,
  unitCode: view.unitCode,
  role: view.role,
  phone: view.phone,
  locale: view.locale === 'en' ? ('en' as const) : ('vi' as const),
  preferredChannel: view.preferredChannel,
  digest: view.digest,
  active,
});

/** A code typed to confirm, as codes are printed: spaces around and letter case do not matter. */
const sameCode = (typed: string, code: string) => typed.trim().toUpperCase() === code.toUpperCase();

export function registerOfficialActions(scope: FastifyInstance, context: ConsoleContext): void {
  const { deps, views } = context;
  const { db } = deps;

  /** An admin acting on an official of their subtree: a leader is refused (403), anyone else's is 404. */
  const acting = async (request: FastifyRequest) => {
    const identity = identityOf(request);
    requireAdmin(identity.principal);
    const { code } = codeParams.parse(request.params);
    const view = await getOfficial(db, code, identity.principal);
    return { identity, view, caller: { actor: identity.actor, principal: identity.principal } };
  };
  const edited = (reply: FastifyReply, code: string, done: string) =>
    reply.redirect(`/console/officials/${encodeURIComponent(code)}/edit?done=${done}`, 303);

  const confirmation = async (
    request: FastifyRequest,
    reply: FastifyReply,
    template: 'official-deactivate' | 'official-erase',
    extra: { errors?: FormErrors; typed?: string } = {},
  ) => {
    const { identity, view } = await acting(request);
    return confirmationPage(request, reply, template, { identity, view }, extra);
  };
  const confirmationPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    template: 'official-deactivate' | 'official-erase',
    { identity, view }: Pick<Awaited<ReturnType<typeof acting>>, 'identity' | 'view'>,
    extra: { errors?: FormErrors; typed?: string } = {},
  ) => {
    const standing = await officialStanding(db, view.code, deps.clock.now());
    const errors = extra.errors ?? {};
    return views.page(
      reply,
      template,
      {
        identity,
        csrf: context.csrfFor(request, reply),
        section: 'officials',
        status: Object.keys(errors).length > 0 ? 400 : 200,
      },
      {
        title: `${view.name} · ${views.t(identity.locale)(`${template === 'official-erase' ? 'erase' : 'deactivate'}.title`)}`,
        official: view,
        standing,
        linked: view.channels.filter((channel) => channel.active).map((channel) => channel.channel),
        self: identity.official?.code === view.code,
        errors,
        typed: extra.typed ?? '',
      },
    );
  };

  scope.get('/officials/:code/deactivate', (request, reply) =>
    confirmation(request, reply, 'official-deactivate'),
  );

  scope.post('/officials/:code/deactivate', async (request, reply) => {
    const { view, caller } = await acting(request);
    await upsertOfficial(db, view.code, withActive(view, false), caller, { now: deps.clock.now() });
    return edited(reply, view.code, 'deactivated');
  });

  scope.post('/officials/:code/reactivate', async (request, reply) => {
    const { view, caller } = await acting(request);
    await upsertOfficial(db, view.code, withActive(view, true), caller, { now: deps.clock.now() });
    return edited(reply, view.code, 'reactivated');
  });

  scope.get('/officials/:code/erase', (request, reply) => confirmation(request, reply, 'official-erase'));

  scope.post('/officials/:code/erase', async (request, reply) => {
    const { identity, view, caller } = await acting(request);
    const typed = formText((request.body as Record<string, unknown> | undefined)?.confirm);
    if (!sameCode(typed, view.code)) {
      const key = typed.trim() === '' ? 'form.errors.required' : 'erase.mismatch';
      const errors = { confirm: { key } };
      return confirmationPage(request, reply, 'official-erase', { identity, view }, { errors, typed });
    }
    await eraseOfficial(db, view.code, deps.clock.now(), caller);
    return edited(reply, view.code, 'erased');
  });

  // A subject-access request: everything kept about the official, as one JSON file (its own audit row).
  scope.post('/officials/:code/export', async (request, reply) => {
    const { view, caller } = await acting(request);
    const data = await exportOfficialData(db, view.code, deps.clock.now(), caller);
    noStore(reply);
    return reply
      .type('application/json; charset=utf-8')
      .header(
        'content-disposition',
        `attachment; filename="can-bo-${view.code.replace(/[^A-Za-z0-9_.-]/g, '_')}.json"`,
      )
      .send(JSON.stringify(data, null, 2));
  });
}
