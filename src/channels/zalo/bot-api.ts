import type { AxiosInstance } from 'axios';
import type { InboundEvent } from '../../conversation/events.ts';
import type { OutboundMessage } from '../../domain/message.ts';
import type { Logger } from '../../logger.ts';
import type { Channel, DeliveryFailure, EventHandler, WebhookRequest, WebhookVerdict } from '../channel.ts';
import { networkError, PHOTO_TIMEOUT_MS, sentUnlessTimedOut, ZaloNetworkError, zaloHttp } from './http.ts';
import { secretHeaderWebhook } from '../webhook.ts';
import { numberedParts } from './text.ts';
import { UpdatePoller } from '../polling.ts';

/**
 * Zalo Bot Platform ("Zalo Bot Creator" bots): `POST {root}/bot{TOKEN}/{method}`, answers
 * `{ ok, result }` or `{ ok: false, error_code, description }`, usually with HTTP 200.
 * No buttons exist: choices go out as numbered lines and the dialogue reads "1", "2"… back.
 */
export interface ZaloBotOptions {
  token: string;
  apiRoot: string;
  mode: 'webhook' | 'polling';
  webhookSecret: string | undefined;
  publicUrl: string | undefined;
  logger: Logger;
  /** getUpdates long-poll timeout in seconds (sent as a string, as documented). */
  pollTimeoutSeconds?: number;
  /** How long sendPhoto may take: Zalo fetches the picture before it answers. */
  photoTimeoutMs?: number;
}

/** An answer with `ok: false` (or a non-JSON HTTP error): the platform's code and description. */
export class ZaloBotError extends Error {
  constructor(
    readonly errorCode: number,
    readonly description: string,
    /** False when the HTTP layer failed and no Bot API answer came back. */
    readonly fromApi: boolean,
  ) {
    super(`Zalo Bot API ${errorCode}: ${description}`);
    this.name = 'ZaloBotError';
  }
}

const SECRET_HEADER = 'x-bot-api-secret-token';
const MAX_TEXT = 2000;

interface ZaloUpdate {
  event_name?: unknown;
  message?: {
    message_id?: unknown;
    text?: unknown;
    photo?: unknown;
    photo_url?: unknown;
    caption?: unknown;
    from?: { id?: unknown; is_bot?: unknown };
    chat?: { id?: unknown; chat_type?: unknown };
  };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const idOf = (value: unknown): string | null =>
  typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : null;

/**
 * The picture's address: documented as `photo_url`, seen as `photo` (a URL); integrations also report
 * `photo` as an object or a list of sizes with `url`. The last (largest) usable one wins.
 */
function photoUrlOf(value: unknown): string | undefined {
  if (typeof value === 'string') return /^https?:\/\//.test(value) ? value : undefined;
  if (Array.isArray(value))
    return value
      .map(photoUrlOf)
      .filter((url) => url !== undefined)
      .at(-1);
  return isObject(value) ? photoUrlOf(value.url ?? value.photo_url) : undefined;
}

/** The documented webhook body is `{ ok: true, result: <update> }`; live traffic is the update itself. */
export function unwrapUpdate(body: unknown): unknown {
  if (isObject(body) && body.ok === true && isObject(body.result)) return body.result;
  return body;
}

/** Reads an update into a channel-neutral event; what we cannot use is null (ignored). */
export function eventFromZaloUpdate(body: unknown): InboundEvent | null {
  const update = unwrapUpdate(body);
  if (!isObject(update)) return null;
  const { event_name: eventName, message } = update as ZaloUpdate;
  if (typeof eventName !== 'string' || !isObject(message)) return null;
  const updateId = idOf(message.message_id);
  const chatId = idOf(isObject(message.chat) ? message.chat.id : undefined);
  if (!updateId || !chatId) return null;
  if (isObject(message.from) && message.from.is_bot === true) return null;
  const senderId = isObject(message.from) ? idOf(message.from.id) : null;
  const base = {
    channel: 'zalo',
    updateId,
    chatId,
    // Documented as "PRIVATE" or "GROUP"; a chat that says nothing is a private one.
    chatKind:
      isObject(message.chat) && message.chat.chat_type === 'GROUP'
        ? ('group' as const)
        : ('private' as const),
    ...(senderId ? { senderId } : {}),
  };
  if (typeof message.text === 'string' && message.text.trim() !== '') {
    const text = message.text;
    const command = /^\/([A-Za-z0-9_]{1,64})(?:\s+([\s\S]*))?$/.exec(text.trim());
    if (command)
      return { ...base, kind: 'command', command: command[1] ?? '', args: (command[2] ?? '').trim() };
    return { ...base, kind: 'text', text };
  }
  if (eventName === 'message.image.received') {
    const ref = photoUrlOf(message.photo_url) ?? photoUrlOf(message.photo);
    if (ref) {
      const caption = typeof message.caption === 'string' ? message.caption.trim() : '';
      return { ...base, kind: 'photo', ref, ...(caption !== '' ? { caption } : {}) };
    }
  }
  // A reaction to one of our messages asks for no answer; anything else sent to us does.
  if (/^message\.reaction\./.test(eventName)) return null;
  if (/^message\.[a-z_]+\.received$/.test(eventName)) {
    return { ...base, kind: 'unsupported', what: eventName.split('.')[1] ?? 'unknown' };
  }
  return null;
}

/** The Zalo Bot Platform through axios. Adapters translate; they decide nothing. */
export class ZaloBotChannel implements Channel {
  readonly name = 'zalo';
  readonly maxTextLength = MAX_TEXT;
  /** No rates are published; kept well below Telegram's 30/s. */
  readonly limits = { perSecond: 10, perChatGapMs: 1000 };
  readonly webhookPath = '/webhooks/zalo';
  readonly numberedChoices = true;
  private readonly http: AxiosInstance;
  private poller: UpdatePoller<unknown> | undefined;

