import { Input, Telegram } from 'telegraf';
import type { InlineKeyboardMarkup, Update } from 'telegraf/types';
import type { InboundEvent } from '../../conversation/events.ts';
import { plainText, type OutboundMessage } from '../../domain/message.ts';
import type { Logger } from '../../logger.ts';
import { UpdatePoller } from '../polling.ts';
import { secretHeaderWebhook } from '../webhook.ts';
import type {
  Channel,
  DeliveryFailure,
  EventHandler,
  OutboundFile,
  WebhookRequest,
  WebhookVerdict,
} from '../channel.ts';

export interface TelegramOptions {
  token: string;
  apiRoot: string;
  mode: 'webhook' | 'polling';
  webhookSecret: string | undefined;
  /** Sends per second for the whole bot (default 30, Telegram's free rate); above 30, paid broadcasts. */
  maxPerSecond?: number;
  publicUrl: string | undefined;
  logger: Logger;
  /** Pause between polls that returned nothing; the emulator answers getUpdates at once. */
  idlePollMs?: number;
  /** How long a send may wait for Telegram's answer (default 20 s; uploads 60 s). */
  sendTimeoutMs?: number;
}

const SECRET_HEADER = 'x-telegram-bot-api-secret-token';
/** What the bot hears: besides messages and presses, what a group it is put in says (edits, posts, joining). */
const ALLOWED_UPDATES = [
  'message',
  'edited_message',
  'channel_post',
  'callback_query',
  'my_chat_member',
] as const;
/** Telegram's free rate for messages to many chats; faster sends must be paid broadcasts. */
const FREE_MESSAGES_PER_SECOND = 30;
/**
 * telegraf waits 500 s for an answer; a hung connection would hold a worker slot that long. An aborted send
 * is retried like any network error, so a message Telegram accepted before the answer was lost can arrive
 * twice (Telegram has no idempotency key); the timeout only bounds how long a slot is held.
 */
const SEND_TIMEOUT_MS = 20_000;
const UPLOAD_TIMEOUT_MS = 60_000;

type TelegramChat = { id?: unknown; type?: unknown };
type TelegramMessage = {
  chat?: TelegramChat;
  from?: { id?: unknown };
  text?: unknown;
  photo?: unknown;
  caption?: unknown;
};

/** Groups, supergroups and channels are one kind to us: not a private chat. */
const kindOf = (chat: TelegramChat | undefined): 'private' | 'group' =>
  chat?.type === undefined || chat.type === 'private' ? 'private' : 'group';

const senderOf = (from: { id?: unknown } | undefined): { senderId?: string } =>
  Number.isSafeInteger(from?.id) ? { senderId: String(from?.id) } : {};

/**
 * The bot itself joining a group or channel (my_chat_member), read as something said there, so that the
 * group hears once that the bot works in private chats. Leaving, and anything about a private chat, is null.
 */
function joinedGroup(update: { update_id?: number; my_chat_member?: unknown }): InboundEvent | null {
  const change = update.my_chat_member as
    { chat?: TelegramChat; from?: { id?: unknown }; new_chat_member?: { status?: unknown } } | undefined;
  const status = change?.new_chat_member?.status;
  if (!change || kindOf(change.chat) !== 'group' || !Number.isSafeInteger(change.chat?.id)) return null;
  if (status !== 'member' && status !== 'administrator') return null;
  return {
    channel: 'telegram',
    updateId: String(update.update_id),
    chatId: String(change.chat?.id),
    chatKind: 'group',
    ...senderOf(change.from),
    kind: 'unsupported',
    what: 'added to a group',
  };
}

