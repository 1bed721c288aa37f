import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { canManage, canRead, covers } from '../domain/scope.ts';
import { endAllSessions } from '../services/console-sessions.ts';
import type { Queryable } from '../db/client.ts';
import type { Principal } from '../domain/scope.ts';
import {
  OFFICIALS_PAGE_MAX,
  officialsOf,
  searchRetiredUnits,
  searchUnits,
  unitTree,
  unreachableReason,
  type TreeUnit,
} from '../services/console-reads.ts';
import { unitHistory, type UnitWithHistory } from '../services/unit-history.ts';
import { ConsoleHttpError, identityOf, type ConsoleContext } from './context.ts';

/**
 * The organisation as far as the operator reaches: the unit tree with its counts, each unit's history
 * (renames, moves, merges, dissolutions), and the officials.
 */

const unitCode = z
  .string()
  .max(64)
  .regex(/^[\p{L}\p{N}_.\-/]*$/u)
  .optional()
  .catch(undefined);
const treeQuery = z.object({ unit: unitCode, q: z.string().max(100).optional().catch(undefined) });
const codeParams = z.object({ code: z.string().min(1).max(64) });
const officialsQuery = treeQuery.extend({ ended: z.string().max(64).optional().catch(undefined) });

/** Channels shown as columns, in this order; others (none today) are listed after them. */
const CHANNELS = ['telegram', 'zalo', 'zalo_oa'];

function findUnit(roots: TreeUnit[], code: string): TreeUnit | undefined {
  for (const unit of roots) {
    if (unit.code === code) return unit;
    const found = findUnit(unit.children, code);
    if (found) return found;
  }
  return undefined;
}

/**
 * How a unit that left the tree left it: merged into another or dissolved into its parent, which unit took
 * it over and from when; `now` is the live unit that stands for it today (after later merges, maybe another).
 */
function departure(unit: UnitWithHistory) {
  if (!unit.now) return null;
  const last = unit.history.findLast(
    (entry) => (entry.kind === 'merged' || entry.kind === 'dissolved') && entry.from === unit.code,
  );
  return {
    kind: last?.kind === 'dissolved' ? 'dissolved' : 'merged',
    into: { code: last?.to ?? unit.now.code, name: last?.toName ?? unit.now.name },
    effectiveOn: last?.effectiveOn ?? null,
    now: unit.now,
  };
}

/**
 * Where a code of a unit that left the tree (merged or dissolved) is answered: its history page, which says
 * where it went. Null for a live unit, an unknown code, or one outside the principal's reach (a 404 then,
 * with no hint that it exists).
 */
export async function retiredUnitPage(
  db: Queryable,
  principal: Principal,
  code: string,
): Promise<string | null> {
  const unit = await db.unit.findUnique({ where: { code }, select: { retiredAt: true } });
  if (!unit?.retiredAt) return null;
  try {
    await unitHistory(db, principal, code);
  } catch {
    return null;
  }
  return `/console/organisation/${encodeURIComponent(code)}/history`;
}

