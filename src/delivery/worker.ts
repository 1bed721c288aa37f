import { DelayedError, Worker, type Job } from 'bullmq';
import { systemClock, type Clock } from '../services/ports.ts';
import { deliveryQueueName, type DeliveryJob } from './queues.ts';
import { DeliverySteps, type Admission, type DeliveryStepsOptions, type Settlement } from './steps.ts';

/** Sends in flight at once per worker process (and so the most a crashed worker can leave half-done). */
export const DELIVERY_CONCURRENCY = 8;

export interface DeliveryWorkerOptions extends Omit<DeliveryStepsOptions, 'clock'> {
  /** Rows' timestamps (sent, deactivated) come from it; the system clock when absent. */
  clock?: Clock;
  concurrency?: number;
}

/** Where a job's run ended: a refusal at admission, or what the send came to. */
type Outcome = Exclude<Admission, { kind: 'admitted' | 'account_inactive' }> | Settlement;

/**
 * Sends outbox rows through one channel within its limits: a window of the last second's sends in Redis
 * holds the whole bot to its rate across every worker process (the queue's limiter keeps the fetching
 * near it), a Redis key per chat spaces sends to one chat, and a 429 pauses the queue for retry_after.
 * The row is the truth: a row already sent is never sent again. Each job runs the steps admit → prepare →
 * send → settle (steps.ts); this file only maps their outcomes onto BullMQ.
 */
export function startDeliveryWorker(options: DeliveryWorkerOptions): Worker<DeliveryJob> {
  const { channel, connection, logger } = options;
  const steps = new DeliverySteps({ ...options, clock: options.clock ?? systemClock });

  const run = async (job: Job<DeliveryJob>): Promise<Outcome> => {
    const admission = await steps.admit(job.data.outboxId);
    if (admission.kind === 'account_inactive') return steps.settleInactive(admission.row);
    if (admission.kind !== 'admitted') return admission;
    const plan = steps.prepare(admission.row);
    const result = await steps.send(admission, plan);
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    return steps.settle(admission.row, plan, result, { lastAttempt });
  };

  // Rows' timestamps come from the injected clock: they are records people read. How long a job waits is
  // real time by nature: BullMQ promotes a delayed job and ends a rate-limit pause by the wall clock, and
  // Redis expires the chat's gap and counts the send window by its own, so the delays given here are
  // measured from Date.now(); a fake instant would hold a job for years, or not at all.
  const follow = async (outcome: Outcome, job: Job<DeliveryJob>, token?: string): Promise<void> => {
    switch (outcome.kind) {
      case 'not_pending':
      case 'sent':
      case 'failed':
        return;
      case 'chat_busy':
      case 'part_sent':
        await job.moveToDelayed(Date.now() + outcome.waitMs, token);
        throw new DelayedError();
      case 'window_full':
        // Back to the head of the queue and no fetching until a send leaves the window. Delaying the job
        // instead would spend a slot of BullMQ's fixed-window limiter on a refusal: its next window then
        // fills with refusals and sends nothing, and the bot runs at half its rate. A manual rate limit
        // also restarts the limiter's window, so the two stay in step.
        await worker.rateLimit(outcome.waitMs);
        throw Worker.RateLimitError();
      case 'rate_limited':
        await worker.rateLimit(outcome.waitMs);
        throw Worker.RateLimitError();
      case 'retry':
        throw outcome.error;
    }
  };

  const worker: Worker<DeliveryJob> = new Worker<DeliveryJob>(
    deliveryQueueName(channel.name),
    async (job: Job<DeliveryJob>, token?: string) => follow(await run(job), job, token),
    {
      connection,
      prefix: options.prefix,
      concurrency: options.concurrency ?? DELIVERY_CONCURRENCY,
      // A crashed worker's jobs come back once their 30 s locks lapse; checking every 5 s (not 30) hands
      // them out within about 35 s instead of up to a minute and a half. The lock alone decides a stall.
      stalledInterval: 5_000,
      limiter: { max: channel.limits.perSecond, duration: 1000 },
    },
  );
  worker.on('error', (error) => logger.warn({ err: error }, 'delivery worker error'));
  return worker;
}
