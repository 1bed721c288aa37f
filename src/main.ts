import { setFlagsFromString } from 'node:v8';
import { startApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';

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
  const logger = createLogger(config.logLevel);
  const app = await startApp(config, logger);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
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
}

main().catch((error: unknown) => {
  process.stderr.write(`Start-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
