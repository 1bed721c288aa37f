import type { Status } from './status.ts';
import { isoDate, localDate } from './time.ts';

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

/** How many units stand at each status of a task, and how many of them are late with it. */
export interface StatusCounts {
  done: number;
  inProgress: number;
  blocked: number;
  notStarted: number;
  noReport: number;
  overdue: number;
}

export interface TaskSummary extends StatusCounts {
  key: string;
  title: string;
  dueOn: string;
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
export interface UnitStatuses extends UnitRef {
  acknowledged: boolean;
  registered: boolean;
  statuses: (Status | null)[];
  /**
   * The same statuses as one letter per task (see statusLetters), when the unit came that way: the
   * roll-up reads them without making an array per unit.
   */
  letters?: string;
}

/** A unit's statuses as one letter per task: D done, I in progress, B blocked, N not started, - nothing. */
export const STATUS_LETTERS: Readonly<Record<Status, string>> = {
  done: 'D',
  in_progress: 'I',
  blocked: 'B',
  not_started: 'N',
};
const STATUS_OF_LETTER: Readonly<Record<string, Status>> = {
  D: 'done',
  I: 'in_progress',
  B: 'blocked',
  N: 'not_started',
};

/** The statuses of `taskCount` tasks from their letters; null where a task has none (or is past the end). */
export function statusesFromLetters(letters: string, taskCount: number): (Status | null)[] {
  const statuses = new Array<Status | null>(taskCount);
  for (let i = 0; i < taskCount; i += 1) statuses[i] = STATUS_OF_LETTER[letters.charAt(i)] ?? null;
  return statuses;
}

/**
 * Which tasks are past due at `now` (isOverdue for each): a task is due at the start of the day after its
 * due date in the zone, so it is past due exactly when today's date there is later than its due date. One
 * time-zone conversion for the list: luxon's, per task, cost more than counting 200,000 items.
 */
export function pastDueFlags(tasks: SummaryTask[], now: Date, timeZone: string): boolean[] {
  const today = isoDate(localDate(now, timeZone));
  return tasks.map((task) => isoDate(task.dueOn) < today);
}

// Columns of the per-task counts, in the order of TaskSummary's figures.
const DONE = 0;
const IN_PROGRESS = 1;
const BLOCKED = 2;
const NOT_STARTED = 3;
const NO_REPORT = 4;
const OVERDUE = 5;

function columnOfStatus(status: Status | null): number {
  if (status === null) return NO_REPORT;
  if (status === 'done') return DONE;
  if (status === 'in_progress') return IN_PROGRESS;
  if (status === 'blocked') return BLOCKED;
  return NOT_STARTED;
}

const LETTER_DONE = STATUS_LETTERS.done.charCodeAt(0);
const LETTER_IN_PROGRESS = STATUS_LETTERS.in_progress.charCodeAt(0);
const LETTER_BLOCKED = STATUS_LETTERS.blocked.charCodeAt(0);
const LETTER_NOT_STARTED = STATUS_LETTERS.not_started.charCodeAt(0);

function columnOfLetter(letter: number): number {
  switch (letter) {
    case LETTER_DONE:
      return DONE;
    case LETTER_IN_PROGRESS:
      return IN_PROGRESS;
    case LETTER_BLOCKED:
      return BLOCKED;
    case LETTER_NOT_STARTED:
      return NOT_STARTED;
    default:
      return NO_REPORT;
  }
}

export interface RollUpInput {
  tasks: SummaryTask[];
  units: UnitStatuses[];
  now: Date;
  timeZone: string;
}

const noCounts = (): StatusCounts => ({
  done: 0,
  inProgress: 0,
  blocked: 0,
  notStarted: 0,
  noReport: 0,
  overdue: 0,
});

/** The roll-up over rows as the summary query returns them (one per unit, statuses aligned with tasks). */
export function rollUp(input: RollUpInput): Summary {
  return rollUpWithBreakdown(input).summary;
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
  return rollUpWithBreakdown(input).children;
}

/**
 * The roll-up and, for units that carry their child, the per-child breakdown, in one pass over the
 * (unit, task) items: 200,000 of them at the root of a 10,000-unit campaign, where two passes and a
 * counter object looked up per item cost more than reading the rows.
 */
export function rollUpWithBreakdown(input: {
  tasks: SummaryTask[];
  units: (UnitStatuses & { child?: UnitRef })[];
  now: Date;
  timeZone: string;
}): { summary: Summary; children: ChildBreakdown[] } {
  const taskCount = input.tasks.length;
  const pastDue = pastDueFlags(input.tasks, input.now, input.timeZone);
  // Per task, its six columns.
  const perTask = new Int32Array(taskCount * 6);
  const groups = new Map<string, ChildBreakdown>();
  const late: UnitRef[] = [];
  const unreported: UnitRef[] = [];
  let acknowledged = 0;
  let registered = 0;
  let reported = 0;
  // Items of the unit at hand, per column.
  const items = new Int32Array(5);
  for (const unit of input.units) {
    if (unit.acknowledged) acknowledged += 1;
    if (unit.registered) registered += 1;
    items.fill(0);
    let overdueItems = 0;
    // Not unit.statuses when there are letters: that would make the array the letters spare.
    const letters = unit.letters ?? '';
    const statuses = unit.letters === undefined ? unit.statuses : null;
    for (let i = 0; i < taskCount; i += 1) {
      const column =
        statuses === null ? columnOfLetter(letters.charCodeAt(i)) : columnOfStatus(statuses[i] ?? null);
      (perTask[i * 6 + column] as number) += 1;
      (items[column] as number) += 1;
      if (column !== DONE && pastDue[i] === true) {
        (perTask[i * 6 + OVERDUE] as number) += 1;
        overdueItems += 1;
      }
    }
    const anyReport = items[NO_REPORT] !== taskCount;
    const isLate = overdueItems > 0;
    if (anyReport) reported += 1;
    else unreported.push({ code: unit.code, name: unit.name });
    if (isLate) late.push({ code: unit.code, name: unit.name });
    if (unit.child) {
      let group = groups.get(unit.child.code);
      if (!group) {
        group = { ...unit.child, units: 0, ...noCounts(), lateUnits: 0 };
        groups.set(unit.child.code, group);
      }
      group.units += 1;
      group.done += items[DONE] as number;
      group.inProgress += items[IN_PROGRESS] as number;
      group.blocked += items[BLOCKED] as number;
      group.notStarted += items[NOT_STARTED] as number;
      group.noReport += items[NO_REPORT] as number;
      group.overdue += overdueItems;
      if (isLate) group.lateUnits += 1;
    }
  }
  const count = (i: number, column: number): number => perTask[i * 6 + column] ?? 0;
  return {
    summary: {
      units: { total: input.units.length, acknowledged, registered, reported, overdue: late.length },
      tasks: input.tasks.map((task, i) => ({
        key: task.key,
        title: task.title,
        dueOn: isoDate(task.dueOn),
        done: count(i, DONE),
        inProgress: count(i, IN_PROGRESS),
        blocked: count(i, BLOCKED),
        notStarted: count(i, NOT_STARTED),
        noReport: count(i, NO_REPORT),
        overdue: count(i, OVERDUE),
      })),
      lateUnits: late.sort(byName),
      unreportedUnits: unreported.sort(byName),
    },
    children: [...groups.values()].sort(byName),
  };
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
  const pastDue = pastDueFlags(tasks, now, timeZone);
  return units
    .map((unit) => ({
      code: unit.code,
      name: unit.name,
      tasks: tasks.filter((_task, i) => pastDue[i] && unit.statuses[i] !== 'done').map((task) => task.title),
    }))
    .filter((unit) => unit.tasks.length > 0)
    .sort(byName);
}

/**
 * The names of the units a participant was formed from during the campaign (a summary's `formerly`), joined
 * as summaries show them after its name ("(trước đây: A, B)"), in the order they went; undefined when it was
 * formed by no merge. One rule for every place that names units, whatever text goes around it.
 */
export function formerNames(
  formerly: Readonly<Record<string, readonly UnitRef[]>> | undefined,
  code: string | undefined,
): string | undefined {
  const former = code === undefined ? undefined : formerly?.[code];
  if (!former || former.length === 0) return undefined;
  return former.map((unit) => unit.name).join(', ');
}

/**
 * What a unit was formed from during the campaign, as the suffix every place puts after its name (the
 * chat, the workbook, the console): `inWords` says the joined names in the reader's language, the
 * catalogues' `formerly` (" (trước đây: {{names}})"); '' for a unit formed by no merge.
 */
export function formerSuffix(
  formerly: Readonly<Record<string, readonly UnitRef[]>> | undefined,
  code: string | undefined,
  inWords: (names: string) => string,
): string {
  const names = formerNames(formerly, code);
  return names === undefined ? '' : inWords(names);
}

/** A unit's name followed by its formerSuffix: "UBND xã Bình Lư (trước đây: UBND xã Bình Lư, UBND xã Bản Giang)". */
export function nameWithFormer(
  unit: { code?: string | undefined; name: string },
  formerly: Readonly<Record<string, readonly UnitRef[]>> | undefined,
  inWords: (names: string) => string,
): string {
  return `${unit.name}${formerSuffix(formerly, unit.code, inWords)}`;
}

/** Units, each carrying its formerSuffix as `formerly`: for text that may cut a long name but never the suffix. */
export function withFormerSuffixes<T extends { code?: string | undefined }>(
  units: readonly T[],
  formerly: Readonly<Record<string, readonly UnitRef[]>> | undefined,
  inWords: (names: string) => string,
): (T & { formerly: string })[] {
  return units.map((unit) => ({ ...unit, formerly: formerSuffix(formerly, unit.code, inWords) }));
}
