import { randomUUID } from 'node:crypto';
import { DelayedError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Channel, OutboundFile } from '../channels/channel.ts';
import type { AttachmentRef } from '../domain/message.ts';
import type { Db } from '../db/client.ts';
import { splitText } from '../domain/intents.ts';
import type { Logger } from '../logger.ts';
import { QUOTA_ERROR_PREFIX } from '../services/delivery-health.ts';
import { messageFromPayload, writeOutbox } from '../services/outbox.ts';
import type { Metrics } from '../metrics.ts';
import { chatGateKey, deliveryQueueName, type DeliveryJob } from './queues.ts';

/**
 * The bot's sends over the last second, across every worker, as Telegram counts them: BullMQ's limiter
 * counts fixed windows opened by the first job, which lets a full window's sends at the end of one and
 * as many at the start of the next through within a second, and Telegram answers 429 (pausing the whole
 * queue). A sorted set of send times (Redis' clock) admits a send only while fewer than the limit went
 * out in the window; otherwise it answers how many ms until one leaves it. A send is entered when it is
 * admitted and moved to the moment its answer came back (SEND_DONE_SCRIPT): Telegram saw it in between,
 * so a window counted from the answer never lets the next send arrive within a second of it, however
 * unevenly requests travel on a busy machine.
 */
