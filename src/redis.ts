import { Redis } from 'ioredis';
import { DependencyRefused } from './startup.ts';

/** BullMQ requires maxRetriesPerRequest: null on connections its workers block on. */
export function createRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
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
