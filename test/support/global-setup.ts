import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { applyMigrations, ensureDatabase } from '../../src/db/migrate.ts';
import { onServer } from './db.ts';
import { PG_SERVER_URL, STALE_AFTER_SECONDS, TEST_DB_PREFIX } from './env.ts';

/** Drops the databases of this run (or of dead runs): names carry the run's start time. */
async function dropDatabases(keep: (startedAt: number, name: string) => boolean): Promise<void> {
  await onServer(async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1`,
      [`${TEST_DB_PREFIX.replace(/_/g, '\\_')}%`],
    );
    for (const { datname } of rows) {
      const startedAt = Number(/^thidua_t_(\d+)_/.exec(datname)?.[1] ?? 0);
      if (!keep(startedAt, datname)) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  });
}

/**
 * Migrates one template database per run; each test file then copies it (CREATE DATABASE … TEMPLATE),
 * which takes milliseconds, so files run in parallel on databases of their own. Runs at the same time
 * (CI beside a developer) use different names and never touch each other's databases.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const now = Math.floor(Date.now() / 1000);
  const runId = `${now}_${randomBytes(3).toString('hex')}`;
  await dropDatabases((startedAt) => now - startedAt < STALE_AFTER_SECONDS);
  const templateDb = `${TEST_DB_PREFIX}${runId}_template`;
  const url = `${PG_SERVER_URL}/${templateDb}`;
  await ensureDatabase(url);
  await applyMigrations(url);
  project.provide('templateDb', templateDb);
  project.provide('runId', runId);
  return () => dropDatabases((_startedAt, name) => !name.startsWith(`${TEST_DB_PREFIX}${runId}_`));
}
