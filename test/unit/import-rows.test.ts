import { describe, expect, it } from 'vitest';
import {
  detectSheetKind,
  mapColumns,
  parseRole,
  planImport,
  readOfficialRows,
  readUnitRows,
  sheetKindByName,
  type Cell,
  type ExistingOfficial,
  type ExistingUnit,
  type OfficialRow,
  type RawTable,
  type SheetKind,
  type UnitRow,
} from '../../src/domain/import-rows.ts';
import { unitPath } from '../../src/domain/unit-tree.ts';
import { decodeText } from '../../src/services/import.ts';
import { windows1258 } from '../support/spreadsheets.ts';

const text = (value: string): Cell => ({ kind: 'text', value });
const unit = (row: number, code: string, parentCode: string | null): UnitRow => ({
  row,
  code,
  name: code,
  parentCode,
  blockCodes: [],
});
let counter = 0;
const newId = () => `id-${++counter}`;
const plan = (units: UnitRow[], existing: ExistingUnit[] = []) =>
  planImport(
    { units, officials: [], unitSheet: 'Đơn vị', officialSheet: 'Cán bộ' },
    { units: existing, officials: [] },
    newId,
  );

describe('import rows', () => {
  it('reads roles in English and Vietnamese, with or without diacritics', () => {
    expect(parseRole('member')).toBe('member');
    expect(parseRole('Thành viên')).toBe('member');
    expect(parseRole('cán bộ')).toBe('member');
    expect(parseRole('ĐẦU MỐI')).toBe('focal');
    expect(parseRole('dau moi')).toBe('focal');
    expect(parseRole(' Lãnh  đạo ')).toBe('leader');
    expect(parseRole('quản trị')).toBe('admin');
    expect(parseRole('admin')).toBe('admin');
    expect(parseRole('trưởng phòng')).toBeUndefined();
  });

  it('tells the sheets apart by name and by headers', () => {
    expect(sheetKindByName('Đơn vị')).toBe('units');
    expect(sheetKindByName('CAN BO')).toBe('officials');
    expect(sheetKindByName('Sheet1')).toBeUndefined();
    expect(detectSheetKind([text('Mã cán bộ'), text('Họ tên'), text('mã đơn vị')])).toBe('officials');
    expect(detectSheetKind([text('MÃ ĐƠN VỊ *'), text('Tên đơn vị')])).toBe('units');
    expect(detectSheetKind([text('mã đơn vị')])).toBeUndefined();
  });

  it('orders new units parents first and builds their paths like unitPath', () => {
    const result = plan([unit(2, 'C', 'B'), unit(3, 'B', 'A'), unit(4, 'A', null)]);
    expect(result.errors).toEqual([]);
    const created = result.plan?.createUnits ?? [];
    expect(created.map((u) => u.code)).toEqual(['A', 'B', 'C']);
    const [a, b, c] = created;
    expect(a?.path).toBe(unitPath(null, a?.id ?? ''));
    expect(b?.path).toBe(unitPath(a?.path ?? '', b?.id ?? ''));
    expect(c?.path).toBe(unitPath(b?.path ?? '', c?.id ?? ''));
  });

  it('finds cycles in the file, with the database, and self-parents', () => {
    const existing: ExistingUnit[] = [
      { id: 'r', code: 'R', name: 'R', parentId: null, path: '/r/', blockCodes: [] },
      { id: 'k', code: 'K', name: 'K', parentId: 'r', path: '/r/k/', blockCodes: [] },
    ];
    const result = plan(
      [unit(2, 'X', 'Y'), unit(3, 'Y', 'X'), unit(4, 'R', 'K'), unit(5, 'S', 'S')],
      existing,
    );
    expect(result.plan).toBeUndefined();
    expect(result.errors.map((e) => `${e.row}:${e.code}`)).toEqual([
      '2:cycle',
      '3:cycle',
      '4:cycle',
      '5:cycle',
    ]);
  });

  it('moves the stored subtree of a moved unit', () => {
    const existing: ExistingUnit[] = [
      { id: 'a', code: 'A', name: 'A', parentId: null, path: '/a/', blockCodes: [] },
      { id: 'b', code: 'B', name: 'B', parentId: null, path: '/b/', blockCodes: [] },
      { id: 'c', code: 'C', name: 'C', parentId: 'b', path: '/b/c/', blockCodes: [] },
    ];
    const result = plan([unit(2, 'B', 'A')], existing);
    expect(result.plan?.updateUnits.map((u) => [u.code, u.path])).toEqual([
      ['B', '/a/b/'],
      ['C', '/a/b/c/'],
    ]);
    expect(result.plan?.counts.units).toEqual({ created: 0, updated: 1, unchanged: 0 });
  });

  it('decodes UTF-8 with a BOM and Windows-1258, composing tone marks', () => {
    expect(decodeText(Buffer.from('\ufeffmã cán bộ', 'utf8'))).toBe('mã cán bộ');
    expect(decodeText(windows1258('Nguyễn Thị Hồng Điệp'))).toBe('Nguyễn Thị Hồng Điệp');
  });
});

