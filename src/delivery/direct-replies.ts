import type { Redis } from 'ioredis';
import type { Channel } from '../channels/channel.ts';
import type { Db } from '../db/client.ts';
import type { OutboundMessage } from '../domain/message.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { OUTBOX_CHANNEL, type WrittenOutboxRow } from '../services/outbox.ts';
import { chatGateKey } from './queues.ts';

/** How long a sent answer waits to be marked sent with the others sent meanwhile. */
const MARK_EVERY_MS = 25;

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
}

/**
 * Sends the answer to what someone just wrote from the web process, right after the update's transaction
 * commits, instead of through relay → queue → worker: that hop cost more CPU than handling the update,
 * and an answer waited behind the bot's bulk budget (30/s on Telegram), which Telegram does not apply to
 * replies in practice (../shared/notes/telegram-bullmq-facts.md). The outbox row is still written in the
 * update's transaction, held for the relay's lease: if this process dies before sending, the relay hands
 * the row to a worker when the lease runs out; if the send fails, the row is released to the worker at
 * once, which classifies the failure (429, blocked chat…) and retries within the limits as for any message.
 */
export class DirectReplies {
  private readonly channels: Map<string, Channel>;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly sentIds: string[] = [];
  private marking: Promise<void> | undefined;

  constructor(private readonly options: DirectRepliesOptions) {
    this.channels = new Map(options.channels.map((channel) => [channel.name, channel]));
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
    await this.marking;
    await this.flushMarks();
  }

  private async deliver(replies: readonly HeldReply[]): Promise<void> {
    const { logger, metrics } = this.options;
    for (const [index, reply] of replies.entries()) {
      const channel = this.channels.get(reply.channel);
      if (!channel) {
        await this.release(replies.slice(index).map((rest) => rest.id));
        return;
      }
      const gateKey = chatGateKey(this.options.prefix, reply.channel, reply.chatId);
      try {
        await this.passChatGate(gateKey, channel.limits.perChatGapMs);
        await channel.send(reply.chatId, reply.message);
      } catch (error) {
        logger.warn({ err: error, outboxId: reply.id }, 'direct reply failed; handing it to the worker');
        await this.release(replies.slice(index).map((rest) => rest.id));
        return;
      }
      metrics.messagesSent.inc({ channel: reply.channel });
      this.markSent(reply.id);
    }
  }

  /**
   * Rows sent are marked in batches (one statement every MARK_EVERY_MS at most): a statement per answer
   * was a tenth of the web role's CPU per reply at 100 replies/s. A row sent but not yet marked when the
   * process dies is sent again by a worker when its lease ends: a rare duplicate, never a loss.
   */
  private markSent(id: string): void {
    this.sentIds.push(id);
    this.marking ??= new Promise<void>((resolve) => setTimeout(resolve, MARK_EVERY_MS)).then(() =>
      this.flushMarks(),
    );
  }

  private async flushMarks(): Promise<void> {
    const ids = this.sentIds.splice(0);
    this.marking = undefined;
    if (ids.length === 0) return;
    try {
      await this.options.db.$executeRaw`
        UPDATE "OutboxMessage"
        SET state = 'sent', "sentAt" = now(), "partsSent" = 1, attempts = attempts + 1
        WHERE id = ANY(${ids}::uuid[]) AND state = 'pending'`;
    } catch (error) {
      this.options.logger.warn({ err: error, ids }, 'direct replies sent but not marked as sent');
    }
  }

  /**
   * Takes the chat's gap key (as a worker does before a send; the gap counts from here), waiting while
   * another send to the chat is within its gap: a reply to someone who just got a message waits under a
   * second rather than a 429.
   */
  private async passChatGate(gateKey: string, gapMs: number): Promise<void> {
    const { redis } = this.options;
    for (let tries = 0; ; tries++) {
      if ((await redis.set(gateKey, '1', 'PX', gapMs, 'NX')) !== null) return;
      if (tries >= 3) throw new Error('the chat stays busy; the worker takes the reply');
      const waitMs = Math.max(await redis.pttl(gateKey), 10);
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
