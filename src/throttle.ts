import type { Redis } from 'ioredis';
import type { LinkAttemptDecision, LinkAttemptLimits, LinkAttempts } from './services/ports.ts';

/** A count kept under one key: at most `max` attempts in a fixed window of `windowSeconds`. */
export interface AttemptLimit {
  max: number;
  windowSeconds: number;
}

/** One key and the limit it is counted against. */
export type AttemptCheck = readonly [limit: AttemptLimit, key: string];

/**
 * KEYS: the counters; ARGV: max and window (ms) of each, in the same order. An attempt is refused (and not
 * counted) when any counter is at its limit; otherwise it is counted under every key in the same step, so
 * parallel attempts are decided one after another and none slips between a check and its count.
 */
const TAKE_SCRIPT = `
local wait = 0
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[2 * i - 1]) then
    local left = redis.call('PTTL', key)
    if left < 1 then left = 1000 end
    wait = math.max(wait, left)
  end
end
if wait ~= 0 then return wait end
for i, key in ipairs(KEYS) do
  redis.call('INCR', key)
  redis.call('PEXPIRE', key, ARGV[2 * i], 'NX')
end
return 0
`;

/** An attempt that succeeded was no guess: it is taken back off its counters. */
const FORGIVE_SCRIPT = `
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
return 0
`;

type AttemptRedis = Redis & {
  takeAttempt(numberOfKeys: number, ...args: (string | number)[]): Promise<number>;
  forgiveAttempt(numberOfKeys: number, ...keys: string[]): Promise<number>;
};

/**
 * Attempts counted in Redis before they are checked (the console's sign-in), shared by every instance: each
 * attempt is counted under all its keys at once or refused, so twenty wrong codes posted at once from one
 * address are twenty attempts of which only the limit's worth are checked. A failure-only count (wrong codes)
 * forgives the attempts that succeed.
 */
export class RedisAttempts {
  private readonly redis: AttemptRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    const commands = redis as AttemptRedis;
    if (typeof commands.takeAttempt !== 'function') {
      redis.defineCommand('takeAttempt', { lua: TAKE_SCRIPT });
      redis.defineCommand('forgiveAttempt', { lua: FORGIVE_SCRIPT });
    }
    this.redis = commands;
  }

  /** One hash tag for every key, so a script's keys share a slot on a Redis Cluster too. */
  private key(name: string): string {
    return `${this.prefix}:throttle:{attempts}:${name}`;
  }

  /** Counts the attempt and answers 0, or answers the seconds to wait when a key is at its limit. */
  async take(checks: readonly AttemptCheck[]): Promise<number> {
    const waitMs = await this.redis.takeAttempt(
      checks.length,
      ...checks.map(([, key]) => this.key(key)),
      ...checks.flatMap(([limit]) => [limit.max, limit.windowSeconds * 1000]),
    );
    return waitMs === 0 ? 0 : Math.max(1, Math.ceil(waitMs / 1000));
  }

  async forgive(checks: readonly AttemptCheck[]): Promise<void> {
    await this.redis.forgiveAttempt(checks.length, ...checks.map(([, key]) => this.key(key)));
  }
}

/**
 * Per chat and per person: 5 attempts in 15 minutes. All chats together: 300 checked codes in 15 minutes,
 * far above the typos of an onboarding day, far below what guessing needs (10 letters of 30: 5.9e14
 * codes); past it each chat may try once a minute, so a flood slows guessing to a crawl while an official
 * with a right code still links.
 */
export const LINK_ATTEMPT_LIMITS: LinkAttemptLimits = {
  perChat: 5,
  windowSeconds: 15 * 60,
  allChats: 300,
  slowSeconds: 60,
};

/**
 * KEYS: chat, person (the chat's key again when the platform gives no other), all chats, the chat's
 * slow-down slot, the "admins told" marker. ARGV: perChat, window ms, allChats, slow ms.
 * Decides on the counts as they are and counts the attempt in the same step, so parallel attempts are
 * decided one after another. A refused attempt is not counted: it checks nothing.
 */
