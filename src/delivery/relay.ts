import pg from 'pg';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Db } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import { OUTBOX_CHANNEL } from '../services/outbox.ts';
import type { DeliveryJob } from './queues.ts';

/** The BullMQ priority of news (launches, reminders, digests); replies carry none and go first. */
const NEWS_PRIORITY = 10;

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
    try {
      if (!this.listener && !this.stopped) await this.listen();
      while (!this.stopped && (await this.sweep()) === (this.options.batchSize ?? 500));
    } catch (error) {
      this.options.logger.warn({ err: error }, 'outbox sweep failed; will retry');
    }
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
    const leaseSeconds = (this.options.leaseMs ?? 60_000) / 1000;
    const channels = [...this.options.queues.keys()];
    const rows = await this.options.db.$queryRaw<
      { id: string; channel: string; again: boolean; reply: boolean }[]
    >`
      WITH claimed AS (
        SELECT id, "enqueuedAt" IS NOT NULL AS again, "dedupeKey" LIKE 'reply:%' AS reply FROM "OutboxMessage"
        WHERE state = 'pending' AND channel = ANY(${channels})
          AND ("enqueuedAt" IS NULL OR "enqueuedAt" < now() - make_interval(secs => ${leaseSeconds}))
        ORDER BY "createdAt"
        LIMIT ${this.options.batchSize ?? 500}
        FOR UPDATE SKIP LOCKED)
      UPDATE "OutboxMessage" o SET "enqueuedAt" = now() FROM claimed WHERE o.id = claimed.id
      RETURNING o.id, o.channel, claimed.again, claimed.reply`;
    const byChannel = new Map<string, typeof rows>();
    for (const row of rows) byChannel.set(row.channel, [...(byChannel.get(row.channel) ?? []), row]);
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
        // Give the rows back so the next sweep tries again instead of waiting out the lease.
        await this.options.db.outboxMessage.updateMany({
          where: { id: { in: group.map((row) => row.id) } },
          data: { enqueuedAt: null },
        });
        throw error;
      }
    }
    return rows.length;
  }

  /**
   * A row still pending whose job has failed for good (its attempts spent while PostgreSQL was down, or
   * stalled twice) would never be sent: adding the same job id again is a no-op while the failed job is
   * kept. Such jobs are retried with their attempts reset.
   */
  private async retryFailedJobs(queue: Queue<DeliveryJob>, ids: string[]): Promise<void> {
    for (const id of ids) {
      if ((await queue.getJobState(id)) !== 'failed') continue;
      const job = await queue.getJob(id);
      await job?.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      this.options.logger.warn({ outboxId: id }, 'outbox row pending but its job had failed; retrying');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.listener?.end().catch(() => undefined);
    this.listener = undefined;
  }
}
