import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import type { Db, Tx } from '../db/client.ts';
import { covers, type Principal } from '../domain/scope.ts';
import {
  planDissolve,
  planMerge,
  type MergePlan,
  type Refusal,
  type TreeNode,
} from '../domain/reorganisation.ts';
import { isoDate, isValidIsoDate } from '../domain/time.ts';
import { recordAudit, SYSTEM_CALLER, type AuditEntry, type Caller } from './audit.ts';
import { DomainError, notFound } from './errors.ts';
import { writeOutbox, type OutboxItem } from './outbox.ts';
import type { NewsRenderer } from './ports.ts';
import { tasksForUnit } from './reports.ts';
import { requireAdmin } from './scope.ts';
import { transferToSuccessor, type TransferResult } from './succession.ts';
import { activeAccounts, recipientOf } from './sweeps.ts';
import { recordUnitEvents, type UnitEventInput } from './unit-history.ts';
import { changeTree, type UnitView } from './units.ts';

/*
 * Merging units and dissolving a level (POST /api/units/merge, POST /api/units/:code/dissolve, the import's
 * "sáp nhập vào" column): the decision is domain/reorganisation.ts, the moves succession.ts; here are the
 * transaction, its lock, the history, the audit and the one notice to each official whose unit changed.
 */

export interface ReorganiseDeps {
  db: Db;
  render: NewsRenderer;
  now: Date;
  timeZone: string;
}

export interface MergeInput {
  from: string[];
  into: {
    code: string;
    name?: string | null | undefined;
    parentCode?: string | null | undefined;
    blockCodes?: string[] | undefined;
  };
  /** YYYY-MM-DD in TZ_DEFAULT; default: today. */
  effectiveOn?: string | undefined;
}

export interface ReorganiseResult extends UnitView {
  /** The units that went into it, as they were called. */
  mergedFrom: { code: string; name: string }[];
  effectiveOn: string;
  /** Officials who now belong to it, and how many were told (those with a chat). */
  officialsMoved: number;
  notified: number;
}

const today = (deps: ReorganiseDeps) =>
  DateTime.fromJSDate(deps.now, { zone: deps.timeZone }).toISODate() ?? '';

/** A refusal of the domain as the API answers it: 400 naming the field. */
const refused = (refusal: Refusal) =>
  new DomainError(refusal.code, refusal.message, { field: refusal.field, ...refusal.details });

function when(deps: ReorganiseDeps, effectiveOn: string | undefined) {
  if (effectiveOn !== undefined && !isValidIsoDate(effectiveOn))
    throw new DomainError('invalid_date', 'effectiveOn: a date as YYYY-MM-DD', { field: 'effectiveOn' });
  return { effectiveOn, today: today(deps) };
}

interface NodeRow extends Omit<TreeNode, 'createdOn'> {
  createdAt: Date;
  createdEffective: Date | null;
}

/**
 * The units a request names and the parents of those (where a new unit would stand), as the caller sees
 * them: a named unit outside their subtree is left out, so it is unknown to them.
 */
export async function loadNodes(
  tx: Tx,
  codes: string[],
  principal: Principal,
  timeZone: string,
): Promise<Map<string, TreeNode>> {
  const rows = await tx.$queryRaw<NodeRow[]>`
    SELECT u.id, u.code, u.name, u.kind, u."blockCodes", u."parentId", u.path, u."createdAt",
      (SELECT e."effectiveOn" FROM "UnitEvent" e WHERE e."unitId" = u.id AND e.kind = 'created'
       ORDER BY e.seq LIMIT 1) AS "createdEffective",
      CASE WHEN u."retiredAt" IS NOT NULL THEN COALESCE(s.code, '') END AS "retiredInto"
    FROM "Unit" u LEFT JOIN "Unit" s ON s.id = u."successorId"
    WHERE u.code = ANY(${codes}::text[])
      OR u.id IN (SELECT n."parentId" FROM "Unit" n WHERE n.code = ANY(${codes}::text[]))`;
  const nodes = new Map<string, TreeNode>();
  for (const { createdAt, createdEffective, ...row } of rows) {
    if (codes.includes(row.code) && !covers(principal, row.path)) continue;
    nodes.set(row.code, {
      ...row,
      createdOn: createdEffective
        ? isoDate(createdEffective)
        : (DateTime.fromJSDate(createdAt, { zone: timeZone }).toISODate() ?? ''),
    });
  }
  return nodes;
}

/**
 * Merges the units of `from` into one: a new unit, or the existing one named in `into.code` (renamed, or
 * moved, when `into` says so). Everything they had passes to it (succession.ts), they leave the tree, and
 * their officials are told once. Refused with 400 naming the field, nothing changed: unknown codes, a unit
 * into itself or its descendant, an effective date before a unit's creation…
 */
