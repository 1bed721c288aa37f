/** Where the tests find PostgreSQL and Redis: the machine's own, as in PRODUCT.md's defaults. */
export const PG_SERVER_URL = process.env.TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432';
export const REDIS_SERVER_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Every database a test run makes starts with this, then the run's start time in seconds. */
export const TEST_DB_PREFIX = 'thidua_t_';
/** Databases of runs older than this are left-overs of a run that died; younger ones may be in use. */
export const STALE_AFTER_SECONDS = 6 * 3600;

declare module 'vitest' {
  export interface ProvidedContext {
    templateDb: string;
    runId: string;
  }
}
