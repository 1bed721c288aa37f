import { randomBytes } from 'node:crypto';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summaryWorkbook } from '../../src/conversation/attachments.ts';
import { Dialogue } from '../../src/conversation/dialogue.ts';
import type { InboundEvent } from '../../src/conversation/events.ts';
import { Renderer } from '../../src/conversation/render.ts';
import type { Db } from '../../src/db/client.ts';
import { EXEMPLAR_LIMITS } from '../../src/domain/exemplar.ts';
import { createTranslator } from '../../src/i18n.ts';
import { createLogger } from '../../src/logger.ts';
import { createRedis } from '../../src/redis.ts';
import { createCampaign, launchCampaign } from '../../src/services/campaigns.ts';
import { DomainError } from '../../src/services/errors.ts';
import {
  countExemplars,
  exemplarCampaigns,
  listExemplars,
  recordExemplar,
  withdrawExemplar,
  type ExemplarInput,
} from '../../src/services/exemplars.ts';
import { upsertOfficial } from '../../src/services/officials.ts';
import { messageFromPayload } from '../../src/services/outbox.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { RedisLinkAttempts } from '../../src/throttle.ts';
import { withTestDb } from '../support/db.ts';
import { TEST_LINK_CODE_KEYS } from '../support/link-codes.ts';
import { REDIS_SERVER_URL } from '../support/env.ts';

const TZ = 'Asia/Ho_Chi_Minh';
const render = new Renderer(createTranslator(), TZ);
const day = (n: number, hour = 2): Date => new Date(Date.UTC(2026, 6, n, hour));

let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let campaignId: string;
let draftCampaignId: string;
const officialIds = new Map<string, string>();

/**
 * LC issues the campaign; the districts TD and PT do not take part themselves but communes under them do;
 * MC lies under the issuer with no participant; SL is outside.
 */
const UNITS: [code: string, name: string, parent?: string, blocks?: string[]][] = [
  ['LC', 'UBND tỉnh Lai Châu'],
  ['TD', 'UBND huyện Tam Đường', 'LC'],
  ['PT', 'UBND huyện Phong Thổ', 'LC'],
  ['TD-1', 'UBND xã Sơn Bình', 'TD', ['CUM1']],
  ['TD-2', 'UBND xã Bình Lư', 'TD'],
  ['PT-1', 'UBND xã Ma Ly Pho', 'PT', ['CUM1']],
  ['MC', 'UBND huyện Mường Chà', 'LC'],
  ['SL', 'UBND tỉnh Sơn La'],
  ['SL-1', 'UBND xã Chiềng Mung', 'SL'],
];

const official = (code: string): string => {
  const value = officialIds.get(code);
  if (!value) throw new Error(`no official ${code}`);
  return value;
};

function report(officialCode: string, input: Partial<ExemplarInput> = {}) {
  return db.$transaction((tx) =>
    recordExemplar(tx, {
      campaignId,
      officialId: official(officialCode),
      subject: `Điển hình của ${officialCode}`,
      achievement: 'Trồng 2 ha rừng phòng hộ',
      photoRef: null,
      channel: 'telegram',
      now: day(5),
      ...input,
    }),
  );
}

async function recorded(officialCode: string, input: Partial<ExemplarInput> = {}): Promise<string> {
  const result = await report(officialCode, input);
  if (result.kind !== 'recorded') throw new Error(`not recorded for ${officialCode}: ${result.kind}`);
  return result.id;
}

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  for (const [code, name, parentCode, blockCodes] of UNITS) {
    await upsertUnit(db, code, { name, parentCode, ...(blockCodes ? { blockCodes } : {}) });
  }
  for (const code of ['TD-1', 'TD-2', 'PT-1', 'SL-1', 'MC']) {
    await upsertOfficial(db, `${code}-F`, { name: `Cán bộ ${code}`, unitCode: code, role: 'focal' });
  }
  await upsertOfficial(db, 'TD-1-M', { name: 'Thành viên Sơn Bình', unitCode: 'TD-1', role: 'member' });
  await upsertOfficial(db, 'TD-L', { name: 'Lãnh đạo huyện Tam Đường', unitCode: 'TD', role: 'leader' });
  for (const row of await db.official.findMany()) officialIds.set(row.code, row.id);

  const campaign = await createCampaign(db, {
    docNumber: '05/KH-UBND',
    title: 'Thi đua chào mừng Đại hội',
    issuerUnitCode: 'LC',
    startsOn: '2026-06-15',
    endsOn: '2026-10-30',
    unitCodes: ['TD-1', 'TD-2', 'PT-1'],
    tasks: [{ key: 'QT', title: 'Quán triệt, triển khai', dueOn: '2026-07-15' }],
  });
  campaignId = campaign.id;
  await launchCampaign(db, campaignId, render, day(1));
  // Never launched: nobody may report for it yet.
  const draft = await createCampaign(db, {
    docNumber: '06/KH-UBND',
    title: 'Chưa phát động',
    issuerUnitCode: 'LC',
    startsOn: '2026-06-15',
    endsOn: '2026-10-30',
    unitCodes: ['TD-1'],
    tasks: [],
  });
  draftCampaignId = draft.id;
});

