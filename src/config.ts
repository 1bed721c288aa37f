import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { parseSecretsKey } from './secret-box.ts';

/** Roles a process can run; `all` runs every one of them in one process. */
export const ROLES = ['all', 'web', 'worker', 'scheduler'] as const;
export type Role = (typeof ROLES)[number];

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const urlString = z.string().trim().url();

/** A secret someone chose (tokens, webhook secrets): short ones are guessable. */
const chosenSecret = (rule: RegExp, message: string) =>
  optionalString.pipe(z.string().regex(rule, message).optional());

const secretsKey = optionalString.pipe(
  z
    .string()
    .refine((value) => {
      try {
        parseSecretsKey(value);
        return true;
      } catch {
        return false;
      }
    }, '32 random bytes in base64 (e.g. openssl rand -base64 32)')
    .optional(),
);

const days = (fallback: number) => z.coerce.number().int().min(1).max(3650).default(fallback);

const schema = z
  .object({
    DATABASE_URL: optionalString.pipe(urlString.optional()),
    REDIS_URL: urlString.default('redis://127.0.0.1:6379/0'),
    QUEUE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')
      .default('thidua'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().min(1).default('0.0.0.0'),
    PUBLIC_URL: optionalString.pipe(urlString.optional()),
    ADMIN_API_TOKEN: chosenSecret(/^\S{16,}$/, 'at least 16 characters, no spaces'),
    METRICS_TOKEN: chosenSecret(/^\S{16,}$/, 'at least 16 characters, no spaces'),
    SECRETS_KEY: secretsKey,
    SECRETS_KEY_PREVIOUS: secretsKey,
    TRUST_PROXY: optionalString.pipe(
      z
        .string()
        .regex(/^(true|false|\d{1,2}|[0-9a-fA-F.:/, ]+)$/, 'true, false, a hop count or addresses')
        .optional(),
    ),
    ZALO_SITE_VERIFICATION: optionalString.pipe(
      z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,200}$/, 'the code Zalo gives, letters, digits, _ and -')
        .optional(),
    ),
    RETENTION_MESSAGE_DAYS: days(30),
    RETENTION_INBOUND_TEXT_DAYS: days(90),
    RETENTION_LINK_CODE_DAYS: days(30),
    WEBHOOK_RETRY_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
    WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
    FILES_URL_SECRET: optionalString.pipe(z.string().min(16, 'at least 16 characters').optional()),
    TZ_DEFAULT: z
      .string()
      .default('Asia/Ho_Chi_Minh')
      .refine((zone) => {
        try {
          new Intl.DateTimeFormat('en', { timeZone: zone });
          return true;
        } catch {
          return false;
        }
      }, 'not a known IANA time zone'),
    TELEGRAM_BOT_TOKEN: optionalString,
    TELEGRAM_API_ROOT: urlString.default('https://api.telegram.org'),
    TELEGRAM_MODE: z.enum(['webhook', 'polling']).optional(),
    // Telegram's free bulk rate; above it the bot pays per message (allow_paid_broadcast, up to 1,000/s).
    TELEGRAM_MAX_PER_SECOND: z.coerce.number().int().min(1).max(1000).default(30),
    TELEGRAM_WEBHOOK_SECRET: chosenSecret(
      /^[A-Za-z0-9_-]{16,256}$/,
      '16-256 characters of A-Z, a-z, 0-9, _ and -',
    ),
    DEMO_TELEGRAM_PORT: z.coerce.number().int().min(0).max(65535).default(9001),
    ZALO_BOT_TOKEN: optionalString,
    ZALO_BOT_API_ROOT: urlString.default('https://bot-api.zaloplatforms.com'),
    ZALO_BOT_MODE: z.enum(['webhook', 'polling']).optional(),
    ZALO_BOT_WEBHOOK_SECRET: chosenSecret(/^[\x21-\x7e]{16,256}$/, '16-256 visible ASCII characters'),
    ZALO_OA_APP_ID: optionalString,
    ZALO_OA_SECRET_KEY: optionalString,
    ZALO_OA_APP_SECRET: optionalString,
    ZALO_OA_ACCESS_TOKEN: optionalString,
    ZALO_OA_REFRESH_TOKEN: optionalString,
    ZALO_OA_API_ROOT: urlString.default('https://openapi.zalo.me'),
    ZALO_OA_OAUTH_ROOT: urlString.default('https://oauth.zaloapp.com'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    ROLE: z.enum(ROLES).optional(),
  })
  .superRefine((env, ctx) => {
    const zaloMode = env.ZALO_BOT_MODE ?? (env.PUBLIC_URL ? 'webhook' : 'polling');
    if (env.ZALO_BOT_TOKEN && zaloMode === 'webhook') {
      if (!env.PUBLIC_URL?.startsWith('https://'))
        ctx.addIssue({
          code: 'custom',
          path: ['PUBLIC_URL'],
          message: 'must be an https URL for the Zalo Bot webhook',
        });
      if (!env.ZALO_BOT_WEBHOOK_SECRET)
        ctx.addIssue({
          code: 'custom',
          path: ['ZALO_BOT_WEBHOOK_SECRET'],
          message: 'is required in webhook mode',
        });
    }
    if (env.ZALO_OA_APP_ID) {
      // The OA's tokens are kept in the database, encrypted with SECRETS_KEY.
      for (const name of ['ZALO_OA_SECRET_KEY', 'ZALO_OA_REFRESH_TOKEN', 'SECRETS_KEY'] as const)
        if (!env[name])
          ctx.addIssue({ code: 'custom', path: [name], message: 'is required with ZALO_OA_APP_ID' });
    } else {
      for (const name of [
        'ZALO_OA_SECRET_KEY',
        'ZALO_OA_APP_SECRET',
        'ZALO_OA_ACCESS_TOKEN',
        'ZALO_OA_REFRESH_TOKEN',
      ] as const)
        if (env[name])
          ctx.addIssue({ code: 'custom', path: ['ZALO_OA_APP_ID'], message: `is required with ${name}` });
    }
    if (env.SECRETS_KEY_PREVIOUS && !env.SECRETS_KEY)
      ctx.addIssue({
        code: 'custom',
        path: ['SECRETS_KEY'],
        message: 'is required with SECRETS_KEY_PREVIOUS',
      });
    const telegramMode = env.TELEGRAM_MODE ?? (env.PUBLIC_URL ? 'webhook' : 'polling');
    if (env.TELEGRAM_BOT_TOKEN && telegramMode === 'webhook') {
      if (!env.PUBLIC_URL)
        ctx.addIssue({ code: 'custom', path: ['PUBLIC_URL'], message: 'is required in webhook mode' });
      if (!env.TELEGRAM_WEBHOOK_SECRET)
        ctx.addIssue({
          code: 'custom',
          path: ['TELEGRAM_WEBHOOK_SECRET'],
          message: 'is required in webhook mode',
        });
    }
  });

