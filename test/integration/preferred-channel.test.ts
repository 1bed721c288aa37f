import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Renderer } from '../../src/conversation/render.ts';
import type { Db } from '../../src/db/client.ts';
import { createTranslator } from '../../src/i18n.ts';
import { createCampaign, launchCampaign } from '../../src/services/campaigns.ts';
import { issueLinkCode, redeemLinkCode, upsertOfficial } from '../../src/services/officials.ts';
import { TEST_LINK_CODE_KEYS, redeemDeps } from '../support/link-codes.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { withTestDb } from '../support/db.ts';

const render = new Renderer(createTranslator(), 'Asia/Ho_Chi_Minh');
let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;

async function link(officialCode: string, channel: string, chatId: string, now: Date): Promise<void> {
  const { code } = await issueLinkCode(db, officialCode, {
    clock: { now: () => now },
    random: { bytes: (n) => randomBytes(n) },
    linkCodeKeys: TEST_LINK_CODE_KEYS,
  });
  expect((await redeemLinkCode(db, { channel, chatId, code, now }, redeemDeps)).kind).toBe('linked');
}

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  await upsertUnit(db, 'TAMDUONG', { name: 'UBND huyện Tam Đường' });
  await upsertUnit(db, 'TD-BINHLU', { name: 'UBND xã Bình Lư', parentCode: 'TAMDUONG' });
});

afterAll(async () => {
  await testDb?.close();
});

describe('where news goes for an official with several channels', () => {
  it('uses the preferred channel, else the account linked last', async () => {
    for (const [code, preferredChannel] of [
      ['CB-ZALO', 'zalo'],
      ['CB-ANY', null],
    ] as const) {
      await upsertOfficial(db, code, { name: code, unitCode: 'TD-BINHLU', role: 'focal', preferredChannel });
      await link(code, 'zalo', `z-${code}`, new Date('2026-06-01T02:00:00Z'));
      await link(code, 'telegram', `t-${code}`, new Date('2026-06-02T02:00:00Z'));
    }
    const campaign = await createCampaign(db, {
      docNumber: '02/KH-UBND',
      title: 'Thi đua chuyển đổi số',
      issuerUnitCode: 'TAMDUONG',
      startsOn: '2026-06-15',
      endsOn: '2026-10-30',
      unitCodes: ['TD-BINHLU'],
      tasks: [{ key: 'QT', title: 'Quán triệt', dueOn: '2026-07-15' }],
    });
    expect((await launchCampaign(db, campaign.id, render, new Date('2026-06-16T02:00:00Z'))).recipients).toBe(
      2,
    );
    // The launch's rows (linking the second chat also told the first one: those notices are not news).
    const rows = await db.outboxMessage.findMany({
      where: { NOT: { dedupeKey: { startsWith: 'link-notice:' } } },
      select: { chatId: true, channel: true },
      orderBy: { chatId: 'asc' },
    });
    expect(rows).toEqual([
      { chatId: 't-CB-ANY', channel: 'telegram' },
      { chatId: 'z-CB-ZALO', channel: 'zalo' },
    ]);
  });
});
