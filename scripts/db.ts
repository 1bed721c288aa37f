// Usage: tsx scripts/db.ts migrate | diff NAME   (DATABASE_URL, default the local thidua database)
import { applyMigrations, createMigration, ensureDatabase } from '../src/db/migrate.ts';

const databaseUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/thidua';
const [command, name] = process.argv.slice(2);

async function main(): Promise<void> {
  if (command === 'migrate') {
    await ensureDatabase(databaseUrl);
    const applied = await applyMigrations(databaseUrl);
    console.log(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'no pending migrations');
  } else if (command === 'diff' && name) {
    // The engine replays the committed migrations on a throw-away shadow database of this server.
    await ensureDatabase(databaseUrl);
    const dir = await createMigration(databaseUrl, name);
    console.log(dir ?? 'no changes');
  } else {
    console.error('usage: tsx scripts/db.ts migrate | diff NAME');
    process.exitCode = 2;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