const ATTEMPT_SCRIPT = `
local perChat = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2])
local chat = tonumber(redis.call('GET', KEYS[1]) or '0')
local person = chat
if KEYS[2] ~= KEYS[1] then person = tonumber(redis.call('GET', KEYS[2]) or '0') end
if chat >= perChat or person >= perChat then
  local wait = 0
  if chat >= perChat then wait = redis.call('PTTL', KEYS[1]) end
  if person >= perChat then wait = math.max(wait, redis.call('PTTL', KEYS[2])) end
  return {'throttled', wait, 0}
end
local alert = 0
local all = tonumber(redis.call('GET', KEYS[3]) or '0')
if all >= tonumber(ARGV[3]) then
  if not redis.call('SET', KEYS[4], '1', 'PX', ARGV[4], 'NX') then
    return {'slowed', redis.call('PTTL', KEYS[4]), 0}
  end
  local left = redis.call('PTTL', KEYS[3])
  if left < 1 then left = windowMs end
  if redis.call('SET', KEYS[5], '1', 'PX', left, 'NX') then alert = 1 end
end
for i = 1, 3 do
  if i ~= 2 or KEYS[2] ~= KEYS[1] then
    redis.call('INCR', KEYS[i])
    redis.call('PEXPIRE', KEYS[i], windowMs, 'NX')
  end
end
return {'check', 0, alert}
`;

/** A code that linked was no guess: it leaves the count of all chats (which alerts "wrong codes"). */
const LINKED_SCRIPT = `
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
return 0
`;

type LinkRedis = Redis & {
  linkAttempt(...args: (string | number)[]): Promise<[string, number, number]>;
  linkAttemptLinked(key: string): Promise<number>;
};

/**
 * Link-code attempts counted in Redis, shared by every instance: each attempt is counted before its code
 * is checked, per chat and per person, in one script with the decision, so twenty guesses sent at once
 * are twenty attempts, of which only the first five are checked.
 */
export class RedisLinkAttempts implements LinkAttempts {
  private readonly redis: LinkRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    readonly limits: LinkAttemptLimits = LINK_ATTEMPT_LIMITS,
  ) {
    const commands = redis as LinkRedis;
    if (typeof commands.linkAttempt !== 'function') {
      redis.defineCommand('linkAttempt', { numberOfKeys: 5, lua: ATTEMPT_SCRIPT });
      redis.defineCommand('linkAttemptLinked', { numberOfKeys: 1, lua: LINKED_SCRIPT });
    }
    this.redis = commands;
  }

  /** One hash tag for every key, so the script's keys share a slot on a Redis Cluster too. */
  private key(name: string): string {
    return `${this.prefix}:throttle:{link}:${name}`;
  }

  async attempt(channel: string, chatId: string, senderId?: string): Promise<LinkAttemptDecision> {
    const chat = this.key(`${channel}:${chatId}`);
    const [kind, waitMs, alert] = await this.redis.linkAttempt(
      chat,
      // Where a chat is its person's own (Telegram and Zalo private chats), the two keys are one.
      senderId ? this.key(`${channel}:${senderId}`) : chat,
      this.key(ALL_CHATS_KEY),
      this.key(`slot:${channel}:${chatId}`),
      this.key('alerted'),
      this.limits.perChat,
      this.limits.windowSeconds * 1000,
      this.limits.allChats,
      this.limits.slowSeconds * 1000,
    );
    if (kind === 'check') return { kind, alertAdmins: alert === 1 };
    return { kind: kind === 'slowed' ? 'slowed' : 'throttled', retryAfterMs: Math.max(1000, waitMs) };
  }

  async linked(): Promise<void> {
    await this.redis.linkAttemptLinked(this.key(ALL_CHATS_KEY));
  }
}

/** The key under which checked codes from every chat are counted together. */
const ALL_CHATS_KEY = 'all-chats';
