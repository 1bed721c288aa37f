import type { Db } from '../db/client.ts';
import type { RawQueries } from '../db/raw-transactions.ts';
import { storableJson } from '../conversation/events.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from '../services/ports.ts';
import type { Channel, EventHandler, WebhookUpdate } from './channel.ts';

/**
 * Webhooks answer within a fixed budget, whatever the dialogue costs, and lose nothing. A webhook's update is
 * handled at once; a turn that ends within ANSWER_WITHIN_MS is answered 200 with nothing more to write (its
 * transaction recorded the update id with everything it did). A turn that is slower, or fails, has its
 * update written to `WebhookInbox` (a redelivery of the same update id inserts nothing) before the 200; the
 * slow turn goes on and marks the row handled when it ends. Any row not handled within `retryAfterMs` (the
 * process died after answering, or the turn failed) is taken by the sweep of any web process, with backoff,
 * up to `maxAttempts`; after that it is logged at error and left for an operator. Writing every update first
 * cost a second commit (a WAL flush) per update and halved the replies per second the web role holds
 * (bench/RESULTS.md, inbound); this way only slow or failed turns pay it.
 *
 * Claims are leases: taking a row pushes its `nextAttemptAt` past the lease in one short statement
 * (`FOR UPDATE SKIP LOCKED`, so two sweeps never take the same row), and no transaction stays open during
 * the turn. A turn that outlives its lease can be taken a second time; the dialogue's own
 * (channel, update id) record makes that second turn a no-op, so nothing is answered twice.
 */
export interface WebhookInboxOptions {
  db: Db;
  /**
   * Where the inbound path's one-statement writes go (recording an update, marking it handled): the raw
   * `pg` pool in the web role (RawTransactions.statements), `db` when absent.
   */
  statements?: RawQueries;
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
  /** How long a webhook waits for its turn before it records the update instead (ANSWER_WITHIN_MS). */
  answerWithinMs?: number;
  metrics?: {
    processed: { inc(labels: { channel: string }): void };
    failed: { inc(labels: { channel: string }): void };
  };
}

/** The longest wait between two attempts at one row. */
const MAX_BACKOFF_MS = 3600_000;
const SWEEP_BATCH = 20;
/**
 * How long a webhook waits for its turn before recording the update instead: far above a turn's usual
 * 5-90 ms (bench/RESULTS.md, inbound), far below the 2 s within which Zalo wants its 200.
 */
