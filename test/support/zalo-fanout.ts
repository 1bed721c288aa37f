import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { expect } from 'vitest';
import { deliveryQueueName } from '../../src/delivery/queues.ts';
import { seedCommunes } from './bulk-seed.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { REDIS_SERVER_URL } from './env.ts';
import type { Tally } from './fanout.ts';
import { startService, type ServiceProcess } from './service.ts';
import { waitFor } from './wait.ts';
import { FakeZaloBot } from './zalo-bot.ts';
import { FakeZaloOa } from './zalo-oa.ts';

/**
 * The Zalo counterpart of Fanout: a launch to officials linked on the Zalo Bot Platform and on a Zalo
 * Official Account, seeded with SQL in bulk, the service as child processes (one per role) against the
 * Zalo fakes, and every user's deliveries counted there.
 */
export const FIRST_ZALO_CHAT = 80_000_000;

export interface ZaloFanoutOptions {
  /** Officials linked on the Bot Platform (the first ones), then those linked on the OA. */
  botRecipients: number;
  oaRecipients: number;
}

export type ZaloChannelName = 'zalo' | 'zalo_oa';

export class ZaloFanout {
  readonly adminToken = `fault-${randomBytes(8).toString('hex')}`;
  readonly botChats: string[];
  readonly oaUsers: string[];
  /** The OA settings the service starts with (its first access and refresh tokens). */
  readonly oaEnv: Record<string, string>;
  campaignId = '';
  private readonly processes: ServiceProcess[] = [];

