import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZaloBotChannel } from '../../src/channels/zalo/bot-api.ts';
import { PHOTO_TIMEOUT_MS } from '../../src/channels/zalo/http.ts';
import { createZaloOaChannel } from '../../src/channels/zalo/oa.ts';
import type { Db } from '../../src/db/client.ts';
import { createLogger } from '../../src/logger.ts';
import { SecretBox } from '../../src/secret-box.ts';
import { withTestDb } from '../support/db.ts';
import { freePort } from '../support/ports.ts';
import { FakeZaloBot } from '../support/zalo-bot.ts';
import { FakeZaloOa } from '../support/zalo-oa.ts';

/**
 * Zalo against the fakes of test/support: the OA's tokens are kept sealed with SECRETS_KEY (rows kept in
 * the clear are sealed at start, a rotated key still opens the old ones, a wrong key stops start-up), the
 * OA's -124 refreshes the token, and a picture Zalo is slow to fetch is waited for and never sent twice.
 */
const APP_ID = '4321098765432109000';
const KEY_A = Buffer.alloc(32, 0xa1);
const KEY_B = Buffer.alloc(32, 0xb2);
const logger = createLogger('silent');
let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let oa: FakeZaloOa;

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  oa = await FakeZaloOa.start(APP_ID, 'app-secret-0123456789', 'oa-secret-0123456789');
});

afterAll(async () => {
  await oa?.stop();
  await testDb?.close();
});

function channel(
  pair: { accessToken: string; refreshToken: string },
  keys: { current: Buffer; previous?: Buffer[] },
) {
  return createZaloOaChannel({
    appId: APP_ID,
    secretKey: oa.oaSecretKey,
    appSecret: oa.appSecret,
    accessToken: pair.accessToken,
    refreshToken: pair.refreshToken,
    apiRoot: oa.url,
    oauthRoot: oa.url,
    secretsKeys: { current: keys.current, previous: keys.previous ?? [] },
    db,
    logger,
  });
}

const stored = async () => {
  const [row] = await db.$queryRaw<{ accessToken: string; refreshToken: string; text: string }[]>`
    SELECT "accessToken", "refreshToken", t::text AS text FROM "ZaloOaToken" t WHERE "appId" = ${APP_ID}`;
  if (!row) throw new Error('no token row');
  return row;
};

describe('Zalo OA tokens in the database', () => {
  it('are kept sealed: no row holds a token in the clear', async () => {
    const pair = oa.issue();
    const oaChannel = channel(pair, { current: KEY_A });
    await oaChannel.prepare();
    await oaChannel.send('1000000000000000001', { text: 'xin chào' });
    const row = await stored();
    expect(row.accessToken).toMatch(/^enc:v1:/);
    expect(row.refreshToken).toMatch(/^enc:v1:/);
    // Neither the pair from the environment nor the refreshed pair appears anywhere in the row.
    const latest = oa.refreshes.at(-1);
    expect(latest?.ok).toBe(true);
    for (const token of [pair.accessToken, pair.refreshToken]) expect(row.text).not.toContain(token);
    expect(row.text).not.toMatch(/at-[0-9a-f]{16}|rt-[0-9a-f]{16}/);
  });

  it('seals a pair an earlier version kept in the clear, without spending its refresh token', async () => {
    const pair = oa.issue();
    await db.$executeRaw`
      UPDATE "ZaloOaToken" SET "accessToken" = ${pair.accessToken}, "refreshToken" = ${pair.refreshToken},
        "expiresAt" = now() + interval '20 hours', "seededFrom" = ${createHash('sha256').update(pair.refreshToken).digest('hex')},
        "failedAt" = NULL, "lastError" = NULL
      WHERE "appId" = ${APP_ID}`;
    const refreshes = oa.refreshes.length;
    const oaChannel = channel(pair, { current: KEY_A });
    await oaChannel.prepare();
    const row = await stored();
    expect(row.text).not.toContain(pair.accessToken);
    expect(row.text).not.toContain(pair.refreshToken);
    await oaChannel.send('1000000000000000002', { text: 'vẫn dùng được' });
    expect(oa.refreshes.length).toBe(refreshes);
    expect(oa.sentTo('1000000000000000002')).toHaveLength(1);
  });

  it('opens a pair sealed with SECRETS_KEY_PREVIOUS and seals it again with SECRETS_KEY', async () => {
    const before = await stored();
    // The environment still holds the refresh token it was started with, so the stored pair is kept.
    const sameSeed = channel(
      {
        accessToken: 'ignored',
        refreshToken: new SecretBox(KEY_A).open(before.refreshToken, `ZaloOaToken.refreshToken:${APP_ID}`)
          .plain,
      },
      { current: KEY_B, previous: [KEY_A] },
    );
    await sameSeed.prepare();
    const after = await stored();
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(() =>
      new SecretBox(KEY_B).open(after.refreshToken, `ZaloOaToken.refreshToken:${APP_ID}`),
    ).not.toThrow();
    await sameSeed.send('1000000000000000003', { text: 'khóa mới' });
    expect(oa.sentTo('1000000000000000003')).toHaveLength(1);
  });

  it('refuses to start with a key that opens none of them', async () => {
    const row = await stored();
    const refresh = new SecretBox(KEY_B).open(row.refreshToken, `ZaloOaToken.refreshToken:${APP_ID}`).plain;
    const wrong = channel({ accessToken: 'x', refreshToken: refresh }, { current: KEY_A });
    await expect(wrong.prepare()).rejects.toThrow(/SECRETS_KEY/);
    expect(await stored()).toEqual(row);
  });
});

