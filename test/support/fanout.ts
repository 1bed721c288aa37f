import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { expect } from 'vitest';
import { seedCommunes } from './bulk-seed.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { REDIS_SERVER_URL } from './env.ts';
import { startService, type ServiceProcess } from './service.ts';
import { Emulator } from './telegram.ts';
import { FaultyTelegram, type TelegramLimits } from './telegram-proxy.ts';
import { waitFor } from './wait.ts';

/**
 * A launch to thousands of officials for the fault tests: officials and their linked Telegram chats are
 * seeded with SQL in bulk, the service runs as child processes (one per role) against a rate-limited,
 * faulty Telegram (the emulator behind FaultyTelegram), and every chat's deliveries are counted there.
 */

/** Sends per second when the fault is not about rate limits: the service's knob and the proxy's limit. */
export const FAST_RATE = 500;
export const FIRST_CHAT = 70_000_000;

export interface FanoutOptions {
  recipients: number;
  /** The service's TELEGRAM_MAX_PER_SECOND; the proxy enforces the same overall rate unless `limits`. */
  perSecond?: number;
  limits?: Partial<TelegramLimits>;
  /** Redis database index of the service (default 0, shared; keys carry the file's own prefix). */
  redisDb?: number;
  /** Where the service reaches PostgreSQL, when not directly (a TcpProxy's port). */
  pgPort?: number;
}

export interface Tally {
  recipients: number;
  /** Messages that reached their recipient (each counted once). */
  sent: number;
  /** Messages a recipient got more often than once. */
  duplicated: number;
  /** Messages that never reached their recipient. */
  lost: number;
}

export class Fanout {
  readonly token = `9${randomBytes(4).readUInt32BE(0)}:fault-${randomBytes(4).toString('hex')}`;
  readonly adminToken = `fault-${randomBytes(8).toString('hex')}`;
  readonly chatIds: string[];
  campaignId = '';
  /** The campaign's tasks are due on this day (YYYY-MM-DD). */
  dueOn = '';
  private readonly processes: ServiceProcess[] = [];

  private constructor(
    readonly prefix: string,
    readonly options: FanoutOptions,
    readonly emulator: Emulator,
    readonly telegram: FaultyTelegram,
    readonly database: TestDatabase,
    readonly sql: pg.Client,
    readonly redis: Redis,
    readonly queue: Queue,
  ) {
    this.chatIds = Array.from({ length: options.recipients }, (_, i) => String(FIRST_CHAT + i));
  }

  static async start(options: FanoutOptions): Promise<Fanout> {
    const emulator = await Emulator.start();
    const telegram = await FaultyTelegram.start(emulator.url, {
      limits: options.limits ?? { perSecond: options.perSecond ?? FAST_RATE },
    });
    const database = await createTestDatabase();
    const sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    const redis = new Redis(`${REDIS_SERVER_URL}/${options.redisDb ?? 0}`, { maxRetriesPerRequest: null });
    const prefix = `f${randomBytes(6).toString('hex')}`;
    const queue = new Queue('deliver-telegram', { connection: redis, prefix });
    return new Fanout(prefix, options, emulator, telegram, database, sql, redis, queue);
  }

  /** The environment every role of the service gets. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    const url = new URL(this.database.url);
    if (this.options.pgPort) url.port = String(this.options.pgPort);
    return {
      DATABASE_URL: url.toString(),
      REDIS_URL: `${REDIS_SERVER_URL}/${this.options.redisDb ?? 0}`,
      TELEGRAM_BOT_TOKEN: this.token,
      TELEGRAM_API_ROOT: this.telegram.url,
      TELEGRAM_MAX_PER_SECOND: String(this.options.perSecond ?? FAST_RATE),
      ADMIN_API_TOKEN: this.adminToken,
      QUEUE_PREFIX: this.prefix,
      ...extra,
    };
  }

  /** Starts one role; a worker counts as started once it listens on the delivery queue. */
  async start(role: 'web' | 'worker' | 'scheduler' | 'all', extra: Record<string, string> = {}) {
    const workersBefore = role === 'worker' ? await this.queue.getWorkersCount() : 0;
    const service = await startService(
      this.env(extra),
      [role],
      role === 'worker'
        ? { ready: async () => (await this.queue.getWorkersCount()) > workersBefore }
        : role === 'scheduler'
          ? { ready: () => Promise.resolve(true) }
          : {},
    );
    this.processes.push(service);
    return service;
  }

