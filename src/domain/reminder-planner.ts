import { addDays, isQuietMinute, minutesOf, type WorkCalendar } from './calendar.ts';
import type { ReminderPolicy } from './policy.ts';

/**
 * Which reminders are due for a task at an instant. Pure: the sweep gives it the task, the unit's state,
 * the policy, the calendar and the instant, and keys what it sends by (task, unit, kind, slot).
 *
 * The unit's track is one sequence of reminders, one per day at most: "n days before" (shifted to the
 * next working day, or to the due day itself if that comes first), the morning of the due day, then every
 * working day (or every n) while overdue. When two fall on one day the later one (more urgent) is kept.
 * At an instant the latest reminder of the track that has come is due, if it has not expired (a reminder
 * before the deadline expires at the deadline, an overdue one at the next). The escalation to the parent
 * unit's leaders is separate: once, at `sendAt` of the working day after `escalateAfterWorkingDays`
 * whole working days overdue. Nothing is due inside quiet hours, before `sendAt`, on a day off (except
 * the day a reminder was placed on, which is the due day), or once the unit has reported the task done.
 *
 * A unit that received the task only after its deadline (a campaign launched late, a unit or a task added
 * to a running campaign) is chased from the day it received it, as if that were the due day: overdue
 * reminders from the next working day, the escalation after `escalateAfterWorkingDays` whole working days
 * more. Slots stay the task's (the escalation's is its due day), so it is still escalated once.
 */
export type ReminderKind = 'before' | 'due' | 'overdue' | 'escalation';

export interface PlannedReminder {
  kind: ReminderKind;
  /** Stable per (task, unit, kind): the due day, with the offset for "before", or the overdue day. */
  slot: string;
  /** The local day it is meant for. */
  day: string;
  at: Date;
  expiresAt: Date | null;
  /** Days before the due day (before), or working days overdue (overdue, escalation). */
  days: number;
}

export interface PlannerTask {
  /** The due day, YYYY-MM-DD in the calendar's time zone; due at the end of it. */
  dueOn: string;
}

export interface PlannerUnitState {
  /** When the unit reported the task done (null/undefined: not done). */
  doneAt?: Date | null;
}

export interface PlanInput {
  task: PlannerTask;
  unit?: PlannerUnitState;
  policy: ReminderPolicy;
  calendar: WorkCalendar;
  now: Date;
  /**
   * When the unit received the task: the launch, or later when the unit or the task joined the running
   * campaign. Nothing meant for before it is sent, and overdue counts from it (see above).
   */
  receivedAt?: Date | null;
}

/** The deadline: the start of the day after the due day. */
export function deadlineOf(task: PlannerTask, calendar: WorkCalendar): Date {
  return calendar.at(addDays(task.dueOn, 1), '00:00');
}

/** The day overdue reminders and the escalation count from: the due day, or the later day of receipt. */
export function overdueFrom(task: PlannerTask, receivedOn?: string | null): string {
  return receivedOn && receivedOn > task.dueOn ? receivedOn : task.dueOn;
}

/**
 * The track's reminders up to (and including) the day of `until`, in order, for a unit that received the
 * task on `receivedOn` (undefined: before it was due).
 */
