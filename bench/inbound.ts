// Inbound (issue 5, benchmarks 2 and 3): status replies ("đang thực hiện 60%") posted to the service's
// Telegram webhook at increasing rates, each from its own linked chat, timed from the POST to the
// confirmation's sendMessage arriving at a stub Bot API; p50/p95/p99 per rate and the highest rate held
// with p95 < 150 ms. The service runs as three processes (web, worker, scheduler) against PostgreSQL and
// Redis, as deployed; their memory (VmRSS) is read at rest and under load. Baseline, measured the same
// way against the same stub: a bare telegraf webhook bot answering every text with a fixed reply.
// Prints figures and ratios; asserts nothing. Targets: held-rate ratio ≥ 0.5, RSS < 250 MB per role.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  BotApiStub,
  clearPrefix,
  freePort,
  percentile,
  REDIS_SERVER,
  rssMbOf,
  scratchDatabase,
  startRole,
  waitUntil,
  type RoleProcess,
  type ScratchDatabase,
} from './lib/harness.ts';

const RATES = (process.env.BENCH_RATES ?? '10,20,50,100,200').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const TARGET_P95_MS = 150;
/** A step this far over the target is not held by a mile; higher rates are not tried. */
const HOPELESS_P95_MS = 3000;
const FIRST_CHAT = 80_000_000;
const CHATS = Math.max(...RATES) * SECONDS;
const TOKEN = `7${randomBytes(3).readUIntBE(0, 3)}:bench-inbound`;
const SECRET = `bench_${randomBytes(8).toString('hex')}`;
const REPLY = 'đang thực hiện 60%';
const isConfirmation = (text: string) => text.startsWith('✅ Đã ghi nhận');

interface Step {
  rate: number;
  sent: number;
  answered: number;
  p50: number;
  p95: number;
  p99: number;
  /** Webhook answers other than 200. */
  refused: number;
  /** How long the webhook took to answer (median, ms). */
  answerP50: number;
  held: boolean;
}

let nextUpdateId = 1;

function update(chatId: number) {
  const id = nextUpdateId++;
  return {
    update_id: id,
    message: {
      message_id: id,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chatId, type: 'private', first_name: 'Cán bộ' },
      from: { id: chatId, is_bot: false, first_name: 'Cán bộ' },
      text: REPLY,
    },
  };
}

/** Posts `rate` updates a second for SECONDS (open loop: on schedule, whatever the answers do). */
async function step(webhook: string, stub: BotApiStub, rate: number): Promise<Step> {
  const total = rate * SECONDS;
  const postedAt = new Map<string, number>();
  const latencies: number[] = [];
  stub.onMessage = (arrival) => {
    const at = postedAt.get(arrival.chatId);
    if (at === undefined || !isConfirmation(arrival.text)) return;
    latencies.push(arrival.at - at);
    postedAt.delete(arrival.chatId);
  };
  let refused = 0;
  const answerTimes: number[] = [];
  const posts: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const chatId = FIRST_CHAT + i;
    const postAt = performance.now();
    postedAt.set(String(chatId), postAt);
    posts.push(
      fetch(webhook, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        body: JSON.stringify(update(chatId)),
      }).then(
        async (response) => {
          await response.arrayBuffer();
          answerTimes.push(performance.now() - postAt);
          if (response.status !== 200) refused += 1;
        },
        () => {
          refused += 1;
        },
      ),
    );
  }
  await Promise.all(posts);
  // Every confirmation, or 60 s of silence after the last post.
  await waitUntil('the confirmations', () => (postedAt.size === 0 ? true : undefined), 60_000, 20).catch(
    () => undefined,
  );
  stub.onMessage = undefined;
  latencies.sort((a, b) => a - b);
  const p95 = percentile(latencies, 95);
  const answered = latencies.length;
  return {
    rate,
    sent: total,
    answered,
    p50: percentile(latencies, 50),
    p95,
    p99: percentile(latencies, 99),
    refused,
    answerP50: percentile(
      answerTimes.sort((a, b) => a - b),
      50,
    ),
    held: answered === total && refused === 0 && p95 < TARGET_P95_MS,
  };
}

interface Run {
  name: string;
  steps: Step[];
  held: number;
  peakRssMb: Record<string, number>;
}

/**
 * A warm-up before measuring (a deployed service is warm: its code compiled, its connections open):
 * 40 replies at 10/s from chats the measured steps reach last, each confirmation awaited.
 */
async function warmUp(webhook: string, stub: BotApiStub): Promise<void> {
  const chats = Array.from({ length: 40 }, (_, i) => FIRST_CHAT + CHATS - 1 - i);
  const before = stub.arrivals.length;
  for (const chatId of chats) {
    await fetch(webhook, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
      body: JSON.stringify(update(chatId)),
    }).then((response) => response.arrayBuffer());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await waitUntil('the warm-up confirmations', () =>
    stub.arrivals.length - before >= chats.length ? true : undefined,
  );
}