describe('optional columns', () => {
  const table = (kind: SheetKind, header: string[], ...rows: string[][]): RawTable => ({
    kind,
    sheet: 'CSV',
    headerRow: 1,
    header: header.map(text),
    rows: rows.map((cells, index) => ({ row: index + 2, cells: cells.map(text) })),
  });
  const readUnits = (input: RawTable) => {
    const { columns, missing } = mapColumns(input.kind, input.header);
    return { missing, ...readUnitRows(input, columns) };
  };
  const readOfficials = (input: RawTable) => {
    const { columns, missing } = mapColumns(input.kind, input.header);
    return { missing, ...readOfficialRows(input, columns) };
  };

  it('a sheet may leave out "khối thi đua" and "điện thoại", in any case and order', () => {
    const units = readUnits(
      table('units', ['Tên đơn vị', 'MÃ ĐƠN VỊ', 'mã đơn vị cấp trên'], ['Xã A', 'A', '']),
    );
    expect(units).toEqual({
      missing: [],
      errors: [],
      rows: [{ row: 2, code: 'A', name: 'Xã A', parentCode: null, blockCodes: undefined }],
    });
    const officials = readOfficials(
      table('officials', ['mã cán bộ', 'họ tên', 'mã đơn vị', 'vai trò'], ['C', 'An', 'A', 'đầu mối']),
    );
    expect(officials).toEqual({
      missing: [],
      errors: [],
      rows: [{ row: 2, code: 'C', name: 'An', unitCode: 'A', role: 'focal', phone: undefined }],
    });
  });

  it('an empty cell in a present optional column reads as none, not as absent', () => {
    const units = readUnits(
      table(
        'units',
        ['mã đơn vị', 'tên đơn vị', 'mã đơn vị cấp trên', 'khối thi đua'],
        ['A', 'Xã A', '', ''],
      ),
    );
    expect(units.rows[0]?.blockCodes).toEqual([]);
    const officials = readOfficials(
      table(
        'officials',
        ['mã cán bộ', 'họ tên', 'mã đơn vị', 'vai trò', 'điện thoại'],
        ['C', 'An', 'A', 'focal', ''],
      ),
    );
    expect(officials.rows[0]?.phone).toBeNull();
  });

  it.each([
    ['units', ['mã đơn vị', 'khối thi đua'], ['tên đơn vị', 'mã đơn vị cấp trên']],
    ['units', ['tên đơn vị', 'mã đơn vị cấp trên'], ['mã đơn vị']],
    ['officials', ['mã cán bộ', 'họ tên', 'mã đơn vị', 'điện thoại'], ['vai trò']],
    ['officials', ['mã cán bộ', 'vai trò'], ['họ tên', 'mã đơn vị']],
  ] as const)('the %s sheet with %j misses the required %j', (kind, header, missing) => {
    expect(mapColumns(kind, header.map(text)).missing).toEqual(missing);
  });

  it('without the column the stored blocks and phone are kept; with it, an empty cell clears them', () => {
    const existingUnits: ExistingUnit[] = [
      { id: 'a', code: 'A', name: 'Xã A', parentId: null, path: '/a/', blockCodes: ['KHOI-XA'] },
    ];
    const existingOfficials: ExistingOfficial[] = [
      { id: 'c', code: 'C', name: 'An', unitId: 'a', role: 'focal', phone: '0912345678' },
    ];
    const official = (phone: OfficialRow['phone']): OfficialRow => ({
      row: 2,
      code: 'C',
      name: 'An',
      unitCode: 'A',
      role: 'focal',
      phone,
    });
    const planWith = (blockCodes: UnitRow['blockCodes'], phone: OfficialRow['phone'], code = 'A') =>
      planImport(
        {
          units: [{ row: 2, code, name: 'Xã A', parentCode: null, blockCodes }],
          officials: [
            { ...official(phone), unitCode: code },
            { ...official(phone), row: 3, code: 'NEW', unitCode: code },
          ],
          unitSheet: 'Đơn vị',
          officialSheet: 'Cán bộ',
        },
        { units: existingUnits, officials: existingOfficials },
        newId,
      ).plan;

    const absent = planWith(undefined, undefined);
    expect(absent?.counts).toEqual({
      units: { created: 0, updated: 0, unchanged: 1 },
      officials: { created: 1, updated: 0, unchanged: 1 },
    });
    expect(absent?.createOfficials[0]?.phone).toBeNull();
    const newUnit = planWith(undefined, undefined, 'B');
    expect(newUnit?.createUnits[0]?.blockCodes).toEqual([]);

    const cleared = planWith([], null);
    expect(cleared?.updateUnits.map((u) => u.blockCodes)).toEqual([[]]);
    expect(cleared?.updateOfficials.map((o) => o.phone)).toEqual([null]);
  });
});
