import { sweepReminders } from '../src/services/reminders.ts';
import type { Job } from './types.ts';

/** Reminders before and after deadlines and escalations (planner + sweep keyed by task, unit, kind, slot). */
export const remindersJob = (timezone: string): Job => ({
  name: 'reminders',
  cron: '*/15 * * * *',
  timezone,
  description: 'reminders before and after task deadlines, escalations to the parent unit',
  run: (ctx, { at, dryRun }) => sweepReminders(ctx, { now: at, dryRun }),
});
