import pg from 'pg';
import { Prisma } from '../generated/prisma/client.ts';
import type { Tx } from './client.ts';

/**
 * Raw SQL only: what a function on the inbound hot path may ask of the database. Prisma's client and its
 * transactions satisfy it, so such a function runs on either engine, and the compiler keeps model queries
 * (which the raw engine cannot answer) out of it.
 */
export type RawQueries = Pick<Tx, '$queryRaw' | '$executeRaw' | '$executeRawUnsafe'>;

/** Work that needed more than raw SQL (a Prisma model query): the caller runs it again through Prisma. */
export class NeedsPrisma extends Error {
  constructor(readonly what: string) {
    super(`${what} needs a Prisma transaction`);
  }
}

// Read as Prisma reads them: its DateTime columns are `timestamp` holding UTC, its dates UTC midnights.
const TIMESTAMP = 1114;
const DATE = 1082;
const defaultParser = pg.types.getTypeParser.bind(pg.types) as (oid: number, format?: string) => unknown;
const types = {
  getTypeParser: ((oid: number, format?: string): unknown =>
    oid === TIMESTAMP
      ? (value: string) => new Date(`${value.replace(' ', 'T')}Z`)
      : oid === DATE
        ? (value: string) => new Date(`${value}T00:00:00Z`)
        : defaultParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * Transactions on a plain `pg` pool for work that is raw SQL only (`$queryRaw`, `$executeRaw`,
 * `$executeRawUnsafe` with Prisma.sql templates). Through Prisma a raw query costs about 0.5 ms of CPU and a
 * transaction 1.4 ms; through `pg` 0.14 and 0.4 ms (bench/RESULTS.md, inbound): the handling of a status
 * reply, the commonest update, spent more in Prisma than in everything else. The work receives a `Tx` that
 * answers those three methods and throws NeedsPrisma for anything else (a model query): the transaction is
 * rolled back and the caller runs the same work again through Prisma, so one code path serves both.
 */
export class RawTransactions {
  private readonly pool: pg.Pool;

  constructor(connectionString: string, max = 10) {
    // UTC: a Date parameter becomes a `timestamp` in UTC, as Prisma writes them; jit off as in createDb.
    this.pool = new pg.Pool({ connectionString, max, options: '-c TimeZone=UTC -c jit=off' });
    // An idle client that loses its connection must not take the process down with it.
    this.pool.on('error', () => undefined);
  }

  /** Runs the work in a transaction; NeedsPrisma (after a rollback) when it asked for a model query. */
  async run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(rawTx(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async end(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * A Date parameter as UTC: `pg` writes local time with its offset, and PostgreSQL drops the offset when it
 * reads the text as a `timestamp` (without time zone), shifting it by the process's zone.
 */
const utcDate = (value: unknown): unknown => (value instanceof Date ? value.toISOString() : value);

function rawTx(client: pg.PoolClient): Tx {
  const query = async (sql: Prisma.Sql) =>
    client.query({ text: sql.text, values: sql.values.map(utcDate), types });
  const raw = {
    $queryRaw: async (strings: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Promise<unknown[]> =>
      (await query(strings instanceof Prisma.Sql ? strings : Prisma.sql(strings, ...values)))
        .rows as unknown[],
    $executeRaw: async (strings: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) =>
      (await query(strings instanceof Prisma.Sql ? strings : Prisma.sql(strings, ...values))).rowCount ?? 0,
    $executeRawUnsafe: async (text: string, ...values: unknown[]) =>
      (await client.query({ text, values: values.map(utcDate), types })).rowCount ?? 0,
  };
  return new Proxy(raw, {
    get(target, property) {
      if (typeof property === 'string' && property in target) return target[property as keyof typeof raw];
      // `then` is asked when the object passes through a promise (it is not a thenable); symbols by
      // inspection and the like.
      if (property === 'then' || typeof property === 'symbol') return undefined;
      throw new NeedsPrisma(String(property));
    },
    has: (target, property) => property in target,
  }) as unknown as Tx;
}