/** Reads an update into a channel-neutral event; anything we do not handle is null (and ignored). */
export function eventFromUpdate(update: unknown, botUsername?: string): InboundEvent | null {
  if (typeof update !== 'object' || update === null) return null;
  const u = update as Partial<Update.MessageUpdate & Update.CallbackQueryUpdate> & {
    edited_message?: unknown;
    channel_post?: unknown;
    my_chat_member?: unknown;
  };
  // Telegram's ids are integers (update ids non-negative); anything else is not an update of Telegram's.
  if (!Number.isSafeInteger(u.update_id) || (u.update_id ?? -1) < 0) return null;
  if (u.my_chat_member) return joinedGroup(u);
  // An edit or a channel's post is answered only where the bot says it does not work there (a group).
  const message = (u.message ?? u.edited_message ?? u.channel_post) as TelegramMessage | undefined;
  const chatKind = kindOf(message?.chat);
  if (!u.message && message && chatKind === 'private') return null;
  const base = { channel: 'telegram', updateId: String(u.update_id), chatKind, ...senderOf(message?.from) };
  if (message && typeof message.text === 'string' && Number.isSafeInteger(message.chat?.id)) {
    const chatId = String(message.chat?.id);
    const text = message.text;
    const command = /^\/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]+))?(?:\s+([\s\S]*))?$/.exec(text.trim());
    if (command && (!command[2] || !botUsername || command[2].toLowerCase() === botUsername.toLowerCase())) {
      return { ...base, chatId, kind: 'command', command: command[1] ?? '', args: (command[3] ?? '').trim() };
    }
    return { ...base, chatId, kind: 'text', text };
  }
  const photoChat = message?.chat?.id;
  if (
    message &&
    Array.isArray(message.photo) &&
    typeof photoChat === 'number' &&
    Number.isSafeInteger(photoChat)
  ) {
    const ref = largestPhoto(message.photo);
    if (ref) {
      const caption = typeof message.caption === 'string' ? message.caption.trim() : '';
      return {
        ...base,
        chatId: String(photoChat),
        kind: 'photo',
        ref,
        ...(caption !== '' ? { caption } : {}),
      };
    }
  }
  const query = u.callback_query as
    { data?: unknown; from?: { id?: unknown }; message?: { chat?: TelegramChat } } | undefined;
  if (query && typeof query.data === 'string') {
    const chat = query.message?.chat?.id ?? query.from?.id;
    if (!Number.isSafeInteger(chat)) return null;
    return {
      channel: 'telegram',
      updateId: String(u.update_id),
      chatId: String(chat),
      chatKind: kindOf(query.message?.chat),
      ...senderOf(query.from),
      kind: 'choice',
      data: query.data,
    };
  }
  return null;
}

/** Telegram sends every size of a picture; the largest one is the picture itself. */
function largestPhoto(sizes: unknown[]): string | undefined {
  let best: { ref: string; area: number } | undefined;
  for (const size of sizes) {
    const {
      file_id: ref,
      width,
      height,
    } = (size ?? {}) as { file_id?: unknown; width?: unknown; height?: unknown };
    if (typeof ref !== 'string' || ref === '') continue;
    const area = typeof width === 'number' && typeof height === 'number' ? width * height : 0;
    if (!best || area >= best.area) best = { ref, area };
  }
  return best?.ref;
}

function keyboard(message: OutboundMessage): { reply_markup: InlineKeyboardMarkup } | object {
  if (!message.choices || message.choices.length === 0) return {};
  return {
    reply_markup: {
      inline_keyboard: message.choices.map((row) =>
        // Labels are shown as typed (no parse mode for buttons): their escapes are read back.
        row.map((choice) => ({ text: plainText(choice.label), callback_data: choice.data })),
      ),
    },
  };
}

/** Telegram through telegraf's API client. Adapters translate; they decide nothing. */
export class TelegramChannel implements Channel {
  readonly name = 'telegram';
  readonly maxTextLength = 4096;
  readonly limits: { perSecond: number; perChatGapMs: number };
  readonly webhookPath = '/webhooks/telegram';
  private readonly api: Telegram;
  private poller: UpdatePoller<Update> | undefined;
  private username: string | undefined;

  /** Bot API 7.x field telegraf's types predate: lifts the bulk limit, charged in Stars above the free rate. */
  private readonly paidBroadcast: { allow_paid_broadcast?: true };

  constructor(private readonly options: TelegramOptions) {
    this.api = new Telegram(options.token, { apiRoot: options.apiRoot });
    const perSecond = options.maxPerSecond ?? FREE_MESSAGES_PER_SECOND;
    this.limits = { perSecond, perChatGapMs: 1000 };
    this.paidBroadcast = perSecond > FREE_MESSAGES_PER_SECOND ? { allow_paid_broadcast: true } : {};
  }

  get botUsername(): string | undefined {
    return this.username;
  }

  deepLink(code: string): string | undefined {
    return this.username ? `https://t.me/${this.username}?start=${code}` : undefined;
  }

  async send(chatId: string, message: OutboundMessage): Promise<void> {
    await this.api.callApi(
      'sendMessage',
      {
        chat_id: chatId,
        text: message.text,
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
        ...keyboard(message),
        ...this.paidBroadcast,
      },
      { signal: AbortSignal.timeout(this.options.sendTimeoutMs ?? SEND_TIMEOUT_MS) as never },
    );
  }

