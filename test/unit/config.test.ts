import { describe, expect, it } from 'vitest';
import { ConfigError, DEMO_ADMIN_TOKEN, loadConfig } from '../../src/config.ts';

describe('loadConfig', () => {
  it('runs in demo mode with the defaults of PRODUCT.md when nothing is set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      databaseUrl: 'postgresql://postgres@127.0.0.1:5432/thidua',
      redisUrl: 'redis://127.0.0.1:6379/0',
      port: 3000,
      host: '0.0.0.0',
      timeZone: 'Asia/Ho_Chi_Minh',
      demo: true,
      role: 'all',
      adminApiToken: DEMO_ADMIN_TOKEN,
      telegram: { mode: 'polling' },
    });
  });

  it("sends at Telegram's free rate unless told to pay for broadcasts", () => {
    expect(loadConfig({ TELEGRAM_BOT_TOKEN: 't' }).telegram?.maxPerSecond).toBe(30);
    expect(
      loadConfig({ TELEGRAM_BOT_TOKEN: 't', TELEGRAM_MAX_PER_SECOND: '500' }).telegram?.maxPerSecond,
    ).toBe(500);
  });

  it('polls without PUBLIC_URL and uses a webhook with it', () => {
    expect(loadConfig({ TELEGRAM_BOT_TOKEN: 't', ADMIN_API_TOKEN: 'a' }).telegram?.mode).toBe('polling');
    const webhook = loadConfig({
      TELEGRAM_BOT_TOKEN: 't',
      PUBLIC_URL: 'https://bot.example.gov.vn/',
      TELEGRAM_WEBHOOK_SECRET: 's3cret',
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
  ])('stops with one line naming the variable: %j', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid configuration: ${name} `));
  });

  it('takes the role from the first argument, then ROLE', () => {
    expect(loadConfig({ ROLE: 'worker' }).role).toBe('worker');
    expect(loadConfig({ ROLE: 'worker' }, ['web']).role).toBe('web');
    expect(() => loadConfig({}, ['everything'])).toThrow(/Invalid role/);
  });
});
