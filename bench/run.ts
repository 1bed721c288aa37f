// Runs every benchmark in bench/ (each prints its figures and ratios; none asserts timings).
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv[2];
for (const file of readdirSync(dir).sort()) {
  if (!file.endsWith('.ts') || file === 'run.ts' || (only && !file.startsWith(only))) continue;
  process.stdout.write(`\n## ${file}\n`);
  const module = (await import(new URL(file, import.meta.url).href)) as { main?: () => Promise<void> };
  await module.main?.();
}