/** Every environment variable the service reads (deployment files are checked against it). */
export const ENV_VARIABLES: readonly string[] = Object.keys(schema.shape);

/** How long personal data is kept before the retention job purges it (days). */
export interface RetentionPolicy {
  /** Bodies of messages sent (or failed) this long ago. */
  messageDays: number;
  /** The words people typed (a report's source text) this long ago. */
  inboundTextDays: number;
  /** Link codes this long after they expired or were used. */
  linkCodeDays: number;
}

/** A current key and the keys it replaced, still accepted while they may be in use. */
export interface KeyRing {
  current: Buffer;
  previous: Buffer[];
}

export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/thidua';
/** Demo mode's own database when DATABASE_URL is not set: the demo never writes into the real one. */
export const DEMO_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/thidua_demo';

export interface Config {
  databaseUrl: string;
  /** False when DATABASE_URL was not set (the default, or the demo's own database, is used). */
  databaseUrlFromEnvironment: boolean;
  redisUrl: string;
  queuePrefix: string;
  port: number;
  host: string;
  publicUrl: string | undefined;
  adminApiToken: string | undefined;
  /** True when ADMIN_API_TOKEN came from the environment: then it is never printed. */
  adminTokenFromEnvironment: boolean;
  /** When set, /metrics needs it as a bearer token. */
  metricsToken: string | undefined;
  /** SECRETS_KEY (and SECRETS_KEY_PREVIOUS): encrypt platform tokens kept in the database. */
  secretsKeys: KeyRing | undefined;
  /**
   * Link codes are stored as HMAC-SHA256 under these (derived from SECRETS_KEY, else from the admin token),
   * so a copy of the database alone does not let anyone try all 5.9e14 codes; undefined: none can be issued.
   */
  linkCodeKeys: KeyRing | undefined;
  /** Fastify's trustProxy: whose X-Forwarded-For to believe for the caller's address. */
  trustProxy: boolean | number | string[];
  /** The content of Zalo's domain-verification meta tag served at `/`. */
  zaloSiteVerification: string | undefined;
  retention: RetentionPolicy;
  /**
   * Recorded webhook updates (src/channels/inbox.ts): one not handled within `retryAfterMs` is taken again by
   * a sweep, with backoff; after `maxAttempts` failed attempts it is left for an operator.
   */
  webhookInbox: { retryAfterMs: number; maxAttempts: number };
  /**
   * Signs the public links of chart pictures and workbooks (/files/…) for channels that fetch media by URL
   * (Zalo); undefined when there is neither FILES_URL_SECRET nor an admin token to derive it from.
   */
  filesUrlSecret: string | undefined;
  timeZone: string;
  demo: boolean;
  role: Role;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  telegram:
    | {
        token: string;
        apiRoot: string;
        mode: 'webhook' | 'polling';
        webhookSecret: string | undefined;
        /** Messages per second for the whole bot; above 30 they are sent as paid broadcasts. */
        maxPerSecond: number;
      }
    | undefined;
  demoTelegramPort: number;
  zaloBot:
    | {
        token: string;
        apiRoot: string;
        mode: 'webhook' | 'polling';
        webhookSecret: string | undefined;
      }
    | undefined;
  zaloOa:
    | {
        appId: string;
        /** The OA secret key: signs the webhook. */
        secretKey: string;
        /** The app's secret key: authenticates token refreshes (defaults to secretKey). */
        appSecret: string;
        accessToken: string | undefined;
        refreshToken: string;
        apiRoot: string;
        oauthRoot: string;
      }
    | undefined;
}

