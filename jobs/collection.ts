import { sweepCollection } from '../src/services/collection.ts';
import type { Job } from './types.ts';

/** Opens periodic rounds (Decree 09/2019 cut-offs), asks the units, reminds the ones that have not answered. */
export const collectionJob = (timezone: string): Job => ({
  name: 'collection',
  cron: '5,35 * * * *',
  timezone,
  description: 'periodic report rounds and the closing report: ask, remind',
  run: (ctx, { at, dryRun }) => sweepCollection(ctx, { now: at, dryRun }),
});
