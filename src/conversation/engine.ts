import type { Db, Tx } from '../db/client.ts';
import { NeedsPrisma, type RawQueries, type RawTransactions } from '../db/raw-transactions.ts';
import type { Logger } from '../logger.ts';

/**
 * Where a turn's transaction runs. `raw`: a plain `pg` transaction (db/raw-transactions.ts), for routes
 * that are raw SQL only, the inbound hot path (a status reply or button above all); `prisma`: Prisma's
 * interactive transaction, for routes that need its model queries.
 */
export type Engine = 'raw' | 'prisma';

/** A turn's transaction as its handlers see it, on either engine. */
export interface TurnTransaction {
  readonly engine: Engine;
  /** Raw SQL, on either engine: what hot-path services take (RawQueries). */
  readonly sql: RawQueries;
  /**
   * Prisma's transaction client, for model queries. On the raw engine this is a miss: the transaction will
   * not commit, and the turn runs again through Prisma (counted per route in /metrics).
   */
  prisma(why: string): Tx;
}

/** How long a turn through Prisma may wait for a connection and run (the statement timeout is in db/client.ts). */
const PRISMA_TURN = { timeout: 15_000, maxWait: 10_000 };

export interface TurnEngineDeps {
  db: Db;
  /** The raw engine; without it every route runs through Prisma. */
  raw?: Pick<RawTransactions, 'run'> | undefined;
  /** Counts turns of a raw route that had to run again through Prisma, by route. */
  fallbacks?: { inc(labels: { route: string }): void } | undefined;
  logger: Logger;
}

/**
 * Runs a turn on the engine its route chose before anything started. A raw route whose turn turns out to
 * need Prisma (a numbered reply that answers a launch, a text while an exemplar report is open) is rolled
 * back and run again through Prisma; RawTransactions guarantees the miss reaches us even when the turn's
 * code caught the error.
 */
export class TurnEngine {
  constructor(private readonly deps: TurnEngineDeps) {}

  async run<T>(
    route: { name: string; engine: Engine },
    work: (tx: TurnTransaction) => Promise<T>,
  ): Promise<T> {
    const raw = this.deps.raw;
    if (route.engine === 'raw' && raw) {
      try {
        return await raw.run((tx) => work({ engine: 'raw', sql: tx, prisma: (why) => tx.needsPrisma(why) }));
      } catch (error) {
        if (!(error instanceof NeedsPrisma)) throw error;
        this.deps.fallbacks?.inc({ route: route.name });
        this.deps.logger.debug({ route: route.name, needed: error.what }, 'turn runs again through Prisma');
      }
    }
    return this.deps.db.$transaction(
      (tx) => work({ engine: 'prisma', sql: tx, prisma: () => tx }),
      PRISMA_TURN,
    );
  }
}
