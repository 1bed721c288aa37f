import type { Redis } from 'ioredis';
import type { Channel, DeliveryFailure } from '../channels/channel.ts';
import type { Db } from '../db/client.ts';
import type { OutboundMessage } from '../domain/message.ts';
import type { OutboxMessage } from '../generated/prisma/client.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { QUOTA_ERROR_PREFIX } from '../services/delivery-health.ts';
import { messageFromPayload, writeOutbox } from '../services/outbox.ts';
import type { Clock } from '../services/ports.ts';
import { prepareSend, type AttachmentMakers, type SendPlan } from './prepare.ts';
import { ChatGap, markSent, SendWindow, type WindowTicket } from './send-bookkeeping.ts';

export interface DeliveryStepsOptions extends AttachmentMakers {
  channel: Channel;
  db: Db;
  connection: Redis;
  prefix: string;
  logger: Logger;
  metrics: Metrics;
  /** Rows' timestamps (sent, deactivated) come from it. */
  clock: Clock;
  /** Channels this deployment delivers on: where a message to an unreachable account may fall back to. */
  fallbackChannels?: readonly string[];
}

export type PendingRow = OutboxMessage & { account: { active: boolean } | null };

/** Whether a row may be sent now, and if not, when to ask again. */
export type Admission =
  /** Gone, or already sent or failed: nothing to do. */
  | { kind: 'not_pending' }
  /** Its account was deactivated since the row was written: fail it without a send. */
  | { kind: 'account_inactive'; row: PendingRow }
  /** An earlier message to the chat is still pending, or the chat's gap is not over. */
  | { kind: 'chat_busy'; waitMs: number }
  /** The bot sent its rate within the last second. */
  | { kind: 'window_full'; waitMs: number }
  /** Holds the chat's gap and a place in the send window. */
  | { kind: 'admitted'; row: PendingRow; gap: ChatGap; ticket: WindowTicket };

export type SendResult = { kind: 'delivered' } | { kind: 'failed'; error: unknown; failure: DeliveryFailure };

/** What became of the row, and what the job does next. */
export type Settlement =
  | { kind: 'sent' }
  /** One part of a long message went out; the next is due after the chat's gap. */
  | { kind: 'part_sent'; waitMs: number }
  /** Failed for good (inactive or unreachable account, message rejected); recorded on the row. */
  | { kind: 'failed' }
  /** The platform asked the whole bot to wait. */
  | { kind: 'rate_limited'; waitMs: number }
  /** Worth trying again, within the job's attempts. */
  | { kind: 'retry'; error: unknown };

/**
 * The steps of sending one outbox row through one channel: admit → prepare → send → settle. Each answers
 * a typed outcome; the worker (worker.ts) turns outcomes into BullMQ's mechanics. The row is the truth: a
 * row not pending any more is never sent again.
 */
export class DeliverySteps {
  private readonly window: SendWindow;
  private readonly label: { channel: string };

  constructor(private readonly options: DeliveryStepsOptions) {
    const { channel, connection, prefix } = options;
    this.window = new SendWindow(connection, prefix, channel.name, channel.limits.perSecond);
    this.label = { channel: channel.name };
  }

  /** Is the row still pending, its account active, its chat free, and the bot within its rate? */
  async admit(outboxId: string): Promise<Admission> {
    const { db, channel } = this.options;
    const row = await db.outboxMessage.findUnique({
      where: { id: outboxId },
      include: { account: { select: { active: true } } },
    });
    if (!row || row.state !== 'pending') return { kind: 'not_pending' };
    if (row.account && !row.account.active) return { kind: 'account_inactive', row };
    // One chat reads its messages in the order they were written: wait for any earlier one.
    const earlier = await db.outboxMessage.count({
      where: { chatId: row.chatId, channel: row.channel, state: 'pending', seq: { lt: row.seq } },
    });
    if (earlier > 0) return { kind: 'chat_busy', waitMs: Math.max(channel.limits.perChatGapMs / 4, 50) };
    const gap = new ChatGap(
      this.options.connection,
      this.options.prefix,
      channel.name,
      row.chatId,
      channel.limits.perChatGapMs,
    );
    const taken = await gap.take();
    if (!taken.taken) return { kind: 'chat_busy', waitMs: Math.max(taken.heldForMs, 50) };
    const slot = await this.window.admit();
    if (!slot.admitted) {
      await gap.free();
      return { kind: 'window_full', waitMs: slot.retryInMs };
    }
    return { kind: 'admitted', row, gap, ticket: slot.ticket };
  }

  prepare(row: PendingRow): SendPlan {
    return prepareSend(messageFromPayload(row.payload), row.partsSent, this.options.channel, this.options);
  }

