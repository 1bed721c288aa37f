import { describe, expect, it } from 'vitest';
import type { Cell } from '../../src/domain/import-rows.ts';
import {
  parsePlanWorkbook,
  readPlanDate,
  type PlanError,
  type PlanSheet,
} from '../../src/domain/plan-workbook.ts';

/** The plan workbook's parser as tables: cells in, a campaign or every problem (sheet, row, column) out. */

type Value = string | number | Date | null | { formula: string } | { error: string };
const cell = (value: Value): Cell =>
  value === null || value === ''
    ? { kind: 'empty' }
    : typeof value === 'string'
      ? { kind: 'text', value }
      : typeof value === 'number'
        ? { kind: 'number', value }
        : value instanceof Date
          ? { kind: 'date', value }
          : 'formula' in value
            ? { kind: 'formula', formula: value.formula }
            : { kind: 'error', value: value.error };
const sheet = (name: string, rows: Value[][]): PlanSheet => ({
  name,
  rows: rows.map((cells, index) => ({ row: index + 1, cells: cells.map(cell) })),
});
const day = (iso: string) => new Date(`${iso}T00:00:00Z`);

const PLAN: Value[][] = [
  ['Trường', 'Giá trị', 'Ghi chú'],
  ['Số kế hoạch *', '01/KH-UBND', 'Bắt buộc'],
  ['Tên phong trào *', 'Thi đua đặc biệt chào mừng kỷ niệm các sự kiện lịch sử của tỉnh'],
  ['Chủ đề', 'Đổi mới, sáng tạo'],
  ['Loại phong trào', 'Đột xuất'],
  ['Mã đơn vị ban hành *', 'TAMDUONG'],
  ['Ngày bắt đầu *', '15/6/2023'],
  ['Ngày kết thúc *', day('2023-10-30')],
  ['Kỳ báo cáo', 'hằng quý'],
  ['Hạn báo cáo (số ngày sau ngày chốt)', 5],
];
const TASKS: Value[][] = [
  ['Mã nhiệm vụ', 'Nội dung nhiệm vụ', 'Hạn hoàn thành'],
  ['QUAN-TRIET', 'Quán triệt, triển khai kế hoạch', '30/06/2023'],
  ['CONG-TRINH', 'Xây dựng 01 công trình chào mừng', day('2023-09-30')],
  [null, null, null],
  ['TONG-KET', 'Tổng kết phong trào', '2023-10-30'],
];
const UNITS: Value[][] = [
  ['Mã đơn vị', 'Tên đơn vị'],
  ['TD-BINHLU', 'UBND xã Bình Lư'],
  ['TD-BANGIANG'],
  ['TD-BINHLU', 'nhắc lại'],
];

/** The three sheets, each changed by `edit` (a copy of the rows above). */
function workbook(
  edit: {
    plan?: (rows: Value[][]) => void;
    tasks?: (rows: Value[][]) => void;
    units?: (rows: Value[][]) => void;
  } = {},
) {
  const copy = (rows: Value[][]) => rows.map((row) => [...row]);
  const [plan, tasks, units] = [copy(PLAN), copy(TASKS), copy(UNITS)];
  edit.plan?.(plan);
  edit.tasks?.(tasks);
  edit.units?.(units);
  return [sheet('Kế hoạch', plan), sheet('Nhiệm vụ', tasks), sheet('Đơn vị', units)];
}

const problems = (sheets: PlanSheet[]) => {
  const reading = parsePlanWorkbook(sheets);
  return reading.ok
    ? []
    : reading.errors.map(({ sheet: name, row, column, code }) => ({ sheet: name, row, column, code }));
};

