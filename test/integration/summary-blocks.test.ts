import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dialogue } from '../../src/conversation/dialogue.ts';
import type { InboundEvent } from '../../src/conversation/events.ts';
import { Renderer } from '../../src/conversation/render.ts';
import type { Db } from '../../src/db/client.ts';
import type { OutboundMessage } from '../../src/domain/message.ts';
import { createTranslator } from '../../src/i18n.ts';
import { createLogger } from '../../src/logger.ts';
import { createRedis } from '../../src/redis.ts';
import { createCampaign, launchCampaign } from '../../src/services/campaigns.ts';
import { upsertOfficial } from '../../src/services/officials.ts';
import { messageFromPayload } from '../../src/services/outbox.ts';
import { recordStatus } from '../../src/services/reports.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { RedisLinkAttempts } from '../../src/throttle.ts';
import { withTestDb } from '../support/db.ts';
import { TEST_LINK_CODE_KEYS } from '../support/link-codes.ts';
import { REDIS_SERVER_URL } from '../support/env.ts';

/**
 * The chat summary by emulation block and its per-child lines: the dialogue against the real PostgreSQL
 * (one transaction per update, replies read back from the outbox as the workers would send them).
 */
const TZ = 'Asia/Ho_Chi_Minh';
const render = new Renderer(createTranslator(), TZ);
/** QT is due 15/07/2026; this is after it. */
const NOW = new Date('2026-07-20T03:00:00Z');

let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let redis: Redis;
let prefix: string;
let dialogue: Dialogue;
let campaignId: string;
let nextUpdate = 1;

const UNITS: [code: string, name: string, parent: string | undefined, blocks: string[], kind?: string][] = [
  ['LC', 'UBND tỉnh Lai Châu', undefined, []],
  ['TD', 'UBND huyện Tam Đường', 'LC', ['KHOI-HUYEN'], 'district'],
  ['PT', 'UBND huyện Phong Thổ', 'LC', ['KHOI-HUYEN'], 'district'],
  ['TD-1', 'UBND xã Sơn Bình', 'TD', ['CUM1'], 'commune'],
  ['TD-2', 'UBND xã Bình Lư', 'TD', ['CUM2'], 'commune'],
  ['TD-3', 'UBND xã Bản Giang', 'TD', ['CUM1'], 'commune'],
  ['TD-P', 'Phòng Văn hóa và Thông tin', 'TD', ['CUM2'], 'department'],
  ['PT-1', 'UBND xã Ma Ly Pho', 'PT', ['CUM1'], 'commune'],
  ['PT-2', 'UBND xã Dào San', 'PT', ['CUM9'], 'commune'],
];

/** One update through the dialogue; the replies it queued, in order. */
async function say(chatId: string, event: Partial<InboundEvent> & Pick<InboundEvent, 'kind'>) {
  const updateId = `u${nextUpdate++}`;
  await dialogue.handle({ channel: 'telegram', updateId, chatId, ...event } as InboundEvent);
  const rows = await db.outboxMessage.findMany({
    where: { dedupeKey: { startsWith: `reply:telegram:${updateId}:` } },
    orderBy: { seq: 'asc' },
  });
  return rows.map((row) => messageFromPayload(row.payload));
}
const command = (chatId: string, name: string, args = '') =>
  say(chatId, { kind: 'command', command: name, args });
const text = (chatId: string, words: string) => say(chatId, { kind: 'text', text: words });
const press = (chatId: string, data: string) => say(chatId, { kind: 'choice', data });
const dataOf = (message: OutboundMessage | undefined) =>
  (message?.choices ?? []).flat().map((choice) => choice.data);

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  redis = createRedis(`${REDIS_SERVER_URL}/0`);
  prefix = `t${randomBytes(6).toString('hex')}`;
  dialogue = new Dialogue({
    db,
    render,
    linkAttempts: new RedisLinkAttempts(redis, prefix),
    clock: { now: () => NOW },
    timeZone: TZ,
    logger: createLogger('silent'),
    linkCodeKeys: TEST_LINK_CODE_KEYS,
  });
  for (const [code, name, parentCode, blockCodes, kind] of UNITS) {
    await upsertUnit(db, code, { name, parentCode, blockCodes, kind });
    await upsertOfficial(db, `${code}-F`, { name: `Cán bộ ${code}`, unitCode: code, role: 'focal' });
  }
  const people: [code: string, unit: string, role: 'admin' | 'leader' | 'member', chat: string][] = [
    ['ADMIN', 'LC', 'admin', 'c-admin'],
    ['LEAD-TD', 'TD', 'leader', 'c-td'],
    ['MEMBER', 'TD-1', 'member', 'c-member'],
  ];
  for (const [code, unitCode, role, chatId] of people) {
    await upsertOfficial(db, code, { name: code, unitCode, role });
    const official = await db.official.findUniqueOrThrow({ where: { code } });
    await db.channelAccount.create({ data: { officialId: official.id, channel: 'telegram', chatId } });
  }
  const campaign = await createCampaign(db, {
    docNumber: '07/KH-UBND',
    title: 'Thi đua chào mừng',
    issuerUnitCode: 'LC',
    startsOn: '2026-06-15',
    endsOn: '2026-10-30',
    unitCodes: UNITS.filter(([code]) => code !== 'LC').map(([code]) => code),
    tasks: [
      { key: 'QT', title: 'Quán triệt, triển khai', dueOn: '2026-07-15' },
      { key: 'TK', title: 'Tổng kết', dueOn: '2026-10-30' },
    ],
  });
  campaignId = campaign.id;
  await launchCampaign(db, campaignId, render, new Date('2026-07-01T02:00:00Z'));
  const tasks = await db.task.findMany({ where: { campaignId } });
  for (const unitCode of ['TD-1', 'PT-2']) {
    const official = await db.official.findUniqueOrThrow({ where: { code: `${unitCode}-F` } });
    await db.$transaction((tx) =>
      recordStatus(tx, {
        officialId: official.id,
        unitId: official.unitId,
        taskId: tasks.find((task) => task.key === 'QT')?.id ?? '',
        status: 'done',
        percent: null,
        note: null,
        sourceText: null,
        channel: 'telegram',
        now: new Date('2026-07-10T02:00:00Z'),
      }),
    );
  }
});

