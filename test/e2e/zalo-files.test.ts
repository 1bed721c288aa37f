import { createRequire } from 'node:module';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signFileToken } from '../../src/file-links.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { freePort } from '../support/ports.ts';
import { hasText, launchCampaign, putOfficials, putUnits } from '../support/seed-api.ts';
import { startService, type ServiceProcess } from '../support/service.ts';
import { Emulator, type ChatUser } from '../support/telegram.ts';
import { FaultyTelegram } from '../support/telegram-proxy.ts';
import { waitFor } from '../support/wait.ts';
import { FakeZaloBot, type ZaloUser } from '../support/zalo-bot.ts';
import { FakeZaloOa, type OaSent } from '../support/zalo-oa.ts';

/**
 * Pictures and files on Zalo, which takes no uploads: with PUBLIC_URL the chart goes as a signed link
 * Zalo fetches itself (Bot Platform sendPhoto, OA "media" template) and the workbook as a link in text;
 * the service serves both at /files/…. Beside them, a block summary typed over Telegram.
 */
const TELEGRAM_TOKEN = '200000002:E2E-files';
const BOT_TOKEN = '1234567890:e2e-zalo-files';
const APP_ID = '1234567890123456780';
const APP_SECRET = 'files-app-secret';
const OA_SECRET = 'files-oa-secret';
const FILES_SECRET = 'e2e-files-url-secret-0123456789';
const DOC = '21/KH-UBND';

/** pngjs (a dependency of qrcode) decodes the picture completely: every scanline, every checksum. */
const { PNG } = createRequire(import.meta.url)('pngjs') as {
  PNG: { sync: { read(bytes: Buffer): { width: number; height: number; data: Buffer } } };
};

let emulator: Emulator;
let proxy: FaultyTelegram;
let bot: FakeZaloBot;
let oa: FakeZaloOa;
let database: TestDatabase;
let service: ServiceProcess;
let publicUrl: string;

const has = (fragment: string) => (text: string) => text.includes(fragment);

async function oaSay(userId: string, text: string): Promise<void> {
  const { body, signature } = oa.signed(oa.textEvent(userId, text));
  const response = await fetch(`${service.url}/webhooks/zalo-oa`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-zevent-signature': signature },
    body,
  });
  expect(response.status).toBe(200);
}

async function linkCode(official: string): Promise<string> {
  const issued = await service.api<{ code: string }>('POST', `/api/officials/${official}/link-codes`);
  expect(issued.status).toBe(201);
  return issued.body.code;
}

/** The link as Zalo would fetch it: from the public address, with nothing but the URL. */
async function download(url: string): Promise<{ status: number; type: string | null; bytes: Buffer }> {
  const response = await fetch(url);
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    bytes: Buffer.from(await response.arrayBuffer()),
  };
}

function expectChartPng(bytes: Buffer): void {
  const image = PNG.sync.read(bytes);
  expect(image.width).toBe(1080);
  expect(image.height).toBeGreaterThanOrEqual(480);
  expect(image.data.length).toBe(image.width * image.height * 4);
  // Not a blank canvas: bars and text make many distinct colours.
  const colours = new Set<number>();
  for (let i = 0; i < image.data.length; i += 4 * 97) colours.add(image.data.readUInt32BE(i));
  expect(colours.size).toBeGreaterThan(20);
}

beforeAll(async () => {
  emulator = await Emulator.start();
  proxy = await FaultyTelegram.start(emulator.url);
  bot = await FakeZaloBot.start(BOT_TOKEN);
  oa = await FakeZaloOa.start(APP_ID, APP_SECRET, OA_SECRET);
  database = await createTestDatabase();
  const port = await freePort();
  publicUrl = `http://127.0.0.1:${port}`;
  service = await startService({
    DATABASE_URL: database.url,
    PORT: String(port),
    PUBLIC_URL: publicUrl,
    FILES_URL_SECRET: FILES_SECRET,
    TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
    TELEGRAM_API_ROOT: proxy.url,
    TELEGRAM_MODE: 'polling',
    ZALO_BOT_TOKEN: BOT_TOKEN,
    ZALO_BOT_API_ROOT: bot.url,
    ZALO_BOT_MODE: 'polling',
    ...oa.serviceEnv(),
  });
});