  constructor(private readonly options: ZaloBotOptions) {
    this.http = zaloHttp(`${options.apiRoot}/bot${options.token}`);
  }

  /** Calls a Bot API method; resolves with `result`, throws ZaloBotError or ZaloNetworkError. */
  async call<T = unknown>(
    method: string,
    body: object = {},
    timeoutMs?: number,
    signal?: AbortSignal,
  ): Promise<T> {
    let response;
    try {
      response = await this.http.post<unknown>(`/${method}`, body, {
        headers: { 'content-type': 'application/json' },
        ...(signal ? { signal } : {}),
        ...(timeoutMs ? { timeout: timeoutMs } : {}),
      });
    } catch (error) {
      throw networkError(error);
    }
    const data = response.data;
    if (isObject(data) && data.ok === true) return data.result as T;
    if (isObject(data) && data.ok === false) {
      const code = typeof data.error_code === 'number' ? data.error_code : response.status;
      throw new ZaloBotError(code, typeof data.description === 'string' ? data.description : '', true);
    }
    throw new ZaloBotError(response.status, `HTTP ${response.status} without a Bot API answer`, false);
  }

  async send(chatId: string, message: OutboundMessage): Promise<void> {
    for (const text of numberedParts(message, MAX_TEXT)) {
      await this.call('sendMessage', { chat_id: chatId, text });
    }
  }

  /**
   * sendPhoto takes a public URL that Zalo fetches itself (no uploads), and answers once it has: it gets
   * 150 s, and one that times out is not sent again. No caption limit is published: the caption carries the
   * text and its numbered choices within a message's 2,000 characters, and whatever does not fit follows.
   */
  async sendPhotoLink(chatId: string, url: string, message: OutboundMessage): Promise<void> {
    const [caption, ...rest] = numberedParts(message, MAX_TEXT);
    await sentUnlessTimedOut(
      () =>
        this.call(
          'sendPhoto',
          { chat_id: chatId, photo: url, ...(caption ? { caption } : {}) },
          this.options.photoTimeoutMs ?? PHOTO_TIMEOUT_MS,
        ).then(() => undefined),
      this.options.logger,
    );
    for (const text of rest) await this.call('sendMessage', { chat_id: chatId, text });
  }

  /**
   * Zalo documents 400 bad request, 401 bad token, 403 internal error, 404 not found, 408 timeout and
   * 429 quota exceeded, and no rates. A bad token or an internal error is the bot's problem, not the
   * chat's: retried (and visible in the logs and metrics), never a reason to drop an official's account.
   * 404 from the API (not from the HTTP layer) is read as "this chat does not exist for the bot".
   */
  classify(error: unknown): DeliveryFailure {
    if (error instanceof ZaloNetworkError) return { kind: 'retry', reason: error.message };
    if (!(error instanceof ZaloBotError)) {
      return { kind: 'retry', reason: error instanceof Error ? error.message : String(error) };
    }
    const reason = `${error.errorCode} ${error.description}`.trim();
    if (!error.fromApi) return { kind: 'retry', reason };
    switch (error.errorCode) {
      case 429:
        return { kind: 'rate_limited', retryAfterMs: 60_000, reason, quota: true };
      case 404:
        return { kind: 'unreachable', reason };
      case 400:
        return { kind: 'rejected', reason };
      default:
        return { kind: 'retry', reason };
    }
  }

  async start(handler: EventHandler): Promise<void> {
    try {
      await this.call('getMe');
    } catch (error) {
      this.options.logger.warn({ err: error }, 'zalo getMe failed');
    }
    if (this.options.mode === 'webhook') {
      await this.call('setWebhook', {
        url: `${this.options.publicUrl ?? ''}${this.webhookPath}`,
        secret_token: this.options.webhookSecret ?? '',
      });
      return;
    }
    try {
      await this.call('deleteWebhook');
    } catch (error) {
      this.options.logger.warn({ err: error }, 'zalo deleteWebhook failed');
    }
    // getUpdates hands out ONE update per call and forgets it (no offset, no acknowledgement): the poller
    // keeps an update that cannot be recorded yet and retries it. 408 is the normal "nothing came".
    const timeout = this.options.pollTimeoutSeconds ?? 30;
    this.poller = new UpdatePoller<unknown>({
      fetch: async (signal) => {
        try {
          const result = await this.call<unknown>(
            'getUpdates',
            { timeout: String(timeout) },
            (timeout + 5) * 1000,
            signal,
          );
          return Array.isArray(result) ? (result as unknown[]) : result ? [result] : [];
        } catch (error) {
          if (error instanceof ZaloBotError && error.fromApi && error.errorCode === 408) return [];
          throw error;
        }
      },
      process: (update) => this.processUpdate(update, handler),
      logger: this.options.logger,
    });
    this.poller.start();
  }

  async stop(): Promise<void> {
    await this.poller?.stop();
  }

  readWebhook(request: WebhookRequest): WebhookVerdict {
    return secretHeaderWebhook(request, SECRET_HEADER, this.options.webhookSecret, eventFromZaloUpdate);
  }

  async processUpdate(update: unknown, handler: EventHandler): Promise<void> {
    const event = eventFromZaloUpdate(update);
    if (!event) {
      this.options.logger.debug({ update }, 'zalo update ignored');
      return;
    }
    await handler(event);
  }
}
