/** Where the tests find PostgreSQL and Redis: the machine's own, as in PRODUCT.md's defaults. */
export const PG_SERVER_URL = process.env.TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432';
export const REDIS_SERVER_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEMPLATE_DB = 'thidua_test_template';
export const TEST_DB_PREFIX = 'thidua_t_';
