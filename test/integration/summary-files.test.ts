import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summaryChartPng, summaryWorkbook } from '../../src/conversation/attachments.ts';
import { Renderer } from '../../src/conversation/render.ts';
import type { Db } from '../../src/db/client.ts';
import { createTranslator } from '../../src/i18n.ts';
import { createCampaign, launchCampaign } from '../../src/services/campaigns.ts';
import { upsertOfficial } from '../../src/services/officials.ts';
import { recordStatus } from '../../src/services/reports.ts';
import { campaignSummary } from '../../src/services/summaries.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { withTestDb } from '../support/db.ts';

const TZ = 'Asia/Ho_Chi_Minh';
const render = new Renderer(createTranslator(), TZ);
const AFTER_DUE = new Date('2026-07-20T03:00:00Z');

let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let campaignId: string;
let emptyCampaignId: string;

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  const units: [string, string, string | undefined, string[]][] = [
    ['LC', 'UBND tỉnh Lai Châu', undefined, []],
    ['TD', 'UBND huyện Tam Đường', 'LC', []],
    ['PT', 'UBND huyện Phong Thổ', 'LC', []],
    ['TD-1', 'UBND xã Sơn Bình', 'TD', ['CUM1']],
    ['TD-2', 'UBND xã Bình Lư', 'TD', []],
    ['PT-1', 'UBND xã Ma Ly Pho', 'PT', ['CUM1']],
  ];
  for (const [code, name, parentCode, blockCodes] of units) {
    await upsertUnit(db, code, { name, parentCode, blockCodes });
    await upsertOfficial(db, `${code}-F`, { name: `Cán bộ ${code}`, unitCode: code, role: 'focal' });
  }
  const campaign = await createCampaign(db, {
    docNumber: '07/KH-UBND',
    title: 'Thi đua <đặc biệt> & chào mừng',
    issuerUnitCode: 'LC',
    startsOn: '2026-06-15',
    endsOn: '2026-10-30',
    unitCodes: ['TD-1', 'TD-2', 'PT-1'],
    tasks: [
      { key: 'QT', title: 'Quán triệt, triển khai', dueOn: '2026-07-15' },
      { key: 'TK', title: 'Tổng kết', dueOn: '2026-10-30' },
    ],
  });
  campaignId = campaign.id;
  await launchCampaign(db, campaignId, render, new Date('2026-07-01T02:00:00Z'));
  const tasks = await db.task.findMany({ where: { campaignId } });
  const task = (key: string) => tasks.find((t) => t.key === key)?.id ?? '';
  const report = async (
    unitCode: string,
    key: string,
    status: 'done' | 'in_progress',
    note: string | null,
  ) => {
    const official = await db.official.findUniqueOrThrow({ where: { code: `${unitCode}-F` } });
    await db.$transaction((tx) =>
      recordStatus(tx, {
        officialId: official.id,
        unitId: official.unitId,
        taskId: task(key),
        status,
        percent: status === 'done' ? 100 : 40,
        note,
        sourceText: null,
        channel: 'telegram',
        now: new Date('2026-07-10T02:30:00Z'),
      }),
    );
  };
  await report('TD-1', 'QT', 'done', 'Đã tổ chức hội nghị');
  await report('TD-2', 'TK', 'in_progress', null);
  const empty = await createCampaign(db, {
    docNumber: '08/KH-UBND',
    title: 'Chưa có báo cáo',
    issuerUnitCode: 'LC',
    startsOn: '2026-06-15',
    endsOn: '2026-10-30',
    unitCodes: ['TD-1'],
    tasks: [{ key: 'A', title: 'Việc A', dueOn: '2026-07-15' }],
  });
  emptyCampaignId = empty.id;
});

afterAll(async () => {
  await testDb?.close();
});

