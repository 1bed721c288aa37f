import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/db/client.ts';
import { SAMPLE_UNITS } from '../../src/demo/sample-data.ts';
import { fingerprint, tableNames } from '../abuse/harness.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { REDIS_SERVER_URL } from '../support/env.ts';
import { freePort } from '../support/ports.ts';
import { startService, type ServiceProcess } from '../support/service.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Start-up as an operator meets it: demo mode on a database that is not its own, a Redis or a PostgreSQL
 * that does not answer, and a stop signal whatever is down. The service runs as a child process.
 */

interface Launched {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const running: Launched[] = [];

/** Starts src/main.ts with exactly `env` (and PATH), without waiting for anything. */
function launch(env: Record<string, string>): Launched {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const launched = { child, output: () => output, exited };
  running.push(launched);
  return launched;
}

/** The exit code (or the signal) once the process has ended; undefined while it runs. */
const ended = ({ child }: Launched | ServiceProcess) => child.exitCode ?? child.signalCode ?? undefined;

/** Lines a person reads: Node's own warnings (experimental loaders and the like) are not the service's. */
const lines = (output: string) =>
  output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('(node:') && !line.startsWith('(Use `node'));

afterEach(async () => {
  for (const { child, exited } of running.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  }
});

describe('demo mode on a database that is not its own', () => {
  let database: TestDatabase;
  let db: Db;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb(database.url);
    // A real organisation: one unit even has a sample unit's code (the demo would have renamed it).
    await db.unit.create({ data: { code: 'TAMDUONG', name: 'UBND huyện Tam Đường (thật)', path: '/a/' } });
    await db.unit.create({ data: { code: 'DIENBIEN', name: 'UBND tỉnh Điện Biên', path: '/b/' } });
  });

  afterAll(async () => {
    await db?.$disconnect();
    await database?.drop();
  });

  it('stops with one line naming the variable to set, exits non-zero and writes nothing', async () => {
    const tables = await tableNames(db);
    const before = await fingerprint(db, tables);
    const service = launch({
      DATABASE_URL: database.url,
      REDIS_URL: `${REDIS_SERVER_URL}/0`,
      PORT: String(await freePort()),
      DEMO_TELEGRAM_PORT: String(await freePort()),
    });
    const code = await waitFor('the service to stop', () => ended(service), { timeoutMs: 30_000 });
    expect(code).not.toBe(0);
    const said = lines(service.output());
    expect(said, service.output()).toHaveLength(1);
    expect(said[0]).toMatch(/^Demo mode refuses database "thidua_t_[^"]+": .*Set TELEGRAM_BOT_TOKEN/);
    expect(said[0]).toContain('2 units');
    expect(await fingerprint(db, tables)).toEqual(before);
    expect(await db.unit.findUniqueOrThrow({ where: { code: 'TAMDUONG' } })).toMatchObject({
      name: 'UBND huyện Tam Đường (thật)',
    });
    expect(await db.unit.count({ where: { code: { in: SAMPLE_UNITS.map((unit) => unit.code) } } })).toBe(1);
  });
});

describe('demo mode in its own database', () => {
  let database: TestDatabase;
  let service: ServiceProcess;
  let emulatorPort: number;

  beforeAll(async () => {
    database = await createTestDatabase();
    emulatorPort = await freePort();
    service = await startService({ DATABASE_URL: database.url, DEMO_TELEGRAM_PORT: String(emulatorPort) });
    await waitFor('the demo help', () => (service.output().includes('/demo') ? true : undefined), {
      timeoutMs: 30_000,
    });
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await database?.drop();
  });

  it('never prints an admin token that came from the environment', () => {
    expect(service.output()).toContain('Admin API token: the ADMIN_API_TOKEN you set');
    expect(service.output()).not.toContain(service.token);
  });

  it('serves the emulator on the loopback interface only', async () => {
    const reachable = (host: string) =>
      new Promise<boolean>((resolve) => {
        const socket = connect(emulatorPort, host);
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
    expect(await reachable('127.0.0.1')).toBe(true);
    // 127.0.0.2 is this machine too, but not the address the emulator listens on.
    expect(await reachable('127.0.0.2')).toBe(false);
  });

  it('marks the database as its own, so a restart takes it again', async () => {
    const db = createDb(database.url);
    try {
      expect(await db.serviceSetting.findUnique({ where: { key: 'demo' } })).not.toBeNull();
    } finally {
      await db.$disconnect();
    }
  });
});

describe('a dependency that does not answer', () => {
  it.each([
    ['Redis', 'REDIS_URL'],
    ['PostgreSQL', 'DATABASE_URL'],
  ])('%s: one line naming %s within 30 s, retrying; SIGTERM ends it within 10 s', async (name, variable) => {
    const closed = await freePort();
    const service = launch({
      TELEGRAM_BOT_TOKEN: '123456:startup-test',
      TELEGRAM_API_ROOT: 'http://127.0.0.1:9',
      ADMIN_API_TOKEN: 'startup-admin-token-0123',
      PORT: String(await freePort()),
      DATABASE_URL:
        variable === 'DATABASE_URL'
          ? `postgresql://postgres:secret-password@127.0.0.1:${closed}/thidua`
          : 'postgresql://postgres@127.0.0.1:5432/thidua_t_startup_unused',
      REDIS_URL:
        variable === 'REDIS_URL' ? `redis://:secret-password@127.0.0.1:${closed}/0` : `${REDIS_SERVER_URL}/0`,
    });
    const line = await waitFor(
      `the line about ${name}`,
      () => lines(service.output()).find((said) => said.includes(variable)),
      { timeoutMs: 30_000, everyMs: 100 },
    );
    expect(line).toMatch(
      new RegExp(`^Cannot reach ${name} at .*\\(${variable}\\): .*README.*Retrying every 2 s\\.$`),
    );
    // The URL is named without its password.
    expect(service.output()).not.toContain('secret-password');
    // Still trying, and said once.
    expect(service.child.exitCode).toBeNull();
    expect(lines(service.output()).filter((said) => said.includes(variable))).toHaveLength(1);
    const stoppedAt = Date.now();
    service.child.kill('SIGTERM');
    await waitFor('the service to end', () => ended(service), { timeoutMs: 10_000 });
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
  });

  it('a running service answers the API and ends within 10 s of SIGTERM after Redis went away', async () => {
    const database = await createTestDatabase();
    const redisProxy = await TcpProxy.start('127.0.0.1', Number(new URL(REDIS_SERVER_URL).port || 6379));
    let service: ServiceProcess | undefined;
    try {
      service = await startService({
        DATABASE_URL: database.url,
        DEMO_TELEGRAM_PORT: String(await freePort()),
        REDIS_URL: `redis://127.0.0.1:${redisProxy.port}/0`,
      });
      const { url } = service;
      redisProxy.cut();
      await waitFor(
        '/readyz to see Redis gone',
        async () => ((await fetch(`${url}/readyz`)).status === 503 ? true : undefined),
        { timeoutMs: 20_000, everyMs: 200 },
      );
      // The count of refused credentials lives in Redis: without it, calls go on uncounted, not held.
      const api = await fetch(`${url}/api/campaigns`, {
        headers: { authorization: `Bearer ${service.token}` },
        signal: AbortSignal.timeout(5_000),
      });
      expect(api.status).toBe(200);
      const stoppedAt = Date.now();
      service.child.kill('SIGTERM');
      const stopping = service;
      await waitFor('the service to end', () => ended(stopping), { timeoutMs: 10_000 });
      expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    } finally {
      await service?.stop('SIGKILL');
      await redisProxy.stop();
      await database.drop();
    }
  }, 90_000);
});
