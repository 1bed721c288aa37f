import type { Db } from '../db/client.ts';
import { storableJson } from '../conversation/events.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from '../services/ports.ts';
import type { Channel, EventHandler, WebhookUpdate } from './channel.ts';

/**
 * Webhooks record, answer, then process. A webhook's update is written to `WebhookInbox` (a redelivery of
 * the same update id inserts nothing) and the platform gets its 200 at once, however long the dialogue
 * takes; the receiving process then handles the row in the background. Any row not handled within
 * `retryAfterMs` (the process died after answering, or the turn failed) is taken by the sweep of any web
 * process, with backoff, up to `maxAttempts`; after that it is logged at error and left for an operator.
 *
 * Claims are leases: taking a row pushes its `nextAttemptAt` past the lease in one short statement
 * (`FOR UPDATE SKIP LOCKED`, so two sweeps never take the same row), and no transaction stays open during
 * the turn. A turn that outlives its lease can be taken a second time; the dialogue's own
 * (channel, update id) record makes that second turn a no-op, so nothing is answered twice.
 */
export interface WebhookInboxOptions {
  db: Db;
  channels: readonly Channel[];
  handler: EventHandler;
  clock: Clock;
  logger: Logger;
  /** A row not handled this long after it was taken is taken again (and the base of the backoff). */
  retryAfterMs: number;
  /** After this many failed attempts a row is left for an operator. */
  maxAttempts: number;
  /** How often the sweep looks for rows left behind. */
  sweepEveryMs?: number;
  metrics?: {
    processed: { inc(labels: { channel: string }): void };
    failed: { inc(labels: { channel: string }): void };
  };
}

/** The longest wait between two attempts at one row. */
const MAX_BACKOFF_MS = 3600_000;
const SWEEP_BATCH = 20;

interface ClaimedRow {
  id: string;
  channel: string;
  updateKey: string;
  body: unknown;
  attempts: number;
  receivedAt?: Date;
}

