// Fan-out (issue 5, benchmark 1): a launch to N recipients (default 10,000; `npm run bench -- fanout
// --recipients 3000`) through a Telegram that enforces its limits (test/support/telegram-proxy.ts:
// 30 messages/s overall, 1/s per chat, 20/min per group, 429 with retry_after beyond them) in front of a
// stub Bot API. Measures messages/s against the enforced cap (target ≥ 0.97), the 429s (target 0) and
// the time from the launch call to every outbox row handed to the queue (target < 2 s: its "enqueuedAt" set,
// the relay's lease; also shown: every job present in BullMQ). Baseline, against
// a fresh limiter of the same kind: the loop a user writes, telegraf awaiting each sendMessage in turn
// (waiting out retry_after on a 429, so that it loses nothing). Prints figures and ratios; asserts nothing.
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Telegram } from 'telegraf';
import { seedCommunes } from '../test/support/bulk-seed.ts';
import { FaultyTelegram, TELEGRAM_LIMITS } from '../test/support/telegram-proxy.ts';
import {
  BotApiStub,
  clearPrefix,
  freePort,
  percentile,
  REDIS_SERVER,
  scratchDatabase,
  startRole,
  waitUntil,
  type RoleProcess,
  type ScratchDatabase,
} from './lib/harness.ts';

const flag = process.argv.indexOf('--recipients');
const RECIPIENTS = Number(
  (flag >= 0 ? process.argv[flag + 1] : undefined) ?? process.env.BENCH_RECIPIENTS ?? 10_000,
);
const FIRST_CHAT = 60_000_000;
const CAP = TELEGRAM_LIMITS.perSecond;
const TOKEN = `6${randomBytes(3).readUIntBE(0, 3)}:bench-fanout`;
const LAUNCH_TEXT = 'Phát động phong trào thi đua hoàn thành thắng lợi nhiệm vụ năm 2026';

/** Sends the proxy accepted: how many, over how long, and so at what rate. */
/** Accepted sends per whole second since the first one: the shape of the flow (steady, or bursts). */
function perSecondShape(proxy: FaultyTelegram): string {
  const accepted = proxy.attempts.filter((attempt) => attempt.status === 200);
  const first = accepted[0]?.at ?? 0;
  const buckets: number[] = [];
  for (const attempt of accepted) {
    const second = Math.floor((attempt.at - first) / 1000);
    buckets[second] = (buckets[second] ?? 0) + 1;
  }
  const full = Array.from(buckets.slice(0, -1), (n) => n ?? 0).sort((a, b) => a - b);
  return `sends per second: min ${full[0] ?? 0}, median ${full[Math.floor(full.length / 2)] ?? 0}, max ${full.at(-1) ?? 0}`;
}

function throughput(proxy: FaultyTelegram): { accepted: number; seconds: number; perSecond: number } {
  const accepted = proxy.attempts.filter((attempt) => attempt.status === 200);
  const first = accepted[0]?.at ?? 0;
  const last = accepted.at(-1)?.at ?? 0;
  const seconds = (last - first) / 1000;
  // n sends spread over (last - first) make n - 1 intervals.
  return {
    accepted: accepted.length,
    seconds,
    perSecond: seconds > 0 ? (accepted.length - 1) / seconds : NaN,
  };
}