export async function mergeUnits(
  deps: ReorganiseDeps,
  input: MergeInput,
  caller: Caller = SYSTEM_CALLER,
): Promise<ReorganiseResult> {
  requireAdmin(caller.principal);
  const dates = when(deps, input.effectiveOn);
  return changeTree(deps.db, async (tx) => {
    const named = [...input.from, input.into.code, ...(input.into.parentCode ? [input.into.parentCode] : [])];
    const nodes = await loadNodes(tx, named, caller.principal, deps.timeZone);
    // A successor's code taken outside the caller's subtree: as PUT /api/units/:code answers for it.
    if (!nodes.has(input.into.code) && (await tx.unit.count({ where: { code: input.into.code } })) > 0)
      throw notFound('unit', input.into.code);
    const decision = planMerge({ ...input, ...dates }, nodes, randomUUID());
    if (!decision.ok) throw refused(decision.refusal);
    return carryOut(tx, deps, decision.plan, 'merged', caller, input.into.blockCodes);
  });
}

/**
 * Removes a level: the unit's children, officials and campaigns pass to its parent (as a merge into the
 * parent), and it leaves the tree. The root cannot be dissolved (400).
 */
export async function dissolveUnit(
  deps: ReorganiseDeps,
  code: string,
  input: { effectiveOn?: string | undefined },
  caller: Caller = SYSTEM_CALLER,
): Promise<ReorganiseResult> {
  requireAdmin(caller.principal);
  const dates = when(deps, input.effectiveOn);
  return changeTree(deps.db, async (tx) => {
    const nodes = await loadNodes(tx, [code], caller.principal, deps.timeZone);
    const unit = nodes.get(code);
    if (!unit) throw notFound('unit', code);
    const parent = [...nodes.values()].find((node) => node.id === unit.parentId) ?? null;
    // Its parent must be the caller's too: dissolving the root of one's own subtree reaches above it.
    if (parent && !covers(caller.principal, parent.path))
      throw refused({
        code: 'cannot_dissolve_root',
        field: 'code',
        message: `unit ${code} is the root of your subtree`,
      });
    const decision = planDissolve(unit, parent, dates);
    if (!decision.ok) throw refused(decision.refusal);
    return carryOut(tx, deps, decision.plan, 'dissolved', caller);
  });
}

/** Writes a decided plan with its history, audit rows and notices; answers the successor. */
export async function carryOut(
  tx: Tx,
  deps: Pick<ReorganiseDeps, 'render' | 'now'>,
  plan: MergePlan,
  kind: 'merged' | 'dissolved',
  caller: Caller,
  blockCodes?: string[],
): Promise<ReorganiseResult> {
  const { successor } = plan;
  if (!covers(caller.principal, successor.path))
    throw refused({
      code: 'parent_required',
      field: 'into.parentCode',
      message: 'give into.parentCode: a unit of your own subtree',
    });
  const transfer = await transferToSuccessor(tx, plan, deps.now);
  if (blockCodes)
    await tx.unit.update({ where: { id: successor.id }, data: { blockCodes: [...new Set(blockCodes)] } });
  const codeOf = async (id: string | null | undefined) =>
    id ? ((await tx.unit.findUnique({ where: { id }, select: { code: true } }))?.code ?? null) : null;
  const parents = {
    now: await codeOf(successor.parentId),
    before: await codeOf(successor.movedFrom?.parentId),
  };
  await recordUnitEvents(tx, caller.actor, historyOf(plan, kind, transfer, parents), deps.now);
  await recordAudit(tx, ...auditOf(plan, kind, transfer, parents, caller));
  const parentCode = parents.now;
  const notified = await notify(tx, deps.render, plan, kind, transfer);
  const unit = await tx.unit.findUniqueOrThrow({ where: { id: successor.id } });
  return {
    code: unit.code,
    name: unit.name,
    parentCode,
    kind: unit.kind,
    blockCodes: unit.blockCodes,
    mergedFrom: plan.predecessors.map(({ code, name }) => ({ code, name })),
    effectiveOn: plan.effectiveOn,
    officialsMoved: transfer.officials.length,
    notified,
  };
}

/** The history of a reorganisation: the successor's creation (or rename, move), each predecessor's end. */
/** The codes of the successor's parent now and, when it moved, before. */
type Parents = { now: string | null; before: string | null };

