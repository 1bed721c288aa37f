import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { freePort } from '../support/ports.ts';
import { startService, type ServiceProcess } from '../support/service.ts';

/**
 * The demo chat page in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core):
 * the service runs in demo mode as a child process with its in-process Telegram emulator, and a person
 * links, acknowledges the launch and reports status by clicking through the page.
 */
const CHROMIUM = '/usr/bin/chromium';
const STEP_MS = 20_000;

let database: TestDatabase;
let service: ServiceProcess;
let browser: BrowserContext;
let profile: string;

beforeAll(async () => {
  database = await createTestDatabase();
  service = await startService({
    DATABASE_URL: database.url,
    DEMO_TELEGRAM_PORT: String(await freePort()),
  });
  profile = await mkdtemp(join(tmpdir(), 'demo-chromium-'));
  // A fresh profile directory: playwright passes it as --user-data-dir.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    viewport: { width: 1100, height: 760 },
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
}, 90_000);

afterAll(async () => {
  await browser?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
  await service?.stop();
  if (process.env.E2E_DEBUG) process.stdout.write(service?.output() ?? '');
  await database?.drop();
});

async function openAs(name: string): Promise<Page> {
  const page = await browser.newPage();
  page.setDefaultTimeout(STEP_MS);
  await page.goto(`${service.url}/demo`);
  await page.locator('.official', { hasText: name }).click();
  return page;
}

const botMessage = (page: Page, text: string) => page.locator('.msg.bot', { hasText: text });

describe('the demo chat page', () => {
  it('links a focal official, acknowledges the launch and reports a status by clicking', async () => {
    const page = await openAs('Nguyễn Văn Thành');
    await page.locator('#chat-title', { hasText: 'Phòng Nội vụ huyện Tam Đường' }).waitFor();

    // Picking an unlinked official sends /start with a fresh code.
    await botMessage(page, 'Đã liên kết').waitFor();
    const launch = botMessage(page, 'PHÁT ĐỘNG THI ĐUA');
    await launch.waitFor();
    // The HTML subset is rendered as elements, not shown as tags.
    expect(await launch.locator('b', { hasText: '01/KH-UBND' }).count()).toBe(1);
    expect(await launch.textContent()).not.toContain('<b>');

    await launch.getByRole('button', { name: '👍 Đã nhận' }).click();
    await botMessage(page, 'đã nhận kế hoạch').waitFor();
    await page.locator('.msg.press', { hasText: '👍 Đã nhận' }).waitFor();

    await page.locator('#quick').getByRole('button', { name: '/baocao' }).click();
    const question = botMessage(page, 'Quán triệt').filter({
      has: page.getByRole('button', { name: '✅ Hoàn thành' }),
    });
    await question.first().getByRole('button', { name: '✅ Hoàn thành' }).click();
    await botMessage(page, 'Đã ghi nhận').first().waitFor();

    // Free text goes through the composer, and the bot answers it.
    await page.locator('#text').fill('đang triển khai 60%');
    await page.locator('#send').click();
    const typed = '.msg.user:has-text("đang triển khai 60%")';
    await page
      .locator(`${typed} ~ .msg.bot:has-text("Đã ghi nhận")`)
      .or(page.locator(`${typed} ~ .msg.bot:has-text("nhiệm vụ nào")`))
      .first()
      .waitFor();

    await page.locator('.official', { hasText: 'Nguyễn Văn Thành' }).locator('.badge.linked').waitFor();
    await page.screenshot({ path: 'docs/demo.png', type: 'png' });
    await page.close();
  }, 120_000);

  it('lets a second tab be the leader asking /tonghop', async () => {
    const page = await openAs('Sùng Lữ Páo');
    await botMessage(page, 'Đã liên kết').waitFor();
    await page.locator('#text').fill('/tonghop');
    await page.locator('#text').press('Enter');
    await botMessage(page, 'TỔNG HỢP').waitFor();
    await page.close();
  }, 60_000);

  it('renders only <b> and <i> from the bot and escapes everything else', async () => {
    const page = await browser.newPage();
    await page.goto(`${service.url}/demo`);
    const source =
      '<b>bold</b> <i>it</i> <img src=x onerror="alert(1)"> &lt;script&gt;x&lt;/script&gt; </b> <a href="javascript:alert(1)">a</a>';
    // The page's own renderer, run in the page (a string: this project's TypeScript has no DOM types).
    const html = await page.evaluate<{ html: string; elements: string[] }>(`(() => {
      const target = window.demoRenderBotHtml(document.createElement('div'), ${JSON.stringify(source)});
      return { html: target.innerHTML, elements: [...target.querySelectorAll('*')].map((node) => node.localName) };
    })()`);
    expect(html.elements).toEqual(['b', 'i']);
    expect(html.html).toContain('&lt;img src=x onerror="alert(1)"&gt;');
    expect(html.html).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(html.html).toContain('&lt;a href="javascript:alert(1)"&gt;');
    await page.close();
  });

  it('answers the page API with 404 for a chat that is not a sample official', async () => {
    const response = await fetch(`${service.url}/demo/api/chats/5/messages`);
    expect(response.status).toBe(404);
  });
});
