import pg from 'pg';
import { Prisma } from '../generated/prisma/client.ts';
import { SESSION_OPTIONS, type Tx } from './client.ts';

/**
 * Raw SQL only: what a function on the inbound hot path may ask of the database. Prisma's client and its
 * transactions satisfy it, so such a function runs on either engine, and the compiler keeps model queries
 * (which the raw engine cannot answer) out of it.
 */
export type RawQueries = Pick<Tx, '$queryRaw' | '$executeRaw' | '$executeRawUnsafe'>;

/** A transaction on the plain `pg` pool: raw SQL, and a way to say the work needs Prisma after all. */
export interface RawTransaction extends RawQueries {
  /**
   * Records that the work needs Prisma's model queries and throws NeedsPrisma. From then on the transaction
   * will not commit, whatever the work does with the error: `run` rolls it back and throws NeedsPrisma.
   */
  needsPrisma(what: string): never;
}

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
 * reply, the commonest update, spent more in Prisma than in everything else.
 *
 * The work is typed for raw SQL (RawTransaction). Code typed for Prisma that is reached anyway (a service
 * taking a `Queryable`, handed this transaction) meets the same guard at run time: a model query is a miss,
 * recorded before it throws. A transaction with a miss never commits, even when the work caught the error
 * and carried on: `run` rolls it back and throws NeedsPrisma, and the caller reruns the work through Prisma.
 */
export class RawTransactions {
  private readonly pool: pg.Pool;

  constructor(connectionString: string, max = 10) {
    // UTC: a Date parameter becomes a `timestamp` in UTC, as Prisma writes them; the rest as in createDb.
    this.pool = new pg.Pool({ connectionString, max, options: `-c TimeZone=UTC ${SESSION_OPTIONS}` });
    // An idle client that loses its connection must not take the process down with it.
    this.pool.on('error', () => undefined);
  }

  /** Runs the work in a transaction; NeedsPrisma (after a rollback) when it needed a model query. */
  async run<T>(work: (tx: RawTransaction) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const tx = new RawTransactionState(client);
    let broken = false;
    try {
      await client.query('BEGIN');
      let result: T;
      try {
        result = await work(tx.proxy);
      } catch (error) {
        // Whatever failed after a miss failed because of it (a caught NeedsPrisma rethrown as another error).
        throw tx.miss ?? error;
      }
      if (tx.miss) throw tx.miss;
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      tx.finished = true;
      client.release(broken);
    }
  }

  /**
   * Single statements on the same pool, each its own transaction (autocommit): for the one-statement writes
   * of the inbound path (recording a webhook's update, marking it handled), which cost three times more CPU
   * through Prisma.
   */
  readonly statements: RawQueries = {
    $queryRaw: (async (strings: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) =>
      (await this.statement(asSql(strings, values))).rows as unknown[]) as RawQueries['$queryRaw'],
    $executeRaw: (async (strings: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) =>
      (await this.statement(asSql(strings, values))).rowCount ?? 0) as RawQueries['$executeRaw'],
    $executeRawUnsafe: (async (text: string, ...values: unknown[]) =>
      (await this.statement({ text, values })).rowCount ?? 0) as RawQueries['$executeRawUnsafe'],
  };

  private statement({ text, values }: { text: string; values: unknown[] }) {
    return this.pool.query({ text, values: values.map(utcDate), types });
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

const asSql = (strings: TemplateStringsArray | Prisma.Sql, values: unknown[]): Prisma.Sql =>
  strings instanceof Prisma.Sql ? strings : Prisma.sql(strings, ...values);

/** One transaction's client and its first miss; `proxy` is what the work sees. */
class RawTransactionState {
  miss: NeedsPrisma | null = null;
  finished = false;
  readonly proxy: RawTransaction;

  constructor(private readonly client: pg.PoolClient) {
    const methods = {
      $queryRaw: async (strings: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) =>
        (await this.query(asSql(strings, values))).rows as unknown[],
      $executeRaw: async (strings: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) =>
        (await this.query(asSql(strings, values))).rowCount ?? 0,
      $executeRawUnsafe: async (text: string, ...values: unknown[]) =>
        (await this.query({ text, values })).rowCount ?? 0,
      needsPrisma: (what: string): never => {
        this.miss ??= new NeedsPrisma(what);
        throw this.miss;
      },
    };
    this.proxy = new Proxy(methods, {
      get(target, property) {
        if (typeof property === 'string' && property in target)
          return target[property as keyof typeof target];
        // `then` is asked when the object passes through a promise (it is not a thenable); symbols by
        // inspection and the like.
        if (property === 'then' || typeof property === 'symbol') return undefined;
        // A model query (`tx.official…`) from code typed for Prisma: a miss.
        return target.needsPrisma(String(property));
      },
      has: (target, property) => property in target,
    }) as unknown as RawTransaction;
  }

  private async query({ text, values }: { text: string; values: unknown[] }) {
    // Nothing more runs after a miss (it would be rolled back anyway), nor after the transaction ended.
    if (this.miss) throw this.miss;
    if (this.finished) throw new Error('the raw transaction has already ended');
    return this.client.query({ text, values: values.map(utcDate), types });
  }
}