export function trackUntil(
  task: PlannerTask,
  policy: ReminderPolicy,
  calendar: WorkCalendar,
  until: string,
  receivedOn?: string | null,
) {
  const byDay = new Map<string, PlannedReminder>();
  const deadline = deadlineOf(task, calendar);
  const place = (nominal: string): string => {
    if (calendar.isWorkingDay(nominal)) return nominal;
    const next = calendar.nextWorkingDay(nominal);
    return next > task.dueOn ? task.dueOn : next;
  };
  const rank: Record<ReminderKind, number> = { before: 0, due: 1, overdue: 2, escalation: 3 };
  const put = (reminder: PlannedReminder) => {
    const existing = byDay.get(reminder.day);
    const keep =
      !existing ||
      rank[reminder.kind] > rank[existing.kind] ||
      (reminder.kind === existing.kind && reminder.days < existing.days);
    if (keep) byDay.set(reminder.day, reminder);
  };
  for (const offset of policy.daysBefore) {
    const day = place(addDays(task.dueOn, -offset));
    put({
      kind: 'before',
      slot: `${task.dueOn}-${offset}d`,
      day,
      at: calendar.at(day, policy.sendAt),
      expiresAt: deadline,
      days: offset,
    });
  }
  if (policy.onDueDay) {
    put({
      kind: 'due',
      slot: task.dueOn,
      day: task.dueOn,
      at: calendar.at(task.dueOn, policy.sendAt),
      expiresAt: deadline,
      days: 0,
    });
  }
  const track = [...byDay.values()].sort((a, b) => a.at.getTime() - b.at.getTime());
  if (policy.overdueEveryWorkingDays > 0) {
    let day = overdueFrom(task, receivedOn);
    // Working days the task was already overdue when it arrived: the reminders say how late it really is.
    const lateOnArrival = calendar.workingDaysBetween(task.dueOn, day);
    for (let n = 1; ; n += 1) {
      day = calendar.nextWorkingDay(day);
      if (day > until) break;
      if ((n - 1) % policy.overdueEveryWorkingDays !== 0) continue;
      track.push({
        kind: 'overdue',
        slot: day,
        day,
        at: calendar.at(day, policy.sendAt),
        expiresAt: null,
        days: lateOnArrival + n,
      });
    }
  }
  // An overdue reminder lasts until the next one; a day has at most one reminder.
  for (let i = 0; i < track.length; i += 1) {
    const current = track[i];
    const next = track[i + 1];
    if (current?.kind === 'overdue') current.expiresAt = next?.at ?? null;
  }
  return track;
}

/** The escalation of a task to a unit that received it on `receivedOn` (undefined: before it was due). */
export function escalationOf(
  task: PlannerTask,
  policy: ReminderPolicy,
  calendar: WorkCalendar,
  receivedOn?: string | null,
) {
  if (policy.escalateAfterWorkingDays <= 0) return undefined;
  const day = calendar.workingDayAfter(overdueFrom(task, receivedOn), policy.escalateAfterWorkingDays + 1);
  const reminder: PlannedReminder = {
    kind: 'escalation',
    slot: task.dueOn,
    day,
    at: calendar.at(day, policy.sendAt),
    expiresAt: null,
    // Whole working days overdue before the escalation's morning.
    days: calendar.workingDaysBetween(task.dueOn, day) - 1,
  };
  return reminder;
}

/** Whether anything may be sent at `now` for a reminder meant for `day`. */
export function sendWindowOpen(
  now: Date,
  day: string,
  policy: ReminderPolicy,
  calendar: WorkCalendar,
): boolean {
  const minute = calendar.minuteOfDay(now);
  if (isQuietMinute(minute, policy.quietHours) || minute < minutesOf(policy.sendAt)) return false;
  const today = calendar.dayOf(now);
  return calendar.isWorkingDay(today) || today === day;
}

/**
 * The task's reminders due at `now`, the same for every unit that received it at `receivedAt` and has not
 * reported it done.
 */
export function dueForTask(input: Omit<PlanInput, 'unit'>): PlannedReminder[] {
  const { task, policy, calendar, now } = input;
  const since = input.receivedAt?.getTime() ?? -Infinity;
  const receivedOn = input.receivedAt ? calendar.dayOf(input.receivedAt) : null;
  const today = calendar.dayOf(now);
  const due: PlannedReminder[] = [];
  const track = trackUntil(task, policy, calendar, today, receivedOn);
  let latest: PlannedReminder | undefined;
  for (const reminder of track) if (reminder.at.getTime() <= now.getTime()) latest = reminder;
  if (
    latest &&
    latest.at.getTime() >= since &&
    (latest.expiresAt === null || now.getTime() < latest.expiresAt.getTime()) &&
    sendWindowOpen(now, latest.day, policy, calendar)
  ) {
    due.push(latest);
  }
  const escalation = escalationOf(task, policy, calendar, receivedOn);
  if (
    escalation &&
    escalation.at.getTime() <= now.getTime() &&
    escalation.at.getTime() >= since &&
    sendWindowOpen(now, escalation.day, policy, calendar)
  ) {
    due.push(escalation);
  }
  return due;
}

/** The reminders due at `now` for one unit: none once it has reported the task done. */
export function dueReminders(input: PlanInput): PlannedReminder[] {
  const doneAt = input.unit?.doneAt;
  if (doneAt && doneAt.getTime() <= input.now.getTime()) return [];
  return dueForTask(input);
}
