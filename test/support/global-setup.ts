import pg from 'pg';
import { applyMigrations, ensureDatabase } from '../../src/db/migrate.ts';
import { PG_SERVER_URL, TEMPLATE_DB, TEST_DB_PREFIX } from './env.ts';

/**
 * Migrates one template database per run; each test file then copies it (CREATE DATABASE … TEMPLATE),
 * which takes milliseconds, so files run in parallel on databases of their own.
 */
export default async function setup(): Promise<void> {
  const admin = new pg.Client({ connectionString: `${PG_SERVER_URL}/postgres` });
  await admin.connect();
  try {
    const stale = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname = $2`,
      [`${TEST_DB_PREFIX.replace(/_/g, '\\_')}%`, TEMPLATE_DB],
    );
    for (const { datname } of stale.rows)
      await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
  const url = `${PG_SERVER_URL}/${TEMPLATE_DB}`;
  await ensureDatabase(url);
  await applyMigrations(url);
}
