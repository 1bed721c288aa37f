import pg from 'pg';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Db } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import { OUTBOX_CHANNEL } from '../services/outbox.ts';
import type { DeliveryJob } from './queues.ts';

/** The BullMQ priority of news (launches, reminders, digests); replies carry none and go first. */
const NEWS_PRIORITY = 10;

const DEFAULT_BATCH_SIZE = 1000;
/** Two hand-overs at a time: one batch is built here while Redis runs the other's scripts. */
const HAND_OVERS_AT_ONCE = 2;
/**
 * How many batches one relay claims before handing them over (about two seconds of addBulk): if the
 * process dies, only that many rows wait out their lease, and other relays claim the rest of a backlog.
 */
const BATCHES_AHEAD = 16;

interface ClaimedRow {
  id: string;
  channel: string;
  /** Handed over before: its lease ran out, or Redis lost it. */
  again: boolean;
  reply: boolean;
}

export interface RelayOptions {
  db: Db;
  databaseUrl: string;
  queues: Map<string, Queue<DeliveryJob>>;
  /** The queues' Redis: when given, a Redis that lost its data is noticed at once (not after the lease). */
  redis?: Redis;
  logger: Logger;
  /** A row handed to Redis this long ago and still pending is handed over again (Redis may have lost it). */
  leaseMs?: number;
  sweepEveryMs?: number;
  batchSize?: number;
}

/**
 * Moves pending outbox rows into the delivery queues. Woken by NOTIFY at commit, and sweeping on a
 * timer for rows whose lease ran out. The job id is the row id, so handing a row over twice while its
 * job still exists enqueues it once; the worker checks the row's state before sending.
 */
