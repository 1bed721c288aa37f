import { describe, expect, it } from 'vitest';
import type { Status } from '../../src/domain/status.ts';
import {
  formerNames,
  formerSuffix,
  nameWithFormer,
  pastDueFlags,
  rollUpWithBreakdown,
  STATUS_LETTERS,
  statusesFromLetters,
  summarise,
  withFormerSuffixes,
  type GroupedUnit,
  type SummaryInput,
} from '../../src/domain/summary.ts';
import { dateFromIso, daysLate, formatInstant, isOverdue } from '../../src/domain/time.ts';

const units = [
  { id: 'u1', code: 'TD-BINHLU', name: 'UBND xã Bình Lư' },
  { id: 'u2', code: 'TD-BANGIANG', name: 'UBND xã Bản Giang' },
  { id: 'u3', code: 'TD-SONBINH', name: 'UBND xã Sơn Bình' },
];
const tasks = [
  { id: 't1', key: 'QT', title: 'Quán triệt', dueOn: dateFromIso('2023-07-15') },
  { id: 't2', key: 'TK', title: 'Tổng kết', dueOn: dateFromIso('2023-10-30') },
];

function input(overrides: Partial<SummaryInput> = {}): SummaryInput {
  return {
    units,
    tasks,
    latest: [],
    acknowledgedUnitIds: [],
    registeredUnitIds: [],
    now: new Date('2023-07-20T03:00:00Z'),
    timeZone: 'Asia/Ho_Chi_Minh',
    ...overrides,
  };
}

describe('summarise', () => {
  it('counts statuses per task and units that reported', () => {
    const summary = summarise(
      input({
        latest: [
          { unitId: 'u1', taskId: 't1', status: 'done' },
          { unitId: 'u2', taskId: 't1', status: 'blocked' },
          { unitId: 'u2', taskId: 't2', status: 'in_progress' },
        ],
        acknowledgedUnitIds: ['u1', 'u2', 'elsewhere'],
        registeredUnitIds: ['u1'],
      }),
    );
    expect(summary.units).toEqual({ total: 3, acknowledged: 2, registered: 1, reported: 2, overdue: 2 });
    expect(summary.tasks[0]).toMatchObject({
      key: 'QT',
      dueOn: '2023-07-15',
      done: 1,
      blocked: 1,
      noReport: 1,
      overdue: 2,
    });
    expect(summary.tasks[1]).toMatchObject({ key: 'TK', inProgress: 1, noReport: 2, overdue: 0 });
    expect(summary.lateUnits.map((unit) => unit.code)).toEqual(['TD-BANGIANG', 'TD-SONBINH']);
    expect(summary.unreportedUnits.map((unit) => unit.code)).toEqual(['TD-SONBINH']);
  });

  it('treats a task as due until the end of its day in the campaign time zone', () => {
    // 16:59 UTC on 15/07 is 23:59 in Hà Nội: not yet overdue; 17:00 UTC is midnight there.
    const before = summarise(input({ now: new Date('2023-07-15T16:59:59Z') }));
    const after = summarise(input({ now: new Date('2023-07-15T17:00:00Z') }));
    expect(before.tasks[0]?.overdue).toBe(0);
    expect(after.tasks[0]?.overdue).toBe(3);
    const utc = summarise(input({ now: new Date('2023-07-15T17:00:00Z'), timeZone: 'UTC' }));
    expect(utc.tasks[0]?.overdue).toBe(0);
  });

  it('ignores reports from units outside the scope', () => {
    const summary = summarise(
      input({ units: units.slice(0, 1), latest: [{ unitId: 'u2', taskId: 't1', status: 'done' }] }),
    );
    expect(summary.units.reported).toBe(0);
    expect(summary.tasks[0]?.noReport).toBe(1);
  });
});

