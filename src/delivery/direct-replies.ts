import type { Redis } from 'ioredis';
import type { Channel } from '../channels/channel.ts';
import type { Db } from '../db/client.ts';
import type { OutboundMessage } from '../domain/message.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { OUTBOX_CHANNEL, type WrittenOutboxRow } from '../services/outbox.ts';
import { systemClock, type Clock } from '../services/ports.ts';
import { BatchedSentMarks, ChatGap } from './send-bookkeeping.ts';

/** An answer written to the outbox as held ("enqueuedAt" set): the process that wrote it sends it. */
export type HeldReply = Pick<WrittenOutboxRow, 'id' | 'channel' | 'chatId' | 'message'>;

export interface DirectRepliesOptions {
  db: Db;
  channels: readonly Channel[];
  /** The delivery queues' Redis and prefix: a direct send holds the chat's gap like a worker's send. */
  redis: Redis;
  prefix: string;
  logger: Logger;
  metrics: Metrics;
  /** Rows' sent times come from it; the system clock when absent. */
  clock?: Clock;
}

/**
 * Sends the answer to what someone just wrote from the web process, right after the update's transaction
 * commits, instead of through relay → queue → worker: that hop cost more CPU than handling the update,
 * and an answer waited behind the bot's bulk budget (30/s on Telegram), which Telegram does not apply to
 * replies in practice (../shared/notes/telegram-bullmq-facts.md). The outbox row is still written in the
 * update's transaction, held for the relay's lease: if this process dies before sending, the relay hands
 * the row to a worker when the lease runs out; if the send fails, the row is released to the worker at
 * once, which classifies the failure (429, blocked chat…) and retries within the limits as for any message.
 * It holds the chat's gap and marks rows sent as a worker does (send-bookkeeping.ts), but stays out of the
 * bot-wide send window: that window is the bulk budget, which replies do not count against, and answers
 * entered in it at 100/s would leave no room for the news the workers send.
 */
export class DirectReplies {
  private readonly channels: Map<string, Channel>;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly marks: BatchedSentMarks;
  private readonly clock: Clock;

  constructor(private readonly options: DirectRepliesOptions) {
    this.channels = new Map(options.channels.map((channel) => [channel.name, channel]));
    this.marks = new BatchedSentMarks(options.db, options.logger);
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Only a single plain answer that goes out as one message: a picture, a file or several messages need the
   * worker's spacing and uploads.
   */
  accepts(channel: string, messages: readonly OutboundMessage[]): boolean {
    const adapter = this.channels.get(channel);
    const [message] = messages;
    return (
      adapter !== undefined &&
      messages.length === 1 &&
      message !== undefined &&
      !message.attachment &&
      message.text.length <= adapter.maxTextLength
    );
  }

  /** Starts sending; the caller does not wait (the platform's webhook is answered meanwhile). */
  send(replies: readonly HeldReply[]): void {
    if (replies.length === 0) return;
    const work = this.deliver(replies).finally(() => this.inFlight.delete(work));
    this.inFlight.add(work);
  }

  /** Waits for the sends under way (on shutdown: what was started is finished or released, and marked). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    await this.marks.drain();
  }

  private async deliver(replies: readonly HeldReply[]): Promise<void> {
    const { logger, metrics } = this.options;
    for (const [index, reply] of replies.entries()) {
      const channel = this.channels.get(reply.channel);
      if (!channel) {
        await this.release(replies.slice(index).map((rest) => rest.id));
        return;
      }
      const gap = new ChatGap(
        this.options.redis,
        this.options.prefix,
        reply.channel,
        reply.chatId,
        channel.limits.perChatGapMs,
      );
      try {
        await this.passChatGap(gap, channel.limits.perChatGapMs);
        await channel.send(reply.chatId, reply.message);
      } catch (error) {
        logger.warn({ err: error, outboxId: reply.id }, 'direct reply failed; handing it to the worker');
        await this.release(replies.slice(index).map((rest) => rest.id));
        return;
      }
      metrics.messagesSent.inc({ channel: reply.channel });
      this.marks.add({ id: reply.id, partsSent: 1, sentAt: this.clock.now() });
      // Sent: a failure from here on must not hand the row to the worker, which would send it again.
      await gap.restart().catch((error: unknown) => logger.warn({ err: error }, 'chat gap not restarted'));
    }
  }

  /**
   * Takes the chat's gap (as a worker does before a send; restarted when the send ends), waiting while
   * another send to the chat is within its gap: a reply to someone who just got a message waits under a
   * second rather than a 429.
   */
  private async passChatGap(gap: ChatGap, gapMs: number): Promise<void> {
    for (let tries = 0; ; tries++) {
      const taken = await gap.take();
      if (taken.taken) return;
      if (tries >= 3) throw new Error('the chat stays busy; the worker takes the reply');
      const waitMs = Math.max(taken.heldForMs, 10);
      await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs, gapMs)));
    }
  }

  private async release(ids: string[]): Promise<void> {
    try {
      await this.options.db.$executeRaw`
        UPDATE "OutboxMessage" SET "enqueuedAt" = NULL WHERE id = ANY(${ids}::uuid[]) AND state = 'pending'`;
      await this.options.db.$executeRawUnsafe(`NOTIFY ${OUTBOX_CHANNEL}`);
    } catch (error) {
      // The lease brings the rows back to the relay anyway.
      this.options.logger.warn(
        { err: error, ids },
        'direct replies not released; the relay takes them later',
      );
    }
  }
}
