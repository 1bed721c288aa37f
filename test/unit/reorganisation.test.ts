import { describe, expect, it } from 'vitest';
import {
  pathAfter,
  planDissolve,
  planMerge,
  type MergeRequest,
  type TreeNode,
} from '../../src/domain/reorganisation.ts';

/**
 * The tree the tables decide against (ids are the codes, lower case):
 *   P                      province, created 2025-01-01
 *   ├─ D                   district
 *   │  ├─ A ── A1, A2      commune and its villages
 *   │  └─ B ── B1
 *   ├─ E                   district, created 2026-03-01
 *   │  ├─ C
 *   │  └─ LATE              recorded on 3/12/2026, after "today" (13/7/2026) by the service's clock
 *   └─ OLD                 merged into A earlier
 */
const nodes: [code: string, parent: string | null, createdOn: string, retiredInto?: string][] = [
  ['P', null, '2025-01-01'],
  ['D', 'P', '2025-01-01'],
  ['A', 'D', '2025-01-01'],
  ['A1', 'A', '2025-01-01'],
  ['A2', 'A', '2025-01-01'],
  ['B', 'D', '2025-01-01'],
  ['B1', 'B', '2025-01-01'],
  ['E', 'P', '2026-03-01'],
  ['C', 'E', '2026-03-01'],
  ['OLD', 'P', '2025-01-01', 'A'],
  ['LATE', 'E', '2026-12-03'],
];
const tree = new Map<string, TreeNode>();
for (const [code, parent, createdOn, retiredInto] of nodes) {
  const parentPath = parent ? (tree.get(parent)?.path ?? '') : '/';
  tree.set(code, {
    id: code.toLowerCase(),
    code,
    name: `Đơn vị ${code}`,
    kind: parent === 'D' || parent === 'E' ? 'commune' : null,
    blockCodes: [],
    parentId: parent?.toLowerCase() ?? null,
    path: `${parentPath}${code.toLowerCase()}/`,
    createdOn,
    retiredInto: retiredInto ?? null,
  });
}

const request = (from: string[], into: MergeRequest['into'], effectiveOn?: string): MergeRequest => ({
  from,
  into,
  effectiveOn,
  today: '2026-07-13',
});

describe('merge requests refused, with the field at fault', () => {
  const table: [string, MergeRequest, string, string][] = [
    ['a code named twice', request(['A', 'B', 'A'], { code: 'AB', name: 'AB' }), 'duplicate_units', 'from'],
    ['an unknown code', request(['A', 'NOPE'], { code: 'AB', name: 'AB' }), 'unknown_units', 'from'],
    ['a unit already merged', request(['OLD', 'B'], { code: 'AB', name: 'AB' }), 'unit_retired', 'from'],
    ['a unit into itself', request(['A', 'B'], { code: 'A' }), 'merge_into_itself', 'into.code'],
    ['a unit and its own village', request(['A', 'A1'], { code: 'AB', name: 'AB' }), 'nested_units', 'from'],
    ['a unit into its descendant', request(['A', 'B'], { code: 'A1' }), 'merge_into_descendant', 'into.code'],
    ['a district into its commune', request(['D'], { code: 'A' }), 'merge_into_descendant', 'into.code'],
    [
      'a successor placed under a merged unit',
      request(['A', 'B'], { code: 'AB', name: 'AB', parentCode: 'A1' }),
      'merge_into_descendant',
      'into.parentCode',
    ],
    [
      'a successor placed under one of the merged units',
      request(['A', 'B'], { code: 'AB', name: 'AB', parentCode: 'B' }),
      'merge_into_descendant',
      'into.parentCode',
    ],
    ['into a unit already merged', request(['A', 'B'], { code: 'OLD' }), 'unit_retired', 'into.code'],
    [
      'an unknown parent',
      request(['A'], { code: 'AB', name: 'AB', parentCode: 'NOPE' }),
      'unknown_parent',
      'into.parentCode',
    ],
    [
      'units of different parents, no parent named',
      request(['A', 'C'], { code: 'AC', name: 'AC' }),
      'parent_required',
      'into.parentCode',
    ],
    [
      'an existing unit moved under itself',
      request(['B'], { code: 'A', parentCode: 'A2' }),
      'cycle',
      'into.parentCode',
    ],
    ['a new unit without a name', request(['A', 'B'], { code: 'AB' }), 'required', 'into.name'],
    [
      'an effective date before a unit was created',
      request(['A', 'C'], { code: 'AC', name: 'AC', parentCode: 'P' }, '2026-02-28'),
      'effective_before_creation',
      'effectiveOn',
    ],
    [
      'an effective date before the existing successor was created',
      request(['A'], { code: 'C' }, '2026-01-15'),
      'effective_before_creation',
      'effectiveOn',
    ],
  ];
  it.each(table)('%s', (_what, asked, code, field) => {
    const decision = planMerge(asked, tree, 'new');
    expect(decision.ok).toBe(false);
    if (!decision.ok) expect([decision.refusal.code, decision.refusal.field]).toEqual([code, field]);
  });

  it('dissolving the root or a unit already gone is refused', () => {
    const root = planDissolve(tree.get('P') as TreeNode, null, { today: '2026-07-13' });
    expect(root.ok ? null : [root.refusal.code, root.refusal.field]).toEqual([
      'cannot_dissolve_root',
      'code',
    ]);
    const gone = planDissolve(tree.get('OLD') as TreeNode, tree.get('P') as TreeNode, {
      today: '2026-07-13',
    });
    expect(gone.ok ? null : gone.refusal.code).toBe('unit_retired');
  });
});

