import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.ts';
import { DependencyRefused } from '../startup.ts';

export type Db = PrismaClient;
/** The client handed to code running inside `db.$transaction(async (tx) => …)`. */
export type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];
/** Anything that can run queries: the client or a transaction. */
export type Queryable = Db | Tx;

/**
 * Every statement on either pool (Prisma's, and the dialogue's raw one in raw-transactions.ts) is cancelled
 * after this long: a runaway query must not hold a connection and its locks. An interactive transaction of
 * a dialogue turn may last as long (its `timeout`); a statement never needs to.
 */
export const STATEMENT_TIMEOUT_MS = 15_000;

/**
 * Session settings of both pools. JIT off: PostgreSQL compiles any query its planner costs high, and the
 * summary's per-(unit, task) index probes cost high on paper while running in milliseconds; compiling them
 * took longer (350 ms on 10,000 units) than running them. Nothing here is an analytical scan that would gain
 * from it.
 */
export const SESSION_OPTIONS = `-c jit=off -c statement_timeout=${STATEMENT_TIMEOUT_MS}`;

export function createDb(connectionString: string): Db {
  const pool = new pg.Pool({ connectionString, max: 10, options: SESSION_OPTIONS });
  pool.on('connect', queriesOneAtATime);
  return new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
}

/**
 * Prisma's query interpreter fetches the relations of one `include` at once (Promise.all over the join's
 * children), which inside an interactive transaction means several queries at the same moment on one
 * connection (prisma/orm#29468). pg queues them but warns since 8.19 (a DeprecationWarning at start-up) and
 * pg 9 refuses them; so each connection here hands pg its queries one after another. Queries with a
 * callback (none of ours or Prisma's) pass through as they are.
 */
function queriesOneAtATime(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  let previous: Promise<unknown> = Promise.resolve();
  (client as { query: unknown }).query = (...args: unknown[]) => {
    if (typeof args[args.length - 1] === 'function') return query(...args);
    const next = previous.then(
      () => query(...args),
      () => query(...args),
    );
    previous = next.catch(() => undefined);
    return next;
  };
}

/** SQLSTATEs no amount of waiting changes: bad password or role, no permission, a malformed request. */
const REFUSED_CLASSES = ['28', '42', '08P01'];

/**
 * One connection attempt with a deadline: resolves when PostgreSQL answers (a database still to be created
 * counts: the server answered). A server still starting or shutting down is worth waiting for.
 */
export async function probePostgres(connectionString: string, timeoutMs = 5_000): Promise<void> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    const code = error instanceof pg.DatabaseError ? (error.code ?? '') : '';
    if (code === '3D000') return; // no such database yet: ensureDatabase creates it
    if (REFUSED_CLASSES.some((prefix) => code.startsWith(prefix)))
      throw new DependencyRefused(error instanceof Error ? error.message : String(error));
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}