export class ConfigError extends Error {}

/** The demo bot's token: any string of the right shape works against the local emulator. */
export const DEMO_TELEGRAM_TOKEN = '100000001:DEMO-thidua-bot';
export const DEMO_ADMIN_TOKEN = 'demo-admin-token';

/** Reads the environment once. Nothing else in the code base reads process.env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: string[] = []): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = issue?.path.join('.') ?? 'environment';
    throw new ConfigError(`Invalid configuration: ${name} ${issue?.message ?? 'is invalid'}`);
  }
  const e = parsed.data;
  const roleArg = argv[0];
  if (roleArg !== undefined && !(ROLES as readonly string[]).includes(roleArg)) {
    throw new ConfigError(`Invalid role "${roleArg}": expected one of ${ROLES.join(', ')}`);
  }
  const demo = !e.TELEGRAM_BOT_TOKEN && !e.ZALO_BOT_TOKEN && !e.ZALO_OA_APP_ID;
  const telegramToken = e.TELEGRAM_BOT_TOKEN ?? (demo ? DEMO_TELEGRAM_TOKEN : undefined);
  const adminApiToken = e.ADMIN_API_TOKEN ?? (demo ? DEMO_ADMIN_TOKEN : undefined);
  const secretsKeys = e.SECRETS_KEY
    ? {
        current: parseSecretsKey(e.SECRETS_KEY),
        previous: e.SECRETS_KEY_PREVIOUS ? [parseSecretsKey(e.SECRETS_KEY_PREVIOUS)] : [],
      }
    : undefined;
  return {
    databaseUrl: e.DATABASE_URL ?? (demo ? DEMO_DATABASE_URL : DEFAULT_DATABASE_URL),
    databaseUrlFromEnvironment: e.DATABASE_URL !== undefined,
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    port: e.PORT,
    host: e.HOST,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    adminApiToken,
    adminTokenFromEnvironment: e.ADMIN_API_TOKEN !== undefined,
    metricsToken: e.METRICS_TOKEN,
    secretsKeys,
    linkCodeKeys: linkCodeKeys(secretsKeys, adminApiToken),
    trustProxy: trustProxy(e.TRUST_PROXY),
    zaloSiteVerification: e.ZALO_SITE_VERIFICATION,
    retention: {
      messageDays: e.RETENTION_MESSAGE_DAYS,
      inboundTextDays: e.RETENTION_INBOUND_TEXT_DAYS,
      linkCodeDays: e.RETENTION_LINK_CODE_DAYS,
    },
    webhookInbox: { retryAfterMs: e.WEBHOOK_RETRY_SECONDS * 1000, maxAttempts: e.WEBHOOK_MAX_ATTEMPTS },
    // Derived, not the admin token itself: a leaked file link must say nothing about the admin token.
    filesUrlSecret:
      e.FILES_URL_SECRET ??
      (adminApiToken
        ? createHmac('sha256', adminApiToken).update('thidua:files-url').digest('hex')
        : undefined),
    timeZone: e.TZ_DEFAULT,
    demo,
    role: (roleArg as Role | undefined) ?? e.ROLE ?? 'all',
    logLevel: e.LOG_LEVEL,
    telegram: telegramToken
      ? {
          token: telegramToken,
          apiRoot: e.TELEGRAM_API_ROOT.replace(/\/+$/, ''),
          mode: demo ? 'polling' : (e.TELEGRAM_MODE ?? (e.PUBLIC_URL ? 'webhook' : 'polling')),
          webhookSecret: e.TELEGRAM_WEBHOOK_SECRET,
          maxPerSecond: e.TELEGRAM_MAX_PER_SECOND,
        }
      : undefined,
    demoTelegramPort: e.DEMO_TELEGRAM_PORT,
    zaloBot: e.ZALO_BOT_TOKEN
      ? {
          token: e.ZALO_BOT_TOKEN,
          apiRoot: e.ZALO_BOT_API_ROOT.replace(/\/+$/, ''),
          mode: e.ZALO_BOT_MODE ?? (e.PUBLIC_URL ? 'webhook' : 'polling'),
          webhookSecret: e.ZALO_BOT_WEBHOOK_SECRET,
        }
      : undefined,
    zaloOa:
      e.ZALO_OA_APP_ID && e.ZALO_OA_SECRET_KEY && e.ZALO_OA_REFRESH_TOKEN
        ? {
            appId: e.ZALO_OA_APP_ID,
            secretKey: e.ZALO_OA_SECRET_KEY,
            appSecret: e.ZALO_OA_APP_SECRET ?? e.ZALO_OA_SECRET_KEY,
            accessToken: e.ZALO_OA_ACCESS_TOKEN,
            refreshToken: e.ZALO_OA_REFRESH_TOKEN,
            apiRoot: e.ZALO_OA_API_ROOT.replace(/\/+$/, ''),
            oauthRoot: e.ZALO_OA_OAUTH_ROOT.replace(/\/+$/, ''),
          }
        : undefined,
  };
}

const derive = (secret: string | Buffer, purpose: string) =>
  createHmac('sha256', secret).update(`thidua:${purpose}`).digest();

/**
 * The link-code keys: from SECRETS_KEY (its previous key too), else from the admin token. A key derived
 * from the admin token stays accepted after SECRETS_KEY is set, so codes already handed out keep working.
 */
