// Builds the supervisors' workbook for the sample campaign (seed 004, Tam Đường) with a few reports and one
// exemplar, saves it as docs/summary-workbook.xlsx and describes what it holds in docs/workbook.md (the
// workbook read back, as a reader of the repository would see it). Usage: npx tsx scripts/sample-workbook.ts
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import ExcelJS from 'exceljs';
import { DateTime } from 'luxon';
import pg from 'pg';
import { summaryWorkbook } from '../src/conversation/attachments.ts';
import { Renderer } from '../src/conversation/render.ts';
import { createDb } from '../src/db/client.ts';
import { applyMigrations, ensureDatabase } from '../src/db/migrate.ts';
import { SAMPLE_OFFICIALS, SAMPLE_UNITS, sampleCampaign } from '../src/demo/sample-data.ts';
import { createTranslator } from '../src/i18n.ts';
import { createCampaign, launchCampaign } from '../src/services/campaigns.ts';
import { recordExemplar } from '../src/services/exemplars.ts';
import { upsertOfficial } from '../src/services/officials.ts';
import { recordStatus } from '../src/services/reports.ts';
import { upsertUnit } from '../src/services/units.ts';
import type { Status } from '../src/domain/status.ts';

const SERVER = process.env.PG_URL ?? 'postgresql://postgres@127.0.0.1:5432';
const ZONE = 'Asia/Ho_Chi_Minh';
const START = '2026-07-01';
const AS_OF = '2026-07-20T09:00';
const local = (text: string) => DateTime.fromISO(text, { zone: ZONE }).toJSDate();

const name = `thidua_docs_${randomBytes(4).toString('hex')}`;
await ensureDatabase(`${SERVER}/${name}`);
await applyMigrations(`${SERVER}/${name}`);
const db = createDb(`${SERVER}/${name}`);
try {
  const render = new Renderer(createTranslator(), ZONE);
  for (const { code, ...unit } of SAMPLE_UNITS) await upsertUnit(db, code, unit);
  for (const { code, ...official } of SAMPLE_OFFICIALS) await upsertOfficial(db, code, official);
  const campaign = await createCampaign(db, sampleCampaign(START));
  await launchCampaign(db, campaign.id, render, local(`${START}T09:00`));
  const tasks = await db.task.findMany({ where: { campaignId: campaign.id }, orderBy: { position: 'asc' } });
  const report = async (
    officialCode: string,
    position: number,
    status: Status,
    percent: number | null,
    note: string | null,
    at: string,
  ) => {
    const official = await db.official.findUniqueOrThrow({ where: { code: officialCode } });
    const task = tasks[position];
    if (!task) throw new Error(`no task ${position}`);
    await recordStatus(db, {
      ...{ officialId: official.id, unitId: official.unitId, taskId: task.id, status, percent, note },
      ...{ sourceText: null, channel: 'telegram', now: local(at) },
    });
  };
  await report('CB-BINHLU', 0, 'done', 100, null, '2026-07-14T10:12');
  await report('CB-VHTT', 0, 'in_progress', 60, 'đang triển khai 60%', '2026-07-15T08:40');
  await report('CB-NOIVU', 0, 'done', 100, null, '2026-07-13T15:05');
  await report('CB-SONBINH', 0, 'blocked', null, 'vướng kinh phí in tài liệu', '2026-07-16T09:30');
  await report('CB-TT', 1, 'in_progress', 30, null, '2026-07-17T14:00');
  const reporter = await db.official.findUniqueOrThrow({ where: { code: 'CB-BINHLU' } });
  await recordExemplar(db, {
    campaignId: campaign.id,
    officialId: reporter.id,
    subject: 'Tổ tự quản bản Sì Thâu Chải',
    achievement: 'vận động 42 hộ hiến 1.200 m² đất làm đường liên thôn',
    photoRef: null,
    channel: 'telegram',
    now: local('2026-07-18T16:20'),
  });

  const file = await summaryWorkbook(
    { db, render, timeZone: ZONE },
    { campaignId: campaign.id, locale: 'vi', at: local(AS_OF).toISOString() },
  );
  await writeFile('docs/summary-workbook.xlsx', file.bytes);

  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(file.bytes as unknown as ExcelJS.Buffer);
  const cell = (value: ExcelJS.CellValue) => {
    const text =
      value instanceof Date
        ? value.toISOString()
        : typeof value === 'object' && value !== null
          ? JSON.stringify(value)
          : String(value ?? '');
    return text.replace(/\|/g, '\\|');
  };
  const lines = [
    "# The supervisors' workbook",
    '',
    `What \`GET /api/campaigns/:id/export.xlsx\` and the bot's 📊 Excel button send, here for the sample`,
    `campaign (seed 004, Tam Đường) as of ${AS_OF.replace('T', ' ')} (Asia/Ho_Chi_Minh) with five reports and one`,
    `exemplar: [summary-workbook.xlsx](summary-workbook.xlsx) (${file.filename} when sent), made by`,
    '`npx tsx scripts/sample-workbook.ts`. The summary sheet holds the text of /tonghop; the tables have a bold, frozen',
    'header row with filters and column widths fitted to their contents (at most 60 characters).',
    '',
  ];
  workbook.eachSheet((sheet) => {
    const frozen =
      (sheet.views as ExcelJS.WorksheetView[] | null)?.[0]?.state === 'frozen'
        ? 'frozen header row'
        : 'no frozen row';
    const filter = sheet.autoFilter ? ', filter on the header' : '';
    lines.push(`## Sheet "${sheet.name}" (${sheet.rowCount} rows, ${frozen}${filter})`, '');
    const rows: string[][] = [];
    sheet.eachRow((row) => {
      const values = (row.values as ExcelJS.CellValue[]).slice(1).map(cell);
      rows.push(values);
    });
    const width = Math.max(...rows.map((row) => row.length));
    const widths = Array.from({ length: width }, (_, i) => sheet.getColumn(i + 1).width ?? 0);
    if (width > 1) {
      const [header = [], ...body] = rows;
      lines.push(`| ${header.join(' | ')} |`, `|${' --- |'.repeat(width)}`);
      for (const row of body.slice(0, 12))
        lines.push(`| ${Array.from({ length: width }, (_, i) => row[i] ?? '').join(' | ')} |`);
      if (body.length > 12) lines.push('', `… and ${body.length - 12} more rows.`);
      lines.push('', `Column widths: ${widths.map((w) => Math.round(w)).join(', ')}.`, '');
    } else {
      lines.push('```', ...rows.map((row) => row[0] ?? ''), '```', '');
    }
  });
  await writeFile('docs/workbook.md', `${lines.join('\n')}\n`);
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await db.$disconnect();
  const admin = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
}
