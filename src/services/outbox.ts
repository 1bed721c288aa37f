import type { Queryable } from '../db/client.ts';
import type { OutboundMessage } from '../domain/message.ts';

export const OUTBOX_CHANNEL = 'outbox_pending';

export interface OutboxItem {
  dedupeKey: string;
  channel: string;
  chatId: string;
  channelAccountId?: string | null;
  officialId?: string | null;
  message: OutboundMessage;
}

/**
 * Queues messages in the caller's transaction. A dedupe key already present is skipped, so writing the
 * same news twice sends it once. NOTIFY is delivered at commit, waking the relay without polling.
 * Returns how many rows were new.
 */
export async function writeOutbox(tx: Queryable, items: OutboxItem[]): Promise<number> {
  if (items.length === 0) return 0;
  const { count } = await tx.outboxMessage.createMany({
    data: items.map((item) => ({
      dedupeKey: item.dedupeKey,
      channel: item.channel,
      chatId: item.chatId,
      channelAccountId: item.channelAccountId ?? null,
      officialId: item.officialId ?? null,
      payload: {
        text: item.message.text,
        choices: (item.message.choices ?? []).map((row) => row.map(({ label, data }) => ({ label, data }))),
      },
    })),
    skipDuplicates: true,
  });
  if (count > 0) await tx.$executeRawUnsafe(`NOTIFY ${OUTBOX_CHANNEL}`);
  return count;
}

/** Reads a stored payload back, tolerating rows written by older versions. */
export function messageFromPayload(payload: unknown): OutboundMessage {
  const value = (payload ?? {}) as { text?: unknown; choices?: unknown };
  return {
    text: typeof value.text === 'string' ? value.text : '',
    choices: Array.isArray(value.choices) ? (value.choices as OutboundMessage['choices']) : [],
  };
}
