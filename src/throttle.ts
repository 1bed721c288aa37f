import type { Redis } from 'ioredis';
import type { Throttle } from './services/ports.ts';

/** Fixed-window failure counter in Redis, shared by every instance. */
export class RedisThrottle implements Throttle {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly maxFailures = 5,
    private readonly windowSeconds = 15 * 60,
  ) {}

  async isBlocked(key: string): Promise<boolean> {
    const count = Number((await this.redis.get(`${this.prefix}:throttle:${key}`)) ?? 0);
    return count >= this.maxFailures;
  }

  async fail(key: string): Promise<void> {
    const name = `${this.prefix}:throttle:${key}`;
    await this.redis.multi().incr(name).expire(name, this.windowSeconds, 'NX').exec();
  }
}

/**
 * Wrong link codes from all chats together, per 15 minutes, before every chat must wait: far above the
 * typos of an onboarding day, far below what guessing needs (10 letters of 30: 5.9e14 codes; at this rate
 * 3 days of guessing try about 86,000 of them).
 */
export const LINK_GUARD_FAILURES = 300;

export function linkGuard(redis: Redis, prefix: string): RedisThrottle {
  return new RedisThrottle(redis, prefix, LINK_GUARD_FAILURES, 15 * 60);
}
