import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeButton } from '../../src/conversation/buttons.ts';
import { Dialogue } from '../../src/conversation/dialogue.ts';
import { Renderer } from '../../src/conversation/render.ts';
import type { Db } from '../../src/db/client.ts';
import { RawTransactions } from '../../src/db/raw-transactions.ts';
import type { OutboundMessage } from '../../src/domain/message.ts';
import { createTranslator } from '../../src/i18n.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics, type Metrics } from '../../src/metrics.ts';
import { createRedis } from '../../src/redis.ts';
import { createCampaign, launchCampaign } from '../../src/services/campaigns.ts';
import { upsertOfficial } from '../../src/services/officials.ts';
import { messageFromPayload } from '../../src/services/outbox.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { RedisLinkAttempts } from '../../src/throttle.ts';
import { withTestDb } from '../support/db.ts';
import { REDIS_SERVER_URL } from '../support/env.ts';
import { TEST_LINK_CODE_KEYS } from '../support/link-codes.ts';

/**
 * Replies about several tasks at once, "xong hết", and "👍" typed after a launch, through the dialogue on
 * its raw engine (as the web role runs it) against the real database: what is recorded, in one group, and
 * what one undo takes back.
 */
const TZ = 'Asia/Ho_Chi_Minh';
const render = new Renderer(createTranslator(), TZ);
let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let redis: Redis;
let rawTransactions: RawTransactions;
let metrics: Metrics;
let talk: Dialogue;
let nextUpdate = 1;
let now = new Date('2026-07-01T02:00:00Z');
let first: { id: string; tasks: Map<string, string> };
let later: { id: string };

/** One update through the dialogue; the messages it queued, in order. */
async function handle(
  chatId: string,
  input: { text: string } | { data: string },
): Promise<OutboundMessage[]> {
  const updateId = `s${nextUpdate++}`;
  now = new Date(now.getTime() + 60_000);
  await talk.handle({
    channel: 'telegram',
    updateId,
    chatId,
    ...('text' in input ? { kind: 'text', text: input.text } : { kind: 'choice', data: input.data }),
  });
  const rows = await db.outboxMessage.findMany({
    where: { dedupeKey: { startsWith: `reply:telegram:${updateId}:` } },
    orderBy: { seq: 'asc' },
  });
  return rows.map((row) => messageFromPayload(row.payload));
}
const say = (chatId: string, text: string) => handle(chatId, { text });
const press = (chatId: string, message: OutboundMessage | undefined, label: string) => {
  const choice = message?.choices?.flat().find((candidate) => candidate.label === label);
  if (!choice) throw new Error(`no choice "${label}" in ${JSON.stringify(message)}`);
  return handle(chatId, { data: choice.data });
};

async function fallbacks(): Promise<Record<string, number>> {
  const { values } = await metrics.dialogueEngineFallbacks.get();
  return Object.fromEntries(values.map(({ labels, value }) => [String(labels.route), value]));
}

const unitId = async (code: string) => (await db.unit.findUniqueOrThrow({ where: { code } })).id;

/** The unit's current statuses, by task key. */
async function statuses(unitCode: string): Promise<Record<string, string>> {
  const rows = await db.currentStatus.findMany({
    where: { unit: { code: unitCode } },
    include: { task: { select: { key: true } } },
  });
  return Object.fromEntries(
    rows.map((row) => [row.task.key, `${row.status}${row.percent === null ? '' : ` ${row.percent}`}`]),
  );
}

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  redis = createRedis(`${REDIS_SERVER_URL}/0`);
  rawTransactions = new RawTransactions(testDb.database.url, 2);
  metrics = createMetrics();
  talk = new Dialogue({
    db,
    render,
    raw: rawTransactions,
    linkCodeKeys: TEST_LINK_CODE_KEYS,
    engineFallbacks: metrics.dialogueEngineFallbacks,
    linkAttempts: new RedisLinkAttempts(redis, `t${randomBytes(6).toString('hex')}`),
    clock: { now: () => now },
    timeZone: TZ,
    logger: createLogger('silent'),
  });
  await upsertUnit(db, 'TINH', { name: 'UBND tỉnh Lai Châu' });
  for (const n of [1, 2, 3]) {
    await upsertUnit(db, `XA${n}`, { name: `UBND xã Số ${n}`, parentCode: 'TINH' });
    await upsertOfficial(db, `F${n}`, { name: `Cán bộ ${n}`, unitCode: `XA${n}`, role: 'focal' });
    const official = await db.official.findUniqueOrThrow({ where: { code: `F${n}` } });
    await db.channelAccount.create({
      data: { officialId: official.id, channel: 'telegram', chatId: `c${n}` },
    });
  }
  const created = await createCampaign(db, {
    docNumber: '125/KH-UBND',
    title: 'Thi đua chào mừng các sự kiện lịch sử',
    issuerUnitCode: 'TINH',
    startsOn: '2026-06-15',
    endsOn: '2027-10-30',
    unitCodes: ['XA1', 'XA2', 'XA3'],
    tasks: [
      { key: 'QT', title: 'Quán triệt, triển khai kế hoạch', dueOn: '2026-07-15' },
      { key: 'TT', title: 'Tuyên truyền về các sự kiện lịch sử', dueOn: '2027-10-30' },
      { key: 'KT', title: 'Sơ kết, khen thưởng', dueOn: '2027-10-30' },
    ],
  });
  await launchCampaign(db, created.id, render, new Date('2026-06-20T02:00:00Z'));
  const tasks = await db.task.findMany({ where: { campaignId: created.id } });
  first = { id: created.id, tasks: new Map(tasks.map((task) => [task.key, task.id])) };
  const other = await createCampaign(db, {
    docNumber: '130/KH-UBND',
    title: 'Thi đua chuyển đổi số',
    issuerUnitCode: 'TINH',
    startsOn: '2026-06-15',
    endsOn: '2027-10-30',
    unitCodes: ['XA3'],
    tasks: [{ key: 'CĐS', title: 'Chuyển đổi số', dueOn: '2027-10-30' }],
  });
  await launchCampaign(db, other.id, render, new Date('2026-06-25T02:00:00Z'));
  later = { id: other.id };
});

