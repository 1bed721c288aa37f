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

const byName = (a: UnitRef, b: UnitRef): number =>
  a.name.localeCompare(b.name, 'vi') || a.code.localeCompare(b.code);

/** Rolls the latest status of every (unit, task) up into the counts supervisors read. */
export function summarise(input: SummaryInput): Summary {
  const scope = new Set(input.units.map((unit) => unit.id));
  const statusOf = new Map<string, Status>();
  for (const row of input.latest) {
    if (scope.has(row.unitId)) statusOf.set(`${row.unitId}|${row.taskId}`, row.status);
  }
  const countIn = (ids: Iterable<string>): number => new Set([...ids].filter((id) => scope.has(id))).size;

  const lateUnitIds = new Set<string>();
  const reportedUnitIds = new Set<string>();
  const tasks = input.tasks.map((task): TaskSummary => {
    const counts = { done: 0, inProgress: 0, blocked: 0, notStarted: 0, noReport: 0, overdue: 0 };
    const pastDue = isOverdue(task.dueOn, input.now, input.timeZone);
    for (const unit of input.units) {
      const status = statusOf.get(`${unit.id}|${task.id}`);
      if (status === undefined) counts.noReport += 1;
      else {
        reportedUnitIds.add(unit.id);
        if (status === 'done') counts.done += 1;
        else if (status === 'in_progress') counts.inProgress += 1;
        else if (status === 'blocked') counts.blocked += 1;
        else counts.notStarted += 1;
      }
      if (pastDue && status !== 'done') {
        counts.overdue += 1;
        lateUnitIds.add(unit.id);
      }
    }
    return { key: task.key, title: task.title, dueOn: isoDate(task.dueOn), ...counts };
  });

  const refs = (keep: (id: string) => boolean): UnitRef[] =>
    input.units
      .filter((unit) => keep(unit.id))
      .map(({ code, name }) => ({ code, name }))
      .sort(byName);

  return {
    units: {
      total: input.units.length,
      acknowledged: countIn(input.acknowledgedUnitIds),
      registered: countIn(input.registeredUnitIds),
      reported: reportedUnitIds.size,
      overdue: lateUnitIds.size,
    },
    tasks,
    lateUnits: refs((id) => lateUnitIds.has(id)),
    unreportedUnits: refs((id) => !reportedUnitIds.has(id)),
  };
}
