import type { Status } from './status.ts';
import { isOverdue, isoDate } from './time.ts';

export interface SummaryUnit {
  id: string;
  code: string;
  name: string;
}

export interface SummaryTask {
  id: string;
  key: string;
  title: string;
  dueOn: Date;
}

export interface LatestStatus {
  unitId: string;
  taskId: string;
  status: Status;
}

export interface SummaryInput {
  units: SummaryUnit[];
  tasks: SummaryTask[];
  latest: LatestStatus[];
  acknowledgedUnitIds: Iterable<string>;
  registeredUnitIds: Iterable<string>;
  now: Date;
  timeZone: string;
}

export interface TaskSummary {
  key: string;
  title: string;
  dueOn: string;
  done: number;
  inProgress: number;
  blocked: number;
  notStarted: number;
  noReport: number;
  overdue: number;
}

export interface UnitRef {
  code: string;
  name: string;
}

export interface Summary {
  units: { total: number; acknowledged: number; registered: number; reported: number; overdue: number };
  tasks: TaskSummary[];
  /** Units with at least one task past its due date and not reported done. */
  lateUnits: UnitRef[];
  /** Units that have reported nothing at all. */
  unreportedUnits: UnitRef[];
}

// One collator each, made once: localeCompare with a locale builds a collator per call, which made
// sorting the late units of a 10,000-unit campaign cost more than counting them.
const vietnamese = new Intl.Collator('vi');
const plain = new Intl.Collator();
const byName = (a: UnitRef, b: UnitRef): number =>
  vietnamese.compare(a.name, b.name) || plain.compare(a.code, b.code);

/** Rolls the latest status of every (unit, task) up into the counts supervisors read. */
export function summarise(input: SummaryInput): Summary {
  const scope = new Set(input.units.map((unit) => unit.id));
  const statusOf = new Map<string, Status>();
  for (const row of input.latest) {
    if (scope.has(row.unitId)) statusOf.set(`${row.unitId}|${row.taskId}`, row.status);
  }
  const acknowledged = new Set(input.acknowledgedUnitIds);
  const registered = new Set(input.registeredUnitIds);
  return rollUp({
    tasks: input.tasks,
    units: input.units.map((unit) => ({
      ...unit,
      acknowledged: acknowledged.has(unit.id),
      registered: registered.has(unit.id),
      statuses: input.tasks.map((task) => statusOf.get(`${unit.id}|${task.id}`) ?? null),
    })),
    now: input.now,
    timeZone: input.timeZone,
  });
}

/** One participating unit with the latest status of each task, in the order of the tasks. */
export interface UnitStatuses extends SummaryUnit {
  acknowledged: boolean;
  registered: boolean;
  statuses: (Status | null)[];
}

export interface RollUpInput {
  tasks: SummaryTask[];
  units: UnitStatuses[];
  now: Date;
  timeZone: string;
}

interface StatusCounts {
  done: number;
  inProgress: number;
  blocked: number;
  notStarted: number;
  noReport: number;
  overdue: number;
}

/** Counts one (unit, task) item; true when it is past due and not done. */
function tally(counts: StatusCounts, status: Status | null, pastDue: boolean): boolean {
  if (status === null) counts.noReport += 1;
  else if (status === 'done') counts.done += 1;
  else if (status === 'in_progress') counts.inProgress += 1;
  else if (status === 'blocked') counts.blocked += 1;
  else counts.notStarted += 1;
  if (!pastDue || status === 'done') return false;
  counts.overdue += 1;
  return true;
}

