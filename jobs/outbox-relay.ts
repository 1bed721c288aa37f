import type { Job } from './types.ts';

/**
 * A safety sweep: the relay is woken by NOTIFY and its own timer; this hands over anything pending whose
 * lease ran out even if a relay's timer stopped. A dry run counts the pending rows.
 */
export const outboxRelayJob = (timezone: string): Job => ({
  name: 'outbox-relay',
  cron: '* * * * *',
  timezone,
  description: 'hands pending outbox rows to the delivery queues (safety sweep)',
  run: async (ctx, { dryRun }) => {
    const pending = await ctx.db.outboxMessage.count({ where: { state: 'pending' } });
    const handed = dryRun || !ctx.relay ? 0 : await ctx.relay.sweep();
    return { reminders: handed, messages: 0, unreachable: 0, sample: [], details: { pending, handed } };
  },
});