const SEND_WINDOW_MS = 1005;
const SEND_WINDOW_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window * 60)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now + 1)
`;
const SEND_DONE_SCRIPT = `
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], 'XX', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])
return 0
`;

/** Sends in flight at once per worker process (and so the most a crashed worker can leave half-done). */
export const DELIVERY_CONCURRENCY = 8;

export interface DeliveryWorkerOptions {
  channel: Channel;
  db: Db;
  connection: Redis;
  prefix: string;
  logger: Logger;
  metrics: Metrics;
  concurrency?: number;
  /** Channels this deployment delivers on: where a message to an unreachable account may fall back to. */
  fallbackChannels?: readonly string[];
  /** Makes an attachment's bytes from its reference, at send time. */
  attachments?: (ref: AttachmentRef) => Promise<OutboundFile>;
  /**
   * A signed public link to an attachment and the line that offers it in text (present with PUBLIC_URL),
   * for channels that cannot upload: a picture by link, a workbook as a link in the text.
   */
  attachmentLink?: (ref: AttachmentRef) => { url: string; line: string };
}

/**
 * Sends outbox rows through one channel within its limits: a window of the last second's sends in Redis
 * holds the whole bot to its rate across every worker process (the queue's limiter keeps the fetching
 * near it), a Redis key per chat spaces sends to one chat, and a 429
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
      const gateKey = chatGateKey(options.prefix, channel.name, row.chatId);
      const gate = await connection.set(gateKey, '1', 'PX', channel.limits.perChatGapMs, 'NX');
      if (gate === null) {
        const wait = Math.max(await connection.pttl(gateKey), 50);
        await job.moveToDelayed(Date.now() + wait, token);
        throw new DelayedError();
      }
      const windowKey = `${options.prefix}:sendwindow:${channel.name}`;
      const sendId = randomUUID();
      const botWait = Number(
        await connection.eval(
          SEND_WINDOW_SCRIPT,
          1,
          windowKey,
          channel.limits.perSecond,
          SEND_WINDOW_MS,
          sendId,
        ),
      );
      if (botWait > 0) {
        // Not sent: the chat's gap starts with the send that will happen, not with this refusal.
        await connection.del(gateKey);
        // Back to the head of the queue and no fetching until a send leaves the window. Delaying the job
        // instead would spend a slot of BullMQ's fixed-window limiter on a refusal: its next window then
        // fills with refusals and sends nothing, and the bot runs at half its rate. A manual rate limit
        // also restarts the limiter's window, so the two stay in step.
        await worker.rateLimit(botWait);
        throw Worker.RateLimitError();
      }
      let message = messageFromPayload(row.payload);
      const attachment = message.attachment;
      const sendMedia =
        attachment && options.attachments
          ? attachment.kind === 'photo'
            ? channel.sendPhoto?.bind(channel)
            : channel.sendDocument?.bind(channel)
          : undefined;
      const link = attachment && !sendMedia ? options.attachmentLink?.(attachment.ref) : undefined;
      const sendLink =
        link && attachment?.kind === 'photo' ? channel.sendPhotoLink?.bind(channel) : undefined;
      if (attachment && !sendMedia && !sendLink) {
        // The channel cannot carry it: the text goes with a link to it, or with the fallback line.
        const { attachment: _dropped, ...rest } = message;
        message = {
          ...rest,
          text: [message.text, link?.line ?? attachment.fallback].filter(Boolean).join('\n'),
        };
      }
      const parts = sendMedia || sendLink ? [message.text] : splitText(message.text, channel.maxTextLength);
      // One part per run: a long message's parts keep the per-chat gap like separate messages.
      const index = Math.min(row.partsSent, parts.length - 1);
      const last = index === parts.length - 1;
      const answered = () => connection.eval(SEND_DONE_SCRIPT, 1, windowKey, sendId);
      try {
        if (sendMedia && attachment && options.attachments) {
          const file = await options.attachments(attachment.ref);
          await sendMedia(row.chatId, file, message);
        } else if (sendLink && link) {
          await sendLink(row.chatId, link.url, message);
        } else {
          await channel.send(row.chatId, {
            text: parts[index] ?? '',
            ...(last ? { choices: message.choices } : {}),
          });
        }
        // The gap counts from the end of a send, so two sends never arrive closer than the gap.
        await connection.set(gateKey, '1', 'PX', channel.limits.perChatGapMs);
        await answered();
      } catch (error) {
        await answered();
        const failure = channel.classify(error);
        metrics.messagesFailed.inc({ ...label, reason: failure.kind });
        logger.warn({ outboxId: row.id, failure }, 'send failed');
        if (failure.kind === 'rate_limited') {
          metrics.rateLimited.inc(label);
          if (failure.quota) {
            metrics.quotaExhausted.inc(label);
            // Kept on the row so the admins' digest can say how many messages wait for the quota.
            await db.outboxMessage.update({
              where: { id: row.id },
              data: { lastError: `${QUOTA_ERROR_PREFIX}${failure.reason}` },
            });
          }
          await worker.rateLimit(failure.retryAfterMs);
          throw Worker.RateLimitError();
        }
        if (failure.kind === 'unreachable' || failure.kind === 'rejected') {
          await db.$transaction(async (tx) => {
            await tx.outboxMessage.update({
              where: { id: row.id },
              data: { state: 'failed', lastError: failure.reason },
            });
            if (failure.kind !== 'unreachable' || !row.channelAccountId) return;
            await tx.channelAccount.update({
              where: { id: row.channelAccountId },
              data: { active: false, inactiveReason: failure.reason, deactivatedAt: new Date() },
            });
            // News for an official goes to their other active account instead (replies stay in their chat).
            if (!row.officialId || row.dedupeKey.startsWith('reply:')) return;
            const other = await tx.channelAccount.findFirst({
              where: {
                officialId: row.officialId,
                active: true,
                id: { not: row.channelAccountId },
                channel: { in: [...(options.fallbackChannels ?? [])] },
              },
              orderBy: { linkedAt: 'desc' },
            });
            if (!other) return;
            await writeOutbox(tx, [
              {
                dedupeKey: `${row.dedupeKey}:via:${other.channel}`,
                channel: other.channel,
                chatId: other.chatId,
                channelAccountId: other.id,
                officialId: row.officialId,
                message,
              },
            ]);
          });
          return;
        }
        const exhausted = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        if (!exhausted) metrics.messagesRetried.inc(label);
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
      if (!last) {
        await db.outboxMessage.update({ where: { id: row.id }, data: { partsSent: index + 1 } });
        await job.moveToDelayed(Date.now() + channel.limits.perChatGapMs, token);
        throw new DelayedError();
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
      concurrency: options.concurrency ?? DELIVERY_CONCURRENCY,
      // A crashed worker's jobs come back once their 30 s locks lapse; checking every 5 s (not 30) hands
      // them out within about 35 s instead of up to a minute and a half. The lock alone decides a stall.
      stalledInterval: 5_000,
      limiter: { max: channel.limits.perSecond, duration: 1000 },
    },
  );
  worker.on('error', (error) => logger.warn({ err: error }, 'delivery worker error'));
  return worker;
}