describe('pastDueFlags', () => {
  it('agrees with isOverdue for every task, around midnight in several zones', () => {
    const dueDates = [
      '2023-03-11',
      '2023-03-12',
      '2023-07-14',
      '2023-07-15',
      '2023-09-02',
      '2023-09-03',
      '2023-11-05',
    ];
    const due = dueDates.map((iso, i) => ({
      id: `t${i}`,
      key: `K${i}`,
      title: iso,
      dueOn: dateFromIso(iso),
    }));
    const instants = [
      '2023-07-15T16:59:59.999Z',
      '2023-07-15T17:00:00Z',
      '2023-03-12T07:59:59Z',
      '2023-03-13T07:00:00Z',
      '2023-09-03T03:59:59Z',
      '2023-09-03T04:00:00Z',
      '2023-09-04T02:59:59Z',
      '2023-09-04T03:00:00Z',
    ];
    // Santiago's clocks jump at midnight (3 September 2023 starts at 01:00 there).
    for (const timeZone of [
      'Asia/Ho_Chi_Minh',
      'UTC',
      'America/Los_Angeles',
      'Pacific/Kiritimati',
      'America/Santiago',
    ]) {
      for (const instant of instants) {
        const now = new Date(instant);
        expect(pastDueFlags(due, now, timeZone), `${timeZone} ${instant}`).toEqual(
          due.map((task) => isOverdue(task.dueOn, now, timeZone)),
        );
      }
    }
  });
});

describe('rollUpWithBreakdown', () => {
  const statuses: (Status | null)[][] = [
    ['done', 'blocked'],
    [null, 'in_progress'],
    [null, null],
    ['not_started', 'done'],
  ];
  const children = [
    { code: 'TD', name: 'UBND huyện Tam Đường' },
    { code: 'PT', name: 'UBND huyện Phong Thổ' },
  ];
  const grouped: GroupedUnit[] = statuses.map((row, i) => ({
    code: `X${i}`,
    name: ['UBND xã Sơn Bình', 'UBND xã Bản Giang', 'UBND xã Bình Lư', 'UBND xã Ma Ly Pho'][i] ?? '',
    acknowledged: i % 2 === 0,
    registered: i === 0,
    child: children[i % 2] ?? { code: '', name: '' },
    statuses: row,
  }));
  const now = new Date('2023-07-20T03:00:00Z');

  it('counts the same from letters as from status arrays', () => {
    const fromLetters = grouped.map((unit) => ({
      ...unit,
      letters: unit.statuses.map((status) => (status === null ? '-' : STATUS_LETTERS[status])).join(''),
      // Never read when letters are present.
      statuses: [],
    }));
    const expected = rollUpWithBreakdown({ tasks, units: grouped, now, timeZone: 'Asia/Ho_Chi_Minh' });
    const actual = rollUpWithBreakdown({ tasks, units: fromLetters, now, timeZone: 'Asia/Ho_Chi_Minh' });
    expect(actual).toEqual(expected);
    expect(expected.summary.units).toEqual({
      total: 4,
      acknowledged: 2,
      registered: 1,
      reported: 3,
      overdue: 3,
    });
    expect(expected.summary.tasks[0]).toMatchObject({ done: 1, notStarted: 1, noReport: 2, overdue: 3 });
    expect(expected.summary.lateUnits.map((unit) => unit.code)).toEqual(['X1', 'X2', 'X3']);
    expect(expected.summary.unreportedUnits.map((unit) => unit.code)).toEqual(['X2']);
    expect(expected.children).toEqual([
      {
        ...children[1],
        units: 2,
        done: 1,
        inProgress: 1,
        blocked: 0,
        notStarted: 1,
        noReport: 1,
        overdue: 2,
        lateUnits: 2,
      },
      {
        ...children[0],
        units: 2,
        done: 1,
        inProgress: 0,
        blocked: 1,
        notStarted: 0,
        noReport: 2,
        overdue: 1,
        lateUnits: 1,
      },
    ]);
  });

  it('reads letters past the end of a short string as nothing reported', () => {
    expect(statusesFromLetters('DI', 4)).toEqual(['done', 'in_progress', null, null]);
    expect(statusesFromLetters('-BN', 3)).toEqual([null, 'blocked', 'not_started']);
  });
});

