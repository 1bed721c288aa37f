import type { WrittenOutboxRow } from '../services/outbox.ts';
/** One thing a person did in a chat, as every channel adapter reports it. */
export type InboundEvent = {
  channel: string;
  /** The platform's id of this update; the same update delivered again carries the same id. */
  updateId: string;
  chatId: string;
  /**
   * Where it was written: a private chat with the bot, or a group (a Telegram group, supergroup or channel,
   * a Zalo group). Only private chats are served; absent means private.
   */
  chatKind?: 'private' | 'group';
  /** The platform's id of the person who sent it, where the platform gives one (Telegram from.id). */
  senderId?: string;
} & (
  | { kind: 'command'; command: string; args: string }
  | { kind: 'text'; text: string }
  | { kind: 'choice'; data: string }
  /**
   * A picture: `ref` is the platform's own reference to it (Telegram's file_id, Zalo's image URL), kept as
   * is; `caption` is the text sent with it, if any.
   */
  | { kind: 'photo'; ref: string; caption?: string }
  /**
   * Something the bot cannot read (a sticker, a voice message, a picture without a usable reference):
   * `what` names it, for logs.
   */
  | { kind: 'unsupported'; what: string }
);

export interface HandleResult {
  /** False when the update had been handled before (a redelivery). */
  fresh: boolean;
  /** A short notice for the button that was pressed (Telegram shows it as a toast). */
  notice?: string | undefined;
  /** Answers written held for the receiving process to send itself (DialogueDeps.directReplies). */
  held?: WrittenOutboxRow[];
}

/** A UTF-16 half without its other half: no character at all. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * PostgreSQL cannot store U+0000 in text or jsonb, nor a lone UTF-16 surrogate in jsonb, and a platform
 * may still deliver them in a text, a caption or button data: the update's transaction would fail on
 * every redelivery. Neither carries meaning in a chat, so NUL is dropped and a lone surrogate becomes
 * U+FFFD (as a UTF-8 decoder shows it) before anything reads the event.
 */
export function storableEvent(event: InboundEvent): InboundEvent {
  const cleaned: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event))
    cleaned[key] = typeof value === 'string' ? storableText(value) : value;
  return cleaned as InboundEvent;
}

function storableText(text: string): string {
  return text.replaceAll('\u0000', '').replace(LONE_SURROGATE, '\ufffd');
}

/** A platform's whole update made storable in jsonb the same way, keys and values at any depth. */
export function storableJson(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.map(storableJson);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [storableText(key), storableJson(inner)]),
  );
}
