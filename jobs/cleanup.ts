import type { Job } from './types.ts';

const DAY = 24 * 3600_000;

/**
 * Inbound update ids are the dedupe keys of every webhook: kept far longer than any platform redelivers
 * (Telegram a day) and than the oldest Zalo OA event accepted (24 h, OA_EVENT_MAX_AGE_MS), so a replay
 * within the window always finds its id.
 */
export const INBOUND_IDS_KEPT_DAYS = 30;

/** Deletes what is only kept for a while: recorded update ids, expired questions, old job runs. */
export const cleanupJob = (timezone: string): Job => ({
  name: 'cleanup',
  cron: '20 3 * * *',
  timezone,
  description: 'deletes old inbound update ids, expired pending replies and old job runs',
  run: async (ctx, { at, dryRun }) => {
    const inbound = { receivedAt: { lt: new Date(at.getTime() - INBOUND_IDS_KEPT_DAYS * DAY) } };
    const pending = { expiresAt: { lt: new Date(at.getTime() - DAY) } };
    const runs = { startedAt: { lt: new Date(at.getTime() - 90 * DAY) } };
    const counts = dryRun
      ? {
          inboundUpdates: await ctx.db.inboundUpdate.count({ where: inbound }),
          pendingReplies: await ctx.db.pendingReply.count({ where: pending }),
          jobRuns: await ctx.db.jobRun.count({ where: runs }),
        }
      : {
          inboundUpdates: (await ctx.db.inboundUpdate.deleteMany({ where: inbound })).count,
          pendingReplies: (await ctx.db.pendingReply.deleteMany({ where: pending })).count,
          jobRuns: (await ctx.db.jobRun.deleteMany({ where: runs })).count,
        };
    return {
      reminders: counts.inboundUpdates + counts.pendingReplies + counts.jobRuns,
      messages: 0,
      unreachable: 0,
      sample: [],
      details: counts,
    };
  },
});