export class OutboxRelay {
  private listener: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly options: RelayOptions) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.listen();
    this.timer = setInterval(() => this.kick(), this.options.sweepEveryMs ?? 2000);
    this.kick();
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.databaseUrl });
    client.on('notification', () => this.kick());
    client.on('error', (error) => {
      this.options.logger.warn({ err: error }, 'outbox listener lost; the timer sweep carries on');
      this.listener = undefined;
      void client.end().catch(() => undefined);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
      this.listener = client;
    } catch (error) {
      this.options.logger.warn({ err: error }, 'outbox listener failed to start; relying on the timer sweep');
      await client.end().catch(() => undefined);
    }
  }

  /** Runs a sweep now, or right after the one in progress. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.sweepUntilDone().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async sweepUntilDone(): Promise<void> {
    const batchSize = this.options.batchSize ?? DEFAULT_BATCH_SIZE;
    try {
      if (!this.listener && !this.stopped) await this.listen();
      await this.forgetLeasesIfRedisForgot();
      let more = true;
      while (more && !this.stopped) {
        // A run of batches is claimed before any is added to Redis. A claim is one short statement, while
        // building BullMQ's jobs is this process's CPU: interleaved, each claim waited behind an addBulk,
        // and the last rows of a 10,000-recipient launch were leased seconds after its commit.
        const claimed: ClaimedRow[][] = [];
        try {
          while (more && claimed.length < BATCHES_AHEAD) {
            const rows = await this.claim(batchSize);
            if (rows.length > 0) claimed.push(rows);
            more = rows.length === batchSize;
          }
        } finally {
          await this.handOverAll(claimed);
        }
      }
    } catch (error) {
      this.options.logger.warn({ err: error }, 'outbox sweep failed; will retry');
    }
  }

  /** Hands batches over (HAND_OVERS_AT_ONCE at a time); after a failure gives the rest back and throws. */
  private async handOverAll(batches: ClaimedRow[][]): Promise<void> {
    let failure: Error | undefined;
    let next = 0;
    const lane = async () => {
      for (let rows = batches[next++]; rows; rows = batches[next++]) {
        if (failure === undefined) {
          try {
            await this.handOver(rows);
            continue;
          } catch (error) {
            failure = error instanceof Error ? error : new Error(String(error));
            continue;
          }
        }
        // If this fails too, the lease brings the rows back.
        await this.release(rows).catch(() => undefined);
      }
    };
    await Promise.all(Array.from({ length: HAND_OVERS_AT_ONCE }, lane));
    if (failure !== undefined) throw failure;
  }

  /**
   * Redis keeps nothing on disk: after a restart or a flush every queued job is gone, and waiting out
   * the lease would hold the pending rows back for a minute. A marker key per queue tells: when it is
   * missing, Redis has forgotten the queue (or this is its first use), so every pending row of that
   * channel is handed over again now. Rows whose job still exists are enqueued once (the job id).
   */
  private async forgetLeasesIfRedisForgot(): Promise<void> {
    const redis = this.options.redis;
    if (!redis) return;
    for (const [channel, queue] of this.options.queues) {
      const marker = queue.toKey('outbox-relay');
      if ((await redis.exists(marker)) === 1) continue;
      const released = await this.options.db.outboxMessage.updateMany({
        where: { channel, state: 'pending', enqueuedAt: { not: null } },
        data: { enqueuedAt: null },
      });
      // Set only once the rows are released, so a failure here is retried by the next sweep.
      await redis.set(marker, '1');
      if (released.count > 0)
        this.options.logger.warn({ channel, rows: released.count }, 'Redis lost the queue; re-enqueuing');
    }
  }

  /** Hands one batch over; returns how many rows it claimed. */
  async sweep(): Promise<number> {
    await this.forgetLeasesIfRedisForgot();
    const rows = await this.claim(this.options.batchSize ?? DEFAULT_BATCH_SIZE);
    await this.handOver(rows);
    return rows.length;
  }

  /** Leases up to `limit` rows that are pending and not handed over (or whose lease ran out). */
  private async claim(limit: number): Promise<ClaimedRow[]> {
    const leaseSeconds = (this.options.leaseMs ?? 60_000) / 1000;
    const channels = [...this.options.queues.keys()];
    return this.options.db.$queryRaw<ClaimedRow[]>`
      WITH claimed AS (
        SELECT id, "enqueuedAt" IS NOT NULL AS again, "dedupeKey" LIKE 'reply:%' AS reply FROM "OutboxMessage"
        WHERE state = 'pending' AND channel = ANY(${channels})
          AND ("enqueuedAt" IS NULL OR "enqueuedAt" < now() - make_interval(secs => ${leaseSeconds}))
        ORDER BY "createdAt"
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED)
      UPDATE "OutboxMessage" o SET "enqueuedAt" = now() FROM claimed WHERE o.id = claimed.id
      RETURNING o.id, o.channel, claimed.again, claimed.reply`;
  }

  /** Gives claimed rows back, so the next sweep tries again instead of waiting out the lease. */
  private async release(rows: ClaimedRow[]): Promise<void> {
    await this.options.db.outboxMessage.updateMany({
      where: { id: { in: rows.map((row) => row.id) } },
      data: { enqueuedAt: null },
    });
  }

  /** Adds claimed rows to their channels' queues. */
  private async handOver(rows: ClaimedRow[]): Promise<void> {
    const byChannel = new Map<string, ClaimedRow[]>();
    for (const row of rows) {
      const group = byChannel.get(row.channel);
      if (group) group.push(row);
      else byChannel.set(row.channel, [row]);
    }
    for (const [channel, group] of byChannel) {
      const queue = this.options.queues.get(channel);
      if (!queue) continue;
      try {
        await queue.addBulk(
          group.map((row) => ({
            name: 'send',
            data: { outboxId: row.id },
            // BullMQ takes jobs without a priority before prioritised ones: an answer to what someone just
            // sent goes ahead of the thousands of launch or reminder messages that may be waiting.
            opts: { jobId: row.id, ...(row.reply ? {} : { priority: NEWS_PRIORITY }) },
          })),
        );
        await this.retryFailedJobs(
          queue,
          group.filter((row) => row.again).map((row) => row.id),
        );
      } catch (error) {
        await this.release(group);
        throw error;
      }
    }
  }

  /**
   * A row still pending whose job has failed for good (its attempts spent while PostgreSQL was down, or
   * stalled twice) would never be sent: adding the same job id again is a no-op while the failed job is
   * kept. Such jobs are retried with their attempts reset.
   */
  private async retryFailedJobs(queue: Queue<DeliveryJob>, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    // One round trip of O(1) lookups in the failed set: getJobState per id searched the waiting lists,
    // and thousands of rows of a launch still queued behind the rate limit at each lease kept Redis busy
    // for seconds, stalling every worker (gaps of 5 s without a send in bench/fanout.ts).
    const failed = await this.failedAmong(queue, ids);
    for (const id of failed) {
      const job = await queue.getJob(id);
      await job?.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      this.options.logger.warn({ outboxId: id }, 'outbox row pending but its job had failed; retrying');
    }
  }

  private async failedAmong(queue: Queue<DeliveryJob>, ids: string[]): Promise<string[]> {
    const redis = this.options.redis;
    if (!redis) {
      const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
      return ids.filter((_, i) => states[i] === 'failed');
    }
    const failedKey = queue.toKey('failed');
    const scores = await redis.pipeline(ids.map((id) => ['zscore', failedKey, id])).exec();
    return ids.filter((_, i) => {
      const [error, score] = scores?.[i] ?? [];
      return !error && typeof score === 'string';
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.listener?.end().catch(() => undefined);
    this.listener = undefined;
  }
}