  /** Sends what the plan says; the chat's gap restarts and the window learns when the platform answered. */
  async send(admitted: Extract<Admission, { kind: 'admitted' }>, plan: SendPlan): Promise<SendResult> {
    const { channel } = this.options;
    const chatId = admitted.row.chatId;
    try {
      if (plan.kind === 'upload') await plan.upload(chatId, await plan.makeFile(plan.ref), plan.message);
      else if (plan.kind === 'photo_link') await plan.sendLink(chatId, plan.url, plan.message);
      else await channel.send(chatId, plan.part);
    } catch (error) {
      await admitted.ticket.answered();
      return { kind: 'failed', error, failure: channel.classify(error) };
    }
    // Sent: a Redis failure from here on must not make the job retry, which would send it again.
    await Promise.all([admitted.gap.restart(), admitted.ticket.answered()]).catch((error: unknown) =>
      this.options.logger.warn({ err: error, outboxId: admitted.row.id }, 'send bookkeeping failed'),
    );
    return { kind: 'delivered' };
  }

  /** Records what the send came to on the row (and the account), and says what the job does next. */
  async settle(
    row: PendingRow,
    plan: SendPlan,
    result: SendResult,
    { lastAttempt }: { lastAttempt: boolean },
  ): Promise<Settlement> {
    const { db, metrics, logger, clock, channel } = this.options;
    if (result.kind === 'delivered') {
      if (plan.kind === 'text' && plan.index < plan.count - 1) {
        await db.outboxMessage.update({ where: { id: row.id }, data: { partsSent: plan.index + 1 } });
        return { kind: 'part_sent', waitMs: channel.limits.perChatGapMs };
      }
      const partsSent = plan.kind === 'text' ? plan.count : 1;
      await markSent(db, [{ id: row.id, partsSent, sentAt: clock.now() }]);
      metrics.messagesSent.inc(this.label);
      return { kind: 'sent' };
    }
    const { failure, error } = result;
    metrics.messagesFailed.inc({ ...this.label, reason: failure.kind });
    logger.warn({ outboxId: row.id, failure }, 'send failed');
    switch (failure.kind) {
      case 'rate_limited':
        metrics.rateLimited.inc(this.label);
        if (failure.quota) {
          metrics.quotaExhausted.inc(this.label);
          // Kept on the row so the admins' digest can say how many messages wait for the quota.
          await db.outboxMessage.update({
            where: { id: row.id },
            data: { lastError: `${QUOTA_ERROR_PREFIX}${failure.reason}` },
          });
        }
        return { kind: 'rate_limited', waitMs: failure.retryAfterMs };
      case 'unreachable':
      case 'rejected':
        await this.failForGood(row, plan.message, failure);
        return { kind: 'failed' };
      case 'retry':
        if (!lastAttempt) metrics.messagesRetried.inc(this.label);
        await db.outboxMessage.update({
          where: { id: row.id },
          data: {
            attempts: { increment: 1 },
            lastError: failure.reason,
            ...(lastAttempt ? { state: 'failed' } : {}),
          },
        });
        return { kind: 'retry', error };
    }
  }

  /** A row whose account was deactivated before its turn: failed without a send. */
  async settleInactive(row: PendingRow): Promise<Settlement> {
    await this.options.db.outboxMessage.update({
      where: { id: row.id },
      data: { state: 'failed', lastError: 'account inactive' },
    });
    this.options.metrics.messagesFailed.inc({ ...this.label, reason: 'inactive' });
    return { kind: 'failed' };
  }

  /**
   * Fails the row; an unreachable chat also deactivates its account, and news for an official goes to
   * their other active account instead (replies stay in their chat).
   */
  private async failForGood(
    row: PendingRow,
    message: OutboundMessage,
    failure: Extract<DeliveryFailure, { kind: 'unreachable' | 'rejected' }>,
  ): Promise<void> {
    const { db, clock, fallbackChannels = [] } = this.options;
    await db.$transaction(async (tx) => {
      await tx.outboxMessage.update({
        where: { id: row.id },
        data: { state: 'failed', lastError: failure.reason },
      });
      if (failure.kind !== 'unreachable' || !row.channelAccountId) return;
      await tx.channelAccount.update({
        where: { id: row.channelAccountId },
        data: { active: false, inactiveReason: failure.reason, deactivatedAt: clock.now() },
      });
      if (!row.officialId || row.dedupeKey.startsWith('reply:')) return;
      const other = await tx.channelAccount.findFirst({
        where: {
          officialId: row.officialId,
          active: true,
          id: { not: row.channelAccountId },
          channel: { in: [...fallbackChannels] },
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
  }
}
