import { isWithin, unitPath } from './unit-tree.ts';

/**
 * Merges and dissolutions of units, as pure decisions: whether a request makes sense against the tree as it
 * is, and the plan of moves that carries it out (which units leave the tree, which subtrees move where,
 * what the successor is). The service (services/reorganise.ts) loads the units, asks here, and writes the
 * plan in one transaction under the unit-tree lock.
 */

/** A unit as the decisions need it. */
export interface TreeNode {
  id: string;
  code: string;
  name: string;
  kind: string | null;
  blockCodes: readonly string[];
  parentId: string | null;
  path: string;
  /** The day it came into existence, YYYY-MM-DD: its creation's effective day, else the day it was recorded. */
  createdOn: string;
  /** The code of the unit it went into, when it has left the tree (merged or dissolved). */
  retiredInto: string | null;
}

export interface MergeRequest {
  from: readonly string[];
  into: { code: string; name?: string | null | undefined; parentCode?: string | null | undefined };
  /**
   * YYYY-MM-DD, the day the change takes effect, which may lie in the past (a merge recorded after the
   * resolution took effect) but not before a unit it concerns existed. Absent: `today`, unchecked (the
   * change takes effect as it is recorded).
   */
  effectiveOn?: string | undefined;
  today: string;
}

/** Why a request is refused: a code, the request's field at fault, and what to say. */
export interface Refusal {
  code: string;
  field: string;
  message: string;
  details?: Record<string, unknown>;
}

/** The units a subtree move takes along: every unit under `fromPath` goes under `toPath` instead. */
export interface SubtreeMove {
  /** The unit whose children move (it keeps its own path: a retired unit stays where it was). */
  fromId: string;
  fromPath: string;
  toId: string;
  toPath: string;
}

export interface MergePlan {
  successor: {
    id: string;
    code: string;
    name: string;
    parentId: string | null;
    path: string;
    /** False: it is created by the merge. */
    existing: boolean;
    /** An existing successor that changes place first: its own subtree moves with it. */
    movedFrom: { path: string; parentId: string | null } | null;
    renamedFrom: string | null;
  };
  /** The units that leave the tree, in the order asked. */
  predecessors: TreeNode[];
  /** Their subtrees, carried under the successor (after the successor's own move). */
  moves: SubtreeMove[];
  effectiveOn: string;
}

type Decision<T> = { ok: true; plan: T } | { ok: false; refusal: Refusal };

const refuse = (
  code: string,
  field: string,
  message: string,
  details?: Record<string, unknown>,
): { ok: false; refusal: Refusal } => ({ ok: false, refusal: { code, field, message, details } });

/** The first unit of `units` that lies within (or is) one of `ancestors`, with that ancestor. */
function firstWithin(units: readonly TreeNode[], ancestors: readonly TreeNode[]) {
  for (const unit of units)
    for (const ancestor of ancestors)
      if (unit.id !== ancestor.id && isWithin(unit.path, ancestor.path)) return { unit, ancestor };
  return undefined;
}

/** A unit that has already left the tree cannot take part in another change. */
const alreadyRetired = (field: string, unit: TreeNode) =>
  refuse('unit_retired', field, `unit ${unit.code} has already gone into ${unit.retiredInto}`, {
    code: unit.code,
    successor: unit.retiredInto,
  });

/**
 * Decides a merge: the units of `from` become one, `into` (an existing live unit, or a new one with this
 * code). `units` holds every unit the request names that the caller may see (by code); `newId` is the id a
 * new successor gets. Refused, in this order: repeated or unknown codes, units that already left the tree,
 * a unit into itself, one unit of `from` inside another, a successor or parent inside a merged unit (its
 * descendant), a new successor without a name or a parent to stand under, an effective date before a unit
 * was created.
 */