afterAll(async () => {
  await testDb?.close();
});

describe('exemplars', () => {
  const ids = new Map<string, string>();

  it('offers running campaigns to participants, the issuer and units above participants only', async () => {
    const unitOf = async (code: string) =>
      db.unit.findUniqueOrThrow({ where: { code }, select: { id: true, path: true } });
    expect((await exemplarCampaigns(db, await unitOf('TD-1'))).map((c) => c.docNumber)).toEqual([
      '05/KH-UBND',
    ]);
    for (const code of ['TD', 'LC']) {
      expect((await exemplarCampaigns(db, await unitOf(code))).map((c) => c.docNumber)).toEqual([
        '05/KH-UBND',
      ]);
    }
    expect(await exemplarCampaigns(db, await unitOf('MC'))).toEqual([]);
    expect(await exemplarCampaigns(db, await unitOf('SL-1'))).toEqual([]);
  });

  it('records one per report, under the reporter unit, with or without a photo', async () => {
    ids.set(
      'TD-1',
      await recorded('TD-1-F', { subject: 'Ông Nguyễn Văn A', photoRef: 'AgACAgIAAxk-file-id' }),
    );
    ids.set('TD-1-M', await recorded('TD-1-M', { subject: 'Tổ dân phố 3', channel: 'zalo' }));
    ids.set('TD-2', await recorded('TD-2-F', { subject: 'Bà Lò Thị B', now: day(6) }));
    ids.set('PT-1', await recorded('PT-1-F', { subject: 'HTX Ma Ly Pho', now: day(7) }));
    ids.set('TD', await recorded('TD-L', { subject: 'Phòng Văn hóa huyện', now: day(8) }));

    const all = await listExemplars(db, campaignId);
    expect(all.map((e) => [e.unit.code, e.subject])).toEqual([
      ['TD-1', 'Ông Nguyễn Văn A'],
      ['TD-1', 'Tổ dân phố 3'],
      ['TD-2', 'Bà Lò Thị B'],
      ['PT-1', 'HTX Ma Ly Pho'],
      ['TD', 'Phòng Văn hóa huyện'],
    ]);
    expect(all[0]).toMatchObject({
      unit: { code: 'TD-1', name: 'UBND xã Sơn Bình' },
      reportedBy: { code: 'TD-1-F', name: 'Cán bộ TD-1' },
      achievement: 'Trồng 2 ha rừng phòng hộ',
      hasPhoto: true,
      channel: 'telegram',
      createdAt: day(5),
    });
    expect(all.filter((e) => e.hasPhoto)).toHaveLength(1);
    expect(all[1]?.channel).toBe('zalo');
  });

  it('lists and counts within a unit subtree (materialised path) or an emulation block', async () => {
    const codes = async (unitCode?: string, block?: string) =>
      (await listExemplars(db, campaignId, { unitCode, block })).map((e) => e.unit.code);
    expect(await codes('TD')).toEqual(['TD-1', 'TD-1', 'TD-2', 'TD']);
    expect(await codes('TD-1')).toEqual(['TD-1', 'TD-1']);
    expect(await codes('PT')).toEqual(['PT-1']);
    expect(await codes('LC')).toHaveLength(5);
    expect(await codes('SL')).toEqual([]);
    expect(await codes(undefined, 'CUM1')).toEqual(['TD-1', 'TD-1', 'PT-1']);
    expect(await countExemplars(db, campaignId)).toBe(5);
    expect(await countExemplars(db, campaignId, { unitCode: 'TD' })).toBe(4);
    expect(await countExemplars(db, campaignId, { unitCode: 'PT-1' })).toBe(1);
    expect(await countExemplars(db, draftCampaignId)).toBe(0);
  });

  it('lets the reporter withdraw (kept for the audit trail), once, and nobody else', async () => {
    const target = ids.get('TD-2') ?? '';
    const other = await db.$transaction((tx) =>
      withdrawExemplar(tx, { exemplarId: target, officialId: official('TD-1-F'), now: day(9) }),
    );
    expect(other).toEqual({ kind: 'not_allowed' });
    expect(await countExemplars(db, campaignId)).toBe(5);

    const first = await db.$transaction((tx) =>
      withdrawExemplar(tx, { exemplarId: target, officialId: official('TD-2-F'), now: day(9) }),
    );
    expect(first).toEqual({ kind: 'withdrawn', subject: 'Bà Lò Thị B' });
    const again = await db.$transaction((tx) =>
      withdrawExemplar(tx, { exemplarId: target, officialId: official('TD-2-F'), now: day(10) }),
    );
    expect(again).toEqual({ kind: 'already_withdrawn', subject: 'Bà Lò Thị B' });

    expect((await listExemplars(db, campaignId, { unitCode: 'TD' })).map((e) => e.subject)).not.toContain(
      'Bà Lò Thị B',
    );
    expect(await countExemplars(db, campaignId)).toBe(4);
    const row = await db.exemplar.findUniqueOrThrow({ where: { id: target } });
    expect(row.withdrawnAt).toEqual(day(9));
  });

  it('refuses bad input and writes nothing', async () => {
    const before = await db.exemplar.count();
    expect(await report('TD-1-F', { subject: '   ' })).toEqual({
      kind: 'invalid',
      problems: [{ field: 'subject', reason: 'empty' }],
    });
    const long = 'x'.repeat(EXEMPLAR_LIMITS.achievement + 1);
    expect(await report('TD-1-F', { achievement: long })).toEqual({
      kind: 'invalid',
      problems: [
        {
          field: 'achievement',
          reason: 'too_long',
          length: EXEMPLAR_LIMITS.achievement + 1,
          max: EXEMPLAR_LIMITS.achievement,
        },
      ],
    });
    // A campaign not running, an official outside it, ids that are not ours.
    expect(await report('TD-1-F', { campaignId: draftCampaignId })).toEqual({ kind: 'not_allowed' });
    expect(await report('SL-1-F')).toEqual({ kind: 'not_allowed' });
    expect(await report('MC-F')).toEqual({ kind: 'not_allowed' });
    expect(await report('TD-1-F', { campaignId: 'not-a-uuid' })).toEqual({ kind: 'not_allowed' });
    expect(await report('TD-1-F', { campaignId: '0190f0f0-0000-7000-8000-000000000001' })).toEqual({
      kind: 'not_allowed',
    });
    expect(await db.exemplar.count()).toBe(before);
  });

  it('answers an unknown campaign or unit as not found', async () => {
    await expect(listExemplars(db, '0190f0f0-0000-7000-8000-000000000001')).rejects.toMatchObject({
      kind: 'not_found',
    });
    await expect(listExemplars(db, 'nope')).rejects.toBeInstanceOf(DomainError);
    await expect(listExemplars(db, campaignId, { unitCode: 'KHONG-CO' })).rejects.toMatchObject({
      kind: 'not_found',
      details: { unit: 'KHONG-CO' },
    });
  });

  it('fills the workbook sheet "Điển hình" from the table, within the scope asked for', async () => {
    const sheetRows = async (unitCode?: string) => {
      const file = await summaryWorkbook(
        { db, render, timeZone: TZ },
        { campaignId, ...(unitCode ? { unitCode } : {}), locale: 'vi', at: day(11).toISOString() },
      );
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(file.bytes as unknown as ArrayBuffer);
      const sheet = workbook.getWorksheet('Điển hình');
      const rows: string[][] = [];
      sheet?.eachRow((row) => rows.push((row.values as unknown[]).slice(1).map((value) => String(value))));
      const summary: string[] = [];
      workbook.getWorksheet('Tổng hợp')?.eachRow((row) => summary.push(row.getCell(1).text));
      return { rows, summary };
    };
    const whole = await sheetRows();
    expect(whole.rows[0]).toEqual(['Điển hình', 'Việc làm', 'Đơn vị', 'Người báo', 'Thời điểm']);
    expect(whole.rows.slice(1).map((row) => row[0])).toEqual([
      'Ông Nguyễn Văn A',
      'Tổ dân phố 3',
      'HTX Ma Ly Pho',
      'Phòng Văn hóa huyện',
    ]);
    expect(whole.rows[1]).toEqual([
      'Ông Nguyễn Văn A',
      'Trồng 2 ha rừng phòng hộ',
      'UBND xã Sơn Bình',
      'Cán bộ TD-1 (TD-1-F)',
      '05/07/2026 09:00',
    ]);
    expect(whole.summary.some((line) => line.includes('Điển hình tiên tiến đã báo cáo: 4'))).toBe(true);

    const phongTho = await sheetRows('PT');
    expect(phongTho.rows.slice(1).map((row) => row[0])).toEqual(['HTX Ma Ly Pho']);
  });
});

