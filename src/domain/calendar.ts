import * as vnLunar from '@dqcai/vn-lunar';
import { DateTime } from 'luxon';
import defaultData from './calendar-vn.json' with { type: 'json' };

/**
 * Vietnamese working days. The statutory holidays (Labour Code 2019, art. 112) are rules here:
 * 1/1; Tết Nguyên đán (the last day of the lunar year and the first four days of the new one);
 * Giỗ Tổ Hùng Vương (10/3 lunar); 30/4; 1/5; 2/9 and one day beside it. What each year's announcement
 * adds (bridges, compensatory days, Saturdays worked in exchange) is data: calendar-vn.json, plus
 * per-campaign `extraDaysOff` / `makeUpWorkingDays` in the policy. Days are ISO dates (YYYY-MM-DD).
 * Lunar dates come from @dqcai/vn-lunar (Hồ Ngọc Đức's algorithm at UTC+7, the Vietnamese calendar,
 * which differs from the Chinese one in some years, e.g. Tết 1985).
 */
export interface CalendarData {
  extraDaysOff?: string[];
  makeUpWorkingDays?: string[];
  /** Which day beside 2/9 is off, by year: 'before' (1/9) or 'after' (3/9, the default). */
  septemberSecondBeside?: Record<string, string>;
}

export const DEFAULT_CALENDAR_DATA: CalendarData = defaultData;

export type HolidayName =
  'new_year' | 'tet' | 'hung_kings' | 'reunification' | 'labour' | 'national' | 'extra_day_off';

const isoOf = (date: DateTime): string => date.toISODate() ?? '';

/** The package's .d.ts files use extensionless relative imports that NodeNext cannot follow: typed here. */
const lunar = vnLunar as unknown as {
  getSolarDate(
    day: number,
    month: number,
    year: number,
    leap?: boolean,
  ): { day: number; month: number; year: number };
};

function solarOfLunar(day: number, month: number, year: number): string {
  const solar = lunar.getSolarDate(day, month, year);
  return DateTime.utc(solar.year, solar.month, solar.day).toISODate() ?? '';
}

const holidayCache = new Map<number, Map<string, HolidayName>>();

/** The statutory holidays of a Gregorian year (without the yearly announcement's extras). */
export function statutoryHolidays(
  year: number,
  data: CalendarData = DEFAULT_CALENDAR_DATA,
): Map<string, HolidayName> {
  const beside = data.septemberSecondBeside?.[String(year)] === 'before' ? '09-01' : '09-03';
  const cacheable = data === DEFAULT_CALENDAR_DATA;
  const cached = cacheable ? holidayCache.get(year) : undefined;
  if (cached) return cached;
  const days = new Map<string, HolidayName>();
  days.set(`${year}-01-01`, 'new_year');
  days.set(`${year}-04-30`, 'reunification');
  days.set(`${year}-05-01`, 'labour');
  days.set(`${year}-09-02`, 'national');
  days.set(`${year}-${beside}`, 'national');
  // Tết of this lunar year and of the next (whose eve may fall in late January… or this December, never).
  for (const lunarYear of [year, year + 1]) {
    const newYear = DateTime.fromISO(solarOfLunar(1, 1, lunarYear), { zone: 'utc' });
    for (let offset = -1; offset <= 3; offset += 1) {
      const day = newYear.plus({ days: offset });
      if (day.year === year) days.set(isoOf(day), 'tet');
    }
  }
  days.set(solarOfLunar(10, 3, year), 'hung_kings');
  if (cacheable) holidayCache.set(year, days);
  return days;
}

export class WorkCalendar {
  private readonly extraOff: Set<string>;
  private readonly makeUp: Set<string>;

  constructor(
    readonly timeZone: string,
    private readonly data: CalendarData = DEFAULT_CALENDAR_DATA,
    campaign: { extraDaysOff?: string[]; makeUpWorkingDays?: string[] } = {},
  ) {
    this.extraOff = new Set([...(data.extraDaysOff ?? []), ...(campaign.extraDaysOff ?? [])]);
    this.makeUp = new Set([...(data.makeUpWorkingDays ?? []), ...(campaign.makeUpWorkingDays ?? [])]);
  }

  /** Why a day is off, or undefined for an ordinary day (weekends are not holidays). */
  holiday(day: string): HolidayName | undefined {
    const statutory = statutoryHolidays(Number(day.slice(0, 4)), this.data).get(day);
    return statutory ?? (this.extraOff.has(day) ? 'extra_day_off' : undefined);
  }