describe('parsePlanWorkbook', () => {
  it('reads a filled template into the campaign, tasks in their order, each unit once', () => {
    const reading = parsePlanWorkbook(workbook());
    expect(reading).toEqual({
      ok: true,
      campaign: {
        docNumber: '01/KH-UBND',
        title: 'Thi đua đặc biệt chào mừng kỷ niệm các sự kiện lịch sử của tỉnh',
        theme: 'Đổi mới, sáng tạo',
        kind: 'special',
        issuerUnitCode: 'TAMDUONG',
        startsOn: '2023-06-15',
        endsOn: '2023-10-30',
        unitCodes: ['TD-BINHLU', 'TD-BANGIANG'],
        tasks: [
          { key: 'QUAN-TRIET', title: 'Quán triệt, triển khai kế hoạch', dueOn: '2023-06-30' },
          { key: 'CONG-TRINH', title: 'Xây dựng 01 công trình chào mừng', dueOn: '2023-09-30' },
          { key: 'TONG-KET', title: 'Tổng kết phong trào', dueOn: '2023-10-30' },
        ],
        reportSchedule: { cadence: 'quarterly', dueDay: 5 },
      },
      rows: {
        fields: {
          docNumber: 2,
          title: 3,
          theme: 4,
          kind: 5,
          issuerUnitCode: 6,
          startsOn: 7,
          endsOn: 8,
          cadence: 9,
          dueDay: 10,
        },
        tasks: { 'QUAN-TRIET': 2, 'CONG-TRINH': 3, 'TONG-KET': 5 },
        units: { 'TD-BINHLU': 2, 'TD-BANGIANG': 3 },
      },
    });
  });

  it('finds its sheets, labels and headers typed without diacritics or in capitals', () => {
    const sheets = workbook({
      plan: (rows) => {
        rows[1] = ['SO KE HOACH', '01/KH-UBND'];
        rows[4] = ['loai phong trao', 'dot xuat'];
      },
      tasks: (rows) => (rows[0] = ['MA NHIEM VU', 'noi dung nhiem vu', 'Han hoan thanh *']),
    }).map((found, index) => ({ ...found, name: ['KE HOACH', 'nhiem vu', 'Don Vi'][index] ?? '' }));
    expect(parsePlanWorkbook(sheets).ok).toBe(true);
  });

  it.each<[string, Value, string | null]>([
    ['thường xuyên', 'thường xuyên', 'regular'],
    ['chuyên đề', 'Chuyên đề', 'thematic'],
    ['theo chuyên đề', 'theo chuyen de', 'thematic'],
    ['đặc biệt', 'đặc biệt', 'special'],
    ['empty: regular', null, 'regular'],
    ['unknown', 'hằng năm', null],
  ])('reads the kind %s', (_name, value, kind) => {
    const reading = parsePlanWorkbook(workbook({ plan: (rows) => (rows[4] = ['Loại phong trào', value]) }));
    if (kind) expect(reading.ok && reading.campaign.kind).toBe(kind);
    else
      expect(problems(workbook({ plan: (rows) => (rows[4] = ['Loại phong trào', value]) }))).toEqual([
        { sheet: 'Kế hoạch', row: 5, column: 'Loại phong trào', code: 'bad_kind' },
      ]);
  });

  it.each<[Value, unknown]>([
    ['hằng tháng', { cadence: 'monthly', dueDay: 5 }],
    ['Hàng quý', { cadence: 'quarterly', dueDay: 5 }],
    ['6 tháng', { cadence: 'half-yearly', dueDay: 5 }],
    ['nửa năm', { cadence: 'half-yearly', dueDay: 5 }],
    ['hằng năm', { cadence: 'yearly', dueDay: 5 }],
    ['yearly', { cadence: 'yearly', dueDay: 5 }],
  ])('reads the cadence %s', (value, schedule) => {
    const reading = parsePlanWorkbook(workbook({ plan: (rows) => (rows[8] = ['Kỳ báo cáo', value]) }));
    expect(reading.ok && reading.campaign.reportSchedule).toEqual(schedule);
  });

  it('has no report schedule for "không" or an empty cadence', () => {
    for (const value of ['không', null]) {
      const reading = parsePlanWorkbook(
        workbook({ plan: (rows) => rows.splice(8, 2, ['Kỳ báo cáo', value]) }),
      );
      expect(reading.ok && reading.campaign.reportSchedule).toBeNull();
    }
  });

  it.each<[string, (rows: Value[][]) => void, Omit<PlanError, 'sheet' | 'values'>[]]>([
    [
      'a required value left empty',
      (rows) => (rows[2] = ['Tên phong trào *', null]),
      [{ row: 3, column: 'Tên phong trào', code: 'required' }],
    ],
    [
      'a required row missing',
      (rows) => rows.splice(5, 1),
      [{ row: undefined, column: 'Mã đơn vị ban hành', code: 'missing_field' }],
    ],
    [
      'a label nobody knows',
      (rows) => rows.push(['Kinh phí', '10 triệu']),
      [{ row: 11, column: 'A', code: 'unknown_field' }],
    ],
    [
      'a field given twice',
      (rows) => rows.push(['Số kế hoạch', '02/KH']),
      [{ row: 11, column: 'A', code: 'duplicate_field' }],
    ],
    [
      'a date that does not exist',
      (rows) => (rows[6] = ['Ngày bắt đầu', '31/02/2023']),
      [{ row: 7, column: 'Ngày bắt đầu', code: 'bad_date' }],
    ],
    [
      'a number where a date goes',
      (rows) => (rows[6] = ['Ngày bắt đầu', 45000.5]),
      [{ row: 7, column: 'Ngày bắt đầu', code: 'bad_text' }],
    ],
    [
      'a formula',
      (rows) => (rows[1] = ['Số kế hoạch', { formula: 'A1' }]),
      [{ row: 2, column: 'Số kế hoạch', code: 'formula' }],
    ],
    [
      'an issuer code with a space',
      (rows) => (rows[5] = ['Mã đơn vị ban hành', 'TAM DUONG']),
      [{ row: 6, column: 'Mã đơn vị ban hành', code: 'bad_code' }],
    ],
    [
      'an end before the start',
      (rows) => (rows[7] = ['Ngày kết thúc', '01/06/2023']),
      [{ row: 8, column: 'Ngày kết thúc', code: 'ends_before_start' }],
    ],
    [
      'a due day that is no number',
      (rows) => (rows[9] = ['Hạn báo cáo', 'năm']),
      [{ row: 10, column: 'Hạn báo cáo (số ngày sau ngày chốt)', code: 'bad_number' }],
    ],
    [
      'a due day past the next period',
      (rows) => (rows[9] = ['Hạn báo cáo', 100]),
      [{ row: 10, column: 'Hạn báo cáo (số ngày sau ngày chốt)', code: 'due_day_too_large' }],
    ],
    [
      'a due day without a cadence',
      (rows) => (rows[8] = ['Kỳ báo cáo', null]),
      [{ row: 10, column: 'Hạn báo cáo (số ngày sau ngày chốt)', code: 'due_day_without_cadence' }],
    ],
    [
      'a cadence nobody knows',
      (rows) => (rows[8] = ['Kỳ báo cáo', 'hằng tuần']),
      [{ row: 9, column: 'Kỳ báo cáo', code: 'bad_cadence' }],
    ],
  ])('names the row of %s on sheet "Kế hoạch"', (_name, edit, expected) => {
    expect(problems(workbook({ plan: edit }))).toEqual(
      expected.map((error) => ({ sheet: 'Kế hoạch', ...error })),
    );
  });

  it.each<[string, (rows: Value[][]) => void, Omit<PlanError, 'sheet' | 'values'>[]]>([
    [
      'a task without its due date',
      (rows) => (rows[1] = ['QUAN-TRIET', 'Quán triệt', null]),
      [{ row: 2, column: 'Hạn hoàn thành', code: 'required' }],
    ],
    [
      'a task without its code',
      (rows) => (rows[2] = [null, 'Công trình', '30/09/2023']),
      [{ row: 3, column: 'Mã nhiệm vụ', code: 'required' }],
    ],
    [
      'a task code used twice',
      (rows) => rows.push(['QUAN-TRIET', 'Lần nữa', '01/07/2023']),
      [{ row: 6, column: 'Mã nhiệm vụ', code: 'duplicate_task_key' }],
    ],
    [
      'a task due before the campaign starts',
      (rows) => (rows[1] = ['QUAN-TRIET', 'Quán triệt', '01/06/2023']),
      [{ row: 2, column: 'Hạn hoàn thành', code: 'due_outside_campaign' }],
    ],
    [
      'a task due after it ends',
      (rows) => (rows[4] = ['TONG-KET', 'Tổng kết', '31/10/2023']),
      [{ row: 5, column: 'Hạn hoàn thành', code: 'due_outside_campaign' }],
    ],
    [
      'a header row missing',
      (rows) => (rows[0] = ['Mã', 'Việc', 'Hạn']),
      [{ row: undefined, column: undefined, code: 'missing_columns' }],
    ],
  ])('names the row of %s on sheet "Nhiệm vụ"', (_name, edit, expected) => {
    expect(problems(workbook({ tasks: edit }))).toEqual(
      expected.map((error) => ({ sheet: 'Nhiệm vụ', ...error })),
    );
  });

  it.each<[string, (rows: Value[][]) => void, Omit<PlanError, 'sheet' | 'values'>[]]>([
    [
      'a unit code with a space',
      (rows) => (rows[2] = ['TD BANGIANG']),
      [{ row: 3, column: 'Mã đơn vị', code: 'bad_code' }],
    ],
    ['no unit at all', (rows) => rows.splice(1), [{ row: undefined, column: 'Mã đơn vị', code: 'no_units' }]],
  ])('names the row of %s on sheet "Đơn vị"', (_name, edit, expected) => {
    expect(problems(workbook({ units: edit }))).toEqual(
      expected.map((error) => ({ sheet: 'Đơn vị', ...error })),
    );
  });

  it('reports every problem of every sheet at once, and what it names for the organisation to check', () => {
    const reading = parsePlanWorkbook(
      workbook({
        plan: (rows) => (rows[6] = ['Ngày bắt đầu', 'hôm nay']),
        tasks: (rows) => (rows[2] = ['CONG TRINH', 'Công trình', '30/13/2023']),
        units: (rows) => rows.push(['KHONG CO']),
      }),
    );
    expect(reading.ok).toBe(false);
    if (reading.ok) return;
    expect(reading.errors.map((error) => [error.sheet, error.row, error.code])).toEqual([
      ['Kế hoạch', 7, 'bad_date'],
      ['Nhiệm vụ', 3, 'bad_code'],
      ['Nhiệm vụ', 3, 'bad_date'],
      ['Đơn vị', 5, 'bad_code'],
    ]);
    expect(reading.references).toEqual({
      docNumber: '01/KH-UBND',
      issuerUnitCode: 'TAMDUONG',
      unitCodes: ['TD-BINHLU', 'TD-BANGIANG'],
    });
    expect(reading.rows.units).toEqual({ 'TD-BINHLU': 2, 'TD-BANGIANG': 3 });
  });

  it('names each missing sheet', () => {
    expect(problems([sheet('Kế hoạch', PLAN), sheet('Sheet1', UNITS)])).toEqual([
      { sheet: 'Nhiệm vụ', row: undefined, column: undefined, code: 'missing_sheet' },
      { sheet: 'Đơn vị', row: undefined, column: undefined, code: 'missing_sheet' },
    ]);
  });
});

describe('readPlanDate', () => {
  it.each<[string, Value, unknown]>([
    ['an Excel date', day('2027-03-31'), { value: '2027-03-31' }],
    ['dd/mm/yyyy', '05/01/2027', { value: '2027-01-05' }],
    ['d/m/yyyy', '5/1/2027', { value: '2027-01-05' }],
    ['dd.mm.yyyy', '05.01.2027', { value: '2027-01-05' }],
    ['yyyy-mm-dd', '2027-01-05', { value: '2027-01-05' }],
    ['29 February of a leap year', '29/02/2028', { value: '2028-02-29' }],
    ['29 February of another year', '29/02/2027', { code: 'bad_date', values: { value: '29/02/2027' } }],
    ['month first', '01/31/2027', { code: 'bad_date', values: { value: '01/31/2027' } }],
    ['words', 'cuối quý', { code: 'bad_date', values: { value: 'cuối quý' } }],
    ['an empty cell', null, { value: null }],
    ['a cell showing an error', { error: '#REF!' }, { code: 'cell_error', values: { value: '#REF!' } }],
  ])('reads %s', (_name, value, expected) => {
    expect(readPlanDate(cell(value))).toEqual(expected);
  });
});
