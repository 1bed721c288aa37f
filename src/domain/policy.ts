import { z } from 'zod';
import {
  DEFAULT_QUIET_HOURS,
  DEFAULT_SEND_AT,
  isQuietMinute,
  minutesOf,
  type QuietHours,
} from './calendar.ts';
import { CADENCES, maxDueDays, type Cadence } from './periods.ts';

/** How a campaign chases its units. Every field has a default; a campaign stores only what it changes. */
export interface ReminderPolicy {
  /** Calendar days before the due day on which to remind (each ≥ 1). */
  daysBefore: number[];
  /** Remind on the morning of the due day. */
  onDueDay: boolean;
  /** While overdue, remind every this many working days (0: never). */
  overdueEveryWorkingDays: number;
  /** Tell the parent unit's leaders once this many working days have passed overdue (0: never). */
  escalateAfterWorkingDays: number;
  /** Local time reminders go out ("HH:mm"). */
  sendAt: string;
  quietHours: QuietHours;
  /** Days off and make-up working days of this campaign, on top of the national calendar data. */
  extraDaysOff: string[];
  makeUpWorkingDays: string[];
  /** Calendar days units have for their closing report (tổng kết) after the campaign is closed. */
  closingReportDays: number;
}

export const DEFAULT_POLICY: ReminderPolicy = {
  daysBefore: [3, 1],
  onDueDay: true,
  overdueEveryWorkingDays: 1,
  escalateAfterWorkingDays: 2,
  sendAt: DEFAULT_SEND_AT,
  quietHours: DEFAULT_QUIET_HOURS,
  extraDaysOff: [],
  makeUpWorkingDays: [],
  closingReportDays: 7,
};

export interface ReportSchedule {
  cadence: Cadence;
  /** Calendar days after the cut-off by which the report is due. */
  dueDay: number;
  /** Day of the month on which a period ends (Decree 09/2019: the 14th). */
  cutoffDay: number;
}

export const DEFAULT_DUE_DAYS = 5;
export const DEFAULT_CUTOFF_DAY = 14;

const time = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time as HH:mm');
const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD')
  .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)), 'a date as YYYY-MM-DD');

export const policySchema = z
  .strictObject({
    daysBefore: z
      .array(
        z
          .number()
          .int()
          .min(1, 'an offset must be at least 1 day before the deadline (after it is the overdue cadence)')
          .max(366),
      )
      .max(10)
      .optional(),
    onDueDay: z.boolean().optional(),
    overdueEveryWorkingDays: z.number().int().min(0).max(60).optional(),
    escalateAfterWorkingDays: z.number().int().min(0).max(60).optional(),
    sendAt: time.optional(),
    quietHours: z.strictObject({ start: time, end: time }).optional(),
    extraDaysOff: z.array(day).max(400).optional(),
    makeUpWorkingDays: z.array(day).max(400).optional(),
    closingReportDays: z.number().int().min(1).max(90).optional(),
  })
  .superRefine((policy, ctx) => {
    const quiet = policy.quietHours ?? DEFAULT_QUIET_HOURS;
    if (policy.quietHours) {
      const start = minutesOf(quiet.start);
      const end = minutesOf(quiet.end);
      const length = (end - start + 1440) % 1440;
      if (start === end || length > 22 * 60) {
        ctx.addIssue({
          code: 'custom',
          path: ['quietHours'],
          message: 'quiet hours must leave at least two hours of the day for sending',
        });
        return;
      }
    }
    const sendAt = policy.sendAt ?? DEFAULT_SEND_AT;
    if (isQuietMinute(minutesOf(sendAt), quiet)) {
      ctx.addIssue({
        code: 'custom',
        path: [policy.sendAt ? 'sendAt' : 'quietHours'],
        message: `the send time ${sendAt} falls inside the quiet hours ${quiet.start}–${quiet.end}`,
      });
    }
  });

export type PolicyInput = z.infer<typeof policySchema>;

export const reportScheduleSchema = z
  .strictObject({
    cadence: z.enum(CADENCES),
    dueDay: z.number().int().min(0).optional(),
    cutoffDay: z.number().int().min(1).max(28).optional(),
  })
  .superRefine((schedule, ctx) => {
    const limit = maxDueDays(schedule.cadence);
    if (schedule.dueDay !== undefined && schedule.dueDay > limit) {
      ctx.addIssue({
        code: 'custom',
        path: ['dueDay'],
        message: `a ${schedule.cadence} report cannot be due more than ${limit} days after the cut-off (beyond the next period)`,
      });
    }
  });

/** The stored policy JSON merged over the defaults (tolerates rows stored before a field existed). */
export function resolvePolicy(stored: unknown): ReminderPolicy {
  const parsed = policySchema.safeParse(stored ?? {});
  const value = parsed.success ? parsed.data : {};
  return {
    ...DEFAULT_POLICY,
    ...value,
    daysBefore: [...new Set(value.daysBefore ?? DEFAULT_POLICY.daysBefore)].sort((a, b) => b - a),
  };
}

export function resolveSchedule(stored: unknown): ReportSchedule | null {
  const parsed = reportScheduleSchema.safeParse(stored);
  if (!parsed.success) return null;
  return {
    cadence: parsed.data.cadence,
    dueDay: parsed.data.dueDay ?? DEFAULT_DUE_DAYS,
    cutoffDay: parsed.data.cutoffDay ?? DEFAULT_CUTOFF_DAY,
  };
}
