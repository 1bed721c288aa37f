import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Renderer } from '../../src/conversation/render.ts';
import type { Db } from '../../src/db/client.ts';
import { createTranslator } from '../../src/i18n.ts';
import { createCampaign } from '../../src/services/campaigns.ts';
import { deliveryProblems, QUOTA_ERROR_PREFIX } from '../../src/services/delivery-health.ts';
import { issueLinkCode, redeemLinkCode, upsertOfficial } from '../../src/services/officials.ts';
import { TEST_LINK_CODE_KEYS, redeemDeps } from '../support/link-codes.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { withTestDb } from '../support/db.ts';

const now = new Date('2026-07-01T02:00:00Z');
let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let campaignId: string;

async function link(officialCode: string, channel: string, chatId: string): Promise<string> {
  const { code } = await issueLinkCode(db, officialCode, {
    clock: { now: () => now },
    random: { bytes: (n) => randomBytes(n) },
    linkCodeKeys: TEST_LINK_CODE_KEYS,
  });
  const linked = await redeemLinkCode(db, { channel, chatId, code, now }, redeemDeps);
  if (linked.kind !== 'linked') throw new Error('not linked');
  return linked.accountId;
}

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  await upsertUnit(db, 'TAMDUONG', { name: 'UBND huyện Tam Đường' });
  await upsertUnit(db, 'TD-BINHLU', { name: 'UBND xã Bình Lư', parentCode: 'TAMDUONG' });
  await upsertUnit(db, 'TD-SONBINH', { name: 'UBND xã Sơn Bình', parentCode: 'TAMDUONG' });
  await upsertOfficial(db, 'CB1', { name: 'Tẩn Văn Chiến', unitCode: 'TD-BINHLU', role: 'focal' });
  await upsertOfficial(db, 'CB2', { name: 'Chảo Văn Minh', unitCode: 'TD-SONBINH', role: 'focal' });
  await upsertOfficial(db, 'CB3', { name: 'Đỗ Thị Lan', unitCode: 'TD-SONBINH', role: 'member' });
  campaignId = (
    await createCampaign(db, {
      docNumber: '01/KH-UBND',
      title: 'Phong trào thi đua đặc biệt',
      issuerUnitCode: 'TAMDUONG',
      startsOn: '2026-06-15',
      endsOn: '2026-10-30',
      unitCodes: ['TD-BINHLU', 'TD-SONBINH'],
      tasks: [{ key: 'QT', title: 'Quán triệt', dueOn: '2026-07-15' }],
    })
  ).id;
});

afterAll(async () => {
  await testDb?.close();
});

describe('delivery problems in the admins digest', () => {
  it('names officials whose every account stopped working, and counts messages held by a quota', async () => {
    const zalo = await link('CB1', 'zalo_oa', '9001');
    await link('CB2', 'telegram', '9002');
    await link('CB2', 'zalo', '9003');
    const member = await link('CB3', 'zalo_oa', '9004');
    expect(await deliveryProblems(db, campaignId)).toEqual({ unreachable: [], quotaPending: 0 });

    const reason = 'Zalo OA -230: user has not interacted within 7 days';
    for (const id of [zalo, member]) {
      await db.channelAccount.update({
        where: { id },
        data: { active: false, inactiveReason: reason, deactivatedAt: now },
      });
    }
    // CB2 still has Zalo when Telegram is blocked: still reachable.
    await db.channelAccount.updateMany({
      where: { chatId: '9002' },
      data: { active: false, inactiveReason: 'blocked' },
    });
    await db.outboxMessage.createMany({
      data: [
        {
          dedupeKey: 'q1',
          channel: 'zalo',
          chatId: '9003',
          payload: {},
          lastError: `${QUOTA_ERROR_PREFIX}quota exceeded`,
        },
        { dedupeKey: 'q2', channel: 'zalo', chatId: '9003', payload: {}, lastError: 'timeout' },
        {
          dedupeKey: 'q3',
          channel: 'zalo',
          chatId: '9003',
          payload: {},
          state: 'sent',
          lastError: `${QUOTA_ERROR_PREFIX}x`,
        },
      ],
    });

    const problems = await deliveryProblems(db, campaignId);
    // The member is not someone the campaign writes to; only CB1 is lost.
    expect(problems).toEqual({
      unreachable: [{ name: 'Tẩn Văn Chiến', unit: 'UBND xã Bình Lư', reason }],
      quotaPending: 1,
    });

    const text = new Renderer(createTranslator(), 'Asia/Ho_Chi_Minh')
      .deliveryLines('vi', problems)
      .join('\n');
    expect(text).toContain('Không gửi được tin tới 1 cán bộ');
    expect(text).toContain('Tẩn Văn Chiến (UBND xã Bình Lư)');
    expect(text).toContain('1 tin nhắn đang chờ');
  });
});