afterAll(async () => {
  await rawTransactions?.end();
  await redis?.quit();
  await testDb?.close();
});

describe('a message about several tasks', () => {
  it('records each task in one group, confirms them in one message, and one undo takes all back', async () => {
    const [confirmation, ...rest] = await say('c1', 'NV1 xong, NV2 được 50%, NV3 vướng kinh phí');
    expect(rest).toEqual([]);
    expect(confirmation?.text.split('\n')).toEqual([
      '✅ Đã ghi nhận báo cáo 3 nhiệm vụ:',
      '• NV1. <b>Quán triệt, triển khai kế hoạch</b> (125/KH-UBND): Hoàn thành, 100%',
      '• NV2. <b>Tuyên truyền về các sự kiện lịch sử</b> (125/KH-UBND): Đang thực hiện, 50%',
      '• NV3. <b>Sơ kết, khen thưởng</b> (125/KH-UBND): Vướng mắc',
      '   Ghi chú: kinh phí',
    ]);
    expect(await statuses('XA1')).toEqual({ QT: 'done 100', TT: 'in_progress 50', KT: 'blocked' });
    const reports = await db.statusReport.findMany({ where: { unit: { code: 'XA1' } } });
    expect(reports).toHaveLength(3);
    expect(new Set(reports.map((report) => report.groupId)).size).toBe(1);
    expect(
      reports.every((report) => report.sourceText === 'NV1 xong, NV2 được 50%, NV3 vướng kinh phí'),
    ).toBe(true);
    expect(
      await db.auditEvent.count({ where: { action: 'report.create', unitId: await unitId('XA1') } }),
    ).toBe(3);

    const undo = confirmation?.choices?.flat() ?? [];
    expect(undo.map((choice) => choice.label)).toEqual(['↩️ Hoàn tác cả 3 báo cáo']);
    expect(decodeButton(undo[0]?.data ?? '')).toEqual({ kind: 'undoGroup', groupId: reports[0]?.groupId });
    const [undone] = await press('c1', confirmation, '↩️ Hoàn tác cả 3 báo cáo');
    expect(undone?.text).toBe(
      '↩️ Đã hoàn tác 3 báo cáo: Quán triệt, triển khai kế hoạch; Tuyên truyền về các sự kiện lịch sử; Sơ kết, khen thưởng.',
    );
    expect(await statuses('XA1')).toEqual({});
    expect(await db.statusReport.count({ where: { unit: { code: 'XA1' }, undoneAt: null } })).toBe(0);
    expect(await db.auditEvent.count({ where: { action: 'report.undo', unitId: await unitId('XA1') } })).toBe(
      3,
    );
    const [again] = await press('c1', confirmation, '↩️ Hoàn tác cả 3 báo cáo');
    expect(again?.text).toBe('Báo cáo này đã được hoàn tác trước đó.');
    // Another unit's official cannot take them back.
    const [refused] = await press('c2', confirmation, '↩️ Hoàn tác cả 3 báo cáo');
    expect(refused?.text).toBe('Nút này không còn hiệu lực.');
  });

  it('records the tasks it knows and names back a number the unit does not have', async () => {
    const [confirmation, unknown, ...rest] = await say('c1', 'nv1 xong, nv7 đang làm 30%');
    expect(rest).toEqual([]);
    expect(confirmation?.text).toContain('Đã ghi nhận cho nhiệm vụ <b>Quán triệt, triển khai kế hoạch</b>');
    expect(confirmation?.choices?.flat().map((choice) => choice.label)).toEqual(['↩️ Hoàn tác']);
    expect(unknown?.text).toContain('không có nhiệm vụ số 7 (đơn vị có 3 nhiệm vụ');
    expect(await statuses('XA1')).toEqual({ QT: 'done 100' });
  });

  it('records the parts it can read and asks about an unclear one alone, with its status buttons', async () => {
    const [confirmation, question, ...rest] = await say(
      'c1',
      '1. Đã quán triệt xong\n2. Đang triển khai, đạt 3/5 xã\n3. thì để em hỏi lại',
    );
    expect(rest).toEqual([]);
    expect(confirmation?.text).toContain('✅ Đã ghi nhận báo cáo 2 nhiệm vụ:');
    expect(confirmation?.text).toContain('Đang thực hiện, 60%');
    expect(question?.text).toContain('Chưa rõ tình trạng của NV3 ("thì để em hỏi lại")');
    expect(question?.text).toContain('Sơ kết, khen thưởng');
    expect(question?.choices?.flat().map((choice) => choice.label)).toEqual([
      '✅ Hoàn thành',
      '⏳ Đang thực hiện',
      '⚠️ Vướng mắc',
      '❌ Chưa thực hiện',
    ]);
    expect(await statuses('XA1')).toEqual({ QT: 'done 100', TT: 'in_progress 60' });
    const [recorded] = await press('c1', question, '⚠️ Vướng mắc');
    expect(recorded?.text).toContain('Sơ kết, khen thưởng');
    expect(await statuses('XA1')).toEqual({ QT: 'done 100', TT: 'in_progress 60', KT: 'blocked' });
  });

  it('reads "nhiệm vụ 2 và 3 đã xong" as two reports', async () => {
    const [confirmation] = await say('c1', 'nhiệm vụ 2 và 3 đã xong');
    expect(confirmation?.text).toContain('✅ Đã ghi nhận báo cáo 2 nhiệm vụ:');
    expect(await statuses('XA1')).toEqual({ QT: 'done 100', TT: 'done 100', KT: 'done 100' });
  });
});

