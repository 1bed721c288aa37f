import { randomUUID } from 'node:crypto';
import type { Db, Queryable, Tx } from '../db/client.ts';
import { covers, type Principal } from '../domain/scope.ts';
import { isWithin, unitPath } from '../domain/unit-tree.ts';
import { fieldChanges, recordAudit, SYSTEM_CALLER, type AuditEntry, type Caller } from './audit.ts';
import { DomainError, notFound } from './errors.ts';
import { requireAdmin } from './scope.ts';
import { recordUnitEvents, unitHistory, type UnitEventInput } from './unit-history.ts';

export interface UnitInput {
  name: string;
  parentCode?: string | null | undefined;
  kind?: string | null | undefined;
  blockCodes?: string[] | undefined;
}

export interface UnitView {
  code: string;
  name: string;
  parentCode: string | null;
  kind: string | null;
  blockCodes: string[];
}

/**
 * Serialises the changes of the tree (an upsert, a merge or dissolution, an import): a move and a
 * concurrent move under it could otherwise form a cycle, and a plan is made against a tree that stays put.
 */
export const lockUnitTree = (tx: Tx) => tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('unit-tree'))`;

/** A transaction that changes many units at once (a merge, a dissolution, an import), under the tree lock. */
export function changeTree<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  return db.$transaction(
    async (tx) => {
      await lockUnitTree(tx);
      return work(tx);
    },
    { timeout: 120_000, maxWait: 30_000 },
  );
}

/**
 * Creates or updates a unit by its code; moving it carries its whole subtree along. The caller must be an
 * admin, the unit (when it exists) and its parent must lie in their subtree (else they are unknown to them),
 * and the unit must stay there; its own current parent is fine (renaming the root of one's subtree). Each
 * rename, move and other change is an audit row in the same transaction, and creations, renames and moves
 * are the unit's history (UnitEvent). A unit that has left the tree (merged, dissolved) cannot be changed
 * (409), nor be a parent.
 */
export async function upsertUnit(
  db: Db,
  code: string,
  input: UnitInput,
  caller: Caller = SYSTEM_CALLER,
): Promise<UnitView> {
  const { principal } = caller;
  requireAdmin(principal);
  return db.$transaction(async (tx) => {
    await lockUnitTree(tx);
    const existing = await tx.unit.findUnique({
      where: { code },
      include: { parent: { select: { code: true } } },
    });
    if (existing && !covers(principal, existing.path)) throw notFound('unit', code);
    if (existing?.retiredAt) throw await retiredError(tx, existing, 'code', 'conflict');
    const found = input.parentCode ? await tx.unit.findUnique({ where: { code: input.parentCode } }) : null;
    if (found?.retiredAt && (covers(principal, found.path) || found.id === existing?.parentId))
      throw await retiredError(tx, found, 'parentCode', 'invalid');
    const parent = found && (covers(principal, found.path) || found.id === existing?.parentId) ? found : null;
    if (input.parentCode && !parent) {
      throw new DomainError('unknown_parent', `parent unit ${input.parentCode} does not exist`, {
        parentCode: input.parentCode,
      });
    }
    if (existing && parent && isWithin(parent.path, existing.path)) {
      throw new DomainError('cycle', `unit ${code} cannot be placed under itself or its own descendant`, {
        parentCode: input.parentCode,
      });
    }
    const id = existing?.id ?? randomUUID();
    const path = unitPath(parent?.path ?? null, id);
    if (!covers(principal, path)) {
      throw new DomainError('parent_required', 'give parentCode: a unit of your own subtree', {
        parentCode: input.parentCode ?? null,
      });
    }
    const data = {
      name: input.name,
      kind: input.kind ?? null,
      blockCodes: input.blockCodes ?? existing?.blockCodes ?? [],
      parentId: parent?.id ?? null,
      path,
    };
    if (!existing) {
      await tx.unit.create({ data: { id, code, ...data } });
    } else {
      await tx.unit.update({ where: { id }, data });
      if (existing.path !== path) {
        await tx.$executeRaw`
          UPDATE "Unit" SET path = ${path}::text || substring(path FROM ${existing.path.length + 1}::int)
          WHERE path LIKE ${existing.path + '%'} AND id <> ${id}::uuid`;
      }
    }
    const view = {
      code,
      name: data.name,
      parentCode: parent?.code ?? null,
      kind: data.kind,
      blockCodes: data.blockCodes,
    };
    await recordAudit(tx, ...unitAudit(existing ? unitViewOf(existing) : null, view, id, caller));
    await recordUnitEvents(
      tx,
      caller.actor,
      unitEvents(existing ? unitViewOf(existing) : null, view, id, parent?.id ?? null),
    );
    return view;
  });
}

/** A unit's creation, rename and move as its history records them. */
function unitEvents(
  before: UnitView | null,
  after: UnitView,
  unitId: string,
  parentId: string | null,
): UnitEventInput[] {
  if (!before) return [{ unitId, kind: 'created', to: after.name, relatedUnitId: parentId }];
  const events: UnitEventInput[] = [];
  if (before.name !== after.name) events.push({ unitId, kind: 'renamed', from: before.name, to: after.name });
  if (before.parentCode !== after.parentCode)
    events.push({
      unitId,
      kind: 'moved',
      from: before.parentCode,
      to: after.parentCode,
      relatedUnitId: parentId,
    });
  return events;
}

/** The refusal for a unit that has left the tree, naming where it went. */
export async function retiredError(
  db: Queryable,
  unit: { code: string; successorId: string | null },
  field: string,
  kind: 'invalid' | 'conflict',
): Promise<DomainError> {
  const successor = unit.successorId
    ? await db.unit.findUnique({ where: { id: unit.successorId }, select: { code: true } })
    : null;
  return new DomainError(
    'unit_retired',
    `unit ${unit.code} has left the organisation${successor ? `: it went into ${successor.code}` : ''}`,
    { field, code: unit.code, successor: successor?.code ?? null },
    kind,
  );
}

const unitViewOf = (unit: {
  code: string;
  name: string;
  kind: string | null;
  blockCodes: string[];
  parent: { code: string } | null;
}): UnitView => ({
  code: unit.code,
  name: unit.name,
  parentCode: unit.parent?.code ?? null,
  kind: unit.kind,
  blockCodes: unit.blockCodes,
});

/** A new unit is one row; a changed one a row per kind of change (renamed, moved, other fields). */
function unitAudit(before: UnitView | null, after: UnitView, unitId: string, caller: Caller): AuditEntry[] {
  const entry = (action: string, changes: Record<string, unknown>): AuditEntry => ({
    actor: caller.actor,
    action,
    target: { kind: 'unit', id: unitId, code: after.code },
    unitId,
    changes,
  });
  if (!before) {
    const { code: _code, ...fields } = after;
    return [entry('unit.create', fields)];
  }
  const entries: AuditEntry[] = [];
  if (before.name !== after.name) entries.push(entry('unit.rename', { name: [before.name, after.name] }));
  if (before.parentCode !== after.parentCode)
    entries.push(entry('unit.move', { parentCode: [before.parentCode, after.parentCode] }));
  const other = fieldChanges(before, after, ['kind', 'blockCodes']);
  if (other) entries.push(entry('unit.update', other));
  return entries;
}

export async function getUnit(db: Queryable, code: string): Promise<UnitView> {
  const unit = await db.unit.findUnique({ where: { code }, include: { parent: { select: { code: true } } } });
  if (!unit) throw notFound('unit', code);
  return {
    code: unit.code,
    name: unit.name,
    parentCode: unit.parent?.code ?? null,
    kind: unit.kind,
    blockCodes: unit.blockCodes,
  };
}

export interface UnitDescription extends UnitView {
  /** active: in the tree; merged, dissolved: it left the tree, and `successor` took it over. */
  state: 'active' | 'merged' | 'dissolved';
  successor?: { code: string; name?: string | undefined; since: string };
  /** The live unit that stands for it now (the end of its successors' chain). */
  now?: { code: string; name: string };
}

/**
 * A unit by code as a supervisor of its subtree reads it; an old code answers where it went (the unit it
 * was merged or dissolved into, and the live unit that stands for it now).
 */
export async function describeUnit(
  db: Queryable,
  principal: Principal,
  code: string,
): Promise<UnitDescription> {
  const { now, history } = await unitHistory(db, principal, code);
  const view = await getUnit(db, code);
  const end = history.findLast(
    (entry) => (entry.kind === 'merged' || entry.kind === 'dissolved') && entry.from === code,
  );
  if (!end?.to || (end.kind !== 'merged' && end.kind !== 'dissolved')) return { ...view, state: 'active' };
  return {
    ...view,
    state: end.kind,
    successor: { code: end.to, name: end.toName, since: end.effectiveOn ?? end.at.slice(0, 10) },
    ...(now ? { now } : {}),
  };
}
