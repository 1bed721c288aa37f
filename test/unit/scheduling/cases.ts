import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  WorkCalendar,
  addDays,
  isQuiet,
  minutesOf,
  nextAllowedSendTime,
  statutoryHolidays,
} from '../../../src/domain/calendar.ts';
import { lastClosedPeriod, periodContaining } from '../../../src/domain/periods.ts';
import {
  DEFAULT_POLICY,
  policySchema,
  reportScheduleSchema,
  type ReminderPolicy,
} from '../../../src/domain/policy.ts';
import { dueReminders, type PlannedReminder } from '../../../src/domain/reminder-planner.ts';

/**
 * The scheduling rules as tables and properties. Imported by one test file per process time zone
 * (`TZ=UTC` and `TZ=Asia/Ho_Chi_Minh`, set at the top of each file; vitest runs each file in its own
 * process), so nothing here may depend on the machine's zone: every answer must be the same in both.
 */
const ZONE = 'Asia/Ho_Chi_Minh';
const calendar = new WorkCalendar(ZONE);
const local = (text: string): Date => DateTime.fromISO(text, { zone: ZONE }).toJSDate();
const keys = (reminders: PlannedReminder[]) => reminders.map((r) => `${r.kind}:${r.slot}`);

export function schedulingSuite(processZone: string): void {
  it(`runs with the process time zone ${processZone}`, () => {
    expect(process.env.TZ).toBe(processZone);
    const offset = new Date('2026-01-01T00:00:00Z').getTimezoneOffset();
    expect(offset).toBe(processZone === 'UTC' ? 0 : -420);
  });

  describe('calendar', () => {
    it.each([
      ['2024-02-10', 'tet'],
      ['2025-01-29', 'tet'],
      ['2026-02-17', 'tet'],
      ['2027-02-06', 'tet'],
      ['2024-02-09', 'tet'],
      ['2026-02-16', 'tet'],
      ['2026-02-20', 'tet'],
      ['2027-02-05', 'tet'],
      ['2027-02-09', 'tet'],
      ['2024-04-18', 'hung_kings'],
      ['2025-04-07', 'hung_kings'],
      ['2026-04-26', 'hung_kings'],
      ['2026-01-01', 'new_year'],
      ['2026-04-30', 'reunification'],
      ['2026-05-01', 'labour'],
      ['2026-09-02', 'national'],
      ['2026-09-03', 'national'],
      ['2025-09-01', 'national'],
      ['2026-04-27', 'extra_day_off'],
    ])('%s is %s', (day, name) => {
      expect(calendar.holiday(day)).toBe(name);
      expect(calendar.isWorkingDay(day)).toBe(false);
    });

    it.each([
      ['2026-02-13', true], // Friday before Tết
      ['2026-02-21', false], // Tết holiday week ends on a Saturday
      ['2026-02-23', true], // back to work
      ['2027-02-10', true], // mùng 5 Tết is not a statutory day off
      ['2025-04-26', true], // Saturday worked in exchange for 2/5/2025 (data)
      ['2025-05-02', false], // the bridge day (data)
      ['2026-07-18', false],
      ['2026-07-20', true],
    ])('%s working: %s', (day, working) => {
      expect(calendar.isWorkingDay(day)).toBe(working);
    });

    it('takes extra days off and make-up working days as data', () => {
      const custom = new WorkCalendar(ZONE, {
        extraDaysOff: ['2026-07-20'],
        makeUpWorkingDays: ['2026-07-18'],
      });
      expect(custom.isWorkingDay('2026-07-20')).toBe(false);
      expect(custom.isWorkingDay('2026-07-18')).toBe(true);
      expect(custom.nextWorkingDay('2026-07-17')).toBe('2026-07-18');
      const perCampaign = new WorkCalendar(ZONE, undefined, { extraDaysOff: ['2026-07-21'] });
      expect(perCampaign.isWorkingDay('2026-07-21')).toBe(false);
    });

    it('has 5 Tết days every year', () => {
      for (let year = 2024; year <= 2030; year += 1) {
        const tet = [...statutoryHolidays(year)].filter(([, name]) => name === 'tet');
        expect(tet.length).toBe(5);
      }
    });

    it.each([
      // Working day, during hours: at once.
      ['2026-07-15T10:00', '2026-07-15T10:00'],
      // Quiet hours in the evening: next working day 07:30.
      ['2026-07-15T21:30', '2026-07-16T07:30'],
      // Early morning of a working day: 07:30 the same day.
      ['2026-07-16T06:00', '2026-07-16T07:30'],
      ['2026-07-16T07:10', '2026-07-16T07:30'],
      // Friday night -> Monday.
      ['2026-07-17T22:00', '2026-07-20T07:30'],
      // Tết 2026: the whole holiday week is skipped.
      ['2026-02-13T21:00', '2026-02-23T07:30'],
      // New Year's Eve night -> 2 January 2026 (a Friday).
      ['2025-12-31T23:00', '2026-01-02T07:30'],
      // 30/4 + 1/5 2026 (Thu, Fri) -> Monday 4/5.
      ['2026-04-29T21:15', '2026-05-04T07:30'],
    ])('a message meant for %s goes at %s', (at, expected) => {
      expect(nextAllowedSendTime(local(at), calendar).toISOString()).toBe(local(expected).toISOString());
    });

    it('sends before a deadline that comes first, on the deadline day, never at night', () => {
      // Saturday evening; deadline is the end of Sunday: Sunday 07:30 rather than Monday.
      const sent = nextAllowedSendTime(local('2026-07-18T22:00'), calendar, {
        deadline: local('2026-07-20T00:00'),
      });
      expect(sent.toISOString()).toBe(local('2026-07-19T07:30').toISOString());
      expect(isQuiet(sent, DEFAULT_POLICY.quietHours, calendar)).toBe(false);
    });
  });

  describe('periods (Decree 09/2019 cut-offs)', () => {
    it.each([
      ['monthly', '2026-07-14', '2026-07', '2026-06-15', '2026-07-14'],
      ['monthly', '2026-07-15', '2026-08', '2026-07-15', '2026-08-14'],
      ['monthly', '2026-12-15', '2027-01', '2026-12-15', '2027-01-14'],
      ['monthly', '2027-01-01', '2027-01', '2026-12-15', '2027-01-14'],
      ['monthly', '2026-02-17', '2026-03', '2026-02-15', '2026-03-14'],
      ['quarterly', '2026-09-14', '2026-Q3', '2026-06-15', '2026-09-14'],
      ['quarterly', '2026-09-15', '2026-Q4', '2026-09-15', '2026-12-14'],
      ['quarterly', '2026-12-20', '2027-Q1', '2026-12-15', '2027-03-14'],
      ['half-yearly', '2026-06-14', '2026-H1', '2025-12-15', '2026-06-14'],
      ['half-yearly', '2026-12-15', '2027-H1', '2026-12-15', '2027-06-14'],
      ['yearly', '2026-12-14', '2026', '2025-12-15', '2026-12-14'],
      ['yearly', '2026-12-15', '2027', '2026-12-15', '2027-12-14'],
    ] as const)('%s: %s is in %s (%s – %s)', (cadence, day, key, startsOn, endsOn) => {
      expect(periodContaining(cadence, day)).toMatchObject({ key, startsOn, endsOn });
    });

    it('is due a configurable number of days after the cut-off', () => {
      expect(periodContaining('monthly', '2026-07-01').dueOn).toBe('2026-07-19');
      expect(periodContaining('monthly', '2026-07-01', { dueDays: 0 }).dueOn).toBe('2026-07-14');
      expect(periodContaining('quarterly', '2026-12-01', { dueDays: 20 }).dueOn).toBe('2027-01-03');
      expect(lastClosedPeriod('monthly', '2026-07-15').key).toBe('2026-07');
      expect(lastClosedPeriod('monthly', '2026-07-14').key).toBe('2026-06');
      expect(lastClosedPeriod('monthly', '2026-07-20', { cutoffDay: 20 }).key).toBe('2026-06');
    });
  });

  describe('policy validation', () => {
    it.each([
      [{ daysBefore: [3, -1] }, 'daysBefore.1'],
      [{ daysBefore: [0] }, 'daysBefore.0'],
      [{ quietHours: { start: '07:00', end: '07:00' } }, 'quietHours'],
      [{ quietHours: { start: '08:00', end: '07:00' } }, 'quietHours'],
      [{ sendAt: '22:00' }, 'sendAt'],
      [{ escalateAfterWorkingDays: -2 }, 'escalateAfterWorkingDays'],
      [{ overdueEvery: 1 }, ''],
    ])('refuses %j naming %s', (policy, path) => {
      const result = policySchema.safeParse(policy);
      expect(result.success).toBe(false);
      if (path) expect(result.error?.issues.map((issue) => issue.path.join('.'))).toContain(path);
    });

    it('refuses an unknown cadence and a due day beyond the period', () => {
      expect(reportScheduleSchema.safeParse({ cadence: 'weekly' }).error?.issues[0]?.path).toEqual([
        'cadence',
      ]);
      expect(
        reportScheduleSchema.safeParse({ cadence: 'monthly', dueDay: 40 }).error?.issues[0]?.path,
      ).toEqual(['dueDay']);
      expect(reportScheduleSchema.safeParse({ cadence: 'quarterly', dueDay: 40 }).success).toBe(true);
    });
  });

  describe('reminder planner (default policy, Asia/Ho_Chi_Minh)', () => {
    const plan = (dueOn: string, at: string, doneAt?: string, receivedAt?: string) =>
      keys(
        dueReminders({
          task: { dueOn },
          unit: { doneAt: doneAt ? local(doneAt) : null },
          policy: DEFAULT_POLICY,
          calendar,
          now: local(at),
          receivedAt: receivedAt ? local(receivedAt) : null,
        }),
      );

    it.each([
      // Due Wednesday 15/7/2026: 3 days before is a Sunday, so Monday; then Tuesday, Wednesday…
      ['2026-07-15', '2026-07-10T08:00', []],
      ['2026-07-15', '2026-07-13T07:29', []],
      ['2026-07-15', '2026-07-13T07:30', ['before:2026-07-15-3d']],
      ['2026-07-15', '2026-07-13T20:59', ['before:2026-07-15-3d']],
      ['2026-07-15', '2026-07-13T21:00', []],
      ['2026-07-15', '2026-07-14T10:00', ['before:2026-07-15-1d']],
      ['2026-07-15', '2026-07-15T07:30', ['due:2026-07-15']],
      ['2026-07-15', '2026-07-15T22:00', []],
      ['2026-07-15', '2026-07-16T03:00', []],
      ['2026-07-15', '2026-07-16T07:30', ['overdue:2026-07-16']],
      ['2026-07-15', '2026-07-17T12:00', ['overdue:2026-07-17']],
      ['2026-07-15', '2026-07-18T09:00', []],
      ['2026-07-15', '2026-07-19T09:00', []],
      ['2026-07-15', '2026-07-20T08:00', ['overdue:2026-07-20', 'escalation:2026-07-15']],
      ['2026-07-15', '2026-07-21T08:00', ['overdue:2026-07-21', 'escalation:2026-07-15']],
      // Tết 2026: due on mùng 2 (18/2): every "before" lands on the due day itself (the deadline is sooner
      // than the next working day, 23/2); overdue from 23/2; escalation on the 3rd working day after.
      ['2026-02-18', '2026-02-13T10:00', []],
      ['2026-02-18', '2026-02-16T10:00', []],
      ['2026-02-18', '2026-02-18T07:30', ['due:2026-02-18']],
      ['2026-02-18', '2026-02-19T10:00', []],
      ['2026-02-18', '2026-02-23T07:30', ['overdue:2026-02-23']],
      ['2026-02-18', '2026-02-25T07:30', ['overdue:2026-02-25', 'escalation:2026-02-18']],
      // Due 24/2, just after Tết: 3 days before is Saturday 21/2 -> Monday 23/2, which is also 1 day before.
      ['2026-02-18', '2026-02-23T07:29', []],
      ['2026-02-24', '2026-02-23T07:30', ['before:2026-02-24-1d']],
      // Year boundary: due 1/1/2027 (a holiday): 29/12, 31/12, the holiday morning, then 4/1/2027.
      ['2027-01-01', '2026-12-29T09:00', ['before:2027-01-01-3d']],
      ['2027-01-01', '2026-12-31T09:00', ['before:2027-01-01-1d']],
      ['2027-01-01', '2027-01-01T09:00', ['due:2027-01-01']],
      ['2027-01-01', '2027-01-02T09:00', []],
      ['2027-01-01', '2027-01-04T09:00', ['overdue:2027-01-04']],
      ['2027-01-01', '2027-01-06T09:00', ['overdue:2027-01-06', 'escalation:2027-01-01']],
      // Month boundary over 30/4–1/5/2026: 1 day before (30/4) lands on the due day 1/5.
      ['2026-05-01', '2026-04-28T09:00', ['before:2026-05-01-3d']],
      ['2026-05-01', '2026-04-30T09:00', []],
      ['2026-05-01', '2026-05-01T09:00', ['due:2026-05-01']],
      ['2026-05-01', '2026-05-04T09:00', ['overdue:2026-05-04']],
    ])('due %s, at %s: %j', (dueOn, at, expected) => {
      expect(plan(dueOn, at)).toEqual(expected);
    });

    it('sends nothing once the unit has reported done', () => {
      expect(plan('2026-07-15', '2026-07-20T08:00', '2026-07-17T10:00')).toEqual([]);
      expect(plan('2026-07-15', '2026-07-16T08:00', '2026-07-17T10:00')).toEqual(['overdue:2026-07-16']);
    });

    it('sends nothing meant for before the launch', () => {
      expect(plan('2026-07-15', '2026-07-13T10:00', undefined, '2026-07-13T09:00')).toEqual([]);
      expect(plan('2026-07-15', '2026-07-14T10:00', undefined, '2026-07-13T09:00')).toEqual([
        'before:2026-07-15-1d',
      ]);
    });

    it('follows a custom policy', () => {
      const policy: ReminderPolicy = {
        ...DEFAULT_POLICY,
        daysBefore: [7],
        onDueDay: false,
        overdueEveryWorkingDays: 2,
        escalateAfterWorkingDays: 0,
        sendAt: '14:00',
        quietHours: { start: '18:00', end: '08:00' },
      };
      const at = (when: string) =>
        keys(dueReminders({ task: { dueOn: '2026-07-15' }, policy, calendar, now: local(when) }));
      expect(at('2026-07-08T13:59')).toEqual([]);
      expect(at('2026-07-08T14:00')).toEqual(['before:2026-07-15-7d']);
      expect(at('2026-07-08T18:00')).toEqual([]);
      expect(at('2026-07-15T15:00')).toEqual(['before:2026-07-15-7d']);
      expect(at('2026-07-16T15:00')).toEqual(['overdue:2026-07-16']);
      expect(at('2026-07-17T15:00')).toEqual(['overdue:2026-07-16']);
      expect(at('2026-07-20T15:00')).toEqual(['overdue:2026-07-20']);
      expect(at('2026-07-29T15:00')).toEqual(['overdue:2026-07-28']);
    });
  });

  describe('a task received already overdue (launched late, or a unit or task added later)', () => {
    const plan = (dueOn: string, receivedAt: string, at: string, doneAt?: string, policy = DEFAULT_POLICY) =>
      dueReminders({
        task: { dueOn },
        unit: { doneAt: doneAt ? local(doneAt) : null },
        policy,
        calendar,
        now: local(at),
        receivedAt: local(receivedAt),
      });

    it.each([
      // Due Wednesday 15/7/2026, received Monday 20/7 at 09:00: chased from Tuesday, escalated on the
      // morning after 2 whole working days (Tuesday, Wednesday): Thursday 23/7.
      ['2026-07-15', '2026-07-20T09:00', '2026-07-20T10:00', []],
      ['2026-07-15', '2026-07-20T09:00', '2026-07-21T07:29', []],
      ['2026-07-15', '2026-07-20T09:00', '2026-07-21T07:30', ['overdue:2026-07-21']],
      ['2026-07-15', '2026-07-20T09:00', '2026-07-22T08:00', ['overdue:2026-07-22']],
      ['2026-07-15', '2026-07-20T09:00', '2026-07-23T07:29', []],
      ['2026-07-15', '2026-07-20T09:00', '2026-07-23T07:30', ['overdue:2026-07-23', 'escalation:2026-07-15']],
      ['2026-07-15', '2026-07-20T09:00', '2026-07-24T08:00', ['overdue:2026-07-24', 'escalation:2026-07-15']],
      // Received before the send time: that morning's reminder and escalation are not sent on the day of receipt.
      ['2026-07-15', '2026-07-20T06:00', '2026-07-20T08:00', []],
      ['2026-07-15', '2026-07-20T06:00', '2026-07-22T08:00', ['overdue:2026-07-22']],
      ['2026-07-15', '2026-07-20T06:00', '2026-07-23T08:00', ['overdue:2026-07-23', 'escalation:2026-07-15']],
      // Received on a Saturday: Monday and Tuesday are the two working days, Wednesday 22/7 the escalation.
      ['2026-07-15', '2026-07-18T10:00', '2026-07-20T08:00', ['overdue:2026-07-20']],
      ['2026-07-15', '2026-07-18T10:00', '2026-07-22T08:00', ['overdue:2026-07-22', 'escalation:2026-07-15']],
      // Received on the due day itself: not overdue on arrival, the usual track from the deadline.
      ['2026-07-15', '2026-07-15T10:00', '2026-07-15T12:00', []],
      ['2026-07-15', '2026-07-15T10:00', '2026-07-16T07:30', ['overdue:2026-07-16']],
      ['2026-07-15', '2026-07-15T10:00', '2026-07-20T07:30', ['overdue:2026-07-20', 'escalation:2026-07-15']],
      // Due 10/2/2026, received Friday 13/2 before Tết: the holiday week is skipped; 23/2 and 24/2 are the two
      // working days, 25/2 the escalation.
      ['2026-02-10', '2026-02-13T10:00', '2026-02-16T08:00', []],
      ['2026-02-10', '2026-02-13T10:00', '2026-02-23T07:30', ['overdue:2026-02-23']],
      ['2026-02-10', '2026-02-13T10:00', '2026-02-24T08:00', ['overdue:2026-02-24']],
      ['2026-02-10', '2026-02-13T10:00', '2026-02-25T07:30', ['overdue:2026-02-25', 'escalation:2026-02-10']],
    ])('due %s, received %s, at %s: %j', (dueOn, receivedAt, at, expected) => {
      expect(keys(plan(dueOn, receivedAt, at))).toEqual(expected);
    });

    it('says how late the task really is, counted from its due day', () => {
      const [overdue] = plan('2026-07-15', '2026-07-20T09:00', '2026-07-21T08:00');
      expect(overdue).toMatchObject({ kind: 'overdue', days: 4 }); // 16, 17, 20, 21 July
      const escalation = plan('2026-07-15', '2026-07-20T09:00', '2026-07-23T08:00').find(
        (reminder) => reminder.kind === 'escalation',
      );
      expect(escalation).toMatchObject({ day: '2026-07-23', days: 5 }); // 16, 17, 20, 21, 22 July
      // A task received in time is escalated after exactly the policy's working days.
      const onTime = plan('2026-07-15', '2026-07-01T09:00', '2026-07-20T08:00');
      expect(onTime.find((reminder) => reminder.kind === 'escalation')).toMatchObject({ days: 2 });
    });

    it('sends nothing once the unit has reported done after receiving it', () => {
      expect(plan('2026-07-15', '2026-07-20T09:00', '2026-07-23T08:00', '2026-07-22T10:00')).toEqual([]);
    });

    it('restarts a custom overdue cadence from the day of receipt', () => {
      const policy: ReminderPolicy = {
        ...DEFAULT_POLICY,
        overdueEveryWorkingDays: 2,
        escalateAfterWorkingDays: 3,
      };
      const at = (when: string) => keys(plan('2026-07-15', '2026-07-20T09:00', when, undefined, policy));
      expect(at('2026-07-21T08:00')).toEqual(['overdue:2026-07-21']);
      expect(at('2026-07-22T08:00')).toEqual(['overdue:2026-07-21']);
      expect(at('2026-07-23T08:00')).toEqual(['overdue:2026-07-23']);
      expect(at('2026-07-24T08:00')).toEqual(['overdue:2026-07-23', 'escalation:2026-07-15']);
    });

    it("at 500 random receipts and instants: nothing before the receipt, nothing overdue on its day, the escalation after the policy's working days counted from the later of the due day and the receipt", () => {
      const start = Date.parse('2024-01-01T00:00:00Z');
      const span = Date.parse('2027-12-31T00:00:00Z') - start;
      let escalations = 0;
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: span }),
          fc.integer({ min: -20, max: 10 }),
          fc.integer({ min: 0, max: 4 }),
          fc.array(fc.integer({ min: -3 * 24 * 60, max: 20 * 24 * 60 }), { minLength: 1, maxLength: 30 }),
          (offset, dueShift, escalateAfterWorkingDays, tickMinutes) => {
            const receivedAt = new Date(start + offset);
            const receivedOn = calendar.dayOf(receivedAt);
            const dueOn = addDays(receivedOn, dueShift);
            const policy: ReminderPolicy = { ...DEFAULT_POLICY, escalateAfterWorkingDays };
            for (const minute of tickMinutes) {
              const now = new Date(receivedAt.getTime() + minute * 60_000);
              for (const reminder of dueReminders({ task: { dueOn }, policy, calendar, now, receivedAt })) {
                expect(reminder.at.getTime()).toBeGreaterThanOrEqual(receivedAt.getTime());
                if (reminder.kind === 'overdue' || reminder.kind === 'escalation')
                  expect(reminder.day > receivedOn && reminder.day > dueOn).toBe(true);
                if (reminder.kind !== 'escalation') continue;
                escalations += 1;
                const from = receivedOn > dueOn ? receivedOn : dueOn;
                expect(calendar.workingDaysBetween(from, reminder.day)).toBe(escalateAfterWorkingDays + 1);
                expect(calendar.isWorkingDay(reminder.day)).toBe(true);
                expect(reminder.slot).toBe(dueOn);
              }
            }
          },
        ),
        { numRuns: 500 },
      );
      expect(escalations).toBeGreaterThan(0);
    });
  });

  describe('planner properties (fast-check)', () => {
    const start = Date.parse('2024-01-01T00:00:00Z');
    const span = Date.parse('2027-12-31T00:00:00Z') - start;
    const policyArb = fc.record({
      daysBefore: fc.uniqueArray(fc.integer({ min: 1, max: 10 }), { maxLength: 3 }),
      onDueDay: fc.boolean(),
      overdueEveryWorkingDays: fc.integer({ min: 0, max: 3 }),
      escalateAfterWorkingDays: fc.integer({ min: 0, max: 4 }),
      sendAt: fc.constantFrom('07:30', '08:00', '13:15'),
    });

    it('at 1,000 random instants: never in quiet hours or before the send time, never on a day off but the deadline day, never twice a day, never after done', () => {
      // Every check below is about a reminder that was planned: a planner that planned none would pass them.
      const planned = { runs: 0, reminders: 0, kinds: new Set<string>() };
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: span }),
          fc.integer({ min: -15, max: 15 }),
          policyArb,
          fc.array(fc.integer({ min: 0, max: 30 * 24 * 60 }), { minLength: 1, maxLength: 40 }),
          fc.option(fc.integer({ min: 0, max: 30 * 24 * 60 }), { nil: undefined }),
          (offset, dueShift, overrides, tickMinutes, doneMinute) => {
            const now = new Date(start + offset);
            const policy: ReminderPolicy = {
              ...DEFAULT_POLICY,
              ...overrides,
              daysBefore: [...overrides.daysBefore].sort((a, b) => b - a),
            };
            const dueOn = addDays(calendar.dayOf(now), dueShift);
            // A month of sweeps at random instants from `now`, remembering what was sent, as the database does.
            const ticks = [...new Set(tickMinutes)]
              .sort((a, b) => a - b)
              .map((m) => new Date(now.getTime() + m * 60_000));
            const doneAt = doneMinute === undefined ? null : new Date(now.getTime() + doneMinute * 60_000);
            const sent = new Set<string>();
            const trackDays = new Set<string>();
            const before = planned.reminders;
            for (const tick of ticks) {
              for (const reminder of dueReminders({
                task: { dueOn },
                unit: { doneAt },
                policy,
                calendar,
                now: tick,
              })) {
                if (doneAt) expect(tick.getTime()).toBeLessThan(doneAt.getTime());
                expect(isQuiet(tick, policy.quietHours, calendar)).toBe(false);
                expect(calendar.minuteOfDay(tick)).toBeGreaterThanOrEqual(minutesOf(policy.sendAt));
                const day = calendar.dayOf(tick);
                if (!calendar.isWorkingDay(day)) expect(day).toBe(dueOn);
                const key = `${reminder.kind}:${reminder.slot}`;
                if (sent.has(key)) continue; // the (task, unit, kind, slot) key holds it back
                sent.add(key);
                planned.reminders += 1;
                planned.kinds.add(reminder.kind);
                if (reminder.kind !== 'escalation') {
                  expect(trackDays.has(day), `two reminders on ${day}`).toBe(false);
                  trackDays.add(day);
                }
              }
            }
            if (planned.reminders > before) planned.runs += 1;
          },
        ),
        { numRuns: 1000 },
      );
      // About half the runs plan something (measured: 450-500 of 1,000), of all four kinds.
      expect(planned.runs).toBeGreaterThan(250);
      expect([...planned.kinds].sort()).toEqual(['before', 'due', 'escalation', 'overdue']);
    });
  });
}
