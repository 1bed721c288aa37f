import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createDb, type Db } from '../../src/db/client.ts';
import { PG_SERVER_URL, TEST_DB_PREFIX } from './env.ts';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Runs `work` on a connection to the server's maintenance database (to create and drop databases). */
export async function onServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `${PG_SERVER_URL}/postgres` });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A migrated database of the test file's own, copied from the run's template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `${TEST_DB_PREFIX}${inject('runId')}_${randomBytes(4).toString('hex')}`;
  await onServer((client) => client.query(`CREATE DATABASE "${name}" TEMPLATE "${inject('templateDb')}"`));
  return {
    name,
    url: `${PG_SERVER_URL}/${name}`,
    drop: () =>
      onServer((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(
        () => undefined,
      ),
  };
}

export async function withTestDb(): Promise<{ db: Db; database: TestDatabase; close(): Promise<void> }> {
  const database = await createTestDatabase();
  const db = createDb(database.url);
  return {
    db,
    database,
    close: async () => {
      await db.$disconnect();
      await database.drop();
    },
  };
}
