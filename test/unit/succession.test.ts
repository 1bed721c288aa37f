import { describe, expect, it } from 'vitest';
import type { Status } from '../../src/domain/status.ts';
import { furthestStatus, statusAfterWithdrawal, type StatusHolding } from '../../src/domain/succession.ts';

/** A holding written as "status percent@day#id": "in_progress 60@10#r1", "done@3", "blocked@11". */
function held(text: string): StatusHolding {
  const match = /^(\w+)(?: (\d+))?@(\d+)(?:#(\w+))?$/.exec(text);
  if (!match) throw new Error(`bad holding ${text}`);
  const [, status, percent, day, id] = match;
  return {
    status: status as Status,
    percent: percent === undefined ? null : Number(percent),
    reportedAt: new Date(Date.UTC(2026, 6, Number(day))),
    reportId: id ?? `r-${text}`,
  };
}
const show = (holding: StatusHolding | null) =>
  holding === null
    ? 'none'
    : `${holding.status}${holding.percent === null ? '' : ` ${holding.percent}`}@${holding.reportedAt.getUTCDate()}`;

describe("a successor's status of a task: the furthest its predecessors reached", () => {
  // predecessors' current statuses -> the successor's
  const table: [string[], string][] = [
    [[], 'none'],
    [['not_started@1'], 'not_started@1'],
    [['done@3', 'in_progress 60@10'], 'done@3'],
    [['in_progress 60@10', 'blocked@11'], 'in_progress 60@10'],
    [['blocked@11', 'not_started@12'], 'blocked@11'],
    [['not_started@12', 'blocked@2', 'in_progress@1', 'done 100@1'], 'done 100@1'],
    // Same status: the higher percent, none counting lowest; then the later report.
    [['in_progress 30@12', 'in_progress 80@5'], 'in_progress 80@5'],
    [['in_progress@12', 'in_progress 10@5'], 'in_progress 10@5'],
    [['done 100@3', 'done 100@9'], 'done 100@9'],
    [['in_progress 50@4', 'in_progress 50@7'], 'in_progress 50@7'],
  ];
  it.each(table)('%j -> %s', (holdings, expected) => {
    expect(show(furthestStatus(holdings.map(held)))).toBe(expected);
    // The order predecessors are listed in never matters.
    expect(show(furthestStatus(holdings.map(held).reverse()))).toBe(expected);
  });

  it('breaks a complete tie by report id, so every run picks the same report', () => {
    const a = held('done 100@3#a');
    const b = held('done 100@3#b');
    expect(furthestStatus([a, b])?.reportId).toBe('b');
    expect(furthestStatus([b, a])?.reportId).toBe('b');
  });
});

describe('a successor whose own report is withdrawn', () => {
  // own latest standing report, inherited statuses, day it last took units in -> its status
  const table: [string | null, string[], number | null, string][] = [
    // It reported since the merge (day 13): that report stands, even if less advanced.
    ['in_progress 20@14', ['done@3'], 13, 'in_progress 20@14'],
    // Its report came before the merge: the furthest of it and what it inherited.
    ['in_progress 20@12', ['done@3'], 13, 'done@3'],
    ['done@12', ['in_progress 60@10'], 13, 'done@12'],
    // Nothing of its own: what it inherited.
    [null, ['in_progress 60@10', 'blocked@11'], 13, 'in_progress 60@10'],
    [null, [], 13, 'none'],
    // Never took anything in: its own latest, as for any unit.
    ['blocked@5', [], null, 'blocked@5'],
    [null, [], null, 'none'],
  ];
  it.each(table)('own %s, inherited %j, took in on day %s -> %s', (own, inherited, day, expected) => {
    const decided = statusAfterWithdrawal({
      own: own === null ? null : held(own),
      inherited: inherited.map(held),
      lastTookInAt: day === null ? null : new Date(Date.UTC(2026, 6, day)),
    });
    expect(show(decided)).toBe(expected);
  });
});