describe('an unfinished /diemhinh', () => {
  let now = day(12);
  let nextUpdate = 1;
  const redis = createRedis(`${REDIS_SERVER_URL}/0`);
  const dialogue = () =>
    new Dialogue({
      db,
      render,
      linkAttempts: new RedisLinkAttempts(redis, `t${randomBytes(6).toString('hex')}`),
      clock: { now: () => now },
      timeZone: TZ,
      logger: createLogger('silent'),
      linkCodeKeys: TEST_LINK_CODE_KEYS,
    });
  let talk: Dialogue;

  /** One update through the dialogue; the texts it queued, in order. */
  async function say(chatId: string, event: Partial<InboundEvent> & Pick<InboundEvent, 'kind'>) {
    const updateId = `d${nextUpdate++}`;
    await talk.handle({ channel: 'telegram', updateId, chatId, ...event } as InboundEvent);
    const rows = await db.outboxMessage.findMany({
      where: { dedupeKey: { startsWith: `reply:telegram:${updateId}:` } },
      orderBy: { seq: 'asc' },
    });
    return rows.map((row) => messageFromPayload(row.payload));
  }

  beforeAll(async () => {
    talk = dialogue();
    const chats: [code: string, chatId: string][] = [
      ['TD-1-M', 'c-member'],
      ['TD-2-F', 'c-focal'],
      ['MC-F', 'c-outside'],
    ];
    for (const [code, chatId] of chats) {
      await db.channelAccount.create({ data: { officialId: official(code), channel: 'telegram', chatId } });
    }
  });

  afterAll(async () => {
    await redis.quit();
  });

  it('is abandoned after 24 hours: the words are then read as usual, and nothing is recorded', async () => {
    const before = await db.exemplar.count();
    const [who] = await say('c-member', { kind: 'command', command: 'diemhinh', args: '' });
    expect(who?.text).toContain('Điển hình là ai');
    now = new Date(now.getTime() + 24 * 3600_000 + 60_000);
    const answer = await say('c-member', { kind: 'text', text: 'Bà Hoàng Thị D' });
    expect(answer.map((message) => message.text).join('\n')).not.toContain('Việc làm tiêu biểu');
    const [skip] = await say('c-member', { kind: 'photo', ref: 'late-photo' });
    expect(skip?.text).toContain('chỉ đọc được tin nhắn chữ');
    expect(await db.exemplar.count()).toBe(before);
  });

  it('answers politely where no campaign is in reach, and keeps no draft', async () => {
    const [answer] = await say('c-outside', {
      kind: 'command',
      command: 'diemhinh',
      args: 'Ông F – làm tốt',
    });
    expect(answer?.text).toBe(render.text('vi', 'exemplar.noCampaign').text);
    expect((await say('c-outside', { kind: 'command', command: 'huy', args: '' }))[0]?.text).toContain(
      'Không có việc gì',
    );
  });

  it('reads the caption of a photo sent at "who?" as the answer, and keeps the photo', async () => {
    await say('c-focal', { kind: 'command', command: 'diemhinh', args: '' });
    const replies = await say('c-focal', {
      kind: 'photo',
      ref: 'caption-photo',
      caption: 'Bà Hoàng Thị E – trồng 300 cây tre chắn sóng',
    });
    expect(replies.map((message) => message.text.split('\n')[0])).toEqual([
      '📷 Đã nhận ảnh.',
      '🌟 Đã ghi nhận điển hình tiên tiến (kế hoạch 05/KH-UBND):',
    ]);
    const row = await db.exemplar.findFirstOrThrow({ where: { subject: 'Bà Hoàng Thị E' } });
    expect(row).toMatchObject({ achievement: 'trồng 300 cây tre chắn sóng', photoRef: 'caption-photo' });
  });

  it("refuses another chat's draft buttons and someone else's withdrawal", async () => {
    const [who] = await say('c-member', { kind: 'command', command: 'diemhinh', args: '' });
    expect(who?.text).toContain('Điển hình là ai');
    await say('c-member', { kind: 'text', text: 'Bà Hoàng Thị D' });
    const [photo] = await say('c-member', { kind: 'text', text: 'trồng 500 cây xanh' });
    const skip = photo?.choices?.flat().find((choice) => choice.data.startsWith('exs:'));
    expect(skip).toBeDefined();
    const [stranger] = await say('c-focal', { kind: 'choice', data: skip?.data ?? '' });
    expect(stranger?.text).toContain('hết hạn');

    const [done] = await say('c-member', { kind: 'choice', data: skip?.data ?? '' });
    expect(done?.text).toContain('Đã ghi nhận điển hình');
    const undo = done?.choices?.flat()[0]?.data ?? '';
    expect((await say('c-focal', { kind: 'choice', data: undo }))[0]?.text).toBe(
      render.text('vi', 'stale').text,
    );
    expect((await say('c-member', { kind: 'choice', data: undo }))[0]?.text).toContain('Đã rút lại');
  });
});
