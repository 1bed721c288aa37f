import { DEFAULT_RETENTION, purgeExpired } from '../src/services/retention.ts';
import type { Job } from './types.ts';

/** Purges personal data past its period (policy: RETENTION_* in the configuration, defaults in the README). */
export const retentionJob = (timezone: string): Job => ({
  name: 'retention',
  cron: '40 3 * * *',
  timezone,
  description:
    'empties old message bodies, removes old report source texts and recorded webhook updates, deletes old link codes',
  run: async (ctx, { at, dryRun }) => {
    const counts = await purgeExpired(ctx.db, ctx.retention ?? DEFAULT_RETENTION, at, dryRun);
    return {
      reminders: counts.messageBodies + counts.inboundTexts + counts.linkCodes + counts.webhookUpdates,
      messages: 0,
      unreachable: 0,
      sample: [],
      details: { ...counts },
    };
  },
});