function historyOf(
  plan: MergePlan,
  kind: 'merged' | 'dissolved',
  transfer: TransferResult,
  parents: Parents,
): UnitEventInput[] {
  const { successor, effectiveOn } = plan;
  const events: UnitEventInput[] = [];
  const codeOf = new Map(plan.predecessors.map((unit) => [unit.id, unit.code]));
  if (!successor.existing)
    events.push({
      unitId: successor.id,
      kind: 'created',
      to: successor.name,
      relatedUnitId: successor.parentId,
      effectiveOn,
    });
  if (successor.renamedFrom)
    events.push({
      unitId: successor.id,
      kind: 'renamed',
      from: successor.renamedFrom,
      to: successor.name,
      effectiveOn,
    });
  if (successor.movedFrom)
    events.push({
      unitId: successor.id,
      kind: 'moved',
      from: parents.before,
      to: parents.now,
      relatedUnitId: successor.parentId,
      effectiveOn,
    });
  for (const unit of plan.predecessors)
    events.push({
      unitId: unit.id,
      kind,
      from: unit.code,
      to: successor.code,
      relatedUnitId: successor.id,
      campaignIds: transfer.campaignsOf.get(unit.id) ?? [],
      effectiveOn,
    });
  for (const child of transfer.movedChildren)
    events.push({
      unitId: child.id,
      kind: 'moved',
      from: codeOf.get(child.fromUnitId) ?? null,
      to: successor.code,
      relatedUnitId: successor.id,
      effectiveOn,
    });
  return events;
}

function auditOf(
  plan: MergePlan,
  kind: 'merged' | 'dissolved',
  transfer: TransferResult,
  parents: Parents,
  caller: Caller,
): AuditEntry[] {
  const { successor, effectiveOn } = plan;
  const entry = (
    action: string,
    unit: { id: string; code: string },
    changes: Record<string, unknown>,
  ): AuditEntry => ({
    actor: caller.actor,
    action,
    target: { kind: 'unit', id: unit.id, code: unit.code },
    unitId: unit.id,
    changes,
  });
  const entries: AuditEntry[] = [];
  if (!successor.existing)
    entries.push(
      entry('unit.create', successor, {
        name: successor.name,
        parentCode: parents.now,
        via: kind === 'merged' ? 'merge' : 'dissolve',
      }),
    );
  if (successor.renamedFrom)
    entries.push(entry('unit.rename', successor, { name: [successor.renamedFrom, successor.name] }));
  if (successor.movedFrom)
    entries.push(entry('unit.move', successor, { parentCode: [parents.before, parents.now], via: 'merge' }));
  for (const unit of plan.predecessors)
    entries.push(
      entry(kind === 'merged' ? 'unit.merge' : 'unit.dissolve', unit, {
        into: successor.code,
        effectiveOn,
        officials: transfer.officials.filter((official) => official.fromUnitId === unit.id).length,
        children: transfer.movedChildren.filter((child) => child.fromUnitId === unit.id).length,
        campaigns: (transfer.campaignsOf.get(unit.id) ?? []).length,
      }),
    );
  return entries;
}

/**
 * Tells each official whose unit went into the successor, once (keyed by the old unit and the official),
 * where it went and which tasks they now follow there (the successor's open tasks). Answers how many.
 */
async function notify(
  tx: Tx,
  render: NewsRenderer,
  plan: MergePlan,
  kind: 'merged' | 'dissolved',
  transfer: TransferResult,
): Promise<number> {
  if (transfer.officials.length === 0) return 0;
  const fromUnit = new Map(transfer.officials.map((official) => [official.id, official.fromUnitId]));
  const officials = await tx.official.findMany({
    where: { id: { in: transfer.officials.map((official) => official.id) } },
    select: { id: true, code: true, locale: true, preferredChannel: true, accounts: activeAccounts },
  });
  const open = (await tasksForUnit(tx, plan.successor.id)).filter((task) => task.latest?.status !== 'done');
  const names = new Map(plan.predecessors.map((unit) => [unit.id, unit.name]));
  const items: OutboxItem[] = [];
  for (const official of officials) {
    const to = recipientOf(official);
    const unitId = fromUnit.get(official.id) ?? '';
    if (!to) continue;
    items.push({
      dedupeKey: `unit-${kind}:${unitId}:${official.id}`,
      channel: to.account.channel,
      chatId: to.account.chatId,
      channelAccountId: to.account.id,
      officialId: official.id,
      message: render.unitChanged(to.locale, {
        kind,
        from: names.get(unitId) ?? '',
        into: plan.successor.name,
        effectiveOn: plan.effectiveOn,
        tasks: open.map(({ title, docNumber, dueOn }) => ({ title, docNumber, dueOn })),
      }),
    });
  }
  return writeOutbox(tx, items);
}