describe('the OA answering -124 (access token invalid)', () => {
  it('refreshes the token and sends again, once', async () => {
    const row = await stored();
    const refresh = new SecretBox(KEY_B).open(row.refreshToken, `ZaloOaToken.refreshToken:${APP_ID}`).plain;
    const oaChannel = channel({ accessToken: 'x', refreshToken: refresh }, { current: KEY_B });
    await oaChannel.prepare();
    await oaChannel.send('1000000000000000004', { text: 'trước' });
    const refreshes = oa.refreshes.length;
    oa.inject('1000000000000000004', { error: -124, message: 'Access token is invalid' });
    await oaChannel.send('1000000000000000004', { text: 'sau' });
    expect(oa.refreshes.length).toBe(refreshes + 1);
    expect(oa.sentTo('1000000000000000004').map((message) => message.text)).toEqual(['trước', 'sau']);
  });
});

describe('a picture Zalo is slow to fetch', () => {
  let bot: FakeZaloBot;

  beforeAll(async () => {
    bot = await FakeZaloBot.start('12345689:photo-test');
  });

  afterAll(async () => {
    await bot?.stop();
  });

  const zalo = (photoTimeoutMs?: number) =>
    new ZaloBotChannel({
      token: '12345689:photo-test',
      apiRoot: bot.url,
      mode: 'polling',
      webhookSecret: undefined,
      publicUrl: undefined,
      logger,
      ...(photoTimeoutMs ? { photoTimeoutMs } : {}),
    });

  it('is waited for well beyond the 15 s of other calls (150 s)', async () => {
    expect(PHOTO_TIMEOUT_MS).toBe(150_000);
    bot.photoDelayMs = 16_000;
    await zalo().sendPhotoLink('chat-slow', 'https://bot.example.gov.vn/files/a.png', { text: 'Biểu đồ' });
    expect(bot.photos.filter((photo) => photo.chatId === 'chat-slow')).toHaveLength(1);
  }, 30_000);

  it('that times out is taken as sent: no error to retry on, so it is never sent twice', async () => {
    bot.photoDelayMs = 3_000;
    await expect(
      zalo(300).sendPhotoLink('chat-timeout', 'https://bot.example.gov.vn/files/b.png', { text: 'Biểu đồ' }),
    ).resolves.toBeUndefined();
    expect(bot.photos.filter((photo) => photo.chatId === 'chat-timeout')).toHaveLength(1);
  });

  it('that never reached Zalo fails, to be retried', async () => {
    const closed = new ZaloBotChannel({
      token: '12345689:photo-test',
      apiRoot: `http://127.0.0.1:${await freePort()}`,
      mode: 'polling',
      webhookSecret: undefined,
      publicUrl: undefined,
      logger,
    });
    await expect(
      closed.sendPhotoLink('chat-x', 'https://bot.example.gov.vn/files/c.png', { text: 'x' }),
    ).rejects.toThrow();
  });
});
