import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** Values that must never appear in a log line (tokens and secrets from the configuration). */
  secrets?: readonly (string | undefined)[];
  /** Where lines go (stdout by default); tests capture them. */
  destination?: DestinationStream;
}

/** Keys whose values are secrets or personal data wherever they appear. */
const SECRET_KEY = /token|secret|password|passwd|authorization|cookie|signature|phone|linkcode|api[-_]?key/i;
/** What a person wrote or was sent: kept out of every line at info and above (debug may show it). */
const BODY_KEYS = new Set(['update', 'body', 'rawBody', 'payload', 'text', 'caption', 'sourceText']);
const INFO = 30;
const MAX_DEPTH = 8;

const REDACTED = '[redacted]';

const PATTERNS: [RegExp, string][] = [
  // A Telegram bot token, e.g. inside the URL of a failed request (…/bot<token>/getUpdates).
  [/\d{5,}:[A-Za-z0-9_-]{20,}/g, REDACTED],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  // Link codes: after /start, in a deep link, or alone (10 letters of the codes' alphabet).
  [/(\/start(?:@\w+)?\s+)\S+/gi, '$1[code]'],
  [/([?&]start=)[^&\s"']+/gi, '$1[code]'],
  [/\b[2-9A-HJKMNP-TV-Z]{10}\b/g, '[code]'],
  // Vietnamese phone numbers: 0 or +84, then 8 to 10 digits, maybe grouped.
  [/(?<![\w.+])(?:\+84|84|0)(?:[ .-]?\d){8,10}(?![\w.])/g, '[phone]'],
  // A signed link to a chart or a workbook works for a week.
  [/(\/files\/)[A-Za-z0-9_.-]+/g, '$1[token]'],
];

function maskText(text: string, secrets: readonly string[]): string {
  let masked = text;
  for (const secret of secrets) if (masked.includes(secret)) masked = masked.split(secret).join(REDACTED);
  for (const [pattern, replacement] of PATTERNS) masked = masked.replace(pattern, replacement);
  return masked;
}

const isPlainObject = (value: object): boolean => {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
};

/**
 * A copy of what is about to be logged with secrets and personal data masked: known secret values and
 * the shapes of tokens, link codes, phone numbers and signed links in every string; values under keys that
 * name a secret; and at info and above, the bodies of updates and messages. Errors are serialised first so
 * that their messages and properties are masked too. Only plain objects are walked (never a request).
 */
function scrub(value: unknown, secrets: readonly string[], dropBodies: boolean, depth = 0): unknown {
  if (typeof value === 'string') return maskText(value, secrets);
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_DEPTH) return '[deep]';
  // Errors carry what failed (a request's payload, an update): never their bodies, at any level.
  if (value instanceof Error) return scrub({ ...stdSerializers.err(value) }, secrets, true, depth + 1);
  if (Array.isArray(value)) return value.map((item) => scrub(item, secrets, dropBodies, depth + 1));
  if (!isPlainObject(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (SECRET_KEY.test(key) && item !== undefined && item !== null) copy[key] = REDACTED;
    else if (dropBodies && BODY_KEYS.has(key)) copy[key] = '[omitted]';
    else copy[key] = scrub(item, secrets, dropBodies, depth + 1);
  }
  return copy;
}

export function createLogger(level: string, options: LoggerOptions = {}): Logger {
  // Short values would mask ordinary words; configuration already refuses secrets under 16 characters.
  const secrets = [...new Set(options.secrets ?? [])].filter(
    (secret): secret is string => typeof secret === 'string' && secret.length >= 8,
  );
  return pino(
    {
      level,
      base: { service: 'thidua-bot' },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'req.headers["x-telegram-bot-api-secret-token"]',
          'req.headers["x-bot-api-secret-token"]',
          'req.headers["x-zevent-signature"]',
          'res.headers["set-cookie"]',
        ],
        censor: REDACTED,
      },
      // Errors logged through a path that skips the hook below (none known) are masked all the same.
      serializers: {
        err: (value: unknown) => (value instanceof Error ? scrub(value, secrets, true) : value),
      },
      hooks: {
        logMethod(args, method, lineLevel) {
          const dropBodies = lineLevel >= INFO;
          const [first, ...rest] = args;
          // pino files an Error given first under `err`; once made a plain object it must be put there.
          const head = first instanceof Error ? { err: first } : first;
          const scrubbed = [head, ...rest].map((arg) => scrub(arg, secrets, dropBodies)) as typeof args;
          method.apply(this, scrubbed);
        },
      },
    },
    options.destination,
  );
}
