import type ExcelJS from 'exceljs';
import { loadExcel } from './excel.ts';
import type { SubtreeLinkCode } from './link-codes.ts';

/** qrcode, loaded by the first sheet: only the web role prints link codes, and only on demand. */
const loadQrCode = async () => (await import('qrcode')).default;

/**
 * Printable sheets of link codes, handed out on paper at a meeting: each official's name, unit, code,
 * the deep link (when a channel has one) and a QR code of it. The sheets are documents in Vietnamese
 * (their fixed labels are part of the format, like the import template's headers).
 */
export interface LinkCodeSheet {
  unit: { code: string; name: string };
  codes: (SubtreeLinkCode & { link: string | undefined })[];
  timeZone: string;
}

const ROLE_LABELS: Record<string, string> = {
  member: 'Thành viên',
  focal: 'Đầu mối',
  leader: 'Lãnh đạo',
  admin: 'Quản trị',
};

function formatExpiry(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('vi-VN', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
  }).format(date);
}

const QR_OPTIONS = { errorCorrectionLevel: 'M', margin: 1, width: 160 } as const;

export async function linkCodeWorkbook(sheet: LinkCodeSheet): Promise<Buffer> {
  const workbook = new (await loadExcel()).Workbook();
  workbook.creator = 'thidua-bot';
  const ws = workbook.addWorksheet('Mã liên kết', {
    views: [{ state: 'frozen', ySplit: 1 }],
    pageSetup: { paperSize: 9, orientation: 'portrait', fitToPage: true, fitToWidth: 1, fitToHeight: 0 },
  });
  ws.columns = [
    { header: 'Họ tên', key: 'name', width: 28 },
    { header: 'Mã cán bộ', key: 'officialCode', width: 14 },
    { header: 'Vai trò', key: 'role', width: 12 },
    { header: 'Đơn vị', key: 'unitName', width: 30 },
    { header: 'Mã liên kết', key: 'code', width: 16 },
    { header: 'Liên kết', key: 'link', width: 44 },
    { header: 'Hết hạn', key: 'expiresAt', width: 18 },
    { header: 'Mã QR', key: 'qr', width: 18 },
  ];
  ws.getRow(1).font = { bold: true };
  for (const [index, entry] of sheet.codes.entries()) {
    const row = ws.addRow({
      name: entry.name,
      officialCode: entry.officialCode,
      role: ROLE_LABELS[entry.role] ?? entry.role,
      unitName: entry.unitName,
      code: entry.code,
      link: entry.link ? { text: entry.link, hyperlink: entry.link } : `Gửi cho bot: /start ${entry.code}`,
      expiresAt: formatExpiry(entry.expiresAt, sheet.timeZone),
    });
    row.height = 96;
    row.alignment = { vertical: 'middle', wrapText: true };
    row.getCell('code').font = { bold: true, size: 14, name: 'Consolas' };
    const image = workbook.addImage({
      buffer: (await (
        await loadQrCode()
      ).toBuffer(entry.link ?? entry.code, QR_OPTIONS)) as unknown as ExcelJS.Buffer,
      extension: 'png',
    });
    // Column H (index 7), the data row (index + 1, zero-based).
    ws.addImage(image, { tl: { col: 7.1, row: index + 1.05 }, ext: { width: 120, height: 120 } });
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char,
  );

export async function linkCodeHtml(sheet: LinkCodeSheet): Promise<string> {
  const cards: string[] = [];
  for (const entry of sheet.codes) {
    const qr = await (await loadQrCode()).toDataURL(entry.link ?? entry.code, QR_OPTIONS);
    const how = entry.link
      ? `Quét mã QR hoặc mở <a href="${escapeHtml(entry.link)}">${escapeHtml(entry.link)}</a>`
      : `Gửi cho bot: <code>/start ${escapeHtml(entry.code)}</code>`;
    cards.push(`<section class="card">
  <img src="${qr}" alt="QR ${escapeHtml(entry.code)}" width="140" height="140">
  <div>
    <h2>${escapeHtml(entry.name)}</h2>
    <p>${escapeHtml(ROLE_LABELS[entry.role] ?? entry.role)} · ${escapeHtml(entry.unitName)} (${escapeHtml(entry.officialCode)})</p>
    <p class="code">${escapeHtml(entry.code)}</p>
    <p>${how}</p>
    <p class="small">Mã dùng một lần, hết hạn lúc ${escapeHtml(formatExpiry(entry.expiresAt, sheet.timeZone))}.</p>
  </div>
</section>`);
  }
  const title = `Mã liên kết – ${sheet.unit.name}`;
  return `<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
  body { font-family: "Noto Sans", Arial, sans-serif; margin: 1.5cm; color: #111; }
  h1 { font-size: 18pt; }
  .card { display: flex; gap: 1em; border: 1px dashed #888; padding: 0.8em; margin-bottom: 0.6em;
          page-break-inside: avoid; break-inside: avoid; }
  .card h2 { margin: 0 0 0.2em; font-size: 14pt; }
  .card p { margin: 0.2em 0; }
  .code { font: bold 20pt Consolas, monospace; letter-spacing: 0.15em; }
  .small { font-size: 9pt; color: #444; }
  a { color: inherit; word-break: break-all; }
  @media print { body { margin: 0; } }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>Mỗi cán bộ quét mã QR bằng điện thoại (hoặc mở liên kết, hoặc gửi <code>/start MÃ</code> cho bot) để nhận thông báo thi đua.</p>
${cards.join('\n')}
</body>
</html>
`;
}