/** Every rate in turn, sampling the processes' memory throughout. */
async function ladder(name: string, webhook: string, stub: BotApiStub, pids: Record<string, number>) {
  const peak: Record<string, number> = Object.fromEntries(Object.keys(pids).map((role) => [role, 0]));
  const sampler = setInterval(() => {
    for (const [role, pid] of Object.entries(pids)) peak[role] = Math.max(peak[role] ?? 0, rssMbOf(pid));
  }, 250);
  const steps: Step[] = [];
  try {
    await warmUp(webhook, stub);
    for (const rate of RATES) {
      const result = await step(webhook, stub, rate);
      steps.push(result);
      process.stdout.write(
        `  ${name} ${rate}/s: p50 ${result.p50.toFixed(0)} ms, p95 ${result.p95.toFixed(0)} ms, webhook answered in ${result.answerP50.toFixed(0)} ms (p50), confirmed ${result.answered}/${result.sent}\n`,
      );
      if (!(result.p95 < HOPELESS_P95_MS) || result.answered < result.sent) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  } finally {
    clearInterval(sampler);
  }
  const held = Math.max(0, ...steps.filter((s) => s.held).map((s) => s.rate));
  return { name, steps, held, peakRssMb: peak } satisfies Run;
}

async function seed(database: ScratchDatabase): Promise<void> {
  const { sql } = database;
  await sql.query(`
    INSERT INTO "Unit" (id, code, name, path, "updatedAt")
    SELECT id, 'TINH', 'UBND tỉnh Lai Châu', '/' || id || '/', now() FROM (SELECT gen_random_uuid() AS id) v`);
  await sql.query(
    `INSERT INTO "Unit" (id, code, name, "parentId", path, "updatedAt")
     SELECT v.id, 'XA-' || v.n, 'UBND xã số ' || v.n, r.id, r.path || v.id || '/', now()
     FROM (SELECT gen_random_uuid() AS id, n FROM generate_series(0, $1::int - 1) n) v,
          (SELECT id, path FROM "Unit" WHERE code = 'TINH') r`,
    [CHATS],
  );
  await sql.query(`
    INSERT INTO "Official" (id, code, name, "unitId", role, "updatedAt")
    SELECT gen_random_uuid(), 'CB-' || u.code, 'Cán bộ ' || u.name, u.id, 'focal', now() FROM "Unit" u WHERE u.code LIKE 'XA-%'`);
  await sql.query(
    `INSERT INTO "ChannelAccount" (id, "officialId", channel, "chatId")
     SELECT gen_random_uuid(), o.id, 'telegram', ($1::bigint + substr(o.code, 7)::bigint)::text FROM "Official" o`,
    [FIRST_CHAT],
  );
  const today = new Date();
  const iso = (days: number) => new Date(today.getTime() + days * 86_400_000).toISOString().slice(0, 10);
  const {
    rows: [campaign],
  } = await sql.query<{ id: string }>(
    `INSERT INTO "Campaign" (id, "docNumber", title, "issuerUnitId", "startsOn", "endsOn", state, "launchedAt", "updatedAt")
     SELECT gen_random_uuid(), '09/KH-UBND', 'Phong trào thi đua đo hiệu năng', id, $1, $2, 'running', now(), now()
     FROM "Unit" WHERE code = 'TINH' RETURNING id`,
    [iso(-30), iso(120)],
  );
  await sql.query(
    `INSERT INTO "Task" (id, "campaignId", key, title, "dueOn", position)
     VALUES (gen_random_uuid(), $1, 'QT', 'Quán triệt, triển khai kế hoạch', $2, 0)`,
    [campaign?.id, iso(60)],
  );
  await sql.query(
    `INSERT INTO "CampaignUnit" ("campaignId", "unitId") SELECT $1, id FROM "Unit" WHERE code LIKE 'XA-%'`,
    [campaign?.id],
  );
}

/**
 * Where a reply's time went, from the outbox rows: how many the web role sent itself (held at writing:
 * "enqueuedAt" is the transaction's own now()) and how many went through relay, queue and worker, and
 * written → sent for each (p50 / p95).
 */
async function stages(database: ScratchDatabase, name: string): Promise<string> {
  const { rows } = await database.sql.query<{ direct: boolean; n: string; p50: number; p95: number }>(`
    SELECT "enqueuedAt" = "createdAt" AS direct, count(*) AS n,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM "sentAt" - "createdAt")) * 1000 AS p50,
      percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM "sentAt" - "createdAt")) * 1000 AS p95
    FROM "OutboxMessage" WHERE state = 'sent' GROUP BY 1 ORDER BY 1 DESC`);
  await database.sql.query(`DELETE FROM "OutboxMessage"`);
  const describe = (row: (typeof rows)[number]) =>
    `${row.n} ${row.direct ? 'sent by the web role' : 'through the worker'} (written → sent ${Number(row.p50).toFixed(0)} / ${Number(row.p95).toFixed(0)} ms)`;
  return `${name}: ${rows.map(describe).join(', ')}`;
}

/**
 * Dialogue turns of a raw-SQL route that needed Prisma after all and ran again through it, per route, against
 * all updates handled (the web role's /metrics): a status reply should never fall back.
 */
async function engineFallbacks(port: number): Promise<string> {
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const sum = (pattern: RegExp) =>
    [...metrics.matchAll(pattern)].map((match) => [match[1], Number(match[2])] as const);
  const fallbacks = sum(/^thidua_dialogue_engine_fallbacks_total\{route="([^"]*)"\} (\d+)$/gm);
  const updates = sum(/^thidua_updates_received_total\{(.*)\} (\d+)$/gm).reduce(
    (total, [, n]) => total + n,
    0,
  );
  const shown = fallbacks.map(([route, n]) => `${route} ${n}`).join(', ');
  return `fallbacks from the raw engine to Prisma, per route: ${shown || 'none'} (of ${updates} updates handled)`;
}

function table(runs: Run[]): string[] {
  const lines = [
    '| rate (/s) | ' + runs.map((run) => `${run.name}: p50 / p95 / p99 (ms), answered`).join(' | ') + ' |',
    '|---|' + runs.map(() => '---|').join(''),
  ];
  for (const rate of RATES) {
    const cells = runs.map((run) => {
      const s = run.steps.find((candidate) => candidate.rate === rate);
      if (!s) return 'not run (a lower rate was far over)';
      return `${s.p50.toFixed(0)} / ${s.p95.toFixed(0)} / ${s.p99.toFixed(0)}, ${s.answered}/${s.sent}${s.refused ? `, ${s.refused} refused` : ''}${s.held ? ' ✓' : ''}`;
    });
    lines.push(`| ${rate} | ${cells.join(' | ')} |`);
  }
  return lines;
}

export async function main(): Promise<void> {
  const database = await scratchDatabase();
  const stub = await BotApiStub.start();
  const prefix = `bench${randomBytes(4).toString('hex')}`;
  const processes: RoleProcess[] = [];
  const lines: string[] = [];
  try {
    await seed(database);
    const port = await freePort();
    const env = (extra: Record<string, string> = {}) => ({
      DATABASE_URL: database.url,
      REDIS_URL: `${REDIS_SERVER}/0`,
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: stub.url,
      TELEGRAM_MODE: 'webhook',
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      PORT: String(port),
      ADMIN_API_TOKEN: `bench-${randomBytes(8).toString('hex')}`,
      QUEUE_PREFIX: prefix,
      ...extra,
    });
    const web = await startRole('web', env());
    const worker = await startRole('worker', env());
    const scheduler = await startRole('scheduler', env());
    processes.push(web, worker, scheduler);
    await new Promise((resolve) => setTimeout(resolve, 3000)); // settle after start-up
    const rest = { web: web.rssMb(), worker: worker.rssMb(), scheduler: scheduler.rssMb() };
    const webhook = `http://127.0.0.1:${port}/webhooks/telegram`;
    const pids = () => ({
      web: web.child.pid ?? 0,
      worker: worker.child.pid ?? 0,
      scheduler: scheduler.child.pid ?? 0,
    });

    process.stdout.write(`${CHATS} linked chats, ${SECONDS} s per rate\n`);
    // Answers are sent by the web role itself (src/delivery/direct-replies.ts), outside the bot's 30/s
    // bulk budget, so the default settings are what is measured.
    const service = await ladder('service', webhook, stub, pids());
    lines.push(await stages(database, 'service'), await engineFallbacks(port));
    for (const role of processes.splice(0)) await role.stop();

    const barePort = await freePort();
    const bare = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/bare-bot.ts'], {
      env: {
        PATH: process.env.PATH ?? '',
        BOT_TOKEN: TOKEN,
        API_ROOT: stub.url,
        SECRET,
        PORT: String(barePort),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let baseline: Run;
    try {
      await waitUntil('the bare bot', async () => {
        const response = await fetch(`http://127.0.0.1:${barePort}/`).catch(() => undefined);
        return response ? true : undefined;
      });
      baseline = await ladder('bare telegraf bot', `http://127.0.0.1:${barePort}/webhooks/telegram`, stub, {
        bare: bare.pid ?? 0,
      });
    } finally {
      bare.kill('SIGTERM');
    }

    const runs = [service, baseline];
    const ratio = (run: Run) => (baseline.held > 0 ? (run.held / baseline.held).toFixed(2) : 'n/a');
    lines.push(
      '',
      ...table(runs),
      '',
      `highest rate held with p95 < ${TARGET_P95_MS} ms and every reply confirmed: ` +
        runs.map((run) => `${run.name} ${run.held}/s`).join(', '),
      `ratio service / bare bot: ${ratio(service)}; target ≥ 0.5`,
      '',
      '| role | RSS at rest (MB) | peak RSS under load (MB) |',
      '|---|---|---|',
      ...(['web', 'worker', 'scheduler'] as const).map(
        (role) => `| ${role} | ${rest[role].toFixed(0)} | ${(service.peakRssMb[role] ?? 0).toFixed(0)} |`,
      ),
      `| bare telegraf bot | – | ${(baseline.peakRssMb.bare ?? 0).toFixed(0)} |`,
    );
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const role of processes) await role.stop();
    await stub.stop();
    await clearPrefix(prefix);
    await database.drop();
  }
}
