import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

export interface DeliveryJob {
  outboxId: string;
}

/** BullMQ names may not contain ':'; one queue per channel so each has its own rate limit. */
export function deliveryQueueName(channel: string): string {
  return `deliver-${channel}`;
}

/** A Redis key per chat that spaces two sends to it by the channel's gap (worker and direct replies). */
export function chatGateKey(prefix: string, channel: string, chatId: string): string {
  return `${prefix}:chatgate:${channel}:${chatId}`;
}

export function createDeliveryQueue(channel: string, connection: Redis, prefix: string): Queue<DeliveryJob> {
  return new Queue<DeliveryJob>(deliveryQueueName(channel), {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: 12,
      backoff: { type: 'exponential', delay: 1000 },
      // Kept for a day so a re-enqueue of the same outbox row while its job still exists is a no-op.
      removeOnComplete: { age: 24 * 3600, count: 100_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
}
