import { createHash } from 'node:crypto';
import { DateTime, type WeekdayNumbers } from 'luxon';
import type { Summary } from './summary.ts';

/** When an official wants the weekly summary: ISO weekday (1 = Monday … 7 = Sunday) and local "HH:mm". */
export interface DigestSchedule {
  weekday: number;
  time: string;
}

export const DEFAULT_DIGEST: DigestSchedule = { weekday: 1, time: '08:00' };

export const DIGEST_TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

/** One ISO week in the service's time zone: its key ("2026-W48") and its Monday and Sunday (dates). */
export interface IsoWeek {
  key: string;
  weekYear: number;
  weekNumber: number;
  monday: Date;
  sunday: Date;
}

const dateOf = (local: DateTime): Date => new Date(`${local.toISODate() ?? ''}T00:00:00.000Z`);

export function isoWeekOf(instant: Date, timeZone: string): IsoWeek {
  const local = DateTime.fromJSDate(instant, { zone: timeZone });
  const monday = local.startOf('week');
  return {
    key: local.toFormat("kkkk-'W'WW"),
    weekYear: local.weekYear,
    weekNumber: local.weekNumber,
    monday: dateOf(monday),
    sunday: dateOf(monday.plus({ days: 6 })),
  };
}

/**
 * The instant of an official's digest in a given week. A stored time that does not parse (only the API
 * writes it, validated) falls back to the default rather than silencing the official.
 */
export function digestSlot(week: IsoWeek, schedule: DigestSchedule, timeZone: string): Date {
  const time = DIGEST_TIME.test(schedule.time) ? schedule.time : DEFAULT_DIGEST.time;
  const [hour = 8, minute = 0] = time.split(':').map(Number);
  const weekday = (
    Number.isInteger(schedule.weekday) && schedule.weekday >= 1 && schedule.weekday <= 7
      ? schedule.weekday
      : DEFAULT_DIGEST.weekday
  ) as WeekdayNumbers;
  return DateTime.fromObject(
    { weekYear: week.weekYear, weekNumber: week.weekNumber, weekday, hour, minute },
    { zone: timeZone },
  ).toJSDate();
}

/**
 * A stable hash of what a supervisor reads in the summary: unit counts, every task's counts by status
 * and overdue, and which units are late. Names and the "as of" time are left out on purpose, so only a
 * change in the figures makes a new digest worth sending.
 */
export function digestFingerprint(summary: Summary): string {
  const figures = {
    units: [
      summary.units.total,
      summary.units.acknowledged,
      summary.units.registered,
      summary.units.reported,
      summary.units.overdue,
    ],
    tasks: summary.tasks.map((task) => [
      task.key,
      task.done,
      task.inProgress,
      task.blocked,
      task.notStarted,
      task.noReport,
      task.overdue,
    ]),
    late: summary.lateUnits.map((unit) => unit.code).sort(),
  };
  return createHash('sha256').update(JSON.stringify(figures)).digest('hex');
}

export type DigestDecision = 'send' | 'quiet' | 'skip';

/**
 * Whether this week's digest goes out: nothing to summarise (no participant in scope) is skipped; the
 * same figures as the last digest sent, with nothing late, are kept quiet; anything else is sent.
 */
export function digestDecision(input: {
  summary: Summary;
  fingerprint: string;
  lastSentFingerprint: string | null;
}): DigestDecision {
  if (input.summary.units.total === 0) return 'skip';
  const late = input.summary.units.overdue > 0 || input.summary.tasks.some((task) => task.overdue > 0);
  if (!late && input.lastSentFingerprint === input.fingerprint) return 'quiet';
  return 'send';
}
