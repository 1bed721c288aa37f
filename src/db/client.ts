import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.ts';

export type Db = PrismaClient;
/** The client handed to code running inside `db.$transaction(async (tx) => …)`. */
export type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];
/** Anything that can run queries: the client or a transaction. */
export type Queryable = Db | Tx;

export function createDb(connectionString: string): Db {
  // JIT off: PostgreSQL compiles any query its planner costs high, and the summary's per-(unit, task)
  // index probes cost high on paper while running in milliseconds; compiling them took longer (350 ms
  // on 10,000 units) than running them. Nothing here is an analytical scan that would gain from it.
  return new PrismaClient({ adapter: new PrismaPg({ connectionString, max: 10, options: '-c jit=off' }) });
}
