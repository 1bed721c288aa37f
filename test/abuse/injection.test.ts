import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startService, type ServiceProcess } from '../support/service.ts';
import { linkTelegramUser, putOfficials, putUnits } from '../support/seed-api.ts';
import { Emulator, type BotMessage, type ChatUser } from '../support/telegram.ts';
import { FaultyTelegram } from '../support/telegram-proxy.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Names that look like markup or formulas reach people exactly as typed: in Telegram messages (HTML parse
 * mode: escaped, so Telegram shows them literally), on buttons (plain text there), in the printable
 * link-code page (escaped: no element, no attribute) and in workbooks (text cells, never formulas).
 * The service runs as a process against the Telegram emulator; pictures and files go through the
 * recording proxy.
 */
const TOKEN = '600000001:E2E-injection';
const NAMES = {
  root: '<b>x</b> & <script>alert(1)</script>',
  markdown: '*bold* [a](http://x) &amp; _i_',
  tags: '<b>y</b> &lt; "q" \'a\'',
  formula: '=1+2',
  plus: '+SUM(A1:A9)',
  minus: '-2+3',
  at: '@cmd',
  leader: '<i>Lãnh đạo</i> " onmouseover="alert(1)',
  focal: '=HYPERLINK("http://x","y")',
  title: '<u>Kế hoạch</u> & <a href="http://x">link</a> *đậm*',
  doc: '01/KH-<EVIL>&amp;',
  task: '+SUM(1,2) <code>x</code> [t](http://t)',
};
const CHILDREN = [
  ['EV-MD', NAMES.markdown],
  ['EV-TAGS', NAMES.tags],
  ['EV-EQ', NAMES.formula],
  ['EV-PLUS', NAMES.plus],
  ['EV-MINUS', NAMES.minus],
  ['EV-AT', NAMES.at],
] as const;

let emulator: Emulator;
let proxy: FaultyTelegram;
let database: TestDatabase;
let service: ServiceProcess;
let campaignId = '';

/**
 * What a person sees of a message sent in Telegram's HTML mode. Only our own <b>, <i> and <code> may be
 * tags: any other "<" unescaped would be read as markup (or make Telegram refuse the message).
 */
