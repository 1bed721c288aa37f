import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.ts';
import { createCampaign, launchCampaign } from '../../src/services/campaigns.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { adminApp, linkedOfficial, local, render, reportAs, type AdminApp } from '../support/admin-app.ts';
import { withTestDb } from '../support/db.ts';

/**
 * Merges and dissolutions that make no sense are refused with 400 naming the field, and change nothing:
 * not the tree, not who belongs where, not a campaign, not a status, no history, audit or message.
 */
let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let admin: AdminApp;
let leaderToken = '';
let districtToken = '';

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  admin = await adminApp(db, local('2026-07-13T10:00'));
  await upsertUnit(db, 'TINH', { name: 'UBND tỉnh' });
  for (const district of ['H1', 'H2']) {
    await upsertUnit(db, district, { name: `UBND huyện ${district}`, parentCode: 'TINH' });
    for (const n of [1, 2]) {
      await upsertUnit(db, `${district}-X${n}`, { name: `UBND xã ${district}-${n}`, parentCode: district });
      await linkedOfficial(db, `${district}-X${n}-FOCAL`, `${district}-X${n}`, 'focal');
    }
  }
  await upsertUnit(db, 'H1-X1-T', { name: 'Thôn 1', parentCode: 'H1-X1' });
  const campaign = await createCampaign(db, {
    docNumber: '01/KH',
    title: 'Kế hoạch',
    issuerUnitCode: 'TINH',
    startsOn: '2026-06-15',
    endsOn: '2026-12-31',
    unitCodes: ['H1-X1', 'H1-X2', 'H2-X1'],
    tasks: [{ key: 'QT', title: 'Quán triệt', dueOn: '2026-08-15' }],
  });
  await launchCampaign(db, campaign.id, render, local('2026-07-01T09:00'));
  const task = await db.task.findFirstOrThrow({ where: { campaignId: campaign.id } });
  await reportAs(db, 'H1-X1-FOCAL', task.id, 'in_progress', 50, local('2026-07-05T10:00'));
  const token = async (name: string, role: string, unitCode: string) =>
    (await admin.api<{ token: string }>('POST', '/api/tokens', { name, role, unitCode })).body.token;
  leaderToken = await token('Lãnh đạo tỉnh', 'leader', 'TINH');
  districtToken = await token('Huyện H1', 'admin', 'H1');
});

afterAll(async () => {
  await admin?.app.close();
  await testDb?.close();
});

/** Everything a merge could touch, row by row. */
async function snapshot() {
  return {
    units: await db.unit.findMany({ orderBy: { code: 'asc' } }),
    officials: await db.official.findMany({ orderBy: { code: 'asc' }, select: { code: true, unitId: true } }),
    participants: await db.campaignUnit.findMany({ orderBy: [{ campaignId: 'asc' }, { unitId: 'asc' }] }),
    campaigns: await db.campaign.findMany({ select: { id: true, issuerUnitId: true } }),
    statuses: await db.currentStatus.findMany({ orderBy: [{ taskId: 'asc' }, { unitId: 'asc' }] }),
    progress: await db.unitProgress.findMany({ orderBy: [{ campaignId: 'asc' }, { unitId: 'asc' }] }),
    reminders: await db.reminderSent.count(),
    history: await db.unitEvent.count(),
    audit: await db.auditEvent.count(),
    outbox: await db.outboxMessage.count(),
  };
}

