// What the process benchmarks share: a scratch database, a stub Telegram Bot API that records when each
// message arrives, the service started as child processes (one per role), and their memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { applyMigrations, ensureDatabase } from '../../src/db/migrate.ts';

export const PG_SERVER = process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432';
export const REDIS_SERVER = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns a value, or fails after the deadline naming what was awaited. */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

export interface ScratchDatabase {
  url: string;
  sql: pg.Client;
  drop(): Promise<void>;
}

export async function scratchDatabase(): Promise<ScratchDatabase> {
  const name = `thidua_bench_${randomBytes(4).toString('hex')}`;
  const url = `${PG_SERVER}/${name}`;
  await ensureDatabase(url);
  await applyMigrations(url);
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  return {
    url,
    sql,
    drop: async () => {
      await sql.end();
      const admin = new pg.Client({ connectionString: `${PG_SERVER}/postgres` });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** A message that reached the stub: the chat, the text and when it arrived (performance.now()). */
export interface Arrival {
  chatId: string;
  text: string;
  at: number;
}

/**
 * A Bot API that always accepts, answering like Telegram (getMe, setWebhook, sendMessage…), and records
 * every sendMessage with its arrival time; `onMessage` sees each as it comes.
 */
export class BotApiStub {
  readonly arrivals: Arrival[] = [];
  onMessage: ((arrival: Arrival) => void) | undefined;
  private nextMessageId = 1;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<BotApiStub> {
    const port = await freePort();
    const holder: { stub?: BotApiStub } = {};
    const server = createServer((request, response) => {
      void holder.stub?.handle(request).then(
        (result) => {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ ok: true, result }));
        },
        (error: unknown) => {
          response.writeHead(500, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ ok: false, error_code: 500, description: String(error) }));
        },
      );
    });
    server.keepAliveTimeout = 60_000;
    const stub = new BotApiStub(server, `http://127.0.0.1:${port}`);
    holder.stub = stub;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return stub;
  }

  private async handle(request: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const method = /\/([A-Za-z]+)$/.exec(request.url ?? '')?.[1] ?? '';
    const body =
      chunks.length > 0
        ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>)
        : {};
    if (method === 'getMe')
      return { id: 1, is_bot: true, first_name: 'Thi đua bot', username: 'thidua_bench_bot' };
    if (method === 'sendMessage') {
      const arrival = {
        chatId: String(body.chat_id),
        text: typeof body.text === 'string' ? body.text : '',
        at: performance.now(),
      };
      this.arrivals.push(arrival);
      this.onMessage?.(arrival);
      const chatId = Number(body.chat_id);
      return {
        message_id: this.nextMessageId++,
        date: Math.floor(Date.now() / 1000),
        chat: { id: chatId, type: 'private' },
        text: arrival.text,
      };
    }
    if (method === 'getUpdates') {
      await new Promise((resolve) => setTimeout(resolve, 1000)); // a long poll with nothing new
      return [];
    }
    return true; // setWebhook, deleteWebhook, answerCallbackQuery…
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface RoleProcess {
  role: string;
  child: ChildProcess;
  output(): string;
  /** Resident set size now, in MB (VmRSS of /proc/<pid>/status). */
  rssMb(): number;
  stop(): Promise<void>;
}

export function rssMbOf(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid ?? 0}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** Starts one role of the service (`src/main.ts ROLE`) as an operator would, and waits until it works. */
export async function startRole(
  role: 'all' | 'web' | 'worker' | 'scheduler',
  env: Record<string, string>,
): Promise<RoleProcess> {
  // BENCH_CPU_PROF=web,worker writes a V8 CPU profile of those roles into bench/profiles when they stop.
  const profiled = (process.env.BENCH_CPU_PROF ?? '').split(',').includes(role);
  const profile = profiled ? ['--cpu-prof', '--cpu-prof-dir=bench/profiles'] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'src/main.ts', role], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => {
    if (child.exitCode !== null) throw new Error(`${role} exited with ${child.exitCode}:\n${output}`);
  };
  if (role === 'web' || role === 'all') {
    await waitUntil(`the ${role} role to be ready`, async () => {
      alive();
      const response = await fetch(`http://127.0.0.1:${env.PORT}/readyz`).catch(() => undefined);
      return response?.ok ? true : undefined;
    });
  }
  if (role === 'worker' || role === 'all') {
    const redis = new Redis(env.REDIS_URL ?? `${REDIS_SERVER}/0`, { maxRetriesPerRequest: null });
    const queue = new Queue('deliver-telegram', { connection: redis, prefix: env.QUEUE_PREFIX ?? 'thidua' });
    try {
      await waitUntil(`the ${role} role to listen on the delivery queue`, async () => {
        alive();
        return (await queue.getWorkersCount()) > 0 ? true : undefined;
      });
    } finally {
      await queue.close();
      redis.disconnect();
    }
  }
  if (role === 'scheduler') {
    // It serves nothing to ask; alive after its start-up (migrations, Redis) is ready enough.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    alive();
  }
  return {
    role,
    child,
    output: () => output,
    rssMb: () => rssMbOf(child.pid),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Deletes every Redis key of a benchmark's prefix (queues, chat gates). */
export async function clearPrefix(prefix: string): Promise<void> {
  const redis = new Redis(`${REDIS_SERVER}/0`);
  for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 1000 }))
    if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
  redis.disconnect();
}
