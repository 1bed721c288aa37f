import type { Queryable, Tx } from '../db/client.ts';

/**
 * Runs the work in the caller's transaction, or in one of its own when given the bare client: a change and
 * what goes with it (its audit row, its outbox rows) are written together or not at all.
 */
export function inTransaction<T>(db: Queryable, work: (tx: Tx) => Promise<T>): Promise<T> {
  return '$transaction' in db ? db.$transaction(work) : work(db);
}