export function registerOrganisationPages(scope: FastifyInstance, context: ConsoleContext): void {
  const { deps, views } = context;
  const { db } = deps;

  scope.get('/organisation', async (request, reply) => {
    const identity = identityOf(request);
    const query = treeQuery.parse(request.query);
    const roots = await unitTree(db, identity.principal.root?.path ?? null);
    const focus = query.unit ? findUnit(roots, query.unit) : undefined;
    if (query.unit && !focus) {
      const retired = await retiredUnitPage(db, identity.principal, query.unit);
      if (retired) return reply.redirect(retired, 303);
      throw new ConsoleHttpError(404, 'errors.notFound');
    }
    const byId = new Map<string, TreeUnit>();
    const index = (unit: TreeUnit) => {
      byId.set(unit.id, unit);
      unit.children.forEach(index);
    };
    roots.forEach(index);
    const ancestors = (unit: TreeUnit) =>
      unit.path
        .split('/')
        .filter(Boolean)
        .slice(0, -1)
        .map((id) => byId.get(id))
        .filter((found): found is TreeUnit => found !== undefined);
    const q = query.q?.trim() ?? '';
    const results = q ? searchUnits(roots, q).map((unit) => ({ unit, ancestors: ancestors(unit) })) : [];
    const retired = q ? await searchRetiredUnits(db, identity.principal.root?.path ?? null, q) : [];
    return views.page(
      reply,
      'organisation',
      { identity, csrf: context.csrfFor(request, reply), section: 'organisation' },
      {
        title: views.t(identity.locale)('organisation.title'),
        roots: focus ? [focus] : roots,
        focus,
        trail: focus ? ancestors(focus) : [],
        q,
        results,
        retired,
        // Levels opened below the top of the page; deeper units open as a page of their own.
        depth: 3,
        // The tree holds only the operator's subtree: an admin manages every unit of it.
        canManage: identity.principal.role === 'admin',
      },
    );
  });

  // A unit's history, oldest first; a unit that left the tree says where it went. Leaders read it too.
  scope.get('/organisation/:code/history', async (request, reply) => {
    const identity = identityOf(request);
    const { code } = codeParams.parse(request.params);
    const unit = await unitHistory(db, identity.principal, code);
    return views.page(
      reply,
      'unit-history',
      { identity, csrf: context.csrfFor(request, reply), section: 'organisation' },
      {
        title: `${unit.name} · ${views.t(identity.locale)('history.title')}`,
        unit,
        departure: departure(unit),
      },
    );
  });

  scope.get('/officials', async (request, reply) => {
    const identity = identityOf(request);
    const query = officialsQuery.parse(request.query);
    const principal = identity.principal;
    let unit: { code: string; name: string; path: string } | null = null;
    if (query.unit) {
      unit = await db.unit.findUnique({
        where: { code: query.unit },
        select: { code: true, name: true, path: true },
      });
      if (!unit || !canRead(principal, unit.path)) throw new ConsoleHttpError(404, 'errors.notFound');
    } else if (identity.official) {
      unit = identity.official.unit;
    }
    const now = deps.clock.now();
    const officials = await officialsOf(db, unit?.path ?? '', now);
    const rows = officials.map((official) => {
      const channels = CHANNELS.map((channel) => {
        const account =
          official.accounts.find((candidate) => candidate.channel === channel && candidate.active) ??
          official.accounts.find((candidate) => candidate.channel === channel);
        if (!account) return { channel, state: 'none' as const };
        if (account.active) return { channel, state: 'linked' as const, since: new Date(account.linkedAt) };
        return { channel, state: unreachableReason(account.reason), detail: account.reason };
      });
      return {
        ...official,
        channels,
        manageable: canManage(principal, official.unitPath),
      };
    });
    return views.page(
      reply,
      'officials',
      { identity, csrf: context.csrfFor(request, reply), section: 'officials' },
      {
        title: views.t(identity.locale)('officials.title'),
        unit,
        rows,
        channels: CHANNELS,
        truncated: officials.length >= OFFICIALS_PAGE_MAX,
        ended: query.ended ?? '',
        canAdd: canManage(principal, unit?.path ?? ''),
      },
    );
  });

  // An admin ends the console sessions of an official of their subtree (a lost phone, a moved post).
  scope.post('/officials/:code/sessions/end', async (request, reply) => {
    const identity = identityOf(request);
    const { code } = codeParams.parse(request.params);
    const official = await db.official.findUnique({
      where: { code },
      select: { id: true, code: true, unitId: true, unit: { select: { code: true, path: true } } },
    });
    if (!official || !covers(identity.principal, official.unit.path))
      throw new ConsoleHttpError(404, 'errors.notFound');
    if (!canManage(identity.principal, official.unit.path))
      throw new ConsoleHttpError(403, 'errors.forbidden');
    await endAllSessions(db, {
      officialId: official.id,
      target: { code: official.code, unitId: official.unitId },
      actor: identity.actor,
      now: deps.clock.now(),
    });
    return reply.redirect(
      `/console/officials?unit=${encodeURIComponent(official.unit.code)}&ended=${encodeURIComponent(official.code)}`,
      303,
    );
  });
}
