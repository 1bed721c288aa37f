import { createHash, randomUUID } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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

describe('the current_status migration', () => {
  it('backfills each pair with its latest report not undone, and none where all are undone', async () => {
    const currentStatus = committed.find((name) => /^\d{14}_current_status$/.test(name));
    if (!currentStatus) throw new Error('no current_status migration');
    // The database as it was before: every migration up to the one that adds CurrentStatus.
    const before = await mkdtemp(path.join(os.tmpdir(), 'migrate-before-'));
    tmpDirs.push(before);
    await cp('prisma/migrations/migration_lock.toml', path.join(before, 'migration_lock.toml'));
    for (const name of committed.filter((migration) => migration < currentStatus)) {
      await cp(path.join('prisma/migrations', name), path.join(before, name), { recursive: true });
    }
    const url = freshDatabaseUrl();
    await ensureDatabase(url);
    await applyMigrations(url, before);

    // Two units, two tasks. U1/T1: three reports, the latest undone (the middle one counts); U1/T2: two
    // reports at the same instant (the higher id counts); U2/T1: its only report undone (no status).
    await query(
      url,
      `INSERT INTO "Unit" (id, code, name, path, "updatedAt") VALUES
         ('00000000-0000-7000-8000-000000000001', 'U1', 'Xã Một', '/00000000-0000-7000-8000-000000000001/', now()),
         ('00000000-0000-7000-8000-000000000002', 'U2', 'Xã Hai', '/00000000-0000-7000-8000-000000000002/', now());
       INSERT INTO "Official" (id, code, name, "unitId", role, "updatedAt")
         VALUES ('00000000-0000-7000-8000-000000000011', 'O1', 'Cán bộ', '00000000-0000-7000-8000-000000000001', 'focal', now());
       INSERT INTO "Campaign" (id, "docNumber", title, "issuerUnitId", "startsOn", "endsOn", "updatedAt")
         VALUES ('00000000-0000-7000-8000-000000000021', '01/KH', 'Thi đua', '00000000-0000-7000-8000-000000000001',
           '2026-01-01', '2026-12-31', now());
       INSERT INTO "Task" (id, "campaignId", key, title, "dueOn") VALUES
         ('00000000-0000-7000-8000-000000000031', '00000000-0000-7000-8000-000000000021', 'T1', 'Một', '2026-06-30'),
         ('00000000-0000-7000-8000-000000000032', '00000000-0000-7000-8000-000000000021', 'T2', 'Hai', '2026-06-30');
       INSERT INTO "StatusReport" (id, "taskId", "unitId", "officialId", status, percent, channel, "createdAt", "undoneAt")
       VALUES
         ('00000000-0000-7000-8000-000000000041', '00000000-0000-7000-8000-000000000031',
           '00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-000000000011', 'not_started', NULL,
           'telegram', '2026-03-01', NULL),
         ('00000000-0000-7000-8000-000000000042', '00000000-0000-7000-8000-000000000031',
           '00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-000000000011', 'in_progress', 60,
           'telegram', '2026-03-02', NULL),
         ('00000000-0000-7000-8000-000000000043', '00000000-0000-7000-8000-000000000031',
           '00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-000000000011', 'done', NULL,
           'telegram', '2026-03-03', '2026-03-04'),
         ('00000000-0000-7000-8000-000000000045', '00000000-0000-7000-8000-000000000032',
           '00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-000000000011', 'done', NULL,
           'telegram', '2026-03-05', NULL),
         ('00000000-0000-7000-8000-000000000044', '00000000-0000-7000-8000-000000000032',
           '00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-000000000011', 'blocked', NULL,
           'telegram', '2026-03-05', NULL),
         ('00000000-0000-7000-8000-000000000046', '00000000-0000-7000-8000-000000000031',
           '00000000-0000-7000-8000-000000000002', '00000000-0000-7000-8000-000000000011', 'done', NULL,
           'telegram', '2026-03-01', '2026-03-02')`,
    );

    expect(await applyMigrations(url)).toEqual(committed.filter((name) => name >= currentStatus));
    const rows = await query<{
      task: string;
      unit: string;
      reportId: string;
      status: string;
      percent: number | null;
    }>(
      url,
      `SELECT t.key AS task, u.code AS unit, c."reportId", c.status::text AS status, c.percent
       FROM "CurrentStatus" c JOIN "Task" t ON t.id = c."taskId" JOIN "Unit" u ON u.id = c."unitId"
       ORDER BY t.key, u.code`,
    );
    expect(rows).toEqual([
      {
        task: 'T1',
        unit: 'U1',
        reportId: '00000000-0000-7000-8000-000000000042',
        status: 'in_progress',
        percent: 60,
      },
      {
        task: 'T2',
        unit: 'U1',
        reportId: '00000000-0000-7000-8000-000000000045',
        status: 'done',
        percent: null,
      },
    ]);
    // The unit_progress migration after it lays out the same statuses, one letter per task in task order.
    const progress = await query<{ unit: string; statuses: string; tasksDigest: string }>(
      url,
      `SELECT u.code AS unit, p.statuses, p."tasksDigest" FROM "UnitProgress" p JOIN "Unit" u ON u.id = p."unitId"`,
    );
    expect(progress).toEqual([
      {
        unit: 'U1',
        statuses: 'ID',
        tasksDigest: createHash('md5')
          .update('00000000-0000-7000-8000-000000000031,00000000-0000-7000-8000-000000000032')
          .digest('hex'),
      },
    ]);
  });
});