afterAll(async () => {
  const keys = redis ? await redis.keys(`${prefix}:*`) : [];
  if (keys.length > 0) await redis.del(...keys);
  await redis?.quit();
  await testDb?.close();
});

describe('a summary by emulation block', () => {
  it('gives an admin of the issuer every unit of the block, named by what it holds', async () => {
    const [summary, chart] = await text('c-admin', 'tong hop khoi cum1');
    expect(summary?.text).toContain('Khối/cụm thi đua: CUM1 (xã, phường, thị trấn)');
    expect(summary?.text).toContain('Đơn vị tham gia: 3 ');
    expect(summary?.text).toContain('Quá hạn: 2');
    expect(summary?.text).toContain('UBND xã Ma Ly Pho');
    expect(summary?.text).not.toContain('UBND xã Bình Lư');
    expect(chart?.attachment?.ref).toMatchObject({ type: 'chart', campaignId, block: 'CUM1' });
    expect(chart?.attachment?.ref.unitCode).toBeUndefined();
    const data = dataOf(chart);
    expect(data.length).toBeGreaterThan(2);
    expect(data.every((item) => /^b[dlx]:[A-Za-z0-9_-]{22}:[^:]+:CUM1$/.test(item))).toBe(true);
    expect(data.every((item) => Buffer.byteLength(item) <= 64)).toBe(true);
  });

  it('keeps a leader to the block units of their own subtree', async () => {
    const [summary, chart] = await command('c-td', 'tonghop', 'khối CUM1');
    expect(summary?.text).toContain('Phạm vi: UBND huyện Tam Đường');
    expect(summary?.text).toContain('Đơn vị tham gia: 2 ');
    expect(summary?.text).not.toContain('Ma Ly Pho');
    expect(chart?.attachment?.ref).toMatchObject({ unitCode: 'TD', block: 'CUM1' });
    // A block of mixed kinds is named by its code alone.
    const [mixed] = await command('c-td', 'tonghop', '07/KH-UBND khoi CUM2');
    expect(mixed?.text).toContain('Khối/cụm thi đua: CUM2\n');
    expect(mixed?.text).toContain('Đơn vị tham gia: 2 ');
  });

  it('answers an unknown block with the blocks the asker may see, and no data', async () => {
    const replies = await text('c-td', 'tổng hợp khối CUM9');
    expect(replies).toHaveLength(1);
    expect(replies[0]?.text).toContain('Không có khối/cụm thi đua "CUM9"');
    expect(replies[0]?.text).toContain('CUM1, CUM2, KHOI-HUYEN');
    expect(replies[0]?.text).not.toContain('TỔNG HỢP');
    expect(replies[0]?.text).not.toContain('Dào San');
    const [list] = await text('c-admin', 'tong hop khoi');
    expect(list?.text).toContain('Khối/cụm thi đua bạn có thể xem: CUM1, CUM2, CUM9, KHOI-HUYEN.');
    expect(list?.text).not.toContain('Không có khối');
  });

  it('keeps the block in the drill-down, late-units and Excel buttons', async () => {
    const [, chart] = await text('c-admin', 'tổng hợp khối CUM1');
    const data = dataOf(chart);
    const drill = data.find((item) => item.startsWith('bd:') && item.includes(':TD:')) ?? '';
    const [drilled, drilledChart] = await press('c-admin', drill);
    expect(drilled?.text).toContain('Phạm vi: UBND huyện Tam Đường');
    expect(drilled?.text).toContain('Đơn vị tham gia: 2 ');
    expect(drilledChart?.attachment?.ref).toMatchObject({ unitCode: 'TD', block: 'CUM1' });

    const [late] = await press('c-admin', data.find((item) => item.startsWith('bl:')) ?? '');
    expect(late?.text).toContain('UBND xã Bản Giang');
    expect(late?.text).toContain('UBND xã Ma Ly Pho');
    expect(late?.text).not.toContain('Bình Lư');
    expect(late?.text).not.toContain('Sơn Bình');

    const [excel] = await press('c-admin', data.find((item) => item.startsWith('bx:')) ?? '');
    expect(excel?.attachment).toMatchObject({ kind: 'document', ref: { type: 'xlsx', block: 'CUM1' } });
  });

  it('refuses a block drill-down outside the asker’s subtree, and members', async () => {
    const [, chart] = await text('c-admin', 'tổng hợp khối CUM1');
    const intoPt = dataOf(chart).find((item) => item.startsWith('bd:') && item.includes(':PT:')) ?? '';
    expect(intoPt).not.toBe('');
    const refused = await press('c-td', intoPt);
    expect(refused.map((message) => message.text)).toEqual([
      'Đơn vị này nằm ngoài phạm vi bạn được xem tổng hợp.',
    ]);
    const member = await text('c-member', 'tổng hợp khối CUM1');
    expect(member.map((message) => message.text)).toEqual([
      'Xin lỗi, chức năng tổng hợp chỉ dành cho lãnh đạo và cán bộ quản trị.',
    ]);
    expect((await press('c-admin', 'bd:not-a-compact-id:TD:CUM1'))[0]?.text).toBe(
      render.text('vi', 'stale').text,
    );
  });
});

