import type { Db } from '../src/db/client.ts';
import type { CalendarData } from '../src/domain/calendar.ts';
import type { Logger } from '../src/logger.ts';
import type { ChaseRenderer, DigestRenderer } from '../src/services/ports.ts';
import type { RetentionPolicy } from '../src/services/retention.ts';
import type { SweepMessage } from '../src/services/reminders.ts';

/** What every job gets: the database, the renderer, the time zone; the relay where this process has one. */
export interface JobContext {
  db: Db;
  render: ChaseRenderer & DigestRenderer;
  timeZone: string;
  calendarData?: CalendarData | undefined;
  relay?: { sweep(): Promise<number> } | undefined;
  logger: Logger;
  /** How long personal data is kept (the retention job); absent: the defaults. */
  retention?: RetentionPolicy | undefined;
}

export interface JobRunOptions {
  /** The instant the job runs as of (the tick's slot, or the caller's `at`). */
  at: Date;
  /** Compute what would be done and change nothing. */
  dryRun: boolean;
}

/** What a run did (or would do): counts and the messages, as the jobs API answers. */
export interface JobOutcome {
  /** Units of work: reminders keyed, rounds asked or closed, rows handed over or deleted. */
  reminders: number;
  /** Outbox rows written (or that would be). */
  messages: number;
  unreachable: number;
  sample: SweepMessage[];
  details?: Record<string, unknown>;
}

/** A scheduled job: node-cron pattern and time zone; `run` is an idempotent sweep over the database. */
export interface Job {
  name: string;
  cron: string;
  timezone: string;
  description: string;
  run(ctx: JobContext, options: JobRunOptions): Promise<JobOutcome>;
}
