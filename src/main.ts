import { setFlagsFromString } from 'node:v8';
import { startApp, type App } from './app.ts';
import { ConfigError, configuredSecrets, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { DependencyRefused, StartupAborted } from './startup.ts';

/** However stuck a dependency is, a stop signal ends the process within this (orchestrators wait 10 s). */
const STOP_DEADLINE_MS = 8_000;

/** Entry: `node src/main.ts [all|web|worker|scheduler]`. */
async function main(): Promise<void> {
  // Prisma's query compiler is WebAssembly (4 MB). V8 compiles it with its baseline compiler (Liftoff),
  // then recompiles hot functions with its optimising one in background threads, which left 50–80 MB
  // more resident in every process that queries. The client caches query plans, so the compiler runs
  // about once per query shape: the optimised code saved about 4 % of the web role's CPU per webhook
  // (bench/RESULTS.md, memory). It only affects WebAssembly compiled after this line, hence first.
  setFlagsFromString('--liftoff-only');
  let config;
  try {
    config = loadConfig(process.env, process.argv.slice(2));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel, { secrets: configuredSecrets(config) });

  // Signals are taken from the first moment: a start-up waiting for PostgreSQL or Redis ends at once, and a
  // shutdown that hangs on a dependency that went away is cut short.
  const starting = new AbortController();
  let app: App | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => {
      logger.error({ signal }, 'shutdown took too long; exiting');
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    if (!app) {
      starting.abort();
      return;
    }
    logger.info({ signal }, 'shutting down');
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  try {
    app = await startApp(config, logger, { signal: starting.signal });
  } catch (error) {
    if (error instanceof StartupAborted) process.exit(0);
    if (error instanceof ConfigError || error instanceof DependencyRefused) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  // A signal that came while the last step of start-up was running.
  if (stopping) {
    stopping = false;
    shutdown('SIGTERM');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`Start-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