  async sendPhoto(chatId: string, file: OutboundFile, message: OutboundMessage): Promise<void> {
    await this.api.callApi(
      'sendPhoto',
      {
        chat_id: chatId,
        photo: Input.fromBuffer(file.bytes, file.filename),
        caption: message.text.slice(0, 1024),
        parse_mode: 'HTML',
        ...keyboard(message),
      },
      { signal: AbortSignal.timeout(this.options.sendTimeoutMs ?? UPLOAD_TIMEOUT_MS) as never },
    );
  }

  async sendDocument(chatId: string, file: OutboundFile, message: OutboundMessage): Promise<void> {
    await this.api.callApi(
      'sendDocument',
      {
        chat_id: chatId,
        document: Input.fromBuffer(file.bytes, file.filename),
        caption: message.text.slice(0, 1024),
        parse_mode: 'HTML',
        ...keyboard(message),
      },
      { signal: AbortSignal.timeout(this.options.sendTimeoutMs ?? UPLOAD_TIMEOUT_MS) as never },
    );
  }

  classify(error: unknown): DeliveryFailure {
    const e = error as {
      code?: unknown;
      response?: { error_code?: number; description?: string; parameters?: { retry_after?: number } };
    };
    const status = e.response?.error_code;
    const reason = e.response?.description ?? (error instanceof Error ? error.message : String(error));
    if (status === undefined) return { kind: 'retry', reason };
    if (status === 429) {
      return {
        kind: 'rate_limited',
        retryAfterMs: Math.max(1, e.response?.parameters?.retry_after ?? 1) * 1000,
        reason,
      };
    }
    if (status === 403) return { kind: 'unreachable', reason };
    if (status === 400 && /chat not found|user not found|chat_id is empty|PEER_ID_INVALID/i.test(reason)) {
      return { kind: 'unreachable', reason };
    }
    if (status >= 500) return { kind: 'retry', reason };
    return { kind: 'rejected', reason };
  }

  async start(handler: EventHandler): Promise<void> {
    try {
      const me = await this.api.getMe();
      this.username = me.username;
    } catch (error) {
      this.options.logger.warn({ err: error }, 'telegram getMe failed; deep links unavailable until restart');
    }
    if (this.options.mode === 'webhook') {
      await this.api.setWebhook(`${this.options.publicUrl ?? ''}${this.webhookPath}`, {
        secret_token: this.options.webhookSecret,
        allowed_updates: ALLOWED_UPDATES,
      });
      return;
    }
    try {
      await this.api.deleteWebhook();
    } catch (error) {
      this.options.logger.warn({ err: error }, 'telegram deleteWebhook failed');
    }
    // Our own loop rather than telegraf's launch(): the offset moves past an update only once it is recorded.
    let offset = 0;
    this.poller = new UpdatePoller<Update>({
      fetch: (signal) =>
        this.api.callApi(
          'getUpdates',
          { offset, timeout: 25, limit: 100, allowed_updates: ALLOWED_UPDATES },
          // telegraf types the signal with the abort-controller polyfill; Node's own is what it uses.
          { signal: signal as never },
        ),
      process: (update) => this.processUpdate(update, handler),
      done: (update) => {
        offset = update.update_id + 1;
      },
      idleMs: this.options.idlePollMs ?? 200,
      logger: this.options.logger,
    });
    this.poller.start();
  }

  async stop(): Promise<void> {
    await this.poller?.stop();
  }

  readWebhook(request: WebhookRequest): WebhookVerdict {
    return secretHeaderWebhook(request, SECRET_HEADER, this.options.webhookSecret, (body) =>
      eventFromUpdate(body, this.username),
    );
  }

  /** Handles one update; throws when it could not be recorded, so it is tried again (inbox or poller). */
  async processUpdate(update: unknown, handler: EventHandler): Promise<void> {
    const event = eventFromUpdate(update, this.username);
    if (!event) {
      this.options.logger.debug({ update }, 'telegram update ignored');
      return;
    }
    const result = await handler(event);
    const query = (update as { callback_query?: { id?: unknown } }).callback_query;
    if (typeof query?.id === 'string') {
      // Answering the press is the one direct send: it carries no news and must happen within seconds.
      await this.api.answerCbQuery(query.id, result.notice).catch((error: unknown) => {
        this.options.logger.debug({ err: error }, 'answerCallbackQuery failed');
      });
    }
  }
}
