import { Redis } from 'ioredis';
import type { Logger } from './logger.ts';
import { DependencyRefused } from './startup.ts';

/** BullMQ requires maxRetriesPerRequest: null on connections its workers block on. */
export function createRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

/**
 * ioredis reconnects by itself; without a listener every failed attempt would print a stack trace. An outage
 * is logged once when it starts and once when it ends.
 */
export function logOutages(redis: Redis, logger: Logger): void {
  let down = false;
  redis.on('error', (error: unknown) => {
    if (down) return;
    down = true;
    logger.warn({ err: error }, 'Redis unreachable; reconnecting');
  });
  redis.on('ready', () => {
    if (down) logger.info('Redis reachable again');
    down = false;
  });
}

/** Answers that no amount of waiting changes: a wrong password, a user without rights, a wrong database. */
const REFUSALS = /^(NOAUTH|WRONGPASS|NOPERM|ERR invalid DB index|ERR DB index is out of range)/;

/**
 * One connection attempt with a deadline and no retries of its own (the service's connections retry forever,
 * which is right once running and silent at start-up): resolves when Redis answers PING.
 */
export async function probeRedis(url: string, timeoutMs = 5_000): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (REFUSALS.test(message)) throw new DependencyRefused(message);
    throw error;
  } finally {
    redis.disconnect();
  }
}
