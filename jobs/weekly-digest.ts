import { sweepWeeklyDigests } from '../src/services/weekly-digest.ts';
import type { Job } from './types.ts';

/**
 * The weekly summary digest to leaders (their subtree) and the issuer's admins (the whole campaign), at
 * each official's weekday and time; every 15 minutes so a slot is met within a quarter of an hour.
 */
export const weeklyDigestJob = (timezone: string): Job => ({
  name: 'weekly-digest',
  cron: '*/15 * * * *',
  timezone,
  description: "weekly summary digests to leaders and the issuer's admins, when something changed or is late",
  run: (ctx, { at, dryRun }) => sweepWeeklyDigests(ctx, { now: at, dryRun }),
});
