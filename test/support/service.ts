import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { freePort } from './ports.ts';
import { REDIS_SERVER_URL } from './env.ts';
import { waitFor } from './wait.ts';

export interface ServiceProcess {
  url: string;
  token: string;
  prefix: string;
  output: () => string;
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  child: ChildProcess;
}

/**
 * Starts the real service (`src/main.ts`) as a child process, as an operator would, and waits for /readyz,
 * or for `ready` instead (roles without HTTP: worker, scheduler).
 */
export async function startService(
  env: Record<string, string>,
  args: string[] = [],
  { ready }: { ready?: () => Promise<boolean> } = {},
): Promise<ServiceProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const token = env.ADMIN_API_TOKEN ?? `test-${randomBytes(8).toString('hex')}`;
  const prefix = env.QUEUE_PREFIX ?? `t${randomBytes(6).toString('hex')}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: `${REDIS_SERVER_URL}/0`,
      HOST: '127.0.0.1',
      PORT: String(port),
      ADMIN_API_TOKEN: token,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const api = async <T>(method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
  };
  try {
    await waitFor(
      'the service to become ready',
      async () => {
        if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}:\n${output}`);
        if (ready) return (await ready()) ? true : undefined;
        const response = await fetch(`${url}/readyz`).catch(() => undefined);
        return response?.ok ? true : undefined;
      },
      { timeoutMs: 30_000, everyMs: 100 },
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${String(error)}\n--- service output ---\n${output}`, { cause: error });
  }
  return {
    url,
    token,
    prefix,
    output: () => output,
    api,
    child,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