describe('the plan of moves', () => {
  /** Every unit's path after the plan, as "CODE:path" for those that change. */
  function moved(asked: MergeRequest | { dissolve: string }) {
    const decision =
      'dissolve' in asked
        ? planDissolve(tree.get(asked.dissolve) as TreeNode, tree.get('P') as TreeNode, {
            today: '2026-07-13',
          })
        : planMerge(asked, tree, 'new');
    if (!decision.ok) throw new Error(decision.refusal.message);
    const { plan } = decision;
    const changes = [...tree.values()]
      .filter((unit) => pathAfter(plan, unit.path) !== unit.path)
      .map((unit) => `${unit.code}:${pathAfter(plan, unit.path)}`);
    return {
      successor: `${plan.successor.code}:${plan.successor.path}${plan.successor.existing ? '' : ' (new)'}`,
      leaving: plan.predecessors.map((unit) => unit.code),
      changes,
    };
  }

  const table: [string, MergeRequest | { dissolve: string }, ReturnType<typeof moved>][] = [
    [
      'two communes into a new one under their district',
      request(['A', 'B'], { code: 'AB', name: 'Xã AB' }),
      {
        successor: 'AB:/p/d/new/ (new)',
        leaving: ['A', 'B'],
        changes: ['A1:/p/d/new/a1/', 'A2:/p/d/new/a2/', 'B1:/p/d/new/b1/'],
      },
    ],
    [
      'a commune into an existing one, which stays where it is',
      request(['B'], { code: 'A' }),
      { successor: 'A:/p/d/a/', leaving: ['B'], changes: ['B1:/p/d/a/b1/'] },
    ],
    [
      'communes of two districts into a new one under the province',
      request(['A', 'C'], { code: 'AC', name: 'Xã AC', parentCode: 'P' }),
      {
        successor: 'AC:/p/new/ (new)',
        leaving: ['A', 'C'],
        changes: ['A1:/p/new/a1/', 'A2:/p/new/a2/'],
      },
    ],
    [
      'a commune into another that moves to the province at the same time',
      request(['B'], { code: 'A', parentCode: 'P' }),
      {
        successor: 'A:/p/a/',
        leaving: ['B'],
        changes: ['A:/p/a/', 'A1:/p/a/a1/', 'A2:/p/a/a2/', 'B1:/p/a/b1/'],
      },
    ],
    [
      'a village into its own commune',
      request(['A1'], { code: 'A' }),
      { successor: 'A:/p/d/a/', leaving: ['A1'], changes: [] },
    ],
    [
      'a district dissolved: its communes and villages go up a level',
      { dissolve: 'D' },
      {
        successor: 'P:/p/',
        leaving: ['D'],
        changes: ['A:/p/a/', 'A1:/p/a/a1/', 'A2:/p/a/a2/', 'B:/p/b/', 'B1:/p/b/b1/'],
      },
    ],
  ];
  it.each(table)('%s', (_what, asked, expected) => {
    expect(moved(asked)).toEqual(expected);
  });

  it('takes a unit recorded after today as existing today, whichever clock was right', () => {
    const merged = planMerge(request(['LATE'], { code: 'C' }, '2026-07-13'), tree, 'new');
    expect(merged.ok).toBe(true);
    const before = planMerge(request(['LATE'], { code: 'C' }, '2026-07-12'), tree, 'new');
    expect(before.ok ? null : before.refusal).toMatchObject({
      code: 'effective_before_creation',
      details: { code: 'LATE', createdOn: '2026-07-13' },
    });
  });

  it('takes an effective date in the past, and today when none is given', () => {
    const given = planMerge(request(['A', 'B'], { code: 'AB', name: 'AB' }, '2025-07-01'), tree, 'new');
    expect(given.ok && given.plan.effectiveOn).toBe('2025-07-01');
    const none = planMerge(request(['A', 'C'], { code: 'AC', name: 'AC', parentCode: 'P' }), tree, 'new');
    expect(none.ok && none.plan.effectiveOn).toBe('2026-07-13');
  });
});
