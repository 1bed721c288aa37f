import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/db/client.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { hasText } from '../support/seed-api.ts';
import { startService, type ServiceProcess } from '../support/service.ts';
import { waitFor } from '../support/wait.ts';
import { FakeZaloOa } from '../support/zalo-oa.ts';

/**
 * Webhooks record, answer, then process (src/channels/inbox.ts), shown on the Zalo OA webhook with two
 * instances on one database: the 200 never waits for the dialogue, a process killed after answering loses
 * nothing, a redelivery answers once, and an update that keeps failing is left for an operator.
 * The dialogue is held up by a lock the test takes on the table its turns write first ("InboundUpdate").
 */
const APP_ID = '2234567890123456789';
const APP_SECRET = 'inbox-app-secret';
const OA_SECRET = 'inbox-oa-secret-key';
const USER = '9100';
const MAX_ATTEMPTS = 3;

let oa: FakeZaloOa;
let database: TestDatabase;
let db: Db;
let first: ServiceProcess;
let second: ServiceProcess;

function post(service: ServiceProcess, body: string, signature: string | null) {
  return fetch(`${service.url}/webhooks/zalo-oa`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(signature ? { 'x-zevent-signature': signature } : {}),
    },
    body,
  });
}

/** Posts a signed text event; answers the status and how long the webhook took to answer. */
async function say(service: ServiceProcess, text: string, msgId?: string) {
  const event = oa.textEvent(USER, text, msgId);
  const { body, signature } = oa.signed(event);
  const started = performance.now();
  const response = await post(service, body, signature);
  return { status: response.status, ms: performance.now() - started, msgId: event.message.msg_id };
}

/** Holds every dialogue turn at its first write until `release`; the webhooks' inbox is another table. */
async function holdDialogue(): Promise<{ release: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE "InboundUpdate" IN EXCLUSIVE MODE');
  return {
    release: async () => {
      await client.query('COMMIT');
      await client.end();
    },
  };
}

const helpAnswers = (after: number) => oa.sentTo(USER).slice(after).filter(hasText('Hướng dẫn'));

/** Whatever earlier updates could still send has arrived once the answer to a later one has. */
async function marker(service: ServiceProcess): Promise<void> {
  const after = oa.sentTo(USER).length;
  expect((await say(service, '/nhiemvu')).status).toBe(200);
  await oa.waitForSent('the marker', USER, hasText('không có nhiệm vụ nào'), after);
}

const inboxRow = (msgId: string) =>
  db.webhookInbox.findUniqueOrThrow({
    where: { channel_updateKey: { channel: 'zalo_oa', updateKey: msgId } },
  });

beforeAll(async () => {
  oa = await FakeZaloOa.start(APP_ID, APP_SECRET, OA_SECRET);
  database = await createTestDatabase();
  db = createDb(database.url);
  const env = {
    DATABASE_URL: database.url,
    ...oa.serviceEnv(),
    WEBHOOK_RETRY_SECONDS: '1',
    WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
  };
  first = await startService(env);
  second = await startService({ ...env, QUEUE_PREFIX: first.prefix, ADMIN_API_TOKEN: first.token });
  await first.api('PUT', '/api/units/TD-VHTT', { name: 'Phòng Văn hóa và Thông tin' });
  await first.api('PUT', '/api/officials/CB1', { name: 'Trần Thị Mai', unitCode: 'TD-VHTT', role: 'focal' });
  const { code } = (await first.api<{ code: string }>('POST', '/api/officials/CB1/link-codes')).body;
  expect((await say(first, `/start ${code}`)).status).toBe(200);
  await oa.waitForSent('the link confirmation', USER, hasText('Đã liên kết'));
});

afterAll(async () => {
  await Promise.all([first?.stop(), second?.stop()]);
  if (process.env.E2E_DEBUG) process.stdout.write(`${first?.output() ?? ''}${second?.output() ?? ''}`);
  await db?.$disconnect();
  await oa?.stop();
  await database?.drop();
});

