import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { hasText, linkTelegramUser, putOfficials, putUnits } from '../support/seed-api.ts';
import { startService, type ServiceProcess } from '../support/service.ts';
import { Emulator, type ChatUser } from '../support/telegram.ts';

/**
 * The console's write pages in headless Chromium (Debian's chromium through playwright-core, as the
 * console's reading test does) against the service started as a process, with the Telegram emulator: an
 * admin signs in with the code the bot sends to her chat, creates a campaign from the form (three tasks, one
 * added and moved up in place, two units), launches it after the confirmation page, a focal official gets
 * the launch in chat and reports, and the open dashboard shows it without a reload; a leader sees the
 * campaign without any control to change it and a forged POST is refused (403); a leader of another
 * district gets 404. Then the admin deactivates an official after the confirmation page, and the reminders
 * that follow reach the others but not that official's chat, which is answered as an unlinked one; the
 * audit page's workbook, downloaded with its filter, holds the deactivation.
 */
const CHROMIUM = '/usr/bin/chromium';
const TOKEN = '200000003:E2E-console-forms';
const DOC = '27/KH-UBND';
const STEP_MS = 20_000;

let emulator: Emulator;
let database: TestDatabase;
let service: ServiceProcess;
let browser: BrowserContext;
let profile: string;
let page: Page;
let campaignUrl = '';
const chats = new Map<string, ChatUser>();