describe('the roll-up per child unit and by block', () => {
  it('breaks the whole campaign down by the issuer’s children', async () => {
    const summary = await campaignSummary(db, campaignId, { now: AFTER_DUE, timeZone: TZ });
    expect(summary.children).toEqual([
      expect.objectContaining({ code: 'PT', units: 1, done: 0, noReport: 2, overdue: 1, lateUnits: 1 }),
      expect.objectContaining({ code: 'TD', units: 2, done: 1, inProgress: 1, noReport: 2, overdue: 1 }),
    ]);
    const district = await campaignSummary(db, campaignId, { unitCode: 'TD', now: AFTER_DUE, timeZone: TZ });
    expect(district.children.map((child) => child.code)).toEqual(['TD-2', 'TD-1']);
  });

  it('limits to an emulation block', async () => {
    const block = await campaignSummary(db, campaignId, { block: 'CUM1', now: AFTER_DUE, timeZone: TZ });
    expect(block.units.total).toBe(2);
    expect(block.lateUnits.map((unit) => unit.code)).toEqual(['PT-1']);
  });
});

describe('the workbook', () => {
  it('reads back with the summary, every unit × task, the late items, Vietnamese headers', async () => {
    const file = await summaryWorkbook(
      { db, render, timeZone: TZ },
      { campaignId, locale: 'vi', at: AFTER_DUE.toISOString() },
    );
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(file.bytes as unknown as ArrayBuffer);
    expect(workbook.worksheets.map((sheet) => sheet.name)).toEqual([
      'Tổng hợp',
      'Chi tiết',
      'Chậm tiến độ',
      'Điển hình',
    ]);
    const summary = workbook.getWorksheet('Tổng hợp');
    const text = (summary?.getColumn(1).values ?? []).map(String).join('\n');
    expect(text).toContain('TỔNG HỢP 07/KH-UBND');
    expect(text).toContain('Thi đua <đặc biệt> & chào mừng');
    expect(text).toContain('Thời gian thực hiện: 15/06/2026 – 30/10/2026');
    const detail = workbook.getWorksheet('Chi tiết');
    expect(detail?.getRow(1).values).toEqual([
      undefined,
      'Mã đơn vị',
      'Đơn vị',
      'Mã nhiệm vụ',
      'Nhiệm vụ',
      'Hạn',
      'Trạng thái',
      'Tỷ lệ (%)',
      'Ghi chú',
      'Báo cáo lúc',
      'Người báo cáo',
    ]);
    expect(detail?.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(detail?.autoFilter).toBeTruthy();
    const rows = (detail?.getSheetValues() ?? []).slice(2).map((row) => (row as unknown[]).slice(1));
    expect(rows).toContainEqual([
      'TD-1',
      'UBND xã Sơn Bình',
      'QT',
      'Quán triệt, triển khai',
      '15/07/2026',
      'Hoàn thành',
      100,
      'Đã tổ chức hội nghị',
      '10/07/2026 09:30',
      'Cán bộ TD-1 (TD-1-F)',
    ]);
    expect(rows).toHaveLength(2);
    expect(detail?.getColumn(4).width).toBeGreaterThanOrEqual('Quán triệt, triển khai'.length);
    const late = workbook.getWorksheet('Chậm tiến độ');
    const lateRows = (late?.getSheetValues() ?? []).slice(2).map((row) => (row as unknown[])[1]);
    expect(lateRows.sort()).toEqual(['PT-1', 'TD-2']);
  });

  it('opens and says so for a campaign with no reports', async () => {
    const file = await summaryWorkbook(
      { db, render, timeZone: TZ },
      { campaignId: emptyCampaignId, locale: 'vi', at: AFTER_DUE.toISOString() },
    );
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(file.bytes as unknown as ArrayBuffer);
    expect(workbook.getWorksheet('Chi tiết')?.getRow(2).getCell(1).value).toBe('Chưa có báo cáo nào.');
  });
});

describe('the chart picture', () => {
  it('is a PNG of phone width that decodes to a non-trivial image', async () => {
    const file = await summaryChartPng(
      { db, render, timeZone: TZ },
      { campaignId, locale: 'vi', at: AFTER_DUE.toISOString() },
    );
    const png = file.bytes;
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.toString('latin1', 12, 16)).toBe('IHDR');
    expect(png.readUInt32BE(16)).toBe(1080);
    expect(png.readUInt32BE(20)).toBeGreaterThanOrEqual(480);
    // Text, bars and legend: far more than a blank picture compresses to.
    expect(png.length).toBeGreaterThan(20_000);
    expect(png.toString('latin1', png.length - 8, png.length - 4)).toBe('IEND');
  });
});
