import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Db } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import { chatGateKey } from './queues.ts';

/*
 * What every send does around the channel's call, whoever makes it (a delivery worker, or the web role
 * answering directly): hold the chat's gap, keep the bot-wide send window, mark the outbox row sent.
 * Both senders use these, so the two can never disagree on how a chat is spaced or a row recorded.
 */

/**
 * The gap between two sends to one chat: a Redis key per chat that lives for the channel's gap (Redis'
 * clock), so every worker and web process spaces a chat alike.
 */
export class ChatGap {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    channel: string,
    chatId: string,
    private readonly gapMs: number,
  ) {
    this.key = chatGateKey(prefix, channel, chatId);
  }

  /** Takes the gap for a send about to happen; when another send holds it, answers for how much longer. */
  async take(): Promise<{ taken: true } | { taken: false; heldForMs: number }> {
    if ((await this.redis.set(this.key, '1', 'PX', this.gapMs, 'NX')) !== null) return { taken: true };
    return { taken: false, heldForMs: await this.redis.pttl(this.key) };
  }

  /** The gap counts from the end of a send, so two sends never arrive closer than the gap. */
  async restart(): Promise<void> {
    await this.redis.set(this.key, '1', 'PX', this.gapMs);
  }

  /** Not sent after all: the chat's gap starts with the send that will happen, not with this refusal. */
  async free(): Promise<void> {
    await this.redis.del(this.key);
  }
}

/**
 * The bot's sends over the last second, across every worker, as Telegram counts them: BullMQ's limiter
 * counts fixed windows opened by the first job, which lets a full window's sends at the end of one and
 * as many at the start of the next through within a second, and Telegram answers 429 (pausing the whole
 * queue). A sorted set of send times (Redis' clock) admits a send only while fewer than the limit went
 * out in the window; otherwise it answers how many ms until one leaves it. A send is entered when it is
 * admitted and moved to the moment its answer came back (SEND_DONE_SCRIPT): Telegram saw it in between,
 * so a window counted from the answer never lets the next send arrive within a second of it, however
 * unevenly requests travel on a busy machine.
 */
const SEND_WINDOW_MS = 1005;
const SEND_WINDOW_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window * 60)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now + 1)
`;
const SEND_DONE_SCRIPT = `
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], 'XX', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])
return 0
`;

/** A send the window let in: tell it when the platform answered, whatever the answer. */
export interface WindowTicket {
  answered(): Promise<void>;
}

/** The bot-wide send window of one channel (SEND_WINDOW_SCRIPT), shared by every worker process. */
export class SendWindow {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    channel: string,
    private readonly perSecond: number,
  ) {
    this.key = `${prefix}:sendwindow:${channel}`;
  }

  /** Enters a send into the window, or answers how long until a send leaves it. */
  async admit(): Promise<{ admitted: true; ticket: WindowTicket } | { admitted: false; retryInMs: number }> {
    const sendId = randomUUID();
    const waitMs = Number(
      await this.redis.eval(SEND_WINDOW_SCRIPT, 1, this.key, this.perSecond, SEND_WINDOW_MS, sendId),
    );
    if (waitMs > 0) return { admitted: false, retryInMs: waitMs };
    const answered = async () => {
      await this.redis.eval(SEND_DONE_SCRIPT, 1, this.key, sendId);
    };
    return { admitted: true, ticket: { answered } };
  }
}

/** An outbox row whose last part went out, with the instant it did (from the sender's clock). */
export interface SentRow {
  id: string;
  partsSent: number;
  sentAt: Date;
}

/**
 * Marks rows sent in one statement. Only pending rows: a row another sender already marked keeps its
 * record. Prisma keeps DateTime columns as UTC wall time in "timestamp without time zone".
 */
export async function markSent(db: Db, rows: readonly SentRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.$executeRaw`
    UPDATE "OutboxMessage" o
    SET state = 'sent', "sentAt" = s."sentAt", "partsSent" = s."partsSent", attempts = o.attempts + 1
    FROM unnest(${rows.map((row) => row.id)}::uuid[],
                ${rows.map((row) => row.sentAt.toISOString().replace('Z', ''))}::timestamp(3)[],
                ${rows.map((row) => row.partsSent)}::int[]) AS s(id, "sentAt", "partsSent")
    WHERE o.id = s.id AND o.state = 'pending'`;
}

/** How long a sent row waits to be marked sent with the others sent meanwhile. */
const MARK_EVERY_MS = 25;

/**
 * Rows sent are marked in batches (one statement every MARK_EVERY_MS at most): a statement per answer
 * was a tenth of the web role's CPU per reply at 100 replies/s. A row sent but not yet marked when the
 * process dies is sent again by a worker when its lease ends: a rare duplicate, never a loss.
 */
export class BatchedSentMarks {
  private readonly rows: SentRow[] = [];
  private marking: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

  add(row: SentRow): void {
    this.rows.push(row);
    this.marking ??= new Promise<void>((resolve) => setTimeout(resolve, MARK_EVERY_MS)).then(() =>
      this.flush(),
    );
  }

  /** Marks what is waiting now (on shutdown, after the last sends). */
  async drain(): Promise<void> {
    await this.marking;
    await this.flush();
  }

  private async flush(): Promise<void> {
    const rows = this.rows.splice(0);
    this.marking = undefined;
    if (rows.length === 0) return;
    try {
      await markSent(this.db, rows);
    } catch (error) {
      const ids = rows.map((row) => row.id);
      this.logger.warn({ err: error, ids }, 'rows sent but not marked as sent');
    }
  }
}