describe('the webhook inbox (answer within the budget, record what is slow or failed)', () => {
  it('answers 200 within 2 s while the dialogue cannot run, and the answer follows', async () => {
    const after = oa.sentTo(USER).length;
    const held = await holdDialogue();
    let answered: Awaited<ReturnType<typeof say>>;
    try {
      answered = await say(first, '/huongdan');
      expect(answered.status).toBe(200);
      expect(answered.ms).toBeLessThan(2_000);
      // Recorded, not handled: the turn is waiting for the lock.
      expect((await inboxRow(answered.msgId)).processedAt).toBeNull();
      expect(oa.sentTo(USER).length).toBe(after);
    } finally {
      await held.release();
    }
    await oa.waitForSent('the help', USER, hasText('Hướng dẫn'), after);
    const row = await waitFor('the row handled', async () => {
      const current = await inboxRow(answered.msgId);
      return current.processedAt ? current : undefined;
    });
    expect(row.lastError).toBeNull();
    await marker(first);
    expect(helpAnswers(after)).toHaveLength(1);
  });

  it('answers a redelivered update once, whichever instance gets it, and records it at most once', async () => {
    const after = oa.sentTo(USER).length;
    const { body, signature } = oa.signed(oa.textEvent(USER, '/huongdan', 'redelivered-1'));
    const statuses = await Promise.all(
      [first, second, first, second].map(async (service) => (await post(service, body, signature)).status),
    );
    expect(statuses).toEqual([200, 200, 200, 200]);
    // Recorded only when a turn was slow (the instances raced for it): never twice.
    expect(await db.webhookInbox.count({ where: { updateKey: 'redelivered-1' } })).toBeLessThanOrEqual(1);
    await oa.waitForSent('the help', USER, hasText('Hướng dẫn'), after);
    await marker(second);
    expect(helpAnswers(after)).toHaveLength(1);
  });

  it('refuses a bad signature with 401 and records nothing', async () => {
    const before = await db.webhookInbox.count();
    const wrong = oa.signed(oa.textEvent(USER, '/huongdan'), 'not-the-oa-secret');
    expect((await post(first, wrong.body, wrong.signature)).status).toBe(401);
    expect((await post(first, wrong.body, null)).status).toBe(401);
    expect(await db.webhookInbox.count()).toBe(before);
  });

  it('leaves an update that failed 3 times for an operator, who can send it round again', async () => {
    // A real failure of the turn's first write, for this one update only.
    await db.$executeRawUnsafe(`
      CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW."updateId" = 'poison-1' THEN RAISE EXCEPTION 'poisoned update'; END IF;
        RETURN NEW;
      END $$`);
    await db.$executeRawUnsafe(
      `CREATE TRIGGER refuse_poison BEFORE INSERT ON "InboundUpdate" FOR EACH ROW EXECUTE FUNCTION refuse_poison()`,
    );
    const after = oa.sentTo(USER).length;
    expect((await say(second, '/huongdan', 'poison-1')).status).toBe(200);
    const given = await waitFor(
      'three failed attempts',
      async () => {
        const row = await inboxRow('poison-1');
        return row.attempts >= MAX_ATTEMPTS && row.lastError ? row : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(given.processedAt).toBeNull();
    expect(given.lastError).toContain('poisoned update');
    const logged = await waitFor('the error line', () =>
      [first, second].some((service) => service.output().includes('left in WebhookInbox for an operator'))
        ? true
        : undefined,
    );
    expect(logged).toBe(true);
    const metrics = await (await fetch(`${second.url}/metrics`)).text();
    expect(metrics).toMatch(/thidua_webhook_inbox\{channel="zalo_oa",state="given_up"\} 1\b/);
    expect(metrics).toMatch(/thidua_webhook_updates_failed_total\{channel="zalo_oa"\} [1-9]/);
    expect(metrics).toMatch(/thidua_webhook_updates_processed_total\{channel="zalo_oa"\} [1-9]/);
    // Not tried again by itself; nothing was answered.
    await marker(second);
    expect((await inboxRow('poison-1')).attempts).toBe(MAX_ATTEMPTS);
    expect(helpAnswers(after)).toHaveLength(0);

    // The operator fixes the cause and sends the row round again (README, "Webhooks").
    await db.$executeRawUnsafe('DROP TRIGGER refuse_poison ON "InboundUpdate"');
    await db.$executeRaw`
      UPDATE "WebhookInbox" SET attempts = 0, "nextAttemptAt" = now() WHERE "updateKey" = 'poison-1'`;
    await oa.waitForSent('the help, at last', USER, hasText('Hướng dẫn'), after);
    await waitFor('the row handled', async () =>
      (await inboxRow('poison-1')).processedAt ? true : undefined,
    );
  });

  it('loses nothing when the process that answered is killed before handling the update', async () => {
    const after = oa.sentTo(USER).length;
    const held = await holdDialogue();
    let msgId = '';
    try {
      const answered = await say(first, '/huongdan');
      expect(answered.status).toBe(200);
      msgId = answered.msgId;
      expect(await first.stop('SIGKILL')).toBeNull();
    } finally {
      await held.release();
    }
    expect((await inboxRow(msgId)).processedAt).toBeNull();
    // The other instance's sweep takes the row once its lease (WEBHOOK_RETRY_SECONDS) has run out.
    await oa.waitForSent('the help, from the other instance', USER, hasText('Hướng dẫn'), after);
    await waitFor('the row handled', async () => ((await inboxRow(msgId)).processedAt ? true : undefined));
    await marker(second);
    expect(helpAnswers(after)).toHaveLength(1);
  });
});
