import type { Redis } from 'ioredis';

/**
 * Counts events per caller address in fixed windows in Redis, so that every instance behind a load balancer
 * sees the same count: wrong credentials (401) and file downloads.
 */
export interface AddressCounter {
  /** Events in one window before the address waits. */
  readonly max: number;
  /** Counts one event; answers how many the address has in the current window and its seconds left. */
  count(address: string): Promise<{ count: number; resetSeconds: number }>;
  /** Seconds the address must wait before it is served again; 0 when it may go on. */
  waitFor(address: string): Promise<number>;
}

/**
 * How long a request waits for its count: Redis away (commands queue until it is back) must not hold every
 * call to the API and the webhooks. Without an answer in time the request goes on uncounted.
 */
const COUNT_DEADLINE_MS = 1_000;

function orAfter<T>(work: Promise<T>, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), COUNT_DEADLINE_MS);
  });
  return Promise.race([work.catch(() => fallback), late]).finally(() => clearTimeout(timer));
}

export class RedisAddressCounter implements AddressCounter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly name: string,
    /** Events in one window before the address waits for the window's end. */
    readonly max: number,
    private readonly windowSeconds: number,
  ) {}

  private key(address: string): string {
    return `${this.prefix}:slowdown:${this.name}:${address}`;
  }

  async count(address: string): Promise<{ count: number; resetSeconds: number }> {
    const key = this.key(address);
    const answers = await orAfter(
      this.redis.multi().incr(key).expire(key, this.windowSeconds, 'NX').ttl(key).exec(),
      null,
    );
    const count = Number(answers?.[0]?.[1] ?? 0);
    const ttl = Number(answers?.[2]?.[1] ?? this.windowSeconds);
    return { count, resetSeconds: ttl > 0 ? ttl : this.windowSeconds };
  }

  async waitFor(address: string): Promise<number> {
    const key = this.key(address);
    const answers = await orAfter(this.redis.multi().get(key).ttl(key).exec(), null);
    const count = Number(answers?.[0]?.[1] ?? 0);
    if (count < this.max) return 0;
    const ttl = Number(answers?.[1]?.[1] ?? this.windowSeconds);
    return ttl > 0 ? ttl : 1;
  }
}

/**
 * Wrong credentials from one address, per 15 minutes, before its calls to /api, the webhooks, /metrics and
 * the queues board wait for the window's end (429, nothing checked): far above a mistyped token, far below
 * what guessing needs. Behind a proxy, set TRUST_PROXY so that the caller's address is the one counted.
 */
export const AUTH_FAILURES_MAX = 20;
export const AUTH_FAILURES_WINDOW_SECONDS = 15 * 60;

export function authFailureCounter(redis: Redis, prefix: string): RedisAddressCounter {
  return new RedisAddressCounter(redis, prefix, 'auth', AUTH_FAILURES_MAX, AUTH_FAILURES_WINDOW_SECONDS);
}

/**
 * Downloads of /files/… per minute: per link (Zalo fetches a picture once or twice; a person opens a workbook
 * a few times), and per address (Zalo's fetchers take many links from few addresses, so this one is high).
 * A file is made again from the database on a cache miss: a link must not become a way to keep the CPU busy.
 */
export const FILE_DOWNLOADS_PER_LINK = 30;
export const FILE_DOWNLOADS_PER_ADDRESS = 600;

export function fileDownloadCounters(
  redis: Redis,
  prefix: string,
): { perLink: AddressCounter; perAddress: AddressCounter } {
  return {
    perLink: new RedisAddressCounter(redis, prefix, 'file', FILE_DOWNLOADS_PER_LINK, 60),
    perAddress: new RedisAddressCounter(redis, prefix, 'files', FILE_DOWNLOADS_PER_ADDRESS, 60),
  };
}
