// The reminder sweep over 10,000 (unit, task) pairs on the real PostgreSQL, against a baseline measured
// in the same run: writing the same number of outbox rows directly (the floor any sweep pays).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Renderer } from '../src/conversation/render.ts';
import { createDb } from '../src/db/client.ts';
import { applyMigrations, ensureDatabase } from '../src/db/migrate.ts';
import { dateFromIso } from '../src/domain/time.ts';
import { createTranslator } from '../src/i18n.ts';
import { writeOutbox } from '../src/services/outbox.ts';
import { sweepReminders } from '../src/services/reminders.ts';

const SERVER = process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432';
const UNITS = Number(process.env.BENCH_UNITS ?? 1000);
const TASKS = Number(process.env.BENCH_TASKS ?? 10);
const ZONE = 'Asia/Ho_Chi_Minh';
const TICK_MS = 15 * 60_000;

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await work();
  return [result, performance.now() - start];
}

export async function main(): Promise<void> {
  const name = `thidua_bench_${randomBytes(4).toString('hex')}`;
  const url = `${SERVER}/${name}`;
  await ensureDatabase(url);
  await applyMigrations(url);
  const db = createDb(url);
  try {
    const root = await db.unit.create({ data: { code: 'ROOT', name: 'UBND tỉnh', path: '/root/' } });
    const units = Array.from({ length: UNITS }, (_, i) => ({
      id: crypto.randomUUID(),
      code: `U${i}`,
      name: `UBND xã số ${i}`,
      parentId: root.id,
      path: `/root/u${i}/`,
    }));
    await db.unit.createMany({ data: units });
    const officials = units.map((unit, i) => ({
      id: crypto.randomUUID(),
      code: `O${i}`,
      name: `Cán bộ ${i}`,
      unitId: unit.id,
      role: 'focal' as const,
    }));
    await db.official.createMany({ data: officials });
    await db.channelAccount.createMany({
      data: officials.map((official, i) => ({
        officialId: official.id,
        channel: 'telegram',
        chatId: String(10_000 + i),
      })),
    });
    const campaign = await db.campaign.create({
      data: {
        docNumber: 'BENCH/KH',
        title: 'Kế hoạch đo hiệu năng',
        issuerUnitId: root.id,
        startsOn: dateFromIso('2026-06-01'),
        endsOn: dateFromIso('2026-12-31'),
        state: 'running',
        launchedAt: new Date('2026-06-01T02:00:00Z'),
        tasks: {
          create: Array.from({ length: TASKS }, (_, i) => ({
            key: `T${i}`,
            title: `Nhiệm vụ ${i}`,
            dueOn: dateFromIso('2026-07-15'),
            position: i,
          })),
        },
      },
    });
    await db.campaignUnit.createMany({
      data: units.map((unit) => ({ campaignId: campaign.id, unitId: unit.id })),
    });
    const render = new Renderer(createTranslator(), ZONE);
    const deps = { db, render, timeZone: ZONE };
    const at = new Date('2026-07-15T00:30:00Z'); // the due day, 07:30: every pair is due

    const [dry, dryMs] = await timed(() => sweepReminders(deps, { now: at, dryRun: true }));
    const [first, sweepMs] = await timed(() => sweepReminders(deps, { now: at }));
    const [second, rerunMs] = await timed(() => sweepReminders(deps, { now: at }));
    // Baseline: the same number of outbox rows written directly, in slices as the sweep does.
    const items = Array.from({ length: first.messages }, (_, i) => ({
      dedupeKey: `baseline:${i}`,
      channel: 'telegram',
      chatId: String(10_000 + (i % UNITS)),
      officialId: officials[i % UNITS]?.id ?? null,
      message: render.reminder('vi', {
        kind: 'due',
        taskId: campaign.id,
        title: 'Nhiệm vụ',
        docNumber: 'BENCH/KH',
        dueOn: dateFromIso('2026-07-15'),
        days: 0,
        current: null,
      }),
    }));
    const [, baselineMs] = await timed(() =>
      db.$transaction(
        async (tx) => {
          for (let start = 0; start < items.length; start += 2000)
            await writeOutbox(tx, items.slice(start, start + 2000));
        },
        { timeout: 120_000 },
      ),
    );
    const lines = [
      `pairs (unit × task): ${UNITS * TASKS}`,
      `dry run: ${dryMs.toFixed(0)} ms (would send ${dry.messages})`,
      `sweep: ${sweepMs.toFixed(0)} ms, ${first.reminders} reminders keyed, ${first.messages} outbox rows`,
      `rerun (nothing new): ${rerunMs.toFixed(0)} ms, ${second.messages} rows`,
      `baseline (writing ${items.length} outbox rows directly): ${baselineMs.toFixed(0)} ms`,
      `ratio sweep / baseline: ${(sweepMs / baselineMs).toFixed(2)}`,
      `ratio rerun / baseline: ${(rerunMs / baselineMs).toFixed(2)}`,
      `ratio sweep / tick (15 min): ${(sweepMs / TICK_MS).toFixed(5)}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await db.$disconnect();
    const client = new pg.Client({ connectionString: `${SERVER}/postgres` });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.end();
  }
}
