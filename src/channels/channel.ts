import type { HandleResult, InboundEvent } from '../conversation/events.ts';
import type { OutboundMessage } from '../domain/message.ts';

/** What delivery does with a failed send; decided once per channel, from the platform's error. */
export type DeliveryFailure =
  | { kind: 'retry'; reason: string }
  /** `quota` when the platform's message quota (not a short-term rate) is used up. */
  | { kind: 'rate_limited'; retryAfterMs: number; reason: string; quota?: boolean }
  /** The chat cannot be reached any more (blocked, never started, gone): deactivate the account. */
  | { kind: 'unreachable'; reason: string }
  /** This message can never be sent (malformed); the chat is fine. */
  | { kind: 'rejected'; reason: string };

/** The bytes of a picture or file, made at send time from the outbox row's reference. */
export interface OutboundFile {
  bytes: Buffer;
  filename: string;
  contentType: string;
}

export type EventHandler = (event: InboundEvent) => Promise<HandleResult>;

export interface WebhookRequest {
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** The body exactly as received, for channels that sign it (`rawBody` below). */
  rawBody?: Buffer | undefined;
}

/**
 * A webhook request once its secret or signature is checked: refused, or accepted with the update to record
 * (absent when there is nothing to handle: malformed, or an event the bot does not read).
 */
export type WebhookVerdict = { status: 401 } | { status: 200; update?: WebhookUpdate };

/** An update to handle: its id, its chat, the body as the platform sent it, and whether a group sent it. */
export interface WebhookUpdate {
  key: string;
  chatId: string;
  body: unknown;
  /** A group's update is answered at once with the one notice and never recorded (private chats only). */
  fromGroup: boolean;
}

export interface Channel {
  readonly name: string;
  readonly maxTextLength: number;
  /** Sends per second for the whole bot, and the shortest gap between two sends to one chat. */
  readonly limits: { perSecond: number; perChatGapMs: number };
  send(chatId: string, message: OutboundMessage): Promise<void>;
  /** A picture with `message.text` as its caption (and its choices); absent: the worker sends text. */
  sendPhoto?(chatId: string, file: OutboundFile, message: OutboundMessage): Promise<void>;
  /** A file with `message.text` as its caption; absent: the worker sends text. */
  sendDocument?(chatId: string, file: OutboundFile, message: OutboundMessage): Promise<void>;
  /**
   * A picture the platform fetches itself from a public link of ours (Zalo takes no uploads), with
   * `message.text` as its caption; used where there is no sendPhoto and links can be made (PUBLIC_URL).
   */
  sendPhotoLink?(chatId: string, url: string, message: OutboundMessage): Promise<void>;
  classify(error: unknown): DeliveryFailure;
  /** Starts receiving: polling, or registering the webhook. */
  start(handler: EventHandler): Promise<void>;
  stop(): Promise<void>;
  /** Present when the channel receives through our HTTP server. */
  readonly webhookPath?: string;
  /** Checks a webhook request (nothing is handled here: the update is recorded, then processed). */
  readWebhook?(request: WebhookRequest): WebhookVerdict;
  /**
   * Handles one update as the platform sent it (a recorded webhook body, or a polled update); throws when it
   * could not be handled, so it is tried again.
   */
  processUpdate?(body: unknown, handler: EventHandler): Promise<void>;
  /** The webhook needs the body's exact bytes (a signature over them). */
  readonly rawBody?: boolean;
  /** No buttons: choices go out as a numbered list and the reply "1", "2"… answers them. */
  readonly numberedChoices?: boolean;
  /** A readiness check of the channel's own (credentials); throws with the reason when not ready. */
  readiness?(): Promise<void>;
  /** A public link that opens the bot with a link code filled in, when the channel has one. */
  deepLink?(code: string): string | undefined;
}
