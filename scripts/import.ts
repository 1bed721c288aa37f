// Imports units and officials from an XLSX or CSV file into DATABASE_URL, as POST /api/import does.
// Usage: npm run import -- FILE [--dry-run]
import { readFile } from 'node:fs/promises';
import { ConfigError, loadConfig } from '../src/config.ts';
import { createDb } from '../src/db/client.ts';
import { applyMigrations, ensureDatabase } from '../src/db/migrate.ts';
import { DomainError } from '../src/services/errors.ts';
import { Renderer } from '../src/conversation/render.ts';
import { createTranslator } from '../src/i18n.ts';
import { importSpreadsheet, type ImportResult } from '../src/services/import.ts';

const args = process.argv.slice(2);
const dryRun = args.includes('--dry-run');
const path = args.find((arg) => !arg.startsWith('--'));
if (!path) {
  process.stderr.write('usage: npm run import -- FILE.xlsx|FILE.csv [--dry-run]\n');
  process.exit(2);
}

function describe(result: ImportResult): string {
  const line = (what: string, c: ImportResult['units']) =>
    `${what}: ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged`;
  const merged = 'merged' in result.units ? result.units.merged : 0;
  const merges = (result.merges ?? []).map(
    (merge) => `merged ${merge.from.map((row) => row.code).join(', ')} into ${merge.into}`,
  );
  return [
    dryRun ? 'Dry run: nothing was written.' : 'Imported.',
    line('units', result.units),
    line('officials', result.officials),
    ...(merged > 0 ? [`units merged: ${merged}`] : []),
    ...merges,
  ].join('\n');
}

let exitCode = 0;
try {
  const config = loadConfig(process.env);
  const file = await readFile(path);
  await ensureDatabase(config.databaseUrl);
  await applyMigrations(config.databaseUrl);
  const db = createDb(config.databaseUrl);
  try {
    const reorganise = {
      render: new Renderer(createTranslator(), config.timeZone),
      now: new Date(),
      timeZone: config.timeZone,
    };
    process.stdout.write(`${describe(await importSpreadsheet(db, file, { dryRun, reorganise }))}\n`);
  } finally {
    await db.$disconnect();
  }
} catch (error) {
  exitCode = 1;
  if (error instanceof DomainError) {
    process.stderr.write(`${error.code}: ${error.message}\n`);
    const details = error.details as { errors?: { sheet: string; row: number; message: string }[] } | null;
    for (const row of details?.errors ?? [])
      process.stderr.write(`  ${row.sheet} row ${row.row}: ${row.message}\n`);
  } else if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    exitCode = 2;
  } else {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  }
}
process.exit(exitCode);
