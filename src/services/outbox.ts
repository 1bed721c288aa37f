import { v7 as uuidv7 } from 'uuid';
import type { RawQueries } from '../db/raw-transactions.ts';
import { Prisma } from '../generated/prisma/client.ts';
import type { OutboundMessage } from '../domain/message.ts';

export const OUTBOX_CHANNEL = 'outbox_pending';

/** How long the choices offered in a chat stay answerable by number or by their words. */
export const OFFERED_CHOICES_TTL_MS = 24 * 3600_000;

export interface OutboxItem {
  dedupeKey: string;
  channel: string;
  chatId: string;
  channelAccountId?: string | null;
  officialId?: string | null;
  message: OutboundMessage;
}

/** A choice as offered in a chat: its number, its words and the data it answers with. */
export type OfferedChoiceItem = {
  n: number;
  label: string;
  data: string;
};

const chatKey = (item: { channel: string; chatId: string }) => `${item.channel}\u0000${item.chatId}`;

/**
 * Numbers the choices of the messages one call writes to each chat, 1, 2, 3… across the messages, so a
 * reply "2" is unambiguous even when several questions went out together.
 */
function numbered(items: OutboxItem[]): { item: OutboxItem; choices: OfferedChoiceItem[][] }[] {
  const counters = new Map<string, number>();
  return items.map((item) => {
    const key = chatKey(item);
    const choices = (item.message.choices ?? []).map((row) =>
      row.map(({ label, data }) => {
        const n = (counters.get(key) ?? 0) + 1;
        counters.set(key, n);
        return { label, data, n };
      }),
    );
    return { item, choices };
  });
}

export interface WriteOutboxOptions {
  /**
   * The writer delivers the new rows itself: they are written as already handed over ("enqueuedAt" =
   * now()), so the relay leaves them alone for its lease and takes them over only if the writer fails.
   * 'if-chat-idle': only the rows of chats with no message still waiting to be sent (a chat reads its
   * messages in order); the others go to the relay as usual (see WrittenOutboxRow.held).
   */
  hold?: boolean | 'if-chat-idle';
}

/** A row that a write created (a dedupe key already present creates none). */
export interface WrittenOutboxRow {
  id: string;
  dedupeKey: string;
  channel: string;
  chatId: string;
  /** As stored (choices numbered across the messages to the chat), as a worker would send it. */
  message: OutboundMessage;
  /** Written held: the writer sends it (WriteOutboxOptions.hold). */
  held: boolean;
}

/**
 * Queues messages in the caller's transaction and returns the rows it created. A dedupe key already
 * present is skipped, so writing the same news twice sends it once. NOTIFY is delivered at commit, waking
 * the relay without polling (not for held rows: the writer delivers those). The choices of the new rows
 * become the chat's latest offered choices (same statement).
 */
export async function writeOutboxReturning(
  tx: RawQueries,
  items: OutboxItem[],
  options: WriteOutboxOptions = {},
): Promise<WrittenOutboxRow[]> {
  if (items.length === 0) return [];
  const inserted = await insertOutbox<Omit<WrittenOutboxRow, 'message'> & { payload: unknown }>(
    tx,
    items,
    options,
    Prisma.sql`SELECT id, "dedupeKey", channel, "chatId", payload, held FROM written`,
  );
  if (inserted.some((row) => !row.held)) await tx.$executeRawUnsafe(`NOTIFY ${OUTBOX_CHANNEL}`);
  return inserted.map(({ payload, ...row }) => ({ ...row, message: messageFromPayload(payload) }));
}

/**
 * Queues messages in the caller's transaction (see writeOutboxReturning). Returns how many rows were new.
 */
export async function writeOutbox(
  tx: RawQueries,
  items: OutboxItem[],
  options: WriteOutboxOptions = {},
): Promise<number> {
  if (items.length === 0) return 0;
  // Only the count: a launch's 10,000 payloads read back and parsed would cost a tenth of the launch.
  const [written] = await insertOutbox<{ count: number; queued: number }>(
    tx,
    items,
    options,
    Prisma.sql`SELECT count(*)::int AS count, count(*) FILTER (WHERE NOT held)::int AS queued FROM written`,
  );
  const count = written?.count ?? 0;
  if ((written?.queued ?? 0) > 0) await tx.$executeRawUnsafe(`NOTIFY ${OUTBOX_CHANNEL}`);
  return count;
}

