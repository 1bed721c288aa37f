import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';

export type SheetRows = ExcelJS.CellValue[][];

/** A workbook with the given sheets, first row the header, as the import reads it. */
export async function workbook(sheets: Record<string, SheetRows>): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  for (const [name, rows] of Object.entries(sheets)) {
    const sheet = book.addWorksheet(name);
    for (const row of rows) sheet.addRow(row);
  }
  return Buffer.from(await book.xlsx.writeBuffer());
}

export const UNIT_HEADER = ['mã đơn vị', 'tên đơn vị', 'mã đơn vị cấp trên', 'khối thi đua'];
export const OFFICIAL_HEADER = ['mã cán bộ', 'họ tên', 'mã đơn vị', 'vai trò', 'điện thoại'];

const TONE_MARKS = /[\u0300\u0301\u0303\u0309\u0323]/g;

/**
 * Text as a legacy Windows-1258 file holds it: letters with a shape (ơ, â, ă, đ) are precomposed and
 * tone marks are separate combining characters, as Vietnamese Windows keyboards produced them.
 */
export function windows1258(text: string): Buffer {
  const parts: Buffer[] = [];
  for (const char of text.normalize('NFC')) {
    const direct = iconv.encode(char, 'windows-1258');
    if (direct.toString('latin1') !== '?' || char === '?') {
      parts.push(direct);
      continue;
    }
    const decomposed = char.normalize('NFD');
    const tones = decomposed.match(TONE_MARKS) ?? [];
    parts.push(
      iconv.encode(decomposed.replace(TONE_MARKS, '').normalize('NFC') + tones.join(''), 'windows-1258'),
    );
  }
  return Buffer.concat(parts);
}
