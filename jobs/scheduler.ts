import { Queue, Worker, type Job as BullJob } from 'bullmq';
import type { Redis } from 'ioredis';
import { DateTime } from 'luxon';
import cron, { type ScheduledTask } from 'node-cron';
import type { Prisma } from '../src/generated/prisma/client.ts';
import type { Logger } from '../src/logger.ts';
import { recordAudit, type Actor } from '../src/services/audit.ts';
import type { Job, JobContext, JobOutcome } from './types.ts';

export const JOBS_QUEUE = 'jobs';

export interface ScheduledRun {
  name: string;
  /** ISO instant of the tick (the slot's start). */
  at: string;
  slot: string;
}

export function createJobsQueue(connection: Redis, prefix: string): Queue<ScheduledRun> {
  return new Queue<ScheduledRun>(JOBS_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 5000 },
      // Kept for a week: a second scheduler enqueuing the same slot meanwhile adds nothing.
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
}

/** The tick's slot in the job's time zone, to the minute: "202607150730". */
export function slotOf(instant: Date, timeZone: string): string {
  return DateTime.fromJSDate(instant, { zone: timeZone }).toFormat('yyyyMMddHHmm');
}

/** BullMQ ids may not contain ':'. */
export const jobIdOf = (name: string, slot: string): string => `${name}-${slot}`;

/**
 * The scheduler role: node-cron ticks each job in its time zone and enqueues one BullMQ job per
 * (job, slot). Two schedulers enqueue the same id, which BullMQ keeps once; the work is idempotent anyway.
 */
export class JobScheduler {
  private readonly tasks: ScheduledTask[] = [];

  constructor(private readonly options: { jobs: Job[]; queue: Queue<ScheduledRun>; logger: Logger }) {}

  start(): void {
    for (const job of this.options.jobs) {
      const task = cron.schedule(
        job.cron,
        async (context) => {
          await this.tick(job, context.date).catch((error: unknown) =>
            this.options.logger.warn({ err: error, job: job.name }, 'could not enqueue a scheduled job'),
          );
        },
        { timezone: job.timezone, name: `thidua-${job.name}`, noOverlap: true },
      );
      this.tasks.push(task);
    }
  }

  /** Enqueues the job for the slot of `date` (once per slot, whoever calls); returns the BullMQ job id. */
  async tick(job: Job, date: Date): Promise<string> {
    const at = new Date(Math.floor(date.getTime() / 60_000) * 60_000);
    const slot = slotOf(at, job.timezone);
    const id = jobIdOf(job.name, slot);
    await this.options.queue.add(job.name, { name: job.name, at: at.toISOString(), slot }, { jobId: id });
    return id;
  }

  async stop(): Promise<void> {
    for (const task of this.tasks.splice(0)) await task.destroy();
  }
}

/** The next instant a cron pattern fires, in its time zone (searching minute by minute, at most 8 days). */
export function nextRunOf(job: Job, after: Date): Date | null {
  const task = cron.createTask(job.cron, () => undefined, { timezone: job.timezone });
  try {
    let minute = Math.floor(after.getTime() / 60_000) * 60_000 + 60_000;
    for (let i = 0; i < 8 * 1440; i += 1, minute += 60_000) {
      const candidate = new Date(minute);
      if (task.match(candidate)) return candidate;
    }
    return null;
  } finally {
    void task.destroy();
  }
}

/**
 * Runs a job and records the run in PostgreSQL (JobRun), for GET /api/jobs. A run someone asked for (`actor`, not a dry run) is an audit row written
 * with the row that records how it ended, whichever way: its sweeps commit unit by unit, so even a run that
 * failed half-way may have sent something.
 */
export async function runRecorded(
  ctx: JobContext,
  job: Job,
  options: {
    at: Date;
    dryRun: boolean;
    trigger: 'schedule' | 'api';
    slot?: string | null;
    startedAt: Date;
    actor?: Actor | undefined;
  },
): Promise<JobOutcome> {
  const run = await ctx.db.jobRun.create({
    data: {
      name: job.name,
      slot: options.slot ?? null,
      at: options.at,
      trigger: options.trigger,
      dryRun: options.dryRun,
      startedAt: options.startedAt,
    },
  });
  const finish = (data: { ok: boolean; result?: Prisma.InputJsonObject; error?: string }) =>
    ctx.db.$transaction(async (tx) => {
      await tx.jobRun.update({
        where: { id: run.id },
        data: {
          finishedAt: new Date(),
          ok: data.ok,
          ...(data.result ? { result: data.result } : {}),
          ...(data.error !== undefined ? { error: data.error } : {}),
        },
      });
      if (options.actor && !options.dryRun)
        await recordAudit(tx, {
          actor: options.actor,
          action: 'job.run',
          target: { kind: 'job', id: run.id, code: job.name },
          changes: {
            at: options.at.toISOString(),
            ok: data.ok,
            ...(data.result
              ? {
                  reminders: data.result.reminders,
                  messages: data.result.messages,
                  unreachable: data.result.unreachable,
                }
              : {}),
          },
          at: options.startedAt,
        });
    });
  try {
    const outcome = await job.run(ctx, { at: options.at, dryRun: options.dryRun });
    await finish({
      ok: true,
      result: {
        reminders: outcome.reminders,
        messages: outcome.messages,
        unreachable: outcome.unreachable,
        ...(outcome.details
          ? { details: JSON.parse(JSON.stringify(outcome.details)) as Prisma.InputJsonObject }
          : {}),
      },
    });
    return outcome;
  } catch (error) {
    await finish({ ok: false, error: error instanceof Error ? error.message : String(error) }).catch(
      () => undefined,
    );
    throw error;
  }
}

/** The worker side: runs each enqueued slot's sweep as of the slot's instant. */
export function startJobsWorker(options: {
  jobs: Job[];
  ctx: JobContext;
  connection: Redis;
  prefix: string;
  logger: Logger;
  concurrency?: number;
}): Worker<ScheduledRun> {
  const byName = new Map(options.jobs.map((job) => [job.name, job]));
  const worker = new Worker<ScheduledRun>(
    JOBS_QUEUE,
    async (bull: BullJob<ScheduledRun>) => {
      const job = byName.get(bull.data.name);
      if (!job) {
        options.logger.warn({ name: bull.data.name }, 'unknown scheduled job; skipped');
        return;
      }
      const outcome = await runRecorded(options.ctx, job, {
        at: new Date(bull.data.at),
        dryRun: false,
        trigger: 'schedule',
        slot: bull.data.slot,
        startedAt: new Date(),
      });
      if (outcome.messages > 0) {
        options.logger.info(
          { job: job.name, slot: bull.data.slot, messages: outcome.messages },
          'job sent messages',
        );
      }
      return { reminders: outcome.reminders, messages: outcome.messages };
    },
    { connection: options.connection, prefix: options.prefix, concurrency: options.concurrency ?? 2 },
  );
  worker.on('error', (error) => options.logger.warn({ err: error }, 'jobs worker error'));
  return worker;
}