/** How long each delivery job ran and how long the worker left between starting jobs (p50 / p95 / max). */
async function jobTimes(prefix: string): Promise<{ processing: string; gaps: string }> {
  const redis = new Redis(`${REDIS_SERVER}/0`, { maxRetriesPerRequest: null });
  const queue = new Queue('deliver-telegram', { connection: redis, prefix });
  try {
    const jobs = await queue.getJobs(['completed'], 0, RECIPIENTS + 100);
    const processing = jobs
      .map((job) => (job.finishedOn ?? 0) - (job.processedOn ?? 0))
      .sort((a, b) => a - b);
    const starts = jobs.map((job) => job.processedOn ?? 0).sort((a, b) => a - b);
    const gaps = starts
      .slice(1)
      .map((at, i) => at - (starts[i] ?? at))
      .sort((a, b) => a - b);
    const shape = (values: number[]) =>
      `${percentile(values, 50).toFixed(0)} / ${percentile(values, 95).toFixed(0)} / ${(values.at(-1) ?? NaN).toFixed(0)}`;
    return { processing: shape(processing), gaps: shape(gaps) };
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

/** Milliseconds from `since` until the delivery queue holds (or has run) a job for every recipient. */
async function jobsInQueueAfter(prefix: string, since: number): Promise<number> {
  const redis = new Redis(`${REDIS_SERVER}/0`, { maxRetriesPerRequest: null });
  const queue = new Queue('deliver-telegram', { connection: redis, prefix });
  try {
    return await waitUntil(
      'a job in BullMQ for every recipient',
      async () => {
        const counts = await queue.getJobCounts(
          'prioritized',
          'waiting',
          'active',
          'delayed',
          'completed',
          'failed',
        );
        const jobs = Object.values(counts).reduce((sum, n) => sum + n, 0);
        return jobs >= RECIPIENTS ? performance.now() - since : undefined;
      },
      60_000,
      20,
    );
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

/** N/2 communes, each with a focal and a leader official linked to a Telegram chat; a draft campaign. */
async function seed(database: ScratchDatabase): Promise<string> {
  const { sql } = database;
  await seedCommunes(sql, { provinceName: 'UBND tỉnh Lai Châu', officials: RECIPIENTS });
  await sql.query(
    `INSERT INTO "ChannelAccount" (id, "officialId", channel, "chatId")
     SELECT gen_random_uuid(), o.id, 'telegram', ($1::bigint + row_number() OVER (ORDER BY o.code) - 1)::text
     FROM "Official" o`,
    [FIRST_CHAT],
  );
  const iso = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
  const {
    rows: [campaign],
  } = await sql.query<{ id: string }>(
    `INSERT INTO "Campaign" (id, "docNumber", title, "issuerUnitId", "startsOn", "endsOn", "updatedAt")
     SELECT gen_random_uuid(), '15/KH-UBND', $1, id, $2, $3, now() FROM "Unit" WHERE code = 'TINH' RETURNING id`,
    [LAUNCH_TEXT, iso(0), iso(150)],
  );
  await sql.query(
    `INSERT INTO "Task" (id, "campaignId", key, title, "dueOn", position)
     VALUES (gen_random_uuid(), $1, 'QT', 'Quán triệt, triển khai kế hoạch', $2, 0)`,
    [campaign?.id, iso(60)],
  );
  await sql.query(
    `INSERT INTO "CampaignUnit" ("campaignId", "unitId") SELECT $1, id FROM "Unit" WHERE code LIKE 'XA%'`,
    [campaign?.id],
  );
  return campaign?.id ?? '';
}

async function service(): Promise<string[]> {
  const database = await scratchDatabase();
  const stub = await BotApiStub.start();
  const proxy = await FaultyTelegram.start(stub.url, { limits: {} });
  const prefix = `bench${randomBytes(4).toString('hex')}`;
  const processes: RoleProcess[] = [];
  try {
    const campaignId = await seed(database);
    const port = await freePort();
    const token = `bench-${randomBytes(8).toString('hex')}`;
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: `${REDIS_SERVER}/0`,
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: proxy.url,
      TELEGRAM_MODE: 'webhook',
      TELEGRAM_WEBHOOK_SECRET: `bench_${randomBytes(8).toString('hex')}`,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      PORT: String(port),
      ADMIN_API_TOKEN: token,
      QUEUE_PREFIX: prefix,
    };
    processes.push(await startRole('web', env), await startRole('worker', env));
    const launchedAt = performance.now();
    const response = await fetch(`http://127.0.0.1:${port}/api/campaigns/${campaignId}/launch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    const launch = (await response.json()) as { recipients?: number };
    const answeredMs = performance.now() - launchedAt;
    if (response.status !== 202 || launch.recipients !== RECIPIENTS)
      throw new Error(`the launch answered ${response.status}: ${JSON.stringify(launch)}`);
    // Watched while it happens: a row still pending a minute later is handed over again (its lease).
    const enqueuedMs = await waitUntil(
      'every outbox row handed to the queue',
      async () => {
        const { rows } = await database.sql.query<{ n: string }>(
          `SELECT count(*) AS n FROM "OutboxMessage" WHERE "enqueuedAt" IS NOT NULL`,
        );
        return Number(rows[0]?.n) >= RECIPIENTS ? performance.now() - launchedAt : undefined;
      },
      60_000,
      20,
    );
    // The relay leases a run of rows before adding their jobs, so the jobs follow the lease by a moment.
    const inQueueMs = await jobsInQueueAfter(prefix, launchedAt);
    const expectedSeconds = RECIPIENTS / CAP;
    await waitUntil(
      'every recipient to receive the launch',
      () => (proxy.attempts.filter((a) => a.status === 200).length >= RECIPIENTS ? true : undefined),
      (expectedSeconds * 3 + 60) * 1000,
      200,
    );
    const sent = throughput(proxy);
    const jobs = await jobTimes(prefix);
    const perChat = [...proxy.acceptedByChat.values()];
    const duplicates = perChat.reduce((sum, n) => sum + Math.max(0, n - 1), 0);
    return [
      `service: launch answered in ${answeredMs.toFixed(0)} ms; every outbox row queued ${enqueuedMs.toFixed(0)} ms after the call; ` +
        `every job in BullMQ ${inQueueMs.toFixed(0)} ms after the call`,
      `service: ${sent.accepted} delivered in ${sent.seconds.toFixed(1)} s = ${sent.perSecond.toFixed(2)}/s, ` +
        `${(sent.perSecond / CAP).toFixed(3)} of the ${CAP}/s cap; 429s ${proxy.tooManyRequests}; ` +
        `duplicates ${duplicates}; recipients reached ${perChat.length}/${RECIPIENTS}; ${perSecondShape(proxy)}`,
      `service: delivery jobs (BullMQ): processing ${jobs.processing} ms, fetch gaps between jobs ${jobs.gaps} ms (p50 / p95 / max)`,
      `service: per role RSS at the end: ${processes.map((p) => `${p.role} ${p.rssMb().toFixed(0)} MB`).join(', ')}`,
    ];
  } finally {
    for (const role of processes) await role.stop();
    await proxy.stop();
    await stub.stop();
    await clearPrefix(prefix);
    await database.drop();
  }
}

/** The loop a user writes: one sendMessage after another, waiting out a 429's retry_after. */
async function naiveLoop(): Promise<string[]> {
  const stub = await BotApiStub.start();
  const proxy = await FaultyTelegram.start(stub.url, { limits: {} });
  try {
    const telegram = new Telegram(TOKEN, { apiRoot: proxy.url });
    for (let i = 0; i < RECIPIENTS; i++) {
      for (;;) {
        try {
          await telegram.sendMessage(FIRST_CHAT + i, LAUNCH_TEXT, { parse_mode: 'HTML' });
          break;
        } catch (error) {
          const retryAfter = (error as { response?: { parameters?: { retry_after?: number } } }).response
            ?.parameters?.retry_after;
          if (retryAfter === undefined) throw error;
          await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
        }
      }
    }
    const sent = throughput(proxy);
    return [
      `naive loop: ${sent.accepted} delivered in ${sent.seconds.toFixed(1)} s = ${sent.perSecond.toFixed(2)}/s, ` +
        `${(sent.perSecond / CAP).toFixed(3)} of the cap; 429s ${proxy.tooManyRequests}; ${perSecondShape(proxy)}`,
    ];
  } finally {
    await proxy.stop();
    await stub.stop();
  }
}

export async function main(): Promise<void> {
  process.stdout.write(
    `${RECIPIENTS} recipients, Telegram's limits enforced: ${JSON.stringify(TELEGRAM_LIMITS)}\n`,
  );
  const lines = [...(await service()), ...(await naiveLoop())];
  process.stdout.write(`${lines.join('\n')}\n`);
}
