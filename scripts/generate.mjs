// Generates the Prisma client offline: the CLI would otherwise try to download a native schema
// engine it does not need for `generate` (see ARCHITECTURE.md, "Choices already checked").
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const schema = 'prisma/schema.prisma';
const marker = 'src/generated/prisma/client.ts';
if (existsSync(marker) && statSync(marker).mtimeMs > statSync(schema).mtimeMs) process.exit(0);
execFileSync('npx', ['prisma', 'generate'], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
});