describe('refused merges and dissolutions', () => {
  const merges: [string, unknown, string, string][] = [
    ['an unknown code', { from: ['H1-X1', 'NOPE'], into: { code: 'M', name: 'M' } }, 'unknown_units', 'from'],
    [
      'a unit into itself',
      { from: ['H1-X1', 'H1-X2'], into: { code: 'H1-X1' } },
      'merge_into_itself',
      'into.code',
    ],
    [
      'a unit into its descendant',
      { from: ['H1-X1'], into: { code: 'H1-X1-T' } },
      'merge_into_descendant',
      'into.code',
    ],
    [
      'a new unit placed under a merged one',
      { from: ['H1-X1', 'H1-X2'], into: { code: 'M', name: 'M', parentCode: 'H1-X1-T' } },
      'merge_into_descendant',
      'into.parentCode',
    ],
    [
      'an effective date before a unit was created',
      { from: ['H1-X1', 'H1-X2'], into: { code: 'M', name: 'M' }, effectiveOn: '2020-01-01' },
      'effective_before_creation',
      'effectiveOn',
    ],
    [
      'units of two districts with no parent named',
      { from: ['H1-X1', 'H2-X1'], into: { code: 'M', name: 'M' } },
      'parent_required',
      'into.parentCode',
    ],
  ];

  it.each(merges)('%s: 400 naming the field, nothing changed', async (_what, body, code, field) => {
    const before = await snapshot();
    const answer = await admin.api<{ error: { code: string; details: { field: string } } }>(
      'POST',
      '/api/units/merge',
      body,
    );
    expect(answer.status).toBe(400);
    expect([answer.body.error.code, answer.body.error.details.field]).toEqual([code, field]);
    expect(await snapshot()).toEqual(before);
  });

  it('a malformed body or date: 400 naming the field, nothing changed', async () => {
    const before = await snapshot();
    const answer = await admin.api<{ error: { code: string; details: { path: string }[] } }>(
      'POST',
      '/api/units/merge',
      { from: ['H1-X1'], into: { code: 'M', name: 'M' }, effectiveOn: '2026-02-30' },
    );
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.map((issue) => issue.path)).toEqual(['effectiveOn']);
    const empty = await admin.api('POST', '/api/units/merge', { from: [], into: { code: 'M' } });
    expect(empty.status).toBe(400);
    expect(await snapshot()).toEqual(before);
  });

  it('dissolving the root: 400 naming the code; an unknown unit: 404; nothing changed', async () => {
    const before = await snapshot();
    const root = await admin.api<{ error: { code: string; details: { field: string } } }>(
      'POST',
      '/api/units/TINH/dissolve',
    );
    expect(root.status).toBe(400);
    expect([root.body.error.code, root.body.error.details.field]).toEqual(['cannot_dissolve_root', 'code']);
    expect((await admin.api('POST', '/api/units/NOPE/dissolve')).status).toBe(404);
    expect(await snapshot()).toEqual(before);
  });

  it("a leader's merge is 403; units outside an admin's subtree are unknown to them; nothing changed", async () => {
    const before = await snapshot();
    const body = { from: ['H1-X1', 'H1-X2'], into: { code: 'M', name: 'M' } };
    expect((await admin.api('POST', '/api/units/merge', body, leaderToken)).status).toBe(403);
    expect((await admin.api('POST', '/api/units/H1/dissolve', {}, leaderToken)).status).toBe(403);
    const outside = await admin.api<{ error: { code: string; details: { codes: string[] } } }>(
      'POST',
      '/api/units/merge',
      { from: ['H1-X1', 'H2-X1'], into: { code: 'M', name: 'M', parentCode: 'H1' } },
      districtToken,
    );
    expect(outside.status).toBe(400);
    expect(outside.body.error).toMatchObject({ code: 'unknown_units', details: { codes: ['H2-X1'] } });
    // A successor's code taken outside their subtree is answered as PUT /api/units/:code answers it.
    const taken = await admin.api(
      'POST',
      '/api/units/merge',
      { from: ['H1-X1'], into: { code: 'H2-X2' } },
      districtToken,
    );
    expect(taken.status).toBe(404);
    // The district's own root is not theirs to dissolve: it would reach above their subtree.
    expect((await admin.api('POST', '/api/units/H1/dissolve', {}, districtToken)).status).toBe(400);
    expect((await admin.api('GET', '/api/units/H2-X1/history', undefined, districtToken)).status).toBe(404);
    expect(await snapshot()).toEqual(before);
  });

  it('a unit already merged cannot be merged again, nor take new officials or campaigns', async () => {
    const merged = await admin.api('POST', '/api/units/merge', {
      from: ['H2-X1', 'H2-X2'],
      into: { code: 'H2-M', name: 'UBND xã H2 mới' },
    });
    expect(merged.status).toBe(200);
    const before = await snapshot();
    const again = await admin.api<{ error: { code: string; details: object } }>('POST', '/api/units/merge', {
      from: ['H2-X1'],
      into: { code: 'H2-M' },
    });
    expect(again.status).toBe(400);
    expect(again.body.error).toMatchObject({
      code: 'unit_retired',
      details: { field: 'from', code: 'H2-X1', successor: 'H2-M' },
    });
    const official = await admin.api('PUT', '/api/officials/NEW', {
      name: 'Cán bộ mới',
      unitCode: 'H2-X1',
      role: 'focal',
    });
    expect(official.status).toBe(400);
    const campaign = await admin.api('POST', '/api/campaigns', {
      docNumber: '02/KH',
      title: 'Kế hoạch 2',
      issuerUnitCode: 'TINH',
      startsOn: '2026-07-15',
      endsOn: '2026-12-31',
      unitCodes: ['H2-X1'],
      tasks: [],
    });
    expect(campaign.body).toMatchObject({ error: { code: 'unknown_units' } });
    expect(await snapshot()).toEqual(before);
  });
});