function linkCodeKeys(secrets: KeyRing | undefined, adminToken: string | undefined): KeyRing | undefined {
  const fromToken = adminToken ? [derive(adminToken, 'link-codes')] : [];
  if (!secrets) {
    const [current] = fromToken;
    return current ? { current, previous: [] } : undefined;
  }
  return {
    current: derive(secrets.current, 'link-codes'),
    previous: [...secrets.previous.map((key) => derive(key, 'link-codes')), ...fromToken],
  };
}

function trustProxy(value: string | undefined): boolean | number | string[] {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

/** Every secret value of a configuration: the logger masks each wherever it would appear. */
export function configuredSecrets(config: Config): string[] {
  return [
    config.adminApiToken,
    config.metricsToken,
    config.filesUrlSecret,
    config.telegram?.token,
    config.telegram?.webhookSecret,
    config.zaloBot?.token,
    config.zaloBot?.webhookSecret,
    config.zaloOa?.secretKey,
    config.zaloOa?.appSecret,
    config.zaloOa?.accessToken,
    config.zaloOa?.refreshToken,
    ...(config.secretsKeys
      ? [config.secretsKeys.current, ...config.secretsKeys.previous].map((key) => key.toString('base64'))
      : []),
  ].filter((value): value is string => value !== undefined);
}