export class WebhookInbox {
  private readonly channels: Map<string, Channel>;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly options: WebhookInboxOptions) {
    this.channels = new Map(options.channels.map((channel) => [channel.name, channel]));
  }

  /**
   * Records an update (throws when it could not be written: the webhook answers 500 and the platform sends
   * it again) and, when it is new, starts handling it without waiting for the turn.
   */
  async accept(channel: string, update: WebhookUpdate): Promise<void> {
    // A group is only told, once, that the bot works in private chats, and nothing it sent may be kept: its
    // update is handled before the answer (one short statement) and never written here. A failure answers
    // 500 and the platform's redelivery tries again.
    if (update.fromGroup) return this.handleNow(channel, update.body);
    const now = this.options.clock.now();
    const body = storableJson(update.body);
    // Taken by this process from the start: attempt 1, leased until the sweep may take it over.
    const inserted = await this.options.db.$queryRaw<{ id: string }[]>`
      INSERT INTO "WebhookInbox" (id, channel, "updateKey", "chatId", body, "receivedAt", attempts, "nextAttemptAt")
      VALUES (gen_random_uuid(), ${channel}, ${update.key}, ${update.chatId}, ${JSON.stringify(body)}::jsonb,
              ${now}, 1, ${this.leaseFrom(now)})
      ON CONFLICT (channel, "updateKey") DO NOTHING
      RETURNING id`;
    const row = inserted[0];
    if (!row || this.stopped) return;
    this.track(this.attempt({ id: row.id, channel, updateKey: update.key, body, attempts: 1 }));
  }

  private async handleNow(channelName: string, body: unknown): Promise<void> {
    const channel = this.channels.get(channelName);
    if (!channel?.processUpdate) throw new Error(`no channel ${channelName} to process the update`);
    await channel.processUpdate(body, this.options.handler);
  }

  start(): void {
    const every = this.options.sweepEveryMs ?? Math.min(5_000, this.options.retryAfterMs);
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep()
        .catch((error: unknown) => this.options.logger.warn({ err: error }, 'webhook inbox sweep failed'))
        .finally(() => (this.sweeping = undefined));
    }, every);
  }

  /** Resolves once the turns under way (started by `accept` or a sweep) have ended. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Stops taking rows and waits for the turns under way; a row cut short is taken again by a sweep. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
    await this.settled();
  }

  /** Takes the rows whose time has come (left behind or backing off) and handles them, oldest first. */
  async sweep(): Promise<number> {
    const now = this.options.clock.now();
    const claimed = await this.options.db.$queryRaw<ClaimedRow[]>`
      UPDATE "WebhookInbox" SET attempts = attempts + 1, "nextAttemptAt" = ${this.leaseFrom(now)}
      WHERE id IN (
        SELECT id FROM "WebhookInbox"
        WHERE "processedAt" IS NULL AND "nextAttemptAt" <= ${now}
          AND attempts < ${this.options.maxAttempts} AND channel = ANY(${[...this.channels.keys()]})
        ORDER BY "receivedAt" LIMIT ${SWEEP_BATCH}
        FOR UPDATE SKIP LOCKED)
      RETURNING id, channel, "updateKey", body, attempts, "receivedAt"`;
    // A chat's messages are handled in the order they came.
    claimed.sort((a, b) => (a.receivedAt?.getTime() ?? 0) - (b.receivedAt?.getTime() ?? 0));
    for (const row of claimed) {
      if (this.stopped) break;
      await this.attempt(row);
    }
    return claimed.length;
  }

  private leaseFrom(now: Date): Date {
    return new Date(now.getTime() + this.options.retryAfterMs);
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** One attempt at a taken row; never throws (the row records how it went). */
  private async attempt(row: ClaimedRow): Promise<void> {
    const { db, clock, logger, metrics } = this.options;
    const channel = this.channels.get(row.channel);
    try {
      if (!channel?.processUpdate) throw new Error(`no channel ${row.channel} to process the update`);
      await channel.processUpdate(row.body, this.options.handler);
      await db.$executeRaw`
        UPDATE "WebhookInbox" SET "processedAt" = ${clock.now()}, "lastError" = NULL WHERE id = ${row.id}::uuid`;
      metrics?.processed.inc({ channel: row.channel });
    } catch (error) {
      metrics?.failed.inc({ channel: row.channel });
      const reason = error instanceof Error ? error.message : String(error);
      const backoff = Math.min(MAX_BACKOFF_MS, this.options.retryAfterMs * 2 ** (row.attempts - 1));
      await db.$executeRaw`
        UPDATE "WebhookInbox" SET "lastError" = ${reason.slice(0, 2000)},
          "nextAttemptAt" = ${new Date(clock.now().getTime() + backoff)}
        WHERE id = ${row.id}::uuid AND "processedAt" IS NULL`.catch((writeError: unknown) =>
        // The lease still stands: the sweep takes the row again when it runs out.
        logger.warn({ err: writeError, inboxId: row.id }, 'could not record a failed webhook update'),
      );
      const where = {
        inboxId: row.id,
        channel: row.channel,
        updateId: row.updateKey,
        attempts: row.attempts,
      };
      if (row.attempts >= this.options.maxAttempts)
        logger.error(
          { ...where, reason },
          'webhook update failed too many times; left in WebhookInbox for an operator',
        );
      else logger.warn({ ...where, reason }, 'webhook update failed; the sweep will try it again');
    }
  }
}

/** What the inbox holds, for /metrics: rows waiting to be handled and rows left for an operator. */
export async function inboxDepth(
  db: Db,
  maxAttempts: number,
): Promise<{ channel: string; state: 'waiting' | 'given_up'; count: number; oldest: Date }[]> {
  const rows = await db.$queryRaw<
    { channel: string; state: 'waiting' | 'given_up'; count: bigint; oldest: Date }[]
  >`
    SELECT channel, CASE WHEN attempts >= ${maxAttempts} THEN 'given_up' ELSE 'waiting' END AS state,
           count(*) AS count, min("receivedAt") AS oldest
    FROM "WebhookInbox" WHERE "processedAt" IS NULL GROUP BY 1, 2`;
  return rows.map((row) => ({ ...row, count: Number(row.count) }));
}