/** The roll-up over rows as the summary query returns them (one per unit, statuses aligned with tasks). */
export function rollUp(input: RollUpInput): Summary {
  const pastDue = input.tasks.map((task) => isOverdue(task.dueOn, input.now, input.timeZone));
  const counts = input.tasks.map(() => ({
    done: 0,
    inProgress: 0,
    blocked: 0,
    notStarted: 0,
    noReport: 0,
    overdue: 0,
  }));
  const late: UnitRef[] = [];
  const unreported: UnitRef[] = [];
  let acknowledged = 0;
  let registered = 0;
  let reported = 0;
  for (const unit of input.units) {
    if (unit.acknowledged) acknowledged += 1;
    if (unit.registered) registered += 1;
    let anyReport = false;
    let isLate = false;
    for (let i = 0; i < counts.length; i += 1) {
      const status = unit.statuses[i] ?? null;
      if (status !== null) anyReport = true;
      if (tally(counts[i] as (typeof counts)[number], status, pastDue[i] ?? false)) isLate = true;
    }
    if (anyReport) reported += 1;
    else unreported.push({ code: unit.code, name: unit.name });
    if (isLate) late.push({ code: unit.code, name: unit.name });
  }
  return {
    units: { total: input.units.length, acknowledged, registered, reported, overdue: late.length },
    tasks: input.tasks.map((task, i) => ({
      key: task.key,
      title: task.title,
      dueOn: isoDate(task.dueOn),
      ...(counts[i] as (typeof counts)[number]),
    })),
    lateUnits: late.sort(byName),
    unreportedUnits: unreported.sort(byName),
  };
}

/** One bar of the chart and one drill-down button: a child unit of the scope with its subtree's items. */
export interface ChildBreakdown {
  code: string;
  name: string;
  /** Participating units in its subtree. */
  units: number;
  /** (unit, task) items by latest status. */
  done: number;
  inProgress: number;
  blocked: number;
  notStarted: number;
  noReport: number;
  /** Items past due and not done. */
  overdue: number;
  lateUnits: number;
}

/** A unit as the breakdown groups it: under the child of the scope its path passes through. */
export interface GroupedUnit extends UnitStatuses {
  child: UnitRef;
}

/** Per child unit of the scope (the unit itself counts as its own group), ordered by name. */
export function breakdownByChild(input: {
  tasks: SummaryTask[];
  units: GroupedUnit[];
  now: Date;
  timeZone: string;
}): ChildBreakdown[] {
  const pastDue = input.tasks.map((task) => isOverdue(task.dueOn, input.now, input.timeZone));
  const groups = new Map<string, ChildBreakdown>();
  for (const unit of input.units) {
    const group = groups.get(unit.child.code) ?? {
      ...unit.child,
      units: 0,
      done: 0,
      inProgress: 0,
      blocked: 0,
      notStarted: 0,
      noReport: 0,
      overdue: 0,
      lateUnits: 0,
    };
    group.units += 1;
    let isLate = false;
    input.tasks.forEach((_task, i) => {
      if (tally(group, unit.statuses[i] ?? null, pastDue[i] ?? false)) isLate = true;
    });
    if (isLate) group.lateUnits += 1;
    groups.set(unit.child.code, group);
  }
  return [...groups.values()].sort(byName);
}

/**
 * The child of `rootPath` that `path` lies under ("/a/b/" under "/a/" -> "b"); the unit's own id when it
 * is the root itself or outside it.
 */
export function childIdUnder(path: string, rootPath: string | null, ownId: string): string {
  if (rootPath === null || !path.startsWith(rootPath) || path === rootPath) return ownId;
  const rest = path.slice(rootPath.length);
  return rest.slice(0, rest.indexOf('/')) || ownId;
}

/** The late units (by name) with the titles of their late tasks. */
export function lateItems(
  tasks: SummaryTask[],
  units: UnitStatuses[],
  now: Date,
  timeZone: string,
): { code: string; name: string; tasks: string[] }[] {
  const pastDue = tasks.map((task) => isOverdue(task.dueOn, now, timeZone));
  return units
    .map((unit) => ({
      code: unit.code,
      name: unit.name,
      tasks: tasks.filter((_task, i) => pastDue[i] && unit.statuses[i] !== 'done').map((task) => task.title),
    }))
    .filter((unit) => unit.tasks.length > 0)
    .sort(byName);
}
