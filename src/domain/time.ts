import { DateTime } from 'luxon';

/** A calendar date as stored (midnight UTC of that date) -> "YYYY-MM-DD". */
export function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** "YYYY-MM-DD" -> the Date Prisma stores for a DATE column. */
export function dateFromIso(iso: string): Date {
  return new Date(`${iso}T00:00:00.000Z`);
}

export function isValidIsoDate(iso: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(iso) && DateTime.fromISO(iso, { zone: 'utc' }).isValid;
}

/** dd/MM/yyyy, as Vietnamese officials write dates. */
export function formatDate(date: Date): string {
  const [y, m, d] = isoDate(date).split('-');
  return `${d ?? ''}/${m ?? ''}/${y ?? ''}`;
}

/** A task is due at the end of its day in the campaign's time zone: the instant the next day starts. */
export function dueInstant(dueOn: Date, timeZone: string): Date {
  return DateTime.fromISO(isoDate(dueOn), { zone: timeZone }).plus({ days: 1 }).startOf('day').toJSDate();
}

export function isOverdue(dueOn: Date, now: Date, timeZone: string): boolean {
  return now.getTime() >= dueInstant(dueOn, timeZone).getTime();
}

/** How many days a task is late at `now`: 1 on the day after its due day, counting every day since. */
export function daysLate(dueOn: Date, now: Date, timeZone: string): number {
  return Math.floor((now.getTime() - dueInstant(dueOn, timeZone).getTime()) / 86_400_000) + 1;
}

/** An instant as dd/MM/yyyy HH:mm in a time zone, as workbooks and the console show times. */
export function formatInstant(instant: Date, timeZone: string): string {
  return DateTime.fromJSDate(instant, { zone: timeZone }).toFormat('dd/MM/yyyy HH:mm');
}

/** The calendar date of an instant in a time zone, as stored for DATE columns. */
export function localDate(instant: Date, timeZone: string): Date {
  return dateFromIso(DateTime.fromJSDate(instant, { zone: timeZone }).toISODate() ?? isoDate(instant));
}
