/**
 * Start-up in front of what may be down: PostgreSQL and Redis are waited for, the reason is said once in one
 * line naming the variable to check, and a stop signal ends the wait at once.
 */

/** A dependency that cannot be used as configured (wrong password, not a Redis…): waiting will not help. */
export class DependencyRefused extends Error {}

/** The wait was ended by a stop signal. */
export class StartupAborted extends Error {
  constructor() {
    super('start-up stopped by a signal');
  }
}

export interface Dependency {
  /** "PostgreSQL", "Redis". */
  name: string;
  /** The variable that says where it is. */
  variable: string;
  url: string;
  /** What to do about it, from the README. */
  hint: string;
  /** Resolves once it answers; throws DependencyRefused when waiting cannot help. */
  probe(): Promise<void>;
}

/** A URL fit to print: without its password. */
export function printableUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.href;
  } catch {
    return '(unparsable URL)';
  }
}

const reasonOf = (error: unknown) =>
  (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim() || 'no answer';

/**
 * Waits until `dependency` answers, trying every `everyMs`. The first failure (and each new reason) is told
 * through `say` in one line; a refusal that waiting cannot cure throws at once, naming the variable.
 */
export async function waitUntilReachable(
  dependency: Dependency,
  options: { say: (line: string) => void; signal?: AbortSignal; everyMs?: number },
): Promise<void> {
  let told = '';
  for (;;) {
    if (options.signal?.aborted) throw new StartupAborted();
    try {
      await dependency.probe();
      if (told) options.say(`${dependency.name} is reachable now; starting.`);
      return;
    } catch (error) {
      const where = `${dependency.name} at ${printableUrl(dependency.url)} (${dependency.variable})`;
      if (error instanceof DependencyRefused)
        throw new DependencyRefused(`${where} refused the service: ${reasonOf(error)}. ${dependency.hint}`);
      const reason = reasonOf(error);
      if (reason !== told) {
        told = reason;
        options.say(
          `Cannot reach ${where}: ${reason}. ${dependency.hint} Retrying every ${Math.round((options.everyMs ?? 2000) / 1000)} s.`,
        );
      }
    }
    await pause(options.everyMs ?? 2000, options.signal);
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
