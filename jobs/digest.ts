import { sweepDigests } from '../src/services/collection.ts';
import type { Job } from './types.ts';

/** Closes rounds past their due day and sends the digest to the issuer's admins and leaders. */
export const digestJob = (timezone: string): Job => ({
  name: 'digest',
  cron: '10 * * * *',
  timezone,
  description: 'closes report rounds past their due day and sends the digest',
  run: (ctx, { at, dryRun }) => sweepDigests(ctx, { now: at, dryRun }),
});
