import { describe, expect, it } from 'vitest';
import {
  detectSheetKind,
  parseRole,
  planImport,
  sheetKindByName,
  type Cell,
  type ExistingUnit,
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