/** Inserts the rows and the chats' offers in one statement; `select` reads from the new rows (`written`). */
async function insertOutbox<T>(
  tx: RawQueries,
  items: OutboxItem[],
  options: WriteOutboxOptions,
  select: Prisma.Sql,
): Promise<T[]> {
  // A launch says the same to everyone of a locale: each distinct payload travels once, and rows point to
  // it. One message object numbered from the same point is one payload, found without serialising again.
  const payloads: string[] = [];
  const payloadIndex = new Map<string, number>();
  const known = new Map<OutboundMessage, Map<number, number>>();
  // Time-ordered ids (UUIDv7, as Prisma makes for the other tables): new rows append to the primary key.
  const ids = Array.from({ length: items.length }, () => uuidv7());
  const rows = numbered(items).map(({ item, choices }, n) => {
    const firstNumber = choices.find((row) => row.length > 0)?.[0]?.n ?? 0;
    let byFirstNumber = known.get(item.message);
    let index = byFirstNumber?.get(firstNumber);
    if (index === undefined) {
      const payload = JSON.stringify({
        text: item.message.text,
        choices,
        // A reference only ({ kind, ref }): the bytes are made at send time, never stored here.
        ...(item.message.attachment ? { attachment: item.message.attachment } : {}),
      });
      index = payloadIndex.get(payload);
      if (index === undefined) {
        index = payloads.length;
        payloads.push(payload);
        payloadIndex.set(payload, index);
      }
      if (!byFirstNumber) known.set(item.message, (byFirstNumber = new Map<number, number>()));
      byFirstNumber.set(firstNumber, index);
    }
    return {
      n,
      id: ids[n],
      dedupeKey: item.dedupeKey,
      channel: item.channel,
      chatId: item.chatId,
      channelAccountId: item.channelAccountId ?? null,
      officialId: item.officialId ?? null,
      payload: index + 1,
    };
  });
  // One statement, however many rows: Prisma's createManyAndReturn spent seconds building a query of
  // 10,000 rows. Rows are inserted in the callers' order, so seq keeps the order of messages to one chat.
  // The chats' offers are made from the rows actually inserted; an older offer committed late never
  // replaces a newer one.
  return tx.$queryRaw<T[]>`
    WITH written AS (
      INSERT INTO "OutboxMessage"
        (id, "dedupeKey", channel, "chatId", "channelAccountId", "officialId", payload, "enqueuedAt")
      SELECT r.id, r."dedupeKey", r.channel, r."chatId", r."channelAccountId", r."officialId", p.body,
        CASE WHEN ${options.hold === true} OR (${options.hold === 'if-chat-idle'} AND NOT EXISTS (
          SELECT 1 FROM "OutboxMessage" e
          WHERE e."chatId" = r."chatId" AND e.channel = r.channel AND e.state = 'pending'))
        THEN now() END
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          AS r(n int, id uuid, "dedupeKey" text, channel text, "chatId" text, "channelAccountId" uuid,
               "officialId" uuid, payload int)
        JOIN jsonb_array_elements(${`[${payloads.join(',')}]`}::jsonb) WITH ORDINALITY AS p(body, i)
          ON p.i = r.payload
      ORDER BY r.n
      ON CONFLICT ("dedupeKey") DO NOTHING
      RETURNING id, "dedupeKey", channel, "chatId", seq, payload, "enqueuedAt" IS NOT NULL AS held
    ), offered AS (
      INSERT INTO "OfferedChoice" (channel, "chatId", seq, choices, "createdAt")
      SELECT w.channel, w."chatId", max(w.seq), jsonb_agg(c.choice ORDER BY w.seq, m.i, c.j), now()
      FROM written w
        CROSS JOIN LATERAL jsonb_array_elements(w.payload -> 'choices') WITH ORDINALITY AS m(choices, i)
        CROSS JOIN LATERAL jsonb_array_elements(m.choices) WITH ORDINALITY AS c(choice, j)
      GROUP BY w.channel, w."chatId"
      ON CONFLICT (channel, "chatId") DO UPDATE
        SET seq = EXCLUDED.seq, choices = EXCLUDED.choices, "createdAt" = EXCLUDED."createdAt"
        WHERE "OfferedChoice".seq < EXCLUDED.seq
    )
    ${select}`;
}

/**
 * The latest choices offered in a chat, while they are still answerable. Raw SQL: it is read for every text
 * from a channel without buttons (Zalo), on the dialogue's raw engine.
 */
export async function offeredChoices(
  tx: RawQueries,
  input: { channel: string; chatId: string; now: Date },
): Promise<OfferedChoiceItem[]> {
  const [row] = await tx.$queryRaw<{ choices: unknown }[]>`
    SELECT choices FROM "OfferedChoice"
    WHERE channel = ${input.channel} AND "chatId" = ${input.chatId}
      AND "createdAt" >= ${new Date(input.now.getTime() - OFFERED_CHOICES_TTL_MS)}`;
  return Array.isArray(row?.choices) ? (row.choices as OfferedChoiceItem[]) : [];
}

/** Reads a stored payload back, tolerating rows written by older versions. */
export function messageFromPayload(payload: unknown): OutboundMessage {
  const value = (payload ?? {}) as { text?: unknown; choices?: unknown; attachment?: unknown };
  const attachment = value.attachment as OutboundMessage['attachment'] | undefined;
  return {
    text: typeof value.text === 'string' ? value.text : '',
    choices: Array.isArray(value.choices) ? (value.choices as OutboundMessage['choices']) : [],
    ...(attachment && typeof attachment === 'object' && typeof attachment.ref === 'object'
      ? { attachment }
      : {}),
  };
}