function shown(html: string): string {
  const text = html.replace(/<\/?(?:b|i|code)>/g, '');
  expect(text, html).not.toMatch(/[<>]/);
  return text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_, code: string) => String.fromCodePoint(parseInt(code, 16)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

const hasShown = (fragment: string) => (message: BotMessage) => shown(message.text).includes(fragment);

const linkedUser = (officialCode: string, userId: number): Promise<ChatUser> =>
  linkTelegramUser(service, emulator, TOKEN, officialCode, userId);

beforeAll(async () => {
  emulator = await Emulator.start();
  proxy = await FaultyTelegram.start(emulator.url);
  database = await createTestDatabase();
  service = await startService({
    DATABASE_URL: database.url,
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: proxy.url,
  });
  await putUnits(service, [
    { code: 'EV-ROOT', name: NAMES.root },
    ...CHILDREN.map(([code, name]) => ({ code, name, parentCode: 'EV-ROOT' })),
  ]);
  await putOfficials(service, [
    { code: 'EV-LEADER', name: NAMES.leader, unitCode: 'EV-ROOT', role: 'leader' },
    { code: 'EV-FOCAL', name: NAMES.focal, unitCode: 'EV-MD', role: 'focal' },
  ]);
  const created = await service.api<{ id: string }>('POST', '/api/campaigns', {
    docNumber: NAMES.doc,
    title: NAMES.title,
    issuerUnitCode: 'EV-ROOT',
    startsOn: '2026-01-01',
    endsOn: '2027-12-31',
    unitCodes: CHILDREN.map(([code]) => code),
    tasks: [{ key: 'NV1', title: NAMES.task, dueOn: '2027-06-30' }],
  });
  expect(created.status).toBe(201);
  campaignId = created.body.id;
}, 60_000);

afterAll(async () => {
  await service?.stop();
  await proxy?.stop();
  await emulator?.stop();
  await database?.drop();
});

describe('names that look like markup, in chat', () => {
  let focal: ChatUser;

  it('are shown as typed in the link confirmation and the launch', async () => {
    focal = await linkedUser('EV-FOCAL', 7001);
    const confirmation = focal.received.find((message) => message.text.includes('Đã liên kết'));
    expect(confirmation?.parseMode).toBe('HTML');
    expect(shown(confirmation?.text ?? '')).toContain(NAMES.focal);
    expect(shown(confirmation?.text ?? '')).toContain(NAMES.markdown);

    expect((await service.api('POST', `/api/campaigns/${campaignId}/launch`)).status).toBe(202);
    const launch = await focal.waitFor('the launch', hasShown(NAMES.title));
    expect(shown(launch.text)).toContain(NAMES.doc);
    expect(shown(launch.text)).toContain(NAMES.task);
  }, 60_000);

  it("are shown as typed in a leader's summary, its caption and its drill-down buttons", async () => {
    const leader = await linkedUser('EV-LEADER', 7002);
    const summary = await leader.ask('/tonghop', hasShown(NAMES.title));
    for (const [, name] of CHILDREN) expect(shown(summary.text)).toContain(name);
    const chart = await waitFor('the chart picture', () =>
      proxy.media.find((media) => media.chatId === '7002'),
    );
    expect(shown(chart.caption)).toContain(NAMES.doc);
    // Button labels are plain text on Telegram: no escapes, no tags, the names themselves.
    const labels = chart.buttons.map((button) => button.text);
    for (const [, name] of CHILDREN)
      expect(
        labels.some((label) => label.endsWith(` ${name}`)),
        `${name} in ${labels.join(' | ')}`,
      ).toBe(true);
  }, 60_000);
});

describe('names that look like markup or formulas, in files', () => {
  it('are escaped in the printable link-code page: no element, no attribute', async () => {
    const response = await fetch(`${service.url}/api/units/EV-ROOT/link-codes?format=html`, {
      method: 'POST',
      headers: { authorization: `Bearer ${service.token}` },
    });
    expect(response.status).toBe(200);
    const html = await response.text();
    for (const raw of ['<script', '<b>x', '<b>y', '<i>Lãnh', '" onmouseover', '<u>', '<a href="http://x"'])
      expect(html).not.toContain(raw);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;i&gt;Lãnh đạo&lt;/i&gt; &quot; onmouseover=&quot;alert(1)');
    expect(html).toContain('=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)');
  });

  /** Every cell of every sheet: a value that reads like a formula must be a text cell holding exactly it. */
  async function formulaFree(bytes: ArrayBuffer): Promise<string[]> {
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(bytes);
    const texts: string[] = [];
    workbook.eachSheet((sheet) =>
      sheet.eachRow((row) =>
        row.eachCell((cell) => {
          expect(cell.type, `${sheet.name}!${cell.address}`).not.toBe(ExcelJS.ValueType.Formula);
          expect(cell.formula, `${sheet.name}!${cell.address}`).toBeFalsy();
          if (typeof cell.value === 'string') texts.push(cell.value);
          if (typeof cell.value === 'string' && /^[=+\-@]/.test(cell.value))
            expect(cell.type, `${sheet.name}!${cell.address}`).toBe(ExcelJS.ValueType.String);
        }),
      ),
    );
    return texts;
  }

  it('are text, never formulas, in the summary workbook and the link-code workbook', async () => {
    const exported = await fetch(`${service.url}/api/campaigns/${campaignId}/export.xlsx`, {
      headers: { authorization: `Bearer ${service.token}` },
    });
    expect(exported.status).toBe(200);
    const summaryTexts = (await formulaFree(await exported.arrayBuffer())).join('\n');
    for (const name of [
      NAMES.formula,
      NAMES.plus,
      NAMES.minus,
      NAMES.at,
      NAMES.markdown,
      NAMES.tags,
      NAMES.title,
      NAMES.task,
    ])
      expect(summaryTexts).toContain(name);

    const sheet = await fetch(`${service.url}/api/units/EV-ROOT/link-codes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${service.token}` },
    });
    expect(sheet.status).toBe(200);
    const sheetTexts = (await formulaFree(await sheet.arrayBuffer())).join('\n');
    for (const name of [NAMES.focal, NAMES.leader, NAMES.markdown]) expect(sheetTexts).toContain(name);
  });
});
