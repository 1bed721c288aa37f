import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.ts';

export interface PollerOptions<U> {
  /** Asks the platform for what came; [] when nothing did. Aborted when the poller stops. */
  fetch(signal: AbortSignal): Promise<U[]>;
  /** Records one update; throws when it could not be recorded (it is then retried). */
  process(update: U): Promise<void>;
  /** Called once an update is done with (recorded, or given up on): e.g. move the offset past it. */
  done?(update: U): void;
  /** Pause after a fetch that brought nothing (for platforms that answer at once). */
  idleMs?: number;
  logger: Logger;
}

/** After this many failures in a row an update is logged and skipped, so one bad update cannot stop the bot. */
const MAX_ATTEMPTS = 20;

/**
 * The long-polling loop channels share: an update is retried with backoff until it has been recorded,
 * and only then is the platform told it is done, so a database outage loses nothing.
 */
export class UpdatePoller<U> {
  private running = false;
  private loop: Promise<void> | undefined;
  private abort = new AbortController();

  constructor(private readonly options: PollerOptions<U>) {}

  start(): void {
    this.running = true;
    this.abort = new AbortController();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { options } = this;
    let backlog: U[] = [];
    let attempts = 0;
    while (this.running) {
      try {
        if (backlog.length === 0) {
          backlog = await options.fetch(this.abort.signal);
          if (backlog.length === 0 && options.idleMs) await this.pause(options.idleMs);
          continue;
        }
        const update = backlog[0] as U;
        try {
          await options.process(update);
        } catch (error) {
          attempts += 1;
          if (attempts < MAX_ATTEMPTS) throw error;
          options.logger.error({ err: error, update }, 'update skipped after repeated failures');
        }
        attempts = 0;
        backlog.shift();
        options.done?.(update);
      } catch (error) {
        if (!this.running) return;
        options.logger.warn({ err: error, attempts }, 'polling failed; retrying');
        await this.pause(Math.min(500 * 2 ** attempts, 30_000));
      }
    }
  }

  /**
   * Waits `ms`, or less when the poller stops. Node's timer removes its listener from the shared signal
   * when it fires: a listener left behind per pause piled up on the signal (a leak, and a
   * MaxListenersExceededWarning within seconds of start-up while idle).
   */
  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.abort.signal }).catch((error: unknown) => {
      if (!this.abort.signal.aborted) throw error;
    });
  }
}