beforeAll(async () => {
  emulator = await Emulator.start();
  database = await createTestDatabase();
  service = await startService({
    DATABASE_URL: database.url,
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: emulator.url,
  });
  await putUnits(service, [
    { code: 'TAMDUONG', name: 'UBND huyện Tam Đường' },
    { code: 'TD-BINHLU', name: 'UBND xã Bình Lư', parentCode: 'TAMDUONG' },
    { code: 'TD-BANGIANG', name: 'UBND xã Bản Giang', parentCode: 'TAMDUONG' },
    { code: 'TD-SONBINH', name: 'UBND xã Sơn Bình', parentCode: 'TAMDUONG' },
    { code: 'PHONGTHO', name: 'UBND huyện Phong Thổ' },
  ]);
  await putOfficials(service, [
    { code: 'CB-ADMIN', name: 'Lò Thị Hoa', unitCode: 'TAMDUONG', role: 'admin' },
    { code: 'CB-CHUTICH', name: 'Sùng Lữ Páo', unitCode: 'TAMDUONG', role: 'leader' },
    { code: 'CB-PT', name: 'Lò Văn Pọm', unitCode: 'PHONGTHO', role: 'leader' },
    { code: 'CB-BINHLU', name: 'Tẩn Văn Chiến', unitCode: 'TD-BINHLU', role: 'focal' },
    { code: 'CB-BANGIANG', name: 'Lý Thị Thu', unitCode: 'TD-BANGIANG', role: 'focal' },
    { code: 'CB-BANGIANG-CT', name: 'Vàng A Dế', unitCode: 'TD-BANGIANG', role: 'leader' },
  ]);
  let userId = 8300;
  for (const code of ['CB-ADMIN', 'CB-CHUTICH', 'CB-PT', 'CB-BINHLU', 'CB-BANGIANG'])
    chats.set(code, await linkTelegramUser(service, emulator, TOKEN, code, (userId += 1)));

  profile = await mkdtemp(join(tmpdir(), 'console-forms-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage();
  page.setDefaultTimeout(STEP_MS);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
  await service?.stop();
  if (process.env.E2E_DEBUG) process.stdout.write(service?.output() ?? '');
  await emulator?.stop();
  await database?.drop();
});

const chat = (code: string): ChatUser => {
  const user = chats.get(code);
  if (!user) throw new Error(`no chat for ${code}`);
  return user;
};

/** Signs in as the official with the code the bot sends to their chat. */
async function signIn(code: string): Promise<void> {
  const user = chat(code);
  await user.drain();
  const after = user.received.length;
  await page.goto(`${service.url}/console/login`);
  await page.getByLabel('Mã cán bộ').fill(code);
  await page.getByRole('button', { name: 'Gửi mã đăng nhập' }).click();
  await page.getByRole('heading', { name: 'Nhập mã đăng nhập' }).waitFor();
  const message = await user.waitFor('the sign-in code', hasText('Mã đăng nhập bảng điều khiển'), { after });
  await page.getByLabel('Mã 6 chữ số').fill(/(\d{6})/.exec(message.text)?.[1] ?? '');
  await page.getByRole('button', { name: 'Đăng nhập', exact: true }).click();
  await page.getByRole('heading', { name: 'Phong trào thi đua', exact: true }).waitFor();
}

async function signOut(): Promise<void> {
  await page.getByRole('button', { name: 'Đăng xuất' }).first().click();
  await page.getByRole('heading', { name: 'Đăng nhập', exact: true }).waitFor();
}

const taskRow = (index: number) => page.locator('[data-task-row]').nth(index);
/** The values of the elements a locator finds, in page order. */
async function valuesOf(
  found: Locator,
  read: (one: Locator) => Promise<string | null>,
): Promise<(string | null)[]> {
  const values: (string | null)[] = [];
  for (let i = 0; i < (await found.count()); i++) values.push(await read(found.nth(i)));
  return values;
}
const taskKeys = () =>
  valuesOf(page.locator('[data-task-rows] input[name="taskKey"]'), (input) => input.inputValue());

describe('the console’s write pages in a browser', () => {
  it('creates a campaign from the form: tasks added, removed and moved in place, two units', async () => {
    await signIn('CB-ADMIN');
    await page.getByRole('link', { name: 'Tạo phong trào', exact: true }).click();
    await page.getByRole('heading', { name: 'Tạo phong trào thi đua' }).waitFor();
    const formUrl = page.url();
    await page.getByLabel('Số kế hoạch').fill(DOC);
    await page.getByLabel('Tên phong trào').fill('Phong trào thi đua "Dân vận khéo" giai đoạn 2026–2027');
    await page.getByLabel('Chủ đề').fill('Dân vận khéo, chính quyền gần dân');
    await page.getByLabel('Loại phong trào').selectOption('thematic');
    await page.getByLabel('Ngày bắt đầu').fill('2026-12-01');
    await page.getByLabel('Ngày kết thúc').fill('2027-12-31');

    await taskRow(0).getByLabel('Mã', { exact: true }).fill('QT');
    await taskRow(0).getByLabel('Nội dung nhiệm vụ').fill('Quán triệt, triển khai kế hoạch');
    await taskRow(0).getByLabel('Hạn hoàn thành').fill('2027-01-15');
    await taskRow(1).getByLabel('Mã', { exact: true }).fill('MH');
    await taskRow(1).getByLabel('Nội dung nhiệm vụ').fill('Xây dựng mô hình dân vận khéo');
    await taskRow(1).getByLabel('Hạn hoàn thành').fill('2027-06-30');
    // The third blank row goes, a new one comes, and it moves up to be second: all in place.
    await page.getByRole('button', { name: 'Xóa nhiệm vụ 3' }).click();
    await page.getByRole('button', { name: 'Thêm nhiệm vụ' }).click();
    expect(await taskKeys()).toEqual(['QT', 'MH', 'NV3']);
    await taskRow(2).getByLabel('Nội dung nhiệm vụ').fill('Đăng ký mô hình với Ban Dân vận');
    await taskRow(2).getByLabel('Hạn hoàn thành').fill('2027-02-28');
    await page.getByRole('button', { name: 'Đưa nhiệm vụ 3 lên' }).click();
    expect(await taskKeys()).toEqual(['QT', 'NV3', 'MH']);
    // The moved row is numbered anew and its button keeps the focus (the keyboard goes on from there).
    await expect.poll(() => taskRow(1).locator('legend').textContent()).toBe('Nhiệm vụ 2');
    expect(await page.evaluate<string | null>('document.activeElement.getAttribute("aria-label")')).toBe(
      'Đưa nhiệm vụ 2 lên',
    );
    expect(page.url()).toBe(formUrl);

    await page.getByLabel('UBND xã Bình Lư').check();
    await page.getByLabel('UBND xã Bản Giang').check();
    await page.getByRole('heading', { name: 'Nhắc việc' }).scrollIntoViewIfNeeded();
    expect(await page.getByLabel('Giờ gửi nhắc').inputValue()).toBe('07:30');
    await page.screenshot({ path: 'docs/console-form.png', type: 'png', fullPage: true });
    // On a phone the form fits the screen's width: the task rows stack their fields.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1280, height: 900 });

    await page.getByRole('button', { name: 'Tạo phong trào (bản nháp)' }).last().click();
    await page.getByText('Đã tạo phong trào (bản nháp).').waitFor();
    campaignUrl = page.url().replace(/\?.*$/, '');
    expect(campaignUrl).toMatch(/\/console\/campaigns\/[0-9a-f-]{36}$/);
    const order = await valuesOf(page.locator('#live tr[data-task]'), (row) => row.getAttribute('data-task'));
    expect(order).toEqual(['QT', 'NV3', 'MH']);
  }, 90_000);

  it('launches after a confirmation that says who it reaches; an official reports and the dashboard shows it', async () => {
    await page.getByRole('link', { name: 'Phát động…' }).click();
    await page.getByRole('heading', { name: /Phát động phong trào/ }).waitFor();
    await page.getByText('Thông báo phát động sẽ được gửi tới 2 cán bộ.').waitFor();
    await expect.poll(() => page.locator('tr[data-channel="telegram"] td').textContent()).toBe('2');
    await page.locator('tr[data-official="CB-BANGIANG-CT"]', { hasText: 'Chưa liên kết' }).waitFor();
    if (process.env.E2E_DEBUG) await page.screenshot({ path: '/tmp/console-launch.png', fullPage: true });
    const focal = chat('CB-BINHLU');
    await focal.drain();
    const after = focal.received.length;
    await page.getByRole('button', { name: 'Phát động: gửi tới 2 cán bộ' }).click();
    await page.getByText('Đã phát động: thông báo được gửi tới 2 cán bộ.').waitFor();
    const launch = await focal.waitFor('the launch', hasText(DOC), { after });
    expect(launch.text).toContain('Xây dựng mô hình dân vận khéo');
    expect(launch.buttons.map((button) => button.text)).toEqual(['👍 Đã nhận', '📝 Đăng ký thi đua']);

    const navigations: string[] = [];
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations.push(frame.url());
    });
    const version = await page.locator('#live').getAttribute('data-version');
    await focal.ask('nhiệm vụ 1 đã xong', hasText('Đã ghi nhận'));
    await page.locator(`#live:not([data-version="${version ?? ''}"])`).waitFor();
    await page.locator('tr[data-task="QT"] td[data-col="done"]', { hasText: '1' }).waitFor();
    await page.locator('[data-stat="reported"]', { hasText: '1' }).waitFor();
    expect(navigations).toEqual([]);
  }, 90_000);

  it('shows a leader the campaign with no control to change it, and refuses a forged POST (403)', async () => {
    await signOut();
    await signIn('CB-CHUTICH');
    expect(await page.getByRole('link', { name: 'Tạo phong trào', exact: true }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Mã API' }).count()).toBe(0);
    const dashboard = await page.goto(campaignUrl);
    expect(dashboard?.status()).toBe(200);
    await page.getByRole('heading', { name: new RegExp(DOC) }).waitFor();
    for (const name of ['Sửa phong trào', 'Phát động…', 'Kết thúc phong trào…'])
      expect(await page.getByRole('link', { name }).count()).toBe(0);
    expect(await page.locator('form[action*="/campaigns"]').count()).toBe(0);
    const statuses = await page.evaluate<number[]>(`(async () => {
      const token = document.querySelector('input[name="_csrf"]').value;
      const post = (url) => fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: token }),
      }).then((response) => response.status);
      return [await post('${campaignUrl}/close'), await post('${campaignUrl}/edit'), await post('/console/campaigns')];
    })()`);
    expect(statuses).toEqual([403, 403, 403]);
    expect((await page.goto(`${campaignUrl}/edit`))?.status()).toBe(403);
    await page.goto(campaignUrl);
    await page.getByText('Đang triển khai').first().waitFor();
  }, 60_000);

  it('gives a leader of another district 404 for the campaign; a change page says nothing of what exists', async () => {
    await signOut();
    await signIn('CB-PT');
    expect(await page.getByText(DOC).count()).toBe(0);
    for (const path of ['', '?unit=TD-BINHLU'])
      expect((await page.goto(`${campaignUrl}${path}`))?.status()).toBe(404);
    expect(await page.getByText(DOC).count()).toBe(0);
    // A leader changes nothing anywhere: refused before anything is looked up, as for a campaign that is not.
    const unknown = `${service.url}/console/campaigns/0193a6a0-0000-7000-8000-000000000000/edit`;
    expect((await page.goto(unknown))?.status()).toBe(403);
    expect((await page.goto(`${campaignUrl}/edit`))?.status()).toBe(403);
    expect(await page.getByText(DOC).count()).toBe(0);
  }, 60_000);

  it('deactivates an official: the reminders that follow leave their chat out, and the audit downloads as a workbook', async () => {
    await signOut();
    await signIn('CB-ADMIN');
    await page.getByRole('link', { name: 'Cán bộ', exact: true }).click();
    await page.getByRole('link', { name: 'Ngừng hoạt động tài khoản của Lý Thị Thu' }).click();
    await page.getByRole('heading', { name: /Ngừng hoạt động: Lý Thị Thu/ }).waitFor();
    await page.getByText('Các cuộc trò chuyện đang liên kết (Telegram) bị hủy liên kết').waitFor();
    if (process.env.E2E_DEBUG) await page.screenshot({ path: '/tmp/console-deactivate.png', fullPage: true });
    await page.getByRole('button', { name: 'Ngừng hoạt động', exact: true }).click();
    await page.getByText('Đã ngừng hoạt động: mọi cuộc trò chuyện của cán bộ đã được hủy liên kết').waitFor();
    if (process.env.E2E_DEBUG) await page.screenshot({ path: '/tmp/console-official.png', fullPage: true });

    // Three days before task NV3 is due, both communes are reminded of it: only the one still active is.
    const stopped = chat('CB-BANGIANG');
    const active = chat('CB-BINHLU');
    await stopped.drain();
    await active.drain();
    const stoppedBefore = stopped.received.length;
    const activeBefore = active.received.length;
    const run = await service.api<{ sent: number; messages: { kind: string; to: string }[] }>(
      'POST',
      '/api/jobs/reminders/run',
      { at: '2027-02-25T07:30:00+07:00' },
    );
    expect(run.status).toBe(200);
    const recipients = run.body.messages.map((message) => message.to);
    expect(recipients).toContain('CB-BINHLU');
    expect(recipients).not.toContain('CB-BANGIANG');
    await active.waitFor('the reminder', hasText('Nhắc việc'), { after: activeBefore });
    // Their chat is unlinked: what they write is answered as from a stranger, and nothing came before it
    // (messages to one chat go out in the order they were written).
    await stopped.ask('đã xong', hasText('chưa được liên kết'));
    expect(stopped.received.slice(stoppedBefore).map((message) => message.text)).toEqual([
      'Tài khoản này chưa được liên kết với cán bộ nào.\nHãy gửi /start MÃ với mã liên kết do cơ quan thường trực cấp.',
    ]);

    await page.getByRole('link', { name: 'Nhật ký', exact: true }).click();
    await page.getByLabel('Người thực hiện (mã cán bộ hoặc tên mã API)').fill('CB-ADMIN');
    await page.getByRole('button', { name: 'Lọc', exact: true }).click();
    await page.getByText('Ngừng hoạt động cán bộ').first().waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Tải Excel' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^nhat-ky-\d{8}-\d{4}\.xlsx$/);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load((await readFile(await download.path())) as unknown as ArrayBuffer);
    const sheet = book.getWorksheet('Nhật ký thay đổi');
    const rows: string[][] = [];
    sheet?.eachRow((row, number) => {
      if (number === 1) return;
      const cells: string[] = [];
      for (let column = 1; column <= row.cellCount; column++) cells.push(row.getCell(column).text);
      rows.push(cells);
    });
    expect(new Set(rows.map((row) => row[3]))).toEqual(new Set(['CB-ADMIN']));
    const deactivation = rows.find((row) => row[5] === 'official.deactivate');
    expect(deactivation).toMatchObject({ 4: 'Ngừng hoạt động cán bộ', 7: 'CB-BANGIANG' });
    expect(rows.map((row) => row[5])).toContain('campaign.launch');
  }, 90_000);
});