describe('"xong hết" with several open tasks', () => {
  it('offers "Tất cả 3 nhiệm vụ" first, which records every open task done in one tap', async () => {
    const [question, ...rest] = await say('c2', 'xong hết');
    expect(rest).toEqual([]);
    expect(question?.text).toContain('cả 3 nhiệm vụ chưa hoàn thành');
    expect(question?.choices?.map((row) => row.map((choice) => choice.label))).toEqual([
      ['Tất cả 3 nhiệm vụ'],
      ['1. Quán triệt, triển khai kế hoạch'],
      ['2. Tuyên truyền về các sự kiện lịch sử'],
      ['3. Sơ kết, khen thưởng'],
    ]);
    expect(await statuses('XA2')).toEqual({});
    const [confirmation, ...more] = await press('c2', question, 'Tất cả 3 nhiệm vụ');
    expect(more).toEqual([]);
    expect(confirmation?.text).toContain('✅ Đã ghi nhận báo cáo 3 nhiệm vụ:');
    expect(await statuses('XA2')).toEqual({ QT: 'done 100', TT: 'done 100', KT: 'done 100' });
    // The question is answered once.
    const [expired] = await press('c2', question, 'Tất cả 3 nhiệm vụ');
    expect(expired?.text).toContain('đã hết hạn');
    await press('c2', confirmation, '↩️ Hoàn tác cả 3 báo cáo');
    expect(await statuses('XA2')).toEqual({});
  });

  it('records the one open task at once when only one is open', async () => {
    await say('c2', 'nv1 xong, nv2 xong');
    const [confirmation] = await say('c2', 'đã hoàn thành tất cả');
    expect(confirmation?.text).toContain('Đã ghi nhận cho nhiệm vụ <b>Sơ kết, khen thưởng</b>');
    expect(await statuses('XA2')).toEqual({ QT: 'done 100', TT: 'done 100', KT: 'done 100' });
  });
});

describe('"👍" typed after a launch', () => {
  it('acknowledges the latest launch not acknowledged, says which, and with none left records nothing', async () => {
    const [latest] = await say('c3', '👍');
    expect(latest?.text).toBe('✅ Đã ghi nhận: đơn vị đã nhận kế hoạch 130/KH-UBND — Thi đua chuyển đổi số.');
    const [earlier] = await say('c3', 'ok');
    expect(earlier?.text).toBe(
      '✅ Đã ghi nhận: đơn vị đã nhận kế hoạch 125/KH-UBND — Thi đua chào mừng các sự kiện lịch sử.',
    );
    const acknowledged = await db.acknowledgement.findMany({ where: { unit: { code: 'XA3' } } });
    expect(acknowledged.map((row) => row.campaignId).sort()).toEqual([first.id, later.id].sort());
    const [none] = await say('c3', 'đã nhận');
    expect(none?.text).toContain('không có gì cần ghi nhận thêm');
    expect(await db.acknowledgement.count({ where: { unit: { code: 'XA3' } } })).toBe(2);
    expect(await db.statusReport.count({ where: { unit: { code: 'XA3' } } })).toBe(0);
  });

  it('ran every turn of this file on the raw engine: nothing fell back to Prisma', async () => {
    expect(first.tasks.size).toBe(3);
    expect(await fallbacks()).toEqual({});
  });
});