export function planMerge(
  request: MergeRequest,
  units: ReadonlyMap<string, TreeNode>,
  newId: string,
): Decision<MergePlan> {
  const { into } = request;
  const predecessors = predecessorsOf(request, units);
  if (!predecessors.ok) return predecessors;
  const existing = units.get(into.code) ?? null;
  const successorRefused = refuseExistingSuccessor(existing, predecessors.plan);
  if (successorRefused) return successorRefused;

  // An existing successor stays where it is unless `into.parentCode` is given.
  const keepPlace = existing !== null && into.parentCode === undefined;
  const parent = keepPlace
    ? { ok: true as const, plan: null }
    : parentOf(request, units, predecessors.plan, existing);
  if (!parent.ok) return parent;
  const parentRefused = parent.plan && refuseParent(parent.plan, predecessors.plan, existing);
  if (parentRefused) return parentRefused;
  const name = into.name?.trim() || existing?.name;
  if (!name) return refuse('required', 'into.name', 'a new unit needs a name', {});
  const dateRefused = refuseEffectiveDate(request, [...predecessors.plan, ...(existing ? [existing] : [])]);
  if (dateRefused) return dateRefused;

  const id = existing?.id ?? newId;
  const place =
    keepPlace && existing
      ? { parentId: existing.parentId, path: existing.path }
      : placeUnder(parent.plan, id);
  return { ok: true, plan: mergePlan(request, predecessors.plan, existing, { id, name, ...place }) };
}

/**
 * The units of `from`, refused when one is named twice, is unknown, has already left the tree, is the
 * successor itself, or lies within another of them.
 */
function predecessorsOf(request: MergeRequest, units: ReadonlyMap<string, TreeNode>): Decision<TreeNode[]> {
  const { from, into } = request;
  const repeated = from.filter((code, index) => from.indexOf(code) !== index);
  if (repeated.length > 0)
    return refuse('duplicate_units', 'from', `units named twice: ${[...new Set(repeated)].join(', ')}`, {
      codes: [...new Set(repeated)],
    });
  const unknown = from.filter((code) => !units.has(code));
  if (unknown.length > 0)
    return refuse('unknown_units', 'from', `unknown units: ${unknown.join(', ')}`, { codes: unknown });
  const predecessors = from.map((code) => units.get(code) as TreeNode);
  const retired = predecessors.find((unit) => unit.retiredInto !== null);
  if (retired) return alreadyRetired('from', retired);
  if (from.includes(into.code))
    return refuse('merge_into_itself', 'into.code', `unit ${into.code} cannot be merged into itself`, {
      code: into.code,
    });
  const nested = firstWithin(predecessors, predecessors);
  if (nested)
    return refuse(
      'nested_units',
      'from',
      `${nested.unit.code} lies within ${nested.ancestor.code}: merge ${nested.ancestor.code} alone (its subtree goes along)`,
      { code: nested.unit.code, within: nested.ancestor.code },
    );
  return { ok: true, plan: predecessors };
}

/** An existing successor must still be in the tree and not lie within a unit it absorbs. */
function refuseExistingSuccessor(existing: TreeNode | null, predecessors: readonly TreeNode[]) {
  if (!existing) return undefined;
  if (existing.retiredInto) return alreadyRetired('into.code', existing);
  const inside = firstWithin([existing], predecessors);
  if (inside)
    return refuse(
      'merge_into_descendant',
      'into.code',
      `${inside.unit.code} lies within ${inside.ancestor.code}: a unit cannot be merged into its own descendant`,
      { code: inside.unit.code, within: inside.ancestor.code },
    );
  return undefined;
}

/** The successor cannot stand under a unit being merged, nor (an existing one) under its own subtree. */
function refuseParent(parent: TreeNode, predecessors: readonly TreeNode[], existing: TreeNode | null) {
  const merged = predecessors.find((unit) => isWithin(parent.path, unit.path));
  if (merged)
    return refuse(
      'merge_into_descendant',
      'into.parentCode',
      parent.id === merged.id
        ? `${parent.code} is merged itself: the successor cannot stand under it`
        : `${parent.code} lies within ${merged.code}: the successor cannot stand under a unit being merged`,
      { code: parent.code, within: merged.code },
    );
  if (existing && isWithin(parent.path, existing.path))
    return refuse(
      'cycle',
      'into.parentCode',
      `${existing.code} cannot be placed under itself or its descendant`,
      {
        code: parent.code,
      },
    );
  return undefined;
}

/**
 * A change cannot take effect before a unit it concerns existed. A unit is not taken to exist only from a
 * day after today: the service's clock and the database's may disagree (a clock set by hand, as tests and
 * replays do), and a change effective today always makes sense.
 */
function refuseEffectiveDate(request: MergeRequest, concerned: readonly TreeNode[]) {
  const { effectiveOn, today } = request;
  if (effectiveOn === undefined) return undefined;
  const existedFrom = (unit: TreeNode) => (unit.createdOn < today ? unit.createdOn : today);
  const late = concerned.find((unit) => effectiveOn < existedFrom(unit));
  if (!late) return undefined;
  return refuse(
    'effective_before_creation',
    'effectiveOn',
    `effectiveOn ${effectiveOn} is before ${late.code} was created (${existedFrom(late)})`,
    { code: late.code, createdOn: existedFrom(late) },
  );
}

