import { DateTime } from 'luxon';

/**
 * Report periods with the cut-offs of Decree 09/2019/NĐ-CP (art. 12): a month's figures run from the
 * 15th of the previous month to the 14th; a quarter, a half-year and a year end on the 14th of their last
 * month (March/June/September/December, June/December, December). The cut-off day is configurable.
 */
export const CADENCES = ['monthly', 'quarterly', 'half-yearly', 'yearly'] as const;
export type Cadence = (typeof CADENCES)[number];

export interface Period {
  cadence: Cadence;
  /** Unique per campaign: "2026-07", "2026-Q3", "2026-H2", "2026". */
  key: string;
  /** First day (the day after the previous cut-off). */
  startsOn: string;
  /** The cut-off: last day of the period. */
  endsOn: string;
  /** Day by which the report is due (end of that day). */
  dueOn: string;
  /** The month number (1-12) and year the period is named after. */
  year: number;
  index: number;
}

const MONTHS: Record<Cadence, number> = { monthly: 1, quarterly: 3, 'half-yearly': 6, yearly: 12 };

/** The longest due delay that still ends before the next period's cut-off. */
export function maxDueDays(cadence: Cadence): number {
  return { monthly: 27, quarterly: 88, 'half-yearly': 180, yearly: 364 }[cadence];
}

const iso = (date: DateTime): string => date.toISODate() ?? '';

/** The period that ends with the cut-off in (year, month), month being the period's last month. */
function periodEndingIn(
  cadence: Cadence,
  year: number,
  month: number,
  options: { cutoffDay: number; dueDays: number },
): Period {
  const end = DateTime.utc(year, month, options.cutoffDay);
  const start = end.minus({ months: MONTHS[cadence] }).plus({ days: 1 });
  const index = month / MONTHS[cadence];
  const key =
    cadence === 'monthly'
      ? `${year}-${String(month).padStart(2, '0')}`
      : cadence === 'quarterly'
        ? `${year}-Q${index}`
        : cadence === 'half-yearly'
          ? `${year}-H${index}`
          : String(year);
  return {
    cadence,
    key,
    startsOn: iso(start),
    endsOn: iso(end),
    dueOn: iso(end.plus({ days: options.dueDays })),
    year,
    index,
  };
}

/** The period a day belongs to. */
export function periodContaining(
  cadence: Cadence,
  day: string,
  options: { cutoffDay?: number; dueDays?: number } = {},
): Period {
  const opts = { cutoffDay: options.cutoffDay ?? 14, dueDays: options.dueDays ?? 5 };
  const date = DateTime.fromISO(day, { zone: 'utc' });
  // The month whose cut-off closes this day's figures.
  const closing = date.day > opts.cutoffDay ? date.plus({ months: 1 }).startOf('month') : date;
  const span = MONTHS[cadence];
  const lastMonth = Math.ceil(closing.month / span) * span;
  return periodEndingIn(cadence, closing.year, lastMonth, opts);
}

/** The latest period whose cut-off is before `day` (the one a round collects on that day). */
export function lastClosedPeriod(
  cadence: Cadence,
  day: string,
  options: { cutoffDay?: number; dueDays?: number } = {},
): Period {
  const current = periodContaining(cadence, day, options);
  const before = iso(DateTime.fromISO(current.startsOn, { zone: 'utc' }).minus({ days: 1 }));
  return periodContaining(cadence, before, options);
}
