import { DelayedError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Channel } from '../channels/channel.ts';
import type { Db } from '../db/client.ts';
import { splitText } from '../domain/intents.ts';
import type { Logger } from '../logger.ts';
import { messageFromPayload } from '../services/outbox.ts';
import type { Metrics } from '../metrics.ts';
import { deliveryQueueName, type DeliveryJob } from './queues.ts';

export interface DeliveryWorkerOptions {
  channel: Channel;
  db: Db;
  connection: Redis;
  prefix: string;
  logger: Logger;
  metrics: Metrics;
  concurrency?: number;
}

/**
 * Sends outbox rows through one channel within its limits: the queue's limiter holds the whole bot
 * to its rate across every worker process, a Redis key per chat spaces sends to one chat, and a 429
 * pauses the queue for retry_after. The row is the truth: a row already sent is never sent again.
 */
export function startDeliveryWorker(options: DeliveryWorkerOptions): Worker<DeliveryJob> {
  const { channel, db, connection, logger, metrics } = options;
  const label = { channel: channel.name };

  const worker: Worker<DeliveryJob> = new Worker<DeliveryJob>(
    deliveryQueueName(channel.name),
    async (job: Job<DeliveryJob>, token?: string) => {
      const row = await db.outboxMessage.findUnique({
        where: { id: job.data.outboxId },
        include: { account: { select: { active: true } } },
      });
      if (!row || row.state !== 'pending') return;
      if (row.account && !row.account.active) {
        await db.outboxMessage.update({
          where: { id: row.id },
          data: { state: 'failed', lastError: 'account inactive' },
        });
        metrics.messagesFailed.inc({ ...label, reason: 'inactive' });
        return;
      }
      // One chat reads its messages in the order they were written: wait for any earlier one.
      const earlier = await db.outboxMessage.count({
        where: { chatId: row.chatId, channel: row.channel, state: 'pending', seq: { lt: row.seq } },
      });
      if (earlier > 0) {
        await job.moveToDelayed(Date.now() + Math.max(channel.limits.perChatGapMs / 4, 50), token);
        throw new DelayedError();
      }
      const gateKey = `${options.prefix}:chatgate:${channel.name}:${row.chatId}`;
      const gate = await connection.set(gateKey, '1', 'PX', channel.limits.perChatGapMs, 'NX');
      if (gate === null) {
        const wait = Math.max(await connection.pttl(gateKey), 50);
        await job.moveToDelayed(Date.now() + wait, token);
        throw new DelayedError();
      }
      const message = messageFromPayload(row.payload);
      const parts = splitText(message.text, channel.maxTextLength);
      try {
        for (let index = row.partsSent; index < parts.length; index += 1) {
          const last = index === parts.length - 1;
          await channel.send(row.chatId, {
            text: parts[index] ?? '',
            ...(last ? { choices: message.choices } : {}),
          });
          if (!last) await db.outboxMessage.update({ where: { id: row.id }, data: { partsSent: index + 1 } });
        }
      } catch (error) {
        const failure = channel.classify(error);
        metrics.messagesFailed.inc({ ...label, reason: failure.kind });
        logger.warn({ outboxId: row.id, failure }, 'send failed');
        if (failure.kind === 'rate_limited') {
          metrics.rateLimited.inc(label);
          await worker.rateLimit(failure.retryAfterMs);
          throw Worker.RateLimitError();
        }
        if (failure.kind === 'unreachable' || failure.kind === 'rejected') {
          await db.$transaction([
            db.outboxMessage.update({
              where: { id: row.id },
              data: { state: 'failed', lastError: failure.reason },
            }),
            ...(failure.kind === 'unreachable' && row.channelAccountId
              ? [
                  db.channelAccount.update({
                    where: { id: row.channelAccountId },
                    data: { active: false, inactiveReason: failure.reason, deactivatedAt: new Date() },
                  }),
                ]
              : []),
          ]);
          return;
        }
        const exhausted = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        await db.outboxMessage.update({
          where: { id: row.id },
          data: {
            attempts: { increment: 1 },
            lastError: failure.reason,
            ...(exhausted ? { state: 'failed' } : {}),
          },
        });
        throw error;
      }
      await db.outboxMessage.update({
        where: { id: row.id },
        data: { state: 'sent', sentAt: new Date(), partsSent: parts.length, attempts: { increment: 1 } },
      });
      metrics.messagesSent.inc(label);
    },
    {
      connection,
      prefix: options.prefix,
      concurrency: options.concurrency ?? 8,
      limiter: { max: channel.limits.perSecond, duration: 1000 },
    },
  );
  worker.on('error', (error) => logger.warn({ err: error }, 'delivery worker error'));
  return worker;
}