afterAll(async () => {
  await service?.stop();
  if (process.env.E2E_DEBUG) process.stdout.write(service?.output() ?? '');
  await Promise.all([proxy?.stop(), bot?.stop(), oa?.stop()]);
  await emulator?.stop();
  await database?.drop();
});

describe('summary pictures and files through public links', () => {
  let zaloLeader: ZaloUser;
  let telegramLeader: ChatUser;
  let chartUrl = '';

  it('sets up a district with communes in two emulation blocks and links three leaders', async () => {
    const units = [
      { code: 'TAMDUONG', name: 'UBND huyện Tam Đường' },
      { code: 'TD-BINHLU', name: 'UBND xã Bình Lư', parentCode: 'TAMDUONG', blockCodes: ['CUM1'] },
      { code: 'TD-SONBINH', name: 'UBND xã Sơn Bình', parentCode: 'TAMDUONG', blockCodes: ['CUM1'] },
      { code: 'TD-BANGIANG', name: 'UBND xã Bản Giang', parentCode: 'TAMDUONG', blockCodes: ['CUM2'] },
    ];
    await putUnits(
      service,
      units.map((unit) => ({ ...unit, kind: 'commune' })),
    );
    await putOfficials(
      service,
      ['LD-ZALO', 'LD-OA', 'LD-TG'].map((code) => ({
        code,
        name: `Lãnh đạo ${code}`,
        unitCode: 'TAMDUONG',
        role: 'leader',
      })),
    );
    await launchCampaign(service, {
      docNumber: DOC,
      title: 'Thi đua xây dựng nông thôn mới',
      issuerUnitCode: 'TAMDUONG',
      startsOn: '2026-06-15',
      endsOn: '2027-10-30',
      unitCodes: units.slice(1).map((unit) => unit.code),
      tasks: [{ key: 'QT', title: 'Quán triệt, triển khai', dueOn: '2027-07-15' }],
    });

    zaloLeader = bot.user('zf-1');
    await zaloLeader.ask(`/start ${await linkCode('LD-ZALO')}`, has('Đã liên kết'));
    const after = oa.sentTo('9001').length;
    await oaSay('9001', `/start ${await linkCode('LD-OA')}`);
    await oa.waitForSent('the OA link', '9001', hasText('Đã liên kết'), after);
    telegramLeader = emulator.user(TELEGRAM_TOKEN, 7001);
    const linked = await telegramLeader.ask(`/start ${await linkCode('LD-TG')}`, hasText('Đã liên kết'));
    expect(linked.text).toContain('LD-TG');
  });

  it('sends the chart to a Zalo bot leader as a photo Zalo fetches from a signed link', async () => {
    const photosBefore = zaloLeader.photos.length;
    await zaloLeader.ask('/tonghop', has(`TỔNG HỢP ${DOC}`));
    const photo = await waitFor('the chart photo', () => zaloLeader.photos[photosBefore]);
    expect(photo.photo.startsWith(`${publicUrl}/files/`)).toBe(true);
    expect(photo.photo).toMatch(/\.png$/);
    expect(photo.caption).toContain('Tiến độ theo đơn vị');
    expect(photo.caption).toMatch(/\n\d+\. ⏰ Chỉ đơn vị chậm\n\d+\. 📥 Tệp Excel$/);
    const file = await download(photo.photo);
    expect(file.status).toBe(200);
    expect(file.type).toBe('image/png');
    expectChartPng(file.bytes);
    chartUrl = photo.photo;
  });

  it('sends the workbook as a link in text, and the link opens a workbook', async () => {
    const caption = zaloLeader.photos.at(-1)?.caption ?? '';
    const excel = /(\d+)\. 📥 Tệp Excel/.exec(caption)?.[1] ?? '';
    const answer = await zaloLeader.ask(excel, has('Tải tệp Excel'));
    expect(answer).toContain(`Bảng tổng hợp ${DOC}`);
    const url = /(https?:\/\/\S+\.xlsx)/.exec(answer)?.[1] ?? '';
    expect(url.startsWith(`${publicUrl}/files/`)).toBe(true);
    const file = await download(url);
    expect(file.status).toBe(200);
    expect(file.type).toContain('spreadsheetml');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(file.bytes as unknown as ArrayBuffer);
    const summary = workbook.getWorksheet('Tổng hợp');
    expect((summary?.getColumn(1).values ?? []).map(String).join('\n')).toContain(`TỔNG HỢP ${DOC}`);
  });

  it('answers a forged, expired or mismatched link with 404', async () => {
    const token = chartUrl.slice(chartUrl.lastIndexOf('/') + 1, -'.png'.length);
    const [payload = '', mac = ''] = token.split('.');
    const flipped = `${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`;
    expect((await download(`${publicUrl}/files/${payload}.${flipped}.png`)).status).toBe(404);
    expect((await download(`${publicUrl}/files/${token}.xlsx`)).status).toBe(404);
    expect((await download(`${publicUrl}/files/nothing.png`)).status).toBe(404);
    const ref = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      ref: Parameters<typeof signFileToken>[0];
    };
    const expired = signFileToken(ref.ref, new Date(Date.now() - 1000), FILES_SECRET);
    expect((await download(`${publicUrl}/files/${expired}.png`)).status).toBe(404);
    const foreign = signFileToken(ref.ref, new Date(Date.now() + 3600_000), 'some-other-secret-value');
    expect((await download(`${publicUrl}/files/${foreign}.png`)).status).toBe(404);
    // The same reference signed with the service's secret is served: the 404s above are the checks.
    const fresh = signFileToken(ref.ref, new Date(Date.now() + 3600_000), FILES_SECRET);
    expect((await download(`${publicUrl}/files/${fresh}.png`)).status).toBe(200);
  });

  it('sends the chart to an OA follower with the media template', async () => {
    const after = oa.sentTo('9001').length;
    await oaSay('9001', 'tong hop');
    const media = await oa.waitForSent('the chart', '9001', (message: OaSent) => !!message.media, after);
    expect(media.media?.mediaType).toBe('image');
    expect(media.media?.url.startsWith(`${publicUrl}/files/`)).toBe(true);
    expect(media.buttons).toEqual([]);
    expect(media.text).toMatch(/\d+\. ⏰ Chỉ đơn vị chậm/);
    const file = await download(media.media?.url ?? '');
    expect(file.status).toBe(200);
    expectChartPng(file.bytes);
  });

  it('summarises a block typed over Telegram, and its buttons keep the block', async () => {
    const summary = await telegramLeader.ask('tổng hợp khối cum1', hasText('TỔNG HỢP'));
    expect(summary.text).toContain('Khối/cụm thi đua: CUM1 (xã, phường, thị trấn)');
    expect(summary.text).toContain('Đơn vị tham gia: 2 ');
    expect(summary.text).toContain('UBND xã Bình Lư');
    expect(summary.text).not.toContain('Bản Giang');
    const chart = await waitFor('the block chart', () =>
      proxy.media.find((media) => media.chatId === '7001' && media.method === 'sendPhoto'),
    );
    expect(chart.file.subarray(1, 4).toString('latin1')).toBe('PNG');
    const excel = chart.buttons.find((button) => button.text === '📥 Tệp Excel')?.data ?? '';
    expect(excel).toMatch(/^bx:[A-Za-z0-9_-]{22}:-:CUM1$/);
    await telegramLeader.pressData(1, excel);
    const workbook = await waitFor('the block workbook', () =>
      proxy.media.find((media) => media.chatId === '7001' && media.method === 'sendDocument'),
    );
    expect(workbook.file.subarray(0, 2).toString('latin1')).toBe('PK');
    const unknown = await telegramLeader.ask('tong hop khoi CUM7', hasText('khối'));
    expect(unknown.text).toContain('Không có khối/cụm thi đua "CUM7"');
    expect(unknown.text).toContain('CUM1, CUM2');
  });

  it('made only calls the platforms document', () => {
    expect(bot.violations).toEqual([]);
    expect(oa.violations).toEqual([]);
  });
});
