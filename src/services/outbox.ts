import type { Queryable } from '../db/client.ts';
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

/**
 * Queues messages in the caller's transaction. A dedupe key already present is skipped, so writing the
 * same news twice sends it once. NOTIFY is delivered at commit, waking the relay without polling.
 * The choices of the new rows become the chat's latest offered choices (same transaction).
 * Returns how many rows were new.
 */
export async function writeOutbox(tx: Queryable, items: OutboxItem[]): Promise<number> {
  if (items.length === 0) return 0;
  const prepared = numbered(items);
  const created = await tx.outboxMessage.createManyAndReturn({
    data: prepared.map(({ item, choices }) => ({
      dedupeKey: item.dedupeKey,
      channel: item.channel,
      chatId: item.chatId,
      channelAccountId: item.channelAccountId ?? null,
      officialId: item.officialId ?? null,
      payload: {
        text: item.message.text,
        choices,
        // A reference only ({ kind, ref }): the bytes are made at send time, never stored here.
        ...(item.message.attachment
          ? { attachment: JSON.parse(JSON.stringify(item.message.attachment)) as Record<string, string> }
          : {}),
      },
    })),
    skipDuplicates: true,
    select: { dedupeKey: true, seq: true },
  });
  if (created.length === 0) return 0;
  const seqByKey = new Map(created.map((row) => [row.dedupeKey, row.seq]));
  const offers = new Map<
    string,
    { channel: string; chatId: string; seq: bigint; choices: OfferedChoiceItem[] }
  >();
  for (const { item, choices } of prepared) {
    const seq = seqByKey.get(item.dedupeKey);
    const flat = choices.flat();
    if (seq === undefined || flat.length === 0) continue;
    const offer = offers.get(chatKey(item)) ?? {
      channel: item.channel,
      chatId: item.chatId,
      seq,
      choices: [],
    };
    if (seq > offer.seq) offer.seq = seq;
    offer.choices.push(...flat.map((choice) => ({ n: choice.n, label: choice.label, data: choice.data })));
    offers.set(chatKey(item), offer);
  }
  if (offers.size > 0) {
    const rows = [...offers.values()].map((offer) => ({ ...offer, seq: offer.seq.toString() }));
    // One statement for every chat; an older offer committed late never replaces a newer one.
    await tx.$executeRaw`
      INSERT INTO "OfferedChoice" (channel, "chatId", seq, choices, "createdAt")
      SELECT r.channel, r."chatId", r.seq::bigint, r.choices, now()
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        AS r(channel text, "chatId" text, seq text, choices jsonb)
      ON CONFLICT (channel, "chatId") DO UPDATE
        SET seq = EXCLUDED.seq, choices = EXCLUDED.choices, "createdAt" = EXCLUDED."createdAt"
        WHERE "OfferedChoice".seq < EXCLUDED.seq`;
  }
  await tx.$executeRawUnsafe(`NOTIFY ${OUTBOX_CHANNEL}`);
  return created.length;
}

/** The latest choices offered in a chat, while they are still answerable. */
export async function offeredChoices(
  tx: Queryable,
  input: { channel: string; chatId: string; now: Date },
): Promise<OfferedChoiceItem[]> {
  const row = await tx.offeredChoice.findUnique({
    where: { channel_chatId: { channel: input.channel, chatId: input.chatId } },
  });
  if (!row || row.createdAt.getTime() < input.now.getTime() - OFFERED_CHOICES_TTL_MS) return [];
  return Array.isArray(row.choices) ? (row.choices as unknown as OfferedChoiceItem[]) : [];
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
