import { describe, expect, it } from 'vitest';
import { ConfigError, configuredSecrets, DEMO_ADMIN_TOKEN, loadConfig } from '../../src/config.ts';

const KEY = Buffer.alloc(32, 3).toString('base64');

describe('loadConfig', () => {
  it('runs in demo mode with the defaults of PRODUCT.md when nothing is set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      // The demo keeps its data apart: its own database unless DATABASE_URL names one.
      databaseUrl: 'postgresql://postgres@127.0.0.1:5432/thidua_demo',
      databaseUrlFromEnvironment: false,
      redisUrl: 'redis://127.0.0.1:6379/0',
      port: 3000,
      host: '0.0.0.0',
      timeZone: 'Asia/Ho_Chi_Minh',
      demo: true,
      role: 'all',
      adminApiToken: DEMO_ADMIN_TOKEN,
      telegram: { mode: 'polling' },
      adminTokenFromEnvironment: false,
      retention: { messageDays: 30, inboundTextDays: 90, linkCodeDays: 30 },
    });
  });

  it('uses thidua outside demo mode and DATABASE_URL whenever it is set', () => {
    expect(loadConfig({ TELEGRAM_BOT_TOKEN: 't' }).databaseUrl).toBe(
      'postgresql://postgres@127.0.0.1:5432/thidua',
    );
    const url = 'postgresql://postgres@db.internal:5432/tdkt';
    expect(loadConfig({ DATABASE_URL: url })).toMatchObject({
      databaseUrl: url,
      databaseUrlFromEnvironment: true,
    });
  });

  it("sends at Telegram's free rate unless told to pay for broadcasts", () => {
    expect(loadConfig({ TELEGRAM_BOT_TOKEN: 't' }).telegram?.maxPerSecond).toBe(30);
    expect(
      loadConfig({ TELEGRAM_BOT_TOKEN: 't', TELEGRAM_MAX_PER_SECOND: '500' }).telegram?.maxPerSecond,
    ).toBe(500);
  });

  it('polls without PUBLIC_URL and uses a webhook with it', () => {
    expect(loadConfig({ TELEGRAM_BOT_TOKEN: 't', ADMIN_API_TOKEN: 'a'.repeat(16) }).telegram?.mode).toBe(
      'polling',
    );
    const webhook = loadConfig({
      TELEGRAM_BOT_TOKEN: 't',
      PUBLIC_URL: 'https://bot.example.gov.vn/',
      TELEGRAM_WEBHOOK_SECRET: 's3cret-s3cret-s3cret',
    });
    expect(webhook.telegram?.mode).toBe('webhook');
    expect(webhook.publicUrl).toBe('https://bot.example.gov.vn');
    expect(webhook.adminApiToken).toBeUndefined();
    expect(webhook.demo).toBe(false);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ TZ_DEFAULT: 'Mars/Olympus' }, 'TZ_DEFAULT'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ TELEGRAM_BOT_TOKEN: 't', PUBLIC_URL: 'https://x.vn' }, 'TELEGRAM_WEBHOOK_SECRET'],
    [{ TELEGRAM_BOT_TOKEN: 't', TELEGRAM_MODE: 'webhook' }, 'PUBLIC_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ TELEGRAM_BOT_TOKEN: 't', TELEGRAM_MAX_PER_SECOND: '0' }, 'TELEGRAM_MAX_PER_SECOND'],
    [{ TELEGRAM_BOT_TOKEN: 't', TELEGRAM_MAX_PER_SECOND: '5000' }, 'TELEGRAM_MAX_PER_SECOND'],
    // Weak secrets: anything a person chose must be at least 16 characters.
    [{ TELEGRAM_BOT_TOKEN: 't', ADMIN_API_TOKEN: 'admin-token' }, 'ADMIN_API_TOKEN'],
    [{ ADMIN_API_TOKEN: '123456789012345' }, 'ADMIN_API_TOKEN'],
    [{ ADMIN_API_TOKEN: 'sixteen chars ok' }, 'ADMIN_API_TOKEN'],
    [
      { TELEGRAM_BOT_TOKEN: 't', PUBLIC_URL: 'https://x.vn', TELEGRAM_WEBHOOK_SECRET: 'short-secret' },
      'TELEGRAM_WEBHOOK_SECRET',
    ],
    [
      { ZALO_BOT_TOKEN: 't', PUBLIC_URL: 'https://x.vn', ZALO_BOT_WEBHOOK_SECRET: '0123456789abcde' },
      'ZALO_BOT_WEBHOOK_SECRET',
    ],
    [{ METRICS_TOKEN: 'metrics' }, 'METRICS_TOKEN'],
    [{ FILES_URL_SECRET: 'files' }, 'FILES_URL_SECRET'],
    // SECRETS_KEY is 32 bytes in base64, and an OA cannot start without it.
    [{ SECRETS_KEY: 'not-base64!' }, 'SECRETS_KEY'],
    [{ SECRETS_KEY: Buffer.alloc(16).toString('base64') }, 'SECRETS_KEY'],
    [{ SECRETS_KEY_PREVIOUS: KEY }, 'SECRETS_KEY'],
    [{ ZALO_OA_APP_ID: '1', ZALO_OA_SECRET_KEY: 'k', ZALO_OA_REFRESH_TOKEN: 'r' }, 'SECRETS_KEY'],
    [{ ZALO_SITE_VERIFICATION: '"><script>' }, 'ZALO_SITE_VERIFICATION'],
    [{ RETENTION_MESSAGE_DAYS: '0' }, 'RETENTION_MESSAGE_DAYS'],
  ])('stops with one line naming the variable: %j', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid configuration: ${name} `));
  });

  it('accepts secrets of 16 characters and more', () => {
    const config = loadConfig({
      TELEGRAM_BOT_TOKEN: 't',
      PUBLIC_URL: 'https://x.vn',
      ADMIN_API_TOKEN: 'a'.repeat(16),
      TELEGRAM_WEBHOOK_SECRET: 'b'.repeat(16),
      METRICS_TOKEN: 'c'.repeat(16),
    });
    expect(config).toMatchObject({ adminApiToken: 'a'.repeat(16), metricsToken: 'c'.repeat(16) });
    expect(config.telegram?.webhookSecret).toBe('b'.repeat(16));
    expect(config.adminTokenFromEnvironment).toBe(true);
  });

  it('hashes link codes with a key derived from SECRETS_KEY, still accepting the admin-token key', () => {
    const withToken = loadConfig({ TELEGRAM_BOT_TOKEN: 't', ADMIN_API_TOKEN: 'a'.repeat(16) });
    const withKey = loadConfig({
      TELEGRAM_BOT_TOKEN: 't',
      ADMIN_API_TOKEN: 'a'.repeat(16),
      SECRETS_KEY: KEY,
    });
    expect(withToken.linkCodeKeys?.current).toHaveLength(32);
    expect(withKey.linkCodeKeys?.current.equals(withToken.linkCodeKeys?.current ?? Buffer.alloc(0))).toBe(
      false,
    );
    expect(withKey.linkCodeKeys?.previous).toContainEqual(withToken.linkCodeKeys?.current);
    // Neither key is the secret it comes from.
    expect(withKey.linkCodeKeys?.current.toString('base64')).not.toBe(KEY);
    expect(loadConfig({ TELEGRAM_BOT_TOKEN: 't' }).linkCodeKeys).toBeUndefined();
  });

  it('names every secret it holds, for the logger to mask', () => {
    const config = loadConfig({
      TELEGRAM_BOT_TOKEN: '123456:telegram-token-value',
      ADMIN_API_TOKEN: 'admin-token-0123456789',
      METRICS_TOKEN: 'metrics-token-0123456789',
      SECRETS_KEY: KEY,
    });
    expect(configuredSecrets(config)).toEqual(
      expect.arrayContaining([
        '123456:telegram-token-value',
        'admin-token-0123456789',
        'metrics-token-0123456789',
        KEY,
      ]),
    );
  });

  it('takes the role from the first argument, then ROLE', () => {
    expect(loadConfig({ ROLE: 'worker' }).role).toBe('worker');
    expect(loadConfig({ ROLE: 'worker' }, ['web']).role).toBe('web');
    expect(() => loadConfig({}, ['everything'])).toThrow(/Invalid role/);
  });
});