  /**
   * One province unit and under it one commune per two recipients, each with a focal and a leader
   * official linked to a Telegram chat; then a campaign over every commune, through the admin API.
   */
  async seed(
    web: ServiceProcess,
    { dueInDays = 60, tasks = 1 }: { dueInDays?: number; tasks?: number } = {},
  ): Promise<void> {
    const communes = await seedCommunes(this.sql, {
      provinceName: 'UBND tỉnh Lai Châu',
      officials: this.options.recipients,
    });
    await this.sql.query(
      `INSERT INTO "ChannelAccount" (id, "officialId", channel, "chatId")
       SELECT gen_random_uuid(), o.id, 'telegram', ($1::bigint + row_number() OVER (ORDER BY o.code) - 1)::text
       FROM "Official" o`,
      [FIRST_CHAT],
    );
    const today = new Date().toISOString().slice(0, 10);
    const due = new Date(Date.now() + dueInDays * 86_400_000).toISOString().slice(0, 10);
    this.dueOn = due;
    const ends = new Date(Date.now() + (dueInDays + 90) * 86_400_000).toISOString().slice(0, 10);
    const created = await web.api<{ id: string }>('POST', '/api/campaigns', {
      docNumber: '15/KH-UBND',
      title: 'Phát động phong trào thi đua hoàn thành thắng lợi nhiệm vụ năm',
      issuerUnitCode: 'TINH',
      startsOn: today,
      endsOn: ends,
      unitCodes: communes,
      tasks: Array.from({ length: tasks }, (_, i) => ({
        key: i === 0 ? 'QT' : `NV${i + 1}`,
        title:
          i === 0
            ? 'Quán triệt, triển khai kế hoạch'
            : `Nhiệm vụ ${i + 1}: tổ chức thực hiện, kiểm tra, đôn đốc và báo cáo kết quả phong trào thi đua tại đơn vị`,
        dueOn: due,
      })),
    });
    expect(created.status).toBe(201);
    this.campaignId = created.body.id;
  }

  async launch(web: ServiceProcess): Promise<void> {
    const launched = await web.api<{ recipients: number }>(
      'POST',
      `/api/campaigns/${this.campaignId}/launch`,
    );
    expect(launched.status).toBe(202);
    expect(launched.body.recipients).toBe(this.options.recipients);
  }

  /** Chats of focal officials get every reminder; the seed gives each commune a focal, then a leader. */
  isFocal(chatId: string): boolean {
    return (Number(chatId) - FIRST_CHAT) % 2 === 0;
  }

  /** Launch messages that reached the chats so far. */
  delivered(): number {
    let total = 0;
    for (const chatId of this.chatIds) total += this.telegram.accepted(chatId);
    return total;
  }

  /** Waits until this many launch messages reached the chats (the moment to break something). */
  async waitDelivered(count: number, timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `${count} launch messages delivered`,
      () => (this.delivered() >= count ? true : undefined),
      {
        timeoutMs,
        everyMs: 20,
      },
    );
  }

  /** Waits until no outbox row is pending: everything was sent or failed for good. */
  async waitSettled(timeoutMs: number): Promise<void> {
    await waitFor(
      'every outbox row to be sent or failed',
      async () => {
        const { rows } = await this.sql.query<{ pending: string }>(
          `SELECT count(*) AS pending FROM "OutboxMessage" WHERE state = 'pending'`,
        );
        return rows[0]?.pending === '0' ? true : undefined;
      },
      { timeoutMs, everyMs: 250 },
    );
  }

  async outboxStates(): Promise<Record<string, number>> {
    const { rows } = await this.sql.query<{ state: string; count: string }>(
      `SELECT state, count(*) AS count FROM "OutboxMessage" GROUP BY state`,
    );
    return Object.fromEntries(rows.map((row) => [row.state, Number(row.count)]));
  }

  /**
   * Counts each recipient's messages against what they should have got (`expected`, one launch by
   * default) and prints the line the fault suite reports.
   */
  tally(
    fault: string,
    extra: Record<string, number | string> = {},
    expected: (chatId: string) => number = () => 1,
  ): Tally {
    let sent = 0;
    let duplicated = 0;
    let lost = 0;
    for (const chatId of this.chatIds) {
      const count = this.telegram.accepted(chatId);
      const wanted = expected(chatId);
      sent += Math.min(count, wanted);
      duplicated += Math.max(0, count - wanted);
      lost += Math.max(0, wanted - count);
    }
    const tally = { recipients: this.chatIds.length, sent, duplicated, lost };
    const fields = {
      ...tally,
      attempts: this.telegram.attempts.length,
      '429s': this.telegram.tooManyRequests,
    };
    process.stdout.write(
      `[fault] ${fault}: ${Object.entries({ ...fields, ...extra })
        .map(([key, value]) => `${key}=${value}`)
        .join(' ')}\n`,
    );
    return tally;
  }

  async close(): Promise<void> {
    await Promise.all(this.processes.map((service) => service.stop('SIGKILL')));
    await this.queue.close();
    // Every key of this file's service (queues, chat gates, throttles) carries its prefix.
    for await (const keys of this.redis.scanStream({ match: `${this.prefix}:*`, count: 1000 }))
      if ((keys as string[]).length > 0) await this.redis.del(...(keys as string[]));
    this.redis.disconnect();
    await this.sql.end();
    await this.telegram.stop();
    await this.emulator.stop();
    await this.database.drop();
  }
}
