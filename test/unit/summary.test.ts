import { describe, expect, it } from 'vitest';
import { summarise, type SummaryInput } from '../../src/domain/summary.ts';
import { dateFromIso } from '../../src/domain/time.ts';

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
