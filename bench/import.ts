// The organisation import: 1,000 units and 10,000 officials from an XLSX workbook into a fresh database,
// against a baseline measured in the same run: the same rows written with two plain pg INSERT … unnest
// statements (the floor any import pays). Prints figures and ratios; asserts nothing.
import { randomBytes, randomUUID } from 'node:crypto';
import ExcelJS from 'exceljs';
import pg from 'pg';
import { createDb } from '../src/db/client.ts';
import { applyMigrations, ensureDatabase } from '../src/db/migrate.ts';
import { importSpreadsheet, readSpreadsheet } from '../src/services/import.ts';

const SERVER = process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432';
const UNITS = Number(process.env.BENCH_UNITS ?? 1000);
const OFFICIALS = Number(process.env.BENCH_OFFICIALS ?? 10_000);
const ROLES = ['thành viên', 'đầu mối', 'lãnh đạo', 'quản trị'];

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await work();
  return [result, performance.now() - start];
}

async function scratchDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `thidua_bench_${randomBytes(4).toString('hex')}`;
  const url = `${SERVER}/${name}`;
  await ensureDatabase(url);
  await applyMigrations(url);
  return {
    url,
    drop: async () => {
      const client = new pg.Client({ connectionString: `${SERVER}/postgres` });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}

function rows() {
  // Three levels: a province, districts (one per 50 communes), communes; children listed first.
  const units: [string, string, string | null, string | null][] = [];
  const districts = Math.max(1, Math.ceil((UNITS - 1) / 50));
  for (let i = 0; i < UNITS - 1 - districts; i++)
    units.push([`XA-${i}`, `UBND xã số ${i}`, `HUYEN-${i % districts}`, 'KHOI-XA']);
  for (let d = 0; d < districts; d++) units.push([`HUYEN-${d}`, `UBND huyện số ${d}`, 'TINH', 'KHOI-HUYEN']);
  units.push(['TINH', 'UBND tỉnh', null, null]);
  const officials: [string, string, string, string, string][] = [];
  for (let i = 0; i < OFFICIALS; i++)
    officials.push([
      `CB-${i}`,
      `Nguyễn Văn Cán Bộ ${i}`,
      units[i % units.length]?.[0] ?? 'TINH',
      ROLES[i % ROLES.length] ?? 'thành viên',
      `09${String(10_000_000 + i)}`,
    ]);
  return { units, officials };
}

async function workbookOf(data: ReturnType<typeof rows>): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  const units = book.addWorksheet('Đơn vị');
  units.addRow(['mã đơn vị', 'tên đơn vị', 'mã đơn vị cấp trên', 'khối thi đua']);
  units.addRows(data.units);
  const officials = book.addWorksheet('Cán bộ');
  officials.addRow(['mã cán bộ', 'họ tên', 'mã đơn vị', 'vai trò', 'điện thoại']);
  officials.addRows(data.officials);
  return Buffer.from(await book.xlsx.writeBuffer());
}

/** The floor: ids and paths computed in memory, then one INSERT … unnest per table. */
async function baseline(url: string, data: ReturnType<typeof rows>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const ids = new Map(data.units.map(([code]) => [code, randomUUID()]));
    const parents = new Map(data.units.map(([code, , parent]) => [code, parent]));
    const pathOf = (code: string): string => {
      const parent = parents.get(code);
      return `${parent ? pathOf(parent) : '/'}${ids.get(code) ?? ''}/`;
    };
    const roleOf: Record<string, string> = {
      'thành viên': 'member',
      'đầu mối': 'focal',
      'lãnh đạo': 'leader',
      'quản trị': 'admin',
    };
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO "Unit" (id, code, name, "parentId", path, "blockCodes", "updatedAt")
       SELECT id, code, name, parent, path, ARRAY[block], now()
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::text[])
         AS v(id, code, name, parent, path, block)`,
      [
        data.units.map(([code]) => ids.get(code)),
        data.units.map(([code]) => code),
        data.units.map(([, name]) => name),
        data.units.map(([, , parent]) => (parent ? ids.get(parent) : null)),
        data.units.map(([code]) => pathOf(code)),
        data.units.map(([, , , block]) => block),
      ],
    );
    await client.query(
      `INSERT INTO "Official" (id, code, name, "unitId", role, phone, "updatedAt")
       SELECT id, code, name, unit, role::"Role", phone, now()
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::text[])
         AS v(id, code, name, unit, role, phone)`,
      [
        data.officials.map(() => randomUUID()),
        data.officials.map(([code]) => code),
        data.officials.map(([, name]) => name),
        data.officials.map(([, , unit]) => ids.get(unit)),
        data.officials.map(([, , , role]) => roleOf[role]),
        data.officials.map(([, , , , phone]) => phone),
      ],
    );
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}

export async function main(): Promise<void> {
  const data = rows();
  const file = await workbookOf(data);
  const ours = await scratchDatabase();
  const floor = await scratchDatabase();
  const db = createDb(ours.url);
  try {
    const [, readMs] = await timed(() => readSpreadsheet(file));
    const [result, importMs] = await timed(() => importSpreadsheet(db, file));
    const [again, reimportMs] = await timed(() => importSpreadsheet(db, file));
    const [, baselineMs] = await timed(() => baseline(floor.url, data));
    const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const lines = [
      `workbook: ${UNITS} units, ${OFFICIALS} officials, ${(file.length / 1024).toFixed(0)} KiB`,
      `reading the XLSX alone:                  ${fmt(readMs)}`,
      `import (read + validate + write):        ${fmt(importMs)}  ` +
        `units ${JSON.stringify(result.units)} officials ${JSON.stringify(result.officials)}`,
      `re-import of the same file (no writes):  ${fmt(reimportMs)}  ` +
        `unchanged ${again.units.unchanged} + ${again.officials.unchanged}`,
      `baseline (pg INSERT … unnest, same rows): ${fmt(baselineMs)}`,
      `ratio import / baseline:                 ${(importMs / baselineMs).toFixed(1)}x`,
      `ratio (import - reading) / baseline:     ${((importMs - readMs) / baselineMs).toFixed(1)}x`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await db.$disconnect();
    await ours.drop();
    await floor.drop();
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) await main();