describe('per-child lines', () => {
  it('lists each direct child with items reported and overdue, late first', async () => {
    const [summary] = await command('c-admin', 'tonghop');
    const lines = summary?.text.split('\n') ?? [];
    const at = lines.findIndex((line) => line.includes('Theo đơn vị trực thuộc'));
    expect(at).toBeGreaterThan(0);
    // Tam Đường and its 4 units × 2 tasks, 1 reported, QT overdue at 4; Phong Thổ and 2 units, 1 reported.
    expect(lines.slice(at + 1, at + 3)).toEqual([
      '• UBND huyện Tam Đường: 1/10 · ⏰ quá hạn 4 việc (4/5 đơn vị chậm)',
      '• UBND huyện Phong Thổ: 1/6 · ⏰ quá hạn 2 việc (2/3 đơn vị chậm)',
    ]);
    const [district] = await command('c-td', 'tonghop');
    const districtLines = district?.text.split('\n') ?? [];
    const first = districtLines.findIndex((line) => line.includes('Theo đơn vị trực thuộc'));
    expect(districtLines.slice(first + 1, first + 5)).toEqual([
      '• Phòng Văn hóa và Thông tin: 0/2 · ⏰ quá hạn 1 việc',
      '• UBND xã Bản Giang: 0/2 · ⏰ quá hạn 1 việc',
      '• UBND xã Bình Lư: 0/2 · ⏰ quá hạn 1 việc',
      '• UBND xã Sơn Bình: 1/2',
    ]);
  });
});

describe('several running campaigns', () => {
  it('lists them for typed requests too, and a chosen one keeps the block', async () => {
    const other = await createCampaign(db, {
      docNumber: '09/KH-UBND',
      title: 'Thi đua thứ hai',
      issuerUnitCode: 'LC',
      startsOn: '2026-06-15',
      endsOn: '2026-10-30',
      unitCodes: ['TD-1'],
      tasks: [{ key: 'A', title: 'Việc A', dueOn: '2026-09-15' }],
    });
    await launchCampaign(db, other.id, render, new Date('2026-07-02T02:00:00Z'));
    for (const words of ['tinh hinh', 'bao cao tong hop', 'Tổng hợp']) {
      const replies = await text('c-admin', words);
      expect(replies).toHaveLength(1);
      expect(replies[0]?.text).toBe(render.text('vi', 'summary.choose').text);
      expect(replies[0]?.choices?.flat().map((choice) => choice.label)).toEqual(['09/KH-UBND', '07/KH-UBND']);
    }
    const [choose] = await text('c-admin', 'tổng hợp khối cum1');
    const chosen = choose?.choices?.flat().find((choice) => choice.label === '07/KH-UBND')?.data ?? '';
    expect(chosen).toMatch(/^bs:/);
    const [summary] = await press('c-admin', chosen);
    expect(summary?.text).toContain('TỔNG HỢP 07/KH-UBND');
    expect(summary?.text).toContain('Khối/cụm thi đua: CUM1');
  });
});
