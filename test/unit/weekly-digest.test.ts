import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import type { Summary } from '../../src/domain/summary.ts';
import { digestDecision, digestFingerprint, digestSlot, isoWeekOf } from '../../src/domain/weekly-digest.ts';

const ZONE = 'Asia/Ho_Chi_Minh';
const local = (text: string): Date => DateTime.fromISO(text, { zone: ZONE }).toJSDate();
const iso = (date: Date) => date.toISOString().slice(0, 10);

const summary = (overrides: Partial<Summary> = {}): Summary => ({
  units: { total: 3, acknowledged: 2, registered: 1, reported: 1, overdue: 0 },
  tasks: [
    {
      key: 'QT',
      title: 'Quán triệt',
      dueOn: '2026-07-29',
      done: 1,
      inProgress: 0,
      blocked: 0,
      notStarted: 0,
      noReport: 2,
      overdue: 0,
    },
  ],
  lateUnits: [],
  unreportedUnits: [
    { code: 'B', name: 'UBND xã Bản Giang' },
    { code: 'C', name: 'UBND xã Sơn Bình' },
  ],
  ...overrides,
});

describe('the ISO week of an instant, in Hà Nội time', () => {
  it('names the week and its Monday and Sunday, across the turn of the year', () => {
    const cases: [string, string, string, string][] = [
      ['2026-07-06T08:00', '2026-W28', '2026-07-06', '2026-07-12'],
      ['2026-07-12T23:59', '2026-W28', '2026-07-06', '2026-07-12'],
      ['2026-11-25T10:00', '2026-W48', '2026-11-23', '2026-11-29'],
      // 1/1/2027 is a Friday: it belongs to the last week of 2026.
      ['2027-01-01T09:00', '2026-W53', '2026-12-28', '2027-01-03'],
      ['2027-01-04T00:00', '2027-W01', '2027-01-04', '2027-01-10'],
    ];
    for (const [at, key, monday, sunday] of cases) {
      const week = isoWeekOf(local(at), ZONE);
      expect([week.key, iso(week.monday), iso(week.sunday)], at).toEqual([key, monday, sunday]);
    }
  });

  it('is the local week, not the UTC one: Monday 06:00 in Hà Nội is still Sunday in UTC', () => {
    expect(isoWeekOf(new Date('2026-07-05T23:00:00Z'), ZONE).key).toBe('2026-W28');
    expect(isoWeekOf(new Date('2026-07-05T23:00:00Z'), 'UTC').key).toBe('2026-W27');
  });
});

describe('the slot of an official in a week', () => {
  it('is their weekday and local time', () => {
    const week = isoWeekOf(local('2026-07-08T12:00'), ZONE);
    expect(digestSlot(week, { weekday: 1, time: '08:00' }, ZONE)).toEqual(local('2026-07-06T08:00'));
    expect(digestSlot(week, { weekday: 5, time: '16:00' }, ZONE)).toEqual(local('2026-07-10T16:00'));
    expect(digestSlot(week, { weekday: 7, time: '23:45' }, ZONE)).toEqual(local('2026-07-12T23:45'));
  });

  it('falls back to Monday 08:00 for a stored value that does not parse', () => {
    const week = isoWeekOf(local('2026-07-08T12:00'), ZONE);
    expect(digestSlot(week, { weekday: 9, time: 'noon' }, ZONE)).toEqual(local('2026-07-06T08:00'));
  });

  it('always lies inside the week it was asked for', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2020-01-01'), max: new Date('2035-12-31'), noInvalidDate: true }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        (at, weekday, hour, minute) => {
          const week = isoWeekOf(at, ZONE);
          const time = `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
          const slot = digestSlot(week, { weekday, time }, ZONE);
          expect(isoWeekOf(slot, ZONE).key).toBe(week.key);
          expect(DateTime.fromJSDate(slot, { zone: ZONE }).weekday).toBe(weekday);
        },
      ),
    );
  });
});

describe('whether a digest goes out', () => {
  it('hashes the figures only: the same numbers give the same fingerprint, any change another', () => {
    const base = digestFingerprint(summary());
    expect(digestFingerprint(summary({ unreportedUnits: [] }))).toBe(base);
    expect(digestFingerprint(summary({ units: { ...summary().units, acknowledged: 3 } }))).not.toBe(base);
    const [task] = summary().tasks;
    if (!task) throw new Error('no task');
    expect(digestFingerprint(summary({ tasks: [{ ...task, done: 2, noReport: 1 }] }))).not.toBe(base);
    expect(digestFingerprint(summary({ lateUnits: [{ code: 'B', name: 'UBND xã Bản Giang' }] }))).not.toBe(
      base,
    );
  });

  it('sends the first digest and any change, keeps quiet when unchanged, sends every week while late', () => {
    const quiet = summary();
    const fingerprint = digestFingerprint(quiet);
    expect(digestDecision({ summary: quiet, fingerprint, lastSentFingerprint: null })).toBe('send');
    expect(digestDecision({ summary: quiet, fingerprint, lastSentFingerprint: 'other' })).toBe('send');
    expect(digestDecision({ summary: quiet, fingerprint, lastSentFingerprint: fingerprint })).toBe('quiet');
    const late = summary({
      units: { ...quiet.units, overdue: 1 },
      lateUnits: [{ code: 'B', name: 'UBND xã Bản Giang' }],
    });
    const lateFingerprint = digestFingerprint(late);
    expect(
      digestDecision({ summary: late, fingerprint: lateFingerprint, lastSentFingerprint: lateFingerprint }),
    ).toBe('send');
    const empty = summary({ units: { total: 0, acknowledged: 0, registered: 0, reported: 0, overdue: 0 } });
    expect(digestDecision({ summary: empty, fingerprint: 'x', lastSentFingerprint: null })).toBe('skip');
  });
});
