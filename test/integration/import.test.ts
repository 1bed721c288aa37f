import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.ts';
import { DomainError } from '../../src/services/errors.ts';
import { importSpreadsheet, readSpreadsheet } from '../../src/services/import.ts';
import { upsertOfficial } from '../../src/services/officials.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { withTestDb } from '../support/db.ts';
import { OFFICIAL_HEADER, UNIT_HEADER, windows1258, workbook } from '../support/spreadsheets.ts';

let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
});

afterAll(async () => {
  await testDb?.close();
});

async function importError(file: Buffer): Promise<DomainError> {
  try {
    await importSpreadsheet(db, file);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected the import to be refused');
}

interface ListedError {
  sheet: string;
  row: number;
  column?: string;
  code: string;
  message: string;
}
const listed = (error: DomainError) => (error.details as { errors: ListedError[] }).errors;

async function snapshot() {
  const [units, officials] = await Promise.all([
    db.unit.findMany({ orderBy: { code: 'asc' }, omit: { createdAt: true } }),
    db.official.findMany({ orderBy: { code: 'asc' }, omit: { createdAt: true } }),
  ]);
  return { units, officials };
}

/** Every unit's path is its parent's path plus its own id, as upsertUnit builds them. */
async function expectConsistentTree() {
  const units = await db.unit.findMany();
  const byId = new Map(units.map((unit) => [unit.id, unit]));
  for (const unit of units) {
    const parent = unit.parentId ? byId.get(unit.parentId) : undefined;
    expect(unit.path).toBe(`${parent?.path ?? '/'}${unit.id}/`);
  }
}

describe('importing a workbook', () => {
  const file = () =>
    workbook({
      // Children before parents, on purpose.
      'Đơn vị': [
        UNIT_HEADER,
        ['IM-BL-T1', 'Thôn 1 Bình Lư', 'IM-BL', null],
        ['IM-BL', 'UBND xã Bình Lư', 'IM-TD', 'KHOI-XA, KHOI-MN'],
        ['IM-TD', 'UBND huyện Tam Đường', null, null],
        ['IM-BG', 'UBND xã Bản Giang', 'IM-TD', 'KHOI-XA'],
      ],
      'Cán bộ': [
        OFFICIAL_HEADER,
        ['IM-CB1', 'Tẩn Văn Chiến', 'IM-BL', 'đầu mối', '0912 345 678'],
        ['IM-CB2', 'Lý Thị Thu', 'IM-BG', 'Lãnh đạo', 912345679],
        ['IM-CB3', 'Lò Thị Hoa', 'IM-TD', 'quản trị', null],
        ['IM-CB4', 'Đỗ Thị Lan', 'IM-BG', 'thành viên', null],
        ['IM-CB5', 'Chảo Văn Minh', 'IM-BG', 'focal', '+84 912 345 680'],
      ],
    });

  it('creates units (parents after children) and officials, with the paths upsertUnit builds', async () => {
    const result = await importSpreadsheet(db, await file());
    expect(result).toEqual({
      dryRun: false,
      units: { created: 4, updated: 0, unchanged: 0 },
      officials: { created: 5, updated: 0, unchanged: 0 },
    });
    await expectConsistentTree();
    const bl = await db.unit.findUniqueOrThrow({ where: { code: 'IM-BL' }, include: { parent: true } });
    expect(bl.parent?.code).toBe('IM-TD');
    expect(bl.blockCodes).toEqual(['KHOI-XA', 'KHOI-MN']);
    const cb1 = await db.official.findUniqueOrThrow({ where: { code: 'IM-CB1' } });
    expect(cb1).toMatchObject({ name: 'Tẩn Văn Chiến', role: 'focal', phone: '0912 345 678' });
    // A phone typed as a number lost its leading 0 in Excel; it is given back.
    expect((await db.official.findUniqueOrThrow({ where: { code: 'IM-CB2' } })).phone).toBe('0912345679');
    expect((await db.official.findUniqueOrThrow({ where: { code: 'IM-CB3' } })).role).toBe('admin');
    expect((await db.official.findUniqueOrThrow({ where: { code: 'IM-CB4' } })).role).toBe('member');
  });

  it('changes nothing when the same file is imported again', async () => {
    const before = await snapshot();
    const result = await importSpreadsheet(db, await file());
    expect(result.units).toEqual({ created: 0, updated: 0, unchanged: 4 });
    expect(result.officials).toEqual({ created: 0, updated: 0, unchanged: 5 });
    expect(await snapshot()).toEqual(before);
  });

  it('updates what changed, moving a unit with its subtree (rows outside the file included)', async () => {
    const result = await importSpreadsheet(
      db,
      await workbook({
        'Đơn vị': [
          UNIT_HEADER,
          ['IM-BL', 'UBND xã Bình Lư (mới)', 'IM-BG', 'KHOI-XA, KHOI-MN'],
          ['IM-BG', 'UBND xã Bản Giang', 'IM-TD', 'KHOI-XA'],
        ],
        'Cán bộ': [OFFICIAL_HEADER, ['IM-CB4', 'Đỗ Thị Lan', 'IM-BL', 'đầu mối', null]],
      }),
    );
    expect(result.units).toEqual({ created: 0, updated: 1, unchanged: 1 });
    expect(result.officials).toEqual({ created: 0, updated: 1, unchanged: 0 });
    await expectConsistentTree();
    const t1 = await db.unit.findUniqueOrThrow({ where: { code: 'IM-BL-T1' } });
    const bg = await db.unit.findUniqueOrThrow({ where: { code: 'IM-BG' } });
    expect(t1.path.startsWith(bg.path)).toBe(true);
    expect(await db.official.findUniqueOrThrow({ where: { code: 'IM-CB4' } })).toMatchObject({
      role: 'focal',
    });
  });

  it('agrees with upsertUnit on units created one by one', async () => {
    await upsertUnit(db, 'IM-X', { name: 'X' });
    await upsertOfficial(db, 'IM-XCB', { name: 'Người X', unitCode: 'IM-X', role: 'leader' });
    const result = await importSpreadsheet(
      db,
      await workbook({
        'Đơn vị': [UNIT_HEADER, ['IM-X', 'X', null, null], ['IM-X1', 'X1', 'IM-X', null]],
        'Cán bộ': [OFFICIAL_HEADER, ['IM-XCB', 'Người X', 'IM-X', 'leader', null]],
      }),
    );
    expect(result.units).toEqual({ created: 1, updated: 0, unchanged: 1 });
    expect(result.officials.unchanged).toBe(1);
    await expectConsistentTree();
  });

  it('with dryRun counts the changes and writes nothing', async () => {
    const before = await snapshot();
    const result = await importSpreadsheet(
      db,
      await workbook({ 'Đơn vị': [UNIT_HEADER, ['IM-DRY', 'Dry', 'IM-TD', null]] }),
      { dryRun: true },
    );
    expect(result).toMatchObject({ dryRun: true, units: { created: 1 } });
    expect(await snapshot()).toEqual(before);
  });
});

describe('refusing a file', () => {
  it('lists every bad row with its number and reason, and applies nothing', async () => {
    await upsertUnit(db, 'RF-ROOT', { name: 'Root' });
    await upsertUnit(db, 'RF-CHILD', { name: 'Child', parentCode: 'RF-ROOT' });
    const before = await snapshot();
    const error = await importError(
      await workbook({
        'Đơn vị': [
          UNIT_HEADER,
          ['RF-OK', 'Một đơn vị đúng', null, null], // row 2: fine, but nothing may be applied
          ['RF-A', 'A', 'RF-NOWHERE', null], // 3: unknown parent
          ['RF-OK', 'Trùng mã', null, null], // 4: duplicate
          ['RF-C1', 'C1', 'RF-C2', null], // 5: cycle in the file
          ['RF-C2', 'C2', 'RF-C1', null], // 6: cycle in the file
          ['RF-ROOT', 'Root', 'RF-CHILD', null], // 7: cycle with the database
          [{ formula: 'CONCAT("A","B")', result: 'AB' }, 'Công thức', null, null], // 8: formula
          ['RF-D', new Date('2026-01-02T00:00:00Z'), null, null], // 9: a date where text is expected
          ['RF E', 'Mã có dấu cách', null, null], // 10: bad code
          [null, 'Không mã', null, null], // 11: missing code
        ],
        'Cán bộ': [
          OFFICIAL_HEADER,
          ['RF-CB1', 'Người 1', 'RF-OK', 'trưởng phòng', null], // 2: bad role
          ['RF-CB2', 'Người 2', 'RF-OK', 'member', 'gọi tôi'], // 3: bad phone
          ['RF-CB3', 'Người 3', 'RF-NOWHERE', 'member', null], // 4: unknown unit
          ['RF-CB4', 'Người 4', 'RF-OK', 'member', null], // 5: fine
          ['RF-CB4', 'Người 4 lần 2', 'RF-OK', 'member', null], // 6: duplicate
        ],
      }),
    );
    expect(error.code).toBe('import_invalid');
    const errors = listed(error).map((e) => `${e.sheet}:${e.row}:${e.code}`);
    expect(errors).toEqual([
      'Đơn vị:3:unknown_parent',
      'Đơn vị:4:duplicate_code',
      'Đơn vị:5:cycle',
      'Đơn vị:6:cycle',
      'Đơn vị:7:cycle',
      'Đơn vị:8:formula',
      'Đơn vị:9:date_not_text',
      'Đơn vị:10:bad_code',
      'Đơn vị:11:required',
      'Cán bộ:2:bad_role',
      'Cán bộ:3:bad_phone',
      'Cán bộ:4:unknown_unit',
      'Cán bộ:6:duplicate_code',
    ]);
    expect(listed(error)[0]?.message).toContain('RF-NOWHERE');
    expect(error.details).toMatchObject({ errorCount: 13 });
    expect(await snapshot()).toEqual(before);
  });

  it('names the missing required columns, in a workbook and in a CSV file, and applies nothing', async () => {
    const before = await snapshot();
    const error = await importError(
      await workbook({
        'Đơn vị': [UNIT_HEADER, ['MC-U', 'Đơn vị mới', null, null]],
        'Cán bộ': [
          ['mã cán bộ', 'họ tên', 'mã đơn vị'],
          ['X', 'Y', 'MC-U'],
        ],
      }),
    );
    expect(error.code).toBe('missing_columns');
    expect(error.message).toContain('Cán bộ: missing required column vai trò');
    expect(error.details).toMatchObject({ sheet: 'Cán bộ', row: 1, missing: ['vai trò'] });
    const csv = await importError(Buffer.from('mã đơn vị;khối thi đua;Tên đơn vị\r\nMC-U;;Đơn vị mới\r\n'));
    expect(csv.code).toBe('missing_columns');
    expect(csv.message).toContain('CSV: missing required column mã đơn vị cấp trên');
    expect(csv.details).toMatchObject({ sheet: 'CSV', missing: ['mã đơn vị cấp trên'] });
    expect(await snapshot()).toEqual(before);
  });

  it('refuses empty files, non-spreadsheets, old .xls and workbooks without our sheets', async () => {
    expect((await importError(Buffer.alloc(0))).code).toBe('empty_file');
    expect((await importError(Buffer.from('\ufeff\r\n  \r\n'))).code).toBe('empty_file');
    expect((await importError(Buffer.from(`${UNIT_HEADER.join(',')}\r\n`))).code).toBe('empty_file');
    const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 0, 0])]);
    expect((await importError(pdf)).code).toBe('not_a_spreadsheet');
    expect((await importError(Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4]))).code).toBe(
      'not_a_spreadsheet',
    );
    expect(
      (await importError(Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]))).code,
    ).toBe('unsupported_format');
    expect(
      (
        await importError(
          await workbook({
            Sheet1: [
              ['a', 'b'],
              [1, 2],
            ],
          }),
        )
      ).code,
    ).toBe('missing_columns');
    expect((await importError(Buffer.from('tên,tuổi\nAn,3\n'))).code).toBe('missing_columns');
  });
});