/** Where a unit with this id stands under `parent` (null: at the top). */
const placeUnder = (parent: TreeNode | null, id: string) => ({
  parentId: parent?.id ?? null,
  path: unitPath(parent?.path ?? null, id),
});

/**
 * The plan of an accepted merge: the successor in its place (an existing one that changes place moves with
 * its subtree first), and every predecessor's subtree carried under it.
 */
function mergePlan(
  request: MergeRequest,
  predecessors: TreeNode[],
  existing: TreeNode | null,
  successor: { id: string; name: string; parentId: string | null; path: string },
): MergePlan {
  const { id, name, parentId, path } = successor;
  const movedFrom =
    existing && existing.path !== path ? { path: existing.path, parentId: existing.parentId } : null;
  // A predecessor under an existing successor (a village merged into its commune) moves with it first.
  const placed = (before: string) =>
    movedFrom && isWithin(before, movedFrom.path) ? path + before.slice(movedFrom.path.length) : before;
  return {
    successor: {
      id,
      code: request.into.code,
      name,
      parentId,
      path,
      existing: existing !== null,
      movedFrom,
      renamedFrom: existing && existing.name !== name ? existing.name : null,
    },
    predecessors,
    moves: predecessors.map((unit) => ({
      fromId: unit.id,
      fromPath: placed(unit.path),
      toId: id,
      toPath: path,
    })),
    effectiveOn: request.effectiveOn ?? request.today,
  };
}

/**
 * Where a new (or moved) successor stands: the parent named (null: at the top), else the parent the merged
 * units share (communes of one district merge under it); refused when they share none.
 */
function parentOf(
  request: MergeRequest,
  units: ReadonlyMap<string, TreeNode>,
  predecessors: readonly TreeNode[],
  existing: TreeNode | null,
): Decision<TreeNode | null> {
  const { parentCode } = request.into;
  const byId = new Map([...units.values()].map((unit) => [unit.id, unit]));
  if (parentCode) {
    const named = units.get(parentCode);
    if (!named)
      return refuse('unknown_parent', 'into.parentCode', `parent unit ${parentCode} does not exist`, {
        parentCode,
      });
    if (named.retiredInto) return alreadyRetired('into.parentCode', named);
    return { ok: true, plan: named };
  }
  if (parentCode === null || existing) return { ok: true, plan: null };
  const parents = [...new Set(predecessors.map((unit) => unit.parentId))];
  if (parents.length !== 1)
    return refuse(
      'parent_required',
      'into.parentCode',
      "the merged units stand under different parents: name the new unit's parent (into.parentCode)",
      {},
    );
  const [only] = parents;
  if (!only) return { ok: true, plan: null };
  const shared = byId.get(only);
  if (!shared)
    return refuse('parent_required', 'into.parentCode', "name the new unit's parent (into.parentCode)", {});
  return { ok: true, plan: shared };
}

/**
 * Decides the dissolution of a level: the unit's children, officials and campaigns go to its parent, as if
 * it were merged into the parent. The root cannot be dissolved (nothing would stand above its children).
 */
export function planDissolve(
  unit: TreeNode,
  parent: TreeNode | null,
  when: { effectiveOn?: string | undefined; today: string },
): Decision<MergePlan> {
  if (unit.retiredInto) return alreadyRetired('code', unit);
  if (!parent)
    return refuse(
      'cannot_dissolve_root',
      'code',
      `unit ${unit.code} is the root: there is no level above it`,
      {
        code: unit.code,
      },
    );
  const units = new Map([
    [unit.code, unit],
    [parent.code, parent],
  ]);
  return planMerge({ from: [unit.code], into: { code: parent.code }, ...when }, units, parent.id);
}

/** A unit's path after the moves of a plan (units outside them keep theirs; a predecessor keeps its own). */
export function pathAfter(plan: MergePlan, path: string): string {
  const { movedFrom } = plan.successor;
  const current =
    movedFrom && isWithin(path, movedFrom.path)
      ? plan.successor.path + path.slice(movedFrom.path.length)
      : path;
  const move = plan.moves.find(
    (candidate) => current !== candidate.fromPath && isWithin(current, candidate.fromPath),
  );
  return move ? move.toPath + current.slice(move.fromPath.length) : current;
}
