import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/demo/demo.ts';
import { createLogger } from '../../src/logger.ts';
import { mergeUnits } from '../../src/services/reorganise.ts';
import { campaignSummary } from '../../src/services/summaries.ts';
import { local, render, ZONE } from '../support/admin-app.ts';
import { withTestDb } from '../support/db.ts';
import { TEST_LINK_CODE_KEYS } from '../support/link-codes.ts';

/**
 * Demo mode's second sample organisation (a province after the 2025 reform, no district level) and the
 * merge of two of its communes in the middle of its campaign, as the printed instructions suggest; the
 * demo starts again after it (the seed leaves merged units in history).
 */
let testDb: Awaited<ReturnType<typeof withTestDb>>;
const now = local('2026-07-01T09:00');
const deps = () => ({
  db: testDb.db,
  clock: { now: () => now },
  random: { bytes: (n: number) => randomBytes(n) },
  render,
  timeZone: ZONE,
  logger: createLogger('silent'),
  linkCodeKeys: TEST_LINK_CODE_KEYS,
});

beforeAll(async () => {
  testDb = await withTestDb();
});

afterAll(async () => {
  await testDb?.close();
});

describe('the demo after the reform', () => {
  it('has a province with communes and no district level, and a running campaign over them', async () => {
    await seedDemo(deps());
    const province = await testDb.db.unit.findUniqueOrThrow({
      where: { code: 'LAICHAU' },
      include: { children: { select: { code: true, kind: true } } },
    });
    expect(province.parentId).toBeNull();
    expect(province.children.every((child) => child.kind !== 'district')).toBe(true);
    const campaign = await testDb.db.campaign.findUniqueOrThrow({
      where: { docNumber: '02/KH-UBND' },
      include: { units: { include: { unit: { select: { code: true } } } } },
    });
    expect(campaign.state).toBe('running');
    expect(campaign.units.map((row) => row.unit.code).sort()).toEqual([
      'LC-BANBO',
      'LC-BINHLU',
      'LC-DOANKET',
      'LC-KHUNHA',
      'LC-TANPHONG',
    ]);
  });

  it('merges two sample communes mid-campaign, and the demo starts again after it', async () => {
    const merged = await mergeUnits(
      { db: testDb.db, render, now: local('2026-07-05T09:00'), timeZone: ZONE },
      { from: ['LC-BINHLU', 'LC-BANBO'], into: { code: 'LC-BINHLU-MOI', name: 'UBND xã Bình Lư (mới)' } },
    );
    expect(merged).toMatchObject({ parentCode: 'LAICHAU', officialsMoved: 2 });
    await seedDemo(deps());
    expect(
      (await testDb.db.unit.findUniqueOrThrow({ where: { code: 'LC-BANBO' } })).retiredAt,
    ).not.toBeNull();
    expect(
      (
        await testDb.db.official.findUniqueOrThrow({
          where: { code: 'LC-CB-BANBO' },
          include: { unit: true },
        })
      ).unit.code,
    ).toBe('LC-BINHLU-MOI');
    const campaign = await testDb.db.campaign.findUniqueOrThrow({ where: { docNumber: '02/KH-UBND' } });
    const summary = await campaignSummary(testDb.db, campaign.id, { now, timeZone: ZONE });
    expect(summary.units.total).toBe(4);
    expect(summary.formerly?.['LC-BINHLU-MOI']?.map((unit) => unit.code)).toEqual(['LC-BINHLU', 'LC-BANBO']);
  });
});
