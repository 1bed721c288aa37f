import { cleanupJob } from './cleanup.ts';
import { collectionJob } from './collection.ts';
import { digestJob } from './digest.ts';
import { outboxRelayJob } from './outbox-relay.ts';
import { remindersJob } from './reminders.ts';
import { retentionJob } from './retention.ts';
import type { Job } from './types.ts';
import { weeklyDigestJob } from './weekly-digest.ts';

/** Every scheduled job, ticking in the service's time zone (TZ_DEFAULT). */
export function createJobs(timeZone: string): Job[] {
  return [
    remindersJob,
    collectionJob,
    digestJob,
    weeklyDigestJob,
    outboxRelayJob,
    cleanupJob,
    retentionJob,
  ].map((make) => make(timeZone));
}
