import type { Queue } from 'bullmq';
import type { Db } from '../db/client.ts';
import type { Metrics } from '../metrics.ts';
import { inboxDepth } from '../channels/inbox.ts';

/**
 * Sets the gauges read at scrape time. Counters live in each process; these come from PostgreSQL and
 * Redis, so any web instance reports the same numbers whichever instance did the work.
 */
export async function refreshGauges(
  metrics: Metrics,
  db: Db,
  queues: Iterable<[string, Queue]>,
  inboxMaxAttempts?: number,
): Promise<void> {
  for (const [name, queue] of queues) {
    const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'failed');
    for (const [state, count] of Object.entries(counts))
      metrics.queueDepth.set({ queue: name, state }, count);
    const [oldest] = await queue.getWaiting(0, 0);
    metrics.queueOldestSeconds.set({ queue: name }, oldest ? (Date.now() - oldest.timestamp) / 1000 : 0);
  }
  const outbox = await db.$queryRaw<{ channel: string; state: string; count: bigint; oldest: Date | null }[]>`
    SELECT channel, state::text AS state, count(*) AS count,
           min("createdAt") FILTER (WHERE state = 'pending') AS oldest
    FROM "OutboxMessage" GROUP BY channel, state`;
  metrics.outboxMessages.reset();
  metrics.outboxOldestPendingSeconds.reset();
  for (const row of outbox) {
    metrics.outboxMessages.set({ channel: row.channel, state: row.state }, Number(row.count));
    if (row.oldest) {
      metrics.outboxOldestPendingSeconds.set(
        { channel: row.channel },
        (Date.now() - row.oldest.getTime()) / 1000,
      );
    }
  }
  if (inboxMaxAttempts !== undefined) {
    metrics.webhookInbox.reset();
    metrics.webhookInboxOldestSeconds.reset();
    for (const row of await inboxDepth(db, inboxMaxAttempts)) {
      metrics.webhookInbox.set({ channel: row.channel, state: row.state }, row.count);
      if (row.state === 'waiting')
        metrics.webhookInboxOldestSeconds.set(
          { channel: row.channel },
          (Date.now() - row.oldest.getTime()) / 1000,
        );
    }
  }
  const reminders = await db.reminderSent.groupBy({ by: ['kind'], _count: true });
  for (const row of reminders) metrics.remindersSent.set({ kind: row.kind }, row._count);
}
