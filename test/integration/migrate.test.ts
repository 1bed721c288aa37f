import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { applyMigrations, createMigration, diffMigration, ensureDatabase } from '../../src/db/migrate.ts';
import { PG_SERVER_URL, TEST_DB_PREFIX } from '../support/env.ts';

const server = `${PG_SERVER_URL}/postgres`;
const created: string[] = [];
const tmpDirs: string[] = [];

/** A URL to a not yet existing, randomly named database on the test server; dropped after the suite. */
function freshDatabaseUrl(): string {
  const name = `${TEST_DB_PREFIX}${inject('runId')}_migrate_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  created.push(name);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return url.href;
}

async function query<R extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

async function databaseExists(url: string): Promise<boolean> {
  const name = new URL(url).pathname.slice(1);
  return (await query(server, 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).length === 1;
}

const committed = (await readdir('prisma/migrations', { withFileTypes: true }))
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

afterAll(async () => {
  for (const name of created) {
    await query(server, `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  }
  for (const dir of tmpDirs) await rm(dir, { recursive: true, force: true });
});

describe('migrate', () => {
  const url = freshDatabaseUrl();

  it('ensureDatabase creates a missing database, and is a no-op after', async () => {
    expect(await databaseExists(url)).toBe(false);
    await ensureDatabase(url);
    expect(await databaseExists(url)).toBe(true);
    await ensureDatabase(url);
  });

  it('applyMigrations applies the committed migrations once', async () => {
    expect(committed.some((name) => /^\d{14}_init$/.test(name))).toBe(true);
    expect(await applyMigrations(url)).toEqual(committed);

    const tables = await query<{ table_name: string }>(
      url,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name = ANY($1)",
      [['Unit', 'OutboxMessage']],
    );
    expect(tables.map((row) => row.table_name).sort()).toEqual(['OutboxMessage', 'Unit']);

    expect(await applyMigrations(url)).toEqual([]);
  });

  it('applies each migration once when instances start at the same time', async () => {
    const other = freshDatabaseUrl();
    await Promise.all([ensureDatabase(other), ensureDatabase(other)]);
    const results = await Promise.all([applyMigrations(other), applyMigrations(other)]);

    expect(results.flat().sort()).toEqual(committed);
    const rows = await query<{ migration_name: string; count: string }>(
      other,
      `SELECT migration_name, count(*) FROM _prisma_migrations
       WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL GROUP BY migration_name ORDER BY migration_name`,
    );
    expect(rows).toEqual(committed.map((migration_name) => ({ migration_name, count: '1' })));
  });

  it('diffMigration finds no change between the committed migrations and the schema', async () => {
    // Prisma's describer ignores operator classes on btree indexes, so every diff drops and recreates the
    // raw(text_pattern_ops) index on Unit.path (prisma/prisma#28214); any other statement is real drift.
    const knownNoise =
      /-- DropIndex\nDROP INDEX "Unit_path_prefix_idx";\n\n-- CreateIndex\nCREATE INDEX "Unit_path_prefix_idx" ON "Unit"\("path" text_pattern_ops\);\n?/;
    expect((await diffMigration(url)).replace(knownNoise, '')).toBe('');
  });

  it('createMigration writes a migration that diffMigration then finds complete', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'migrate-test-'));
    tmpDirs.push(dir);
    const schemaPath = path.join(dir, 'schema.prisma');
    const migrationsDir = path.join(dir, 'migrations');
    await writeFile(
      schemaPath,
      'datasource db {\n  provider = "postgresql"\n}\n\nmodel Thing {\n  id   Int    @id\n  name String @unique\n}\n',
    );

    const created = await createMigration(url, 'first thing', schemaPath, migrationsDir);
    expect(created).toMatch(/[/\\]\d{14}_first_thing$/);
    expect(await readFile(path.join(created ?? '', 'migration.sql'), 'utf8')).toContain(
      'CREATE TABLE "Thing"',
    );
    expect(await readFile(path.join(migrationsDir, 'migration_lock.toml'), 'utf8')).toContain(
      'provider = "postgresql"',
    );

    const target = freshDatabaseUrl();
    await ensureDatabase(target);
    expect(await applyMigrations(target, migrationsDir)).toEqual([path.basename(created ?? '')]);
    expect(await diffMigration(target, schemaPath, migrationsDir)).toBe('');
    expect(await createMigration(target, 'nothing', schemaPath, migrationsDir)).toBeNull();
  });
});