describe('importing CSV', () => {
  it('reads officials from UTF-8 with a BOM, semicolon-separated as Excel writes it in Vietnam', async () => {
    await upsertUnit(db, 'CSV-U', { name: 'Đơn vị CSV' });
    const text = `\ufeff${OFFICIAL_HEADER.join(';')}\r\nCSV-CB1;Nguyễn Thị Hồng;CSV-U;Đầu mối;0987654321\r\nCSV-CB2;"Trần, Văn Bình";CSV-U;lanh dao;\r\n`;
    const result = await importSpreadsheet(db, Buffer.from(text, 'utf8'));
    expect(result.officials).toEqual({ created: 2, updated: 0, unchanged: 0 });
    expect(result.units).toEqual({ created: 0, updated: 0, unchanged: 0 });
    expect(await db.official.findUniqueOrThrow({ where: { code: 'CSV-CB2' } })).toMatchObject({
      name: 'Trần, Văn Bình',
      role: 'leader',
      phone: null,
    });
  });

  it('reads units from a Windows-1258 file and composes its tone marks', async () => {
    const text = `${UNIT_HEADER.join(',')}\r\nCSV-XA,UBND xã Nậm Tăm,CSV-HUYEN,\r\nCSV-HUYEN,UBND huyện Sìn Hồ,,KHỐI-HUYỆN\r\n`;
    const bytes = windows1258(text);
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toThrow();
    const result = await importSpreadsheet(db, bytes);
    expect(result.units).toEqual({ created: 2, updated: 0, unchanged: 0 });
    const unit = await db.unit.findUniqueOrThrow({ where: { code: 'CSV-XA' }, include: { parent: true } });
    expect(unit.name).toBe('UBND xã Nậm Tăm'.normalize('NFC'));
    expect(unit.parent?.name).toBe('UBND huyện Sìn Hồ');
    expect((await db.unit.findUniqueOrThrow({ where: { code: 'CSV-HUYEN' } })).blockCodes).toEqual([
      'KHỐI-HUYỆN',
    ]);
    // The same file again changes nothing.
    expect((await importSpreadsheet(db, bytes)).units).toEqual({ created: 0, updated: 0, unchanged: 2 });
  });

  it('refuses formulas in CSV cells', async () => {
    const error = await importError(Buffer.from(`${UNIT_HEADER.join(',')}\n=HYPERLINK("x"),Tên,,\n`, 'utf8'));
    expect(listed(error).map((e) => `${e.sheet}:${e.row}:${e.code}`)).toEqual(['CSV:2:formula']);
  });

  it('takes files without the optional columns: new rows get none, stored blocks and phones are kept', async () => {
    await upsertUnit(db, 'OPT-HUYEN', { name: 'UBND huyện Phong Thổ', blockCodes: ['KHOI-HUYEN'] });
    await upsertOfficial(db, 'OPT-CB1', {
      name: 'Vàng A Sử',
      unitCode: 'OPT-HUYEN',
      role: 'member',
      phone: '0912000111',
    });
    const units = `mã đơn vị,tên đơn vị,mã đơn vị cấp trên\r\nOPT-HUYEN,UBND huyện Phong Thổ,\r\nOPT-XA,UBND xã Mường So,OPT-HUYEN\r\n`;
    expect((await importSpreadsheet(db, Buffer.from(units))).units).toEqual({
      created: 1,
      updated: 0,
      unchanged: 1,
    });
    const officials = `Vai trò;Mã cán bộ;Họ tên;Mã đơn vị\r\nđầu mối;OPT-CB1;Vàng A Sử;OPT-HUYEN\r\nlãnh đạo;OPT-CB2;Lò Văn Hải;OPT-XA\r\n`;
    expect((await importSpreadsheet(db, Buffer.from(officials))).officials).toEqual({
      created: 1,
      updated: 1,
      unchanged: 0,
    });
    const stored = await db.unit.findMany({
      where: { code: { startsWith: 'OPT-' } },
      orderBy: { code: 'asc' },
    });
    expect(stored.map((unit) => [unit.code, unit.blockCodes])).toEqual([
      ['OPT-HUYEN', ['KHOI-HUYEN']],
      ['OPT-XA', []],
    ]);
    expect(await db.official.findUniqueOrThrow({ where: { code: 'OPT-CB1' } })).toMatchObject({
      role: 'focal',
      phone: '0912000111',
    });
    expect((await db.official.findUniqueOrThrow({ where: { code: 'OPT-CB2' } })).phone).toBeNull();

    // The same in a workbook, one sheet with each optional column, one without.
    const result = await importSpreadsheet(
      db,
      await workbook({
        'Đơn vị': [UNIT_HEADER.slice(0, 3), ['OPT-XA', 'UBND xã Mường So', 'OPT-HUYEN']],
        'Cán bộ': [OFFICIAL_HEADER, ['OPT-CB1', 'Vàng A Sử', 'OPT-HUYEN', 'đầu mối', null]],
      }),
    );
    expect(result.units).toEqual({ created: 0, updated: 0, unchanged: 1 });
    // With the column there, an empty cell is a phone taken away.
    expect(result.officials).toEqual({ created: 0, updated: 1, unchanged: 0 });
    expect((await db.official.findUniqueOrThrow({ where: { code: 'OPT-CB1' } })).phone).toBeNull();
  });

  it('reads a title line above the header row in a workbook', async () => {
    const tables = await readSpreadsheet(
      await workbook({ 'Don vi': [['DANH SÁCH ĐƠN VỊ'], UNIT_HEADER, ['T-1', 'Một', null, null]] }),
    );
    expect(tables).toMatchObject([{ kind: 'units', headerRow: 2, rows: [{ row: 3 }] }]);
  });
});

describe('importing at scale', () => {
  it('imports 200 units and 5,000 officials in bulk, then re-imports them unchanged', async () => {
    const units: unknown[][] = [UNIT_HEADER, ['BIG-ROOT', 'Tỉnh', null, null]];
    for (let i = 0; i < 200; i++) units.push([`BIG-U${i}`, `Xã ${i}`, 'BIG-ROOT', null]);
    const officials: unknown[][] = [OFFICIAL_HEADER];
    for (let i = 0; i < 5000; i++)
      officials.push([`BIG-CB${i}`, `Cán bộ ${i}`, `BIG-U${i % 200}`, 'thành viên', null]);
    const file = await workbook({
      'Đơn vị': units as never,
      'Cán bộ': officials as never,
    });
    const first = await importSpreadsheet(db, file);
    expect(first.units.created).toBe(201);
    expect(first.officials.created).toBe(5000);
    const second = await importSpreadsheet(db, file);
    expect(second.officials).toEqual({ created: 0, updated: 0, unchanged: 5000 });
    await expectConsistentTree();
  });
});