  isWorkingDay(day: string): boolean {
    if (this.makeUp.has(day)) return true;
    const weekday = DateTime.fromISO(day, { zone: 'utc' }).weekday;
    if (weekday === 6 || weekday === 7) return false;
    return this.holiday(day) === undefined;
  }

  /** The first working day strictly after `day`. */
  nextWorkingDay(day: string): string {
    let current = addDays(day, 1);
    while (!this.isWorkingDay(current)) current = addDays(current, 1);
    return current;
  }

  /** The n-th working day after `day` (n ≥ 1). */
  workingDayAfter(day: string, n: number): string {
    let current = day;
    for (let i = 0; i < n; i += 1) current = this.nextWorkingDay(current);
    return current;
  }

  /** Working days in (from, to]: how many working days have begun after `from` up to and including `to`. */
  workingDaysBetween(from: string, to: string): number {
    let count = 0;
    for (let current = addDays(from, 1); current <= to; current = addDays(current, 1)) {
      if (this.isWorkingDay(current)) count += 1;
    }
    return count;
  }

  /** The local calendar day of an instant. */
  dayOf(instant: Date): string {
    return isoOf(DateTime.fromJSDate(instant, { zone: this.timeZone }));
  }

  /** The instant of a local wall-clock time ("HH:mm") on a day. */
  at(day: string, time: string): Date {
    const [hour, minute] = time.split(':').map(Number);
    return DateTime.fromISO(day, { zone: this.timeZone })
      .set({ hour: hour ?? 0, minute: minute ?? 0, second: 0, millisecond: 0 })
      .toJSDate();
  }

  /** Minutes since local midnight. */
  minuteOfDay(instant: Date): number {
    const local = DateTime.fromJSDate(instant, { zone: this.timeZone });
    return local.hour * 60 + local.minute;
  }
}

export function addDays(day: string, days: number): string {
  return isoOf(DateTime.fromISO(day, { zone: 'utc' }).plus({ days }));
}

export const minutesOf = (time: string): number => {
  const [hour, minute] = time.split(':').map(Number);
  return (hour ?? 0) * 60 + (minute ?? 0);
};

export interface QuietHours {
  /** "HH:mm": quiet from this time… */
  start: string;
  /** …until this time (the window may wrap past midnight, as 21:00–07:00 does). */
  end: string;
}

export const DEFAULT_QUIET_HOURS: QuietHours = { start: '21:00', end: '07:00' };
export const DEFAULT_SEND_AT = '07:30';

export function isQuietMinute(minute: number, quiet: QuietHours): boolean {
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return false;
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

export function isQuiet(instant: Date, quiet: QuietHours, calendar: WorkCalendar): boolean {
  return isQuietMinute(calendar.minuteOfDay(instant), quiet);
}

/**
 * When a message meant for `instant` may go out: at once if it is a working day, outside quiet hours and
 * not before `sendAt`; otherwise at `sendAt` of the next working day, unless the deadline comes first,
 * in which case at `sendAt` of the deadline's own day (a deadline on a holiday is still announced there).
 */
export function nextAllowedSendTime(
  instant: Date,
  calendar: WorkCalendar,
  options: { quiet?: QuietHours; sendAt?: string; deadline?: Date } = {},
): Date {
  const quiet = options.quiet ?? DEFAULT_QUIET_HOURS;
  const sendAt = options.sendAt ?? DEFAULT_SEND_AT;
  const day = calendar.dayOf(instant);
  const minute = calendar.minuteOfDay(instant);
  if (calendar.isWorkingDay(day) && !isQuietMinute(minute, quiet) && minute >= minutesOf(sendAt))
    return instant;
  const nextDay =
    calendar.isWorkingDay(day) && minute < minutesOf(sendAt) ? day : calendar.nextWorkingDay(day);
  const next = calendar.at(nextDay, sendAt);
  if (options.deadline && next.getTime() >= options.deadline.getTime()) {
    const deadlineDay = calendar.dayOf(new Date(options.deadline.getTime() - 1));
    const onDeadlineDay = calendar.at(deadlineDay, sendAt);
    return onDeadlineDay.getTime() > instant.getTime() ? onDeadlineDay : instant;
  }
  return next;
}
