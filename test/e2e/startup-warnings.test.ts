import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { freePort } from '../support/ports.ts';
import { startService, type ServiceProcess } from '../support/service.ts';
import { waitFor } from '../support/wait.ts';

/**
 * What an operator sees on the terminal: the service, every role in one process, polling a Telegram where
 * nothing happens. Node prints its process warnings (a listener leak, a deprecation) to stderr.
 */
const TOKEN = '123456:startup-warnings';
/** Node warns at the 11th listener on one signal: this many idle polls leave room to spare. */
const IDLE_POLLS = 30;

let database: TestDatabase;
let telegram: Server;
let telegramUrl: string;
let getUpdatesCalls = 0;

/** The Bot API calls a polling bot makes, answered as Telegram does when no one writes. */
async function startIdleTelegram(): Promise<void> {
  telegram = createServer((request, response) => {
    const method = /\/bot[^/]+\/(\w+)$/.exec(request.url ?? '')?.[1];
    request.resume();
    request.once('end', () => {
      if (method === 'getUpdates') getUpdatesCalls += 1;
      const result =
        method === 'getMe'
          ? { id: 123456, is_bot: true, first_name: 'Thi đua', username: 'thidua_test_bot' }
          : method === 'getUpdates'
            ? []
            : true;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ok: true, result }));
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => telegram.listen(port, '127.0.0.1', resolve));
  telegramUrl = `http://127.0.0.1:${port}`;
}

beforeAll(async () => {
  database = await createTestDatabase();
  await startIdleTelegram();
});

afterAll(async () => {
  telegram?.closeAllConnections();
  await new Promise<void>((resolve) => (telegram ? telegram.close(() => resolve()) : resolve()));
  await database?.drop();
});

describe('start-up', () => {
  let service: ServiceProcess | undefined;
  afterAll(async () => {
    await service?.stop('SIGKILL');
  });

  it('prints no Node warning while it polls an idle Telegram, and stops cleanly', async () => {
    service = await startService({
      DATABASE_URL: database.url,
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: telegramUrl,
    });
    await waitFor(`${IDLE_POLLS} idle polls`, () => (getUpdatesCalls >= IDLE_POLLS ? true : undefined), {
      timeoutMs: 20_000,
    });
    const outputClosed = once(service.child, 'close');
    expect(await service.stop('SIGTERM')).toBe(0);
    await outputClosed;
    expect(service.output()).not.toMatch(/\(node:\d+\) (\[\w+\] )?\w*Warning/);
  });
});