  private constructor(
    readonly prefix: string,
    readonly options: ZaloFanoutOptions,
    readonly bot: FakeZaloBot,
    readonly oa: FakeZaloOa,
    readonly database: TestDatabase,
    readonly sql: pg.Client,
    readonly redis: Redis,
    readonly queues: Record<ZaloChannelName, Queue>,
  ) {
    const ids = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => String(FIRST_ZALO_CHAT + from + i));
    this.botChats = ids(0, options.botRecipients);
    this.oaUsers = ids(options.botRecipients, options.oaRecipients);
    this.oaEnv = oa.serviceEnv();
  }

  static async start(options: ZaloFanoutOptions): Promise<ZaloFanout> {
    const bot = await FakeZaloBot.start(`${randomBytes(4).readUInt32BE(0)}:zalo-fault`);
    const oa = await FakeZaloOa.start(
      `app${randomBytes(4).readUInt32BE(0)}`,
      randomBytes(12).toString('hex'),
      randomBytes(12).toString('hex'),
    );
    const database = await createTestDatabase();
    const sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    const redis = new Redis(REDIS_SERVER_URL, { maxRetriesPerRequest: null });
    const prefix = `z${randomBytes(6).toString('hex')}`;
    const queue = (channel: ZaloChannelName) =>
      new Queue(deliveryQueueName(channel), { connection: redis, prefix });
    return new ZaloFanout(prefix, options, bot, oa, database, sql, redis, {
      zalo: queue('zalo'),
      zalo_oa: queue('zalo_oa'),
    });
  }

  /** The environment every role of the service gets: both Zalo channels, no Telegram. */
  env(): Record<string, string> {
    return {
      DATABASE_URL: this.database.url,
      REDIS_URL: REDIS_SERVER_URL,
      ZALO_BOT_TOKEN: this.bot.token,
      ZALO_BOT_API_ROOT: this.bot.url,
      ZALO_BOT_MODE: 'polling',
      ...this.oaEnv,
      ADMIN_API_TOKEN: this.adminToken,
      QUEUE_PREFIX: this.prefix,
    };
  }

  private async workers(): Promise<number> {
    const counts = await Promise.all(Object.values(this.queues).map((queue) => queue.getWorkersCount()));
    return Math.min(...counts);
  }

  /** Starts one role; a worker counts as started once it listens on both Zalo delivery queues. */
  async start(role: 'web' | 'worker') {
    const workersBefore = role === 'worker' ? await this.workers() : 0;
    const service = await startService(
      this.env(),
      [role],
      role === 'worker' ? { ready: async () => (await this.workers()) > workersBefore } : {},
    );
    this.processes.push(service);
    return service;
  }

  /**
   * One province unit and one commune per two officials (a focal and a leader), the first
   * `botRecipients` linked on the Bot Platform and the rest on the OA; then a campaign over every
   * commune, through the admin API.
   */
  async seed(web: ServiceProcess): Promise<void> {
    const recipients = this.options.botRecipients + this.options.oaRecipients;
    const communes = await seedCommunes(this.sql, {
      provinceName: 'UBND tỉnh Điện Biên',
      officials: recipients,
    });
    await this.sql.query(
      `INSERT INTO "ChannelAccount" (id, "officialId", channel, "chatId")
       SELECT gen_random_uuid(), id, CASE WHEN n <= $2 THEN 'zalo' ELSE 'zalo_oa' END, ($1::bigint + n - 1)::text
       FROM (SELECT id, row_number() OVER (ORDER BY code) AS n FROM "Official") o`,
      [FIRST_ZALO_CHAT, this.options.botRecipients],
    );
    const day = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
    const created = await web.api<{ id: string }>('POST', '/api/campaigns', {
      docNumber: '27/KH-UBND',
      title: 'Phát động phong trào thi đua chuyển đổi số năm',
      issuerUnitCode: 'TINH',
      startsOn: day(0),
      endsOn: day(150),
      unitCodes: communes,
      tasks: [{ key: 'QT', title: 'Quán triệt, triển khai kế hoạch', dueOn: day(60) }],
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
    expect(launched.body.recipients).toBe(this.options.botRecipients + this.options.oaRecipients);
  }

  /** Launch messages that reached the channel's users so far. */
  delivered(channel: ZaloChannelName): number {
    let total = 0;
    if (channel === 'zalo') for (const chatId of this.botChats) total += this.bot.delivered(chatId);
    else for (const userId of this.oaUsers) total += this.oa.delivered(userId);
    return total;
  }

  /** Waits until this many launch messages reached the channel's users (the moment to break something). */
  async waitDelivered(channel: ZaloChannelName, count: number, timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `${count} launch messages delivered on ${channel}`,
      () => (this.delivered(channel) >= count ? true : undefined),
      { timeoutMs, everyMs: 20 },
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

  async outboxStates(): Promise<Record<string, Record<string, number>>> {
    const { rows } = await this.sql.query<{ channel: string; state: string; count: string }>(
      `SELECT channel, state, count(*) AS count FROM "OutboxMessage" GROUP BY channel, state`,
    );
    const states: Record<string, Record<string, number>> = {};
    for (const row of rows) (states[row.channel] ??= {})[row.state] = Number(row.count);
    return states;
  }

  /**
   * Counts each of the channel's users' messages against one launch message each (none for those in
   * `unreachable`) and prints the line the fault suite reports.
   */
  tally(
    channel: ZaloChannelName,
    fault: string,
    unreachable: ReadonlySet<string>,
    extra: Record<string, number | string> = {},
  ): Tally {
    const users = channel === 'zalo' ? this.botChats : this.oaUsers;
    let sent = 0;
    let duplicated = 0;
    let lost = 0;
    for (const user of users) {
      const count = channel === 'zalo' ? this.bot.delivered(user) : this.oa.delivered(user);
      const wanted = unreachable.has(user) ? 0 : 1;
      sent += Math.min(count, wanted);
      duplicated += Math.max(0, count - wanted);
      lost += Math.max(0, wanted - count);
    }
    const tally = { recipients: users.length, sent, duplicated, lost };
    process.stdout.write(
      `[fault] ${fault}: ${Object.entries({ ...tally, unreachable: unreachable.size, ...extra })
        .map(([key, value]) => `${key}=${value}`)
        .join(' ')}\n`,
    );
    return tally;
  }

  async close(): Promise<void> {
    await Promise.all(this.processes.map((service) => service.stop('SIGKILL')));
    await Promise.all(Object.values(this.queues).map((queue) => queue.close()));
    // Every key of this file's service (queues, chat gates, send windows) carries its prefix.
    for await (const keys of this.redis.scanStream({ match: `${this.prefix}:*`, count: 1000 }))
      if ((keys as string[]).length > 0) await this.redis.del(...(keys as string[]));
    this.redis.disconnect();
    await this.sql.end();
    await this.bot.stop();
    await this.oa.stop();
    await this.database.drop();
  }
}