describe('formerNames', () => {
  const formerly = {
    'XA-BL': [
      { code: 'XA-BL-CU', name: 'UBND xã Bình Lư' },
      { code: 'XA-BG', name: 'UBND xã Bản Giang' },
    ],
    'XA-EMPTY': [],
  };
  it.each([
    [
      'a unit formed by a merge: what it was formed from, in order',
      'XA-BL',
      'UBND xã Bình Lư, UBND xã Bản Giang',
    ],
    ['a unit formed by no merge', 'XA-SB', undefined],
    ['an empty list', 'XA-EMPTY', undefined],
    ['a unit without a code', undefined, undefined],
  ])('%s', (_case, code, expected) => {
    expect(formerNames(formerly, code)).toBe(expected);
  });
  it('answers nothing for a summary with no merges at all', () => {
    expect(formerNames(undefined, 'XA-BL')).toBeUndefined();
  });
});

describe('nameWithFormer', () => {
  const formerly = {
    'XA-BL': [
      { code: 'XA-BL-CU', name: 'UBND xã Bình Lư' },
      { code: 'XA-BG', name: 'UBND xã Bản Giang' },
    ],
  };
  const vietnamese = (names: string) => ` (trước đây: ${names})`;
  it.each([
    [
      "a unit formed by a merge: its name, then what it was formed from in the reader's words",
      { code: 'XA-BL', name: 'UBND xã Bình Lư (mới)' },
      'UBND xã Bình Lư (mới) (trước đây: UBND xã Bình Lư, UBND xã Bản Giang)',
    ],
    [
      'a unit formed by no merge: its name alone',
      { code: 'XA-SB', name: 'UBND xã Sơn Bình' },
      'UBND xã Sơn Bình',
    ],
    ['a unit without a code: its name alone', { name: 'UBND xã Sơn Bình' }, 'UBND xã Sơn Bình'],
  ])('%s', (_case, unit, expected) => {
    expect(nameWithFormer(unit, formerly, vietnamese)).toBe(expected);
  });
  it('gives the suffix alone, or nothing, for text that may cut a long name but never the suffix', () => {
    expect(formerSuffix(formerly, 'XA-BL', (names) => ` (formerly: ${names})`)).toBe(
      ' (formerly: UBND xã Bình Lư, UBND xã Bản Giang)',
    );
    expect(formerSuffix(undefined, 'XA-BL', vietnamese)).toBe('');
    expect(
      withFormerSuffixes(
        [
          { code: 'XA-BL', name: 'UBND xã Bình Lư (mới)' },
          { code: 'XA-SB', name: 'UBND xã Sơn Bình' },
        ],
        formerly,
        vietnamese,
      ),
    ).toEqual([
      {
        code: 'XA-BL',
        name: 'UBND xã Bình Lư (mới)',
        formerly: ' (trước đây: UBND xã Bình Lư, UBND xã Bản Giang)',
      },
      { code: 'XA-SB', name: 'UBND xã Sơn Bình', formerly: '' },
    ]);
  });
});

describe('days late and instants, as the workbooks write them', () => {
  const zone = 'Asia/Ho_Chi_Minh';
  it.each([
    ['the first minute after the due day', '2026-07-10T17:00:00Z', 1],
    ['the last minute of the day after the due day', '2026-07-11T16:59:00Z', 1],
    ['the first minute of the third day after the due day', '2026-07-12T17:00:00Z', 3],
  ])('%s', (_case, at, expected) => {
    expect(daysLate(dateFromIso('2026-07-10'), new Date(at), zone)).toBe(expected);
  });
  it('writes an instant as dd/MM/yyyy HH:mm in the time zone', () => {
    expect(formatInstant(new Date('2026-07-13T03:05:00Z'), zone)).toBe('13/07/2026 10:05');
  });
});