const ANSWER_WITHIN_MS = 250;
/** How long a handled row waits to be marked with the others handled meanwhile. */
const MARK_EVERY_MS = 25;

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

  private readonly statements: RawQueries;
  private readonly handled: { id: string; at: Date }[] = [];
  private marking: Promise<void> | undefined;

  constructor(private readonly options: WebhookInboxOptions) {
    this.channels = new Map(options.channels.map((channel) => [channel.name, channel]));
    this.statements = options.statements ?? options.db;
  }

  /**
   * Handles an update within `answerWithinMs`, or records it: a turn that ends in time needs no record (its
   * own transaction wrote the update id with everything it did, so a crash after the answer loses nothing);
   * one that is slow or fails is written here before the answer (throws when it could not be written: the
   * webhook answers 500 and the platform sends it again) and handled from here. A slow turn goes on: when it
   * ends the row is marked handled, and if it fails the sweep takes the row.
   */
  async accept(channel: string, update: WebhookUpdate): Promise<void> {
    // A group is only told, once, that the bot works in private chats, and nothing it sent may be kept: its
    // update is handled before the answer (one short statement) and never written here. A failure answers
    // 500 and the platform's redelivery tries again.
    if (update.fromGroup) return this.handleNow(channel, update.body);
    const turn = this.handleNow(channel, update.body).then(
      () => ({ handled: true as const }),
      (error: unknown) => ({ handled: false as const, error }),
    );
    const outcome = await beforeDeadline(turn, this.options.answerWithinMs ?? ANSWER_WITHIN_MS);
    if (outcome?.handled) {
      this.options.metrics?.processed.inc({ channel });
      return;
    }
    const now = this.options.clock.now();
    const body = storableJson(update.body);
    const failure = outcome && !outcome.handled ? outcome.error : undefined;
    const retryAt = outcome ? this.backoffFrom(now, 1) : this.leaseFrom(now);
    const inserted = await this.statements.$queryRaw<{ id: string }[]>`
      INSERT INTO "WebhookInbox" (id, channel, "updateKey", "chatId", body, "receivedAt", attempts, "nextAttemptAt")
      VALUES (gen_random_uuid(), ${channel}, ${update.key}, ${update.chatId}, ${JSON.stringify(body)}::jsonb,
              ${now}, 1, ${retryAt})
      ON CONFLICT (channel, "updateKey") DO NOTHING
      RETURNING id`;
    const row = inserted[0];
    // A redelivery of an update recorded before: that row is handled from there.
    if (!row) return;
    const claimed: ClaimedRow = { id: row.id, channel, updateKey: update.key, body, attempts: 1 };
    if (outcome) {
      this.track(this.failed(claimed, failure));
      return;
    }
    this.track(
      turn.then((late) => (late.handled ? this.succeeded(claimed) : this.failed(claimed, late.error))),
    );
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

  /** Resolves once the turns under way (started by `accept` or a sweep) have ended and been marked handled. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    await this.marking;
    await this.flushHandled();
  }

  /**
   * Handled rows are marked in batches (one statement every MARK_EVERY_MS at most), as sent answers are: a
   * statement per update was a tenth of the web role's CPU at 100 updates/s. A row handled but not yet marked
   * when the process dies is taken again by a sweep, and the dialogue's update-id record makes that a no-op.
   */
  private markHandled(id: string, at: Date): void {
    this.handled.push({ id, at });
    this.marking ??= new Promise<void>((resolve) => setTimeout(resolve, MARK_EVERY_MS)).then(() =>
      this.flushHandled(),
    );
  }

  private async flushHandled(): Promise<void> {
    const rows = this.handled.splice(0);
    this.marking = undefined;
    if (rows.length === 0) return;
    try {
      await this.statements.$executeRaw`
        UPDATE "WebhookInbox" i SET "processedAt" = h.at, "lastError" = NULL
        FROM unnest(${rows.map((row) => row.id)}::uuid[],
                    ${rows.map((row) => row.at.toISOString().replace('Z', ''))}::timestamp(3)[]) AS h(id, at)
        WHERE i.id = h.id`;
    } catch (error) {
      this.options.logger.warn(
        { err: error, inboxIds: rows.map((row) => row.id) },
        'webhook updates handled but not marked; a sweep takes them again',
      );
    }
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
    const channel = this.channels.get(row.channel);
    try {
      if (!channel?.processUpdate) throw new Error(`no channel ${row.channel} to process the update`);
      await channel.processUpdate(row.body, this.options.handler);
      this.succeeded(row);
    } catch (error) {
      await this.failed(row, error);
    }
  }

  private succeeded(row: ClaimedRow): void {
    this.markHandled(row.id, this.options.clock.now());
    this.options.metrics?.processed.inc({ channel: row.channel });
  }

  private backoffFrom(now: Date, attempts: number): Date {
    const backoff = Math.min(MAX_BACKOFF_MS, this.options.retryAfterMs * 2 ** (attempts - 1));
    return new Date(now.getTime() + backoff);
  }

  /** Records a failed attempt: the sweep takes the row again after the backoff, or leaves it for an operator. */
  private async failed(row: ClaimedRow, error: unknown): Promise<void> {
    const { db, clock, logger, metrics } = this.options;
    metrics?.failed.inc({ channel: row.channel });
    const reason = error instanceof Error ? error.message : String(error);
    await db.$executeRaw`
      UPDATE "WebhookInbox" SET "lastError" = ${reason.slice(0, 2000)},
        "nextAttemptAt" = ${this.backoffFrom(clock.now(), row.attempts)}
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

/** The work's result, or undefined when it has not ended within `ms` (the work goes on). */
async function beforeDeadline<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
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
