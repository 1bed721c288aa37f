import { Input, Telegram } from 'telegraf';
import type { InlineKeyboardMarkup, Update } from 'telegraf/types';
import type { InboundEvent } from '../../conversation/events.ts';
import type { OutboundMessage } from '../../domain/message.ts';
import type { Logger } from '../../logger.ts';
import { UpdatePoller } from '../polling.ts';
import { secretHeaderWebhook } from '../webhook.ts';
import type {
  Channel,
  DeliveryFailure,
  EventHandler,
  OutboundFile,
  WebhookOutcome,
  WebhookRequest,
} from '../channel.ts';

export interface TelegramOptions {
  token: string;
  apiRoot: string;
  mode: 'webhook' | 'polling';
  webhookSecret: string | undefined;
  publicUrl: string | undefined;
  logger: Logger;
  /** Pause between polls that returned nothing; the emulator answers getUpdates at once. */
  idlePollMs?: number;
}

const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

/** Reads an update into a channel-neutral event; anything we do not handle is null (and ignored). */
export function eventFromUpdate(update: unknown, botUsername?: string): InboundEvent | null {
  if (typeof update !== 'object' || update === null) return null;
  const u = update as Partial<Update.MessageUpdate & Update.CallbackQueryUpdate>;
  if (typeof u.update_id !== 'number') return null;
  const base = { channel: 'telegram', updateId: String(u.update_id) };
  const message = u.message as { chat?: { id?: unknown }; text?: unknown } | undefined;
  if (message && typeof message.text === 'string' && typeof message.chat?.id === 'number') {
    const chatId = String(message.chat.id);
    const text = message.text;
    const command = /^\/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]+))?(?:\s+([\s\S]*))?$/.exec(text.trim());
    if (command && (!command[2] || !botUsername || command[2].toLowerCase() === botUsername.toLowerCase())) {
      return { ...base, chatId, kind: 'command', command: command[1] ?? '', args: (command[3] ?? '').trim() };
    }
    return { ...base, chatId, kind: 'text', text };
  }
  const query = u.callback_query as
    { data?: unknown; from?: { id?: unknown }; message?: { chat?: { id?: unknown } } } | undefined;
  if (query && typeof query.data === 'string') {
    const chat = query.message?.chat?.id ?? query.from?.id;
    if (typeof chat !== 'number') return null;
    return { ...base, chatId: String(chat), kind: 'choice', data: query.data };
  }
  return null;
}

function keyboard(message: OutboundMessage): { reply_markup: InlineKeyboardMarkup } | object {
  if (!message.choices || message.choices.length === 0) return {};
  return {
    reply_markup: {
      inline_keyboard: message.choices.map((row) =>
        row.map((choice) => ({ text: choice.label, callback_data: choice.data })),
      ),
    },
  };
}

/** Telegram through telegraf's API client. Adapters translate; they decide nothing. */
export class TelegramChannel implements Channel {
  readonly name = 'telegram';
  readonly maxTextLength = 4096;
  readonly limits = { perSecond: 30, perChatGapMs: 1000 };
  readonly webhookPath = '/webhooks/telegram';
  private readonly api: Telegram;
  private poller: UpdatePoller<Update> | undefined;
  private username: string | undefined;

  constructor(private readonly options: TelegramOptions) {
    this.api = new Telegram(options.token, { apiRoot: options.apiRoot });
  }

  get botUsername(): string | undefined {
    return this.username;
  }

  deepLink(code: string): string | undefined {
    return this.username ? `https://t.me/${this.username}?start=${code}` : undefined;
  }

  async send(chatId: string, message: OutboundMessage): Promise<void> {
    await this.api.sendMessage(chatId, message.text, {
      parse_mode: 'HTML',
      link_preview_options: { is_disabled: true },
      ...keyboard(message),
    });
  }

  async sendPhoto(chatId: string, file: OutboundFile, message: OutboundMessage): Promise<void> {
    await this.api.sendPhoto(chatId, Input.fromBuffer(file.bytes, file.filename), {
      caption: message.text.slice(0, 1024),
      parse_mode: 'HTML',
      ...keyboard(message),
    });
  }

  async sendDocument(chatId: string, file: OutboundFile, message: OutboundMessage): Promise<void> {
    await this.api.sendDocument(chatId, Input.fromBuffer(file.bytes, file.filename), {
      caption: message.text.slice(0, 1024),
      parse_mode: 'HTML',
      ...keyboard(message),
    });
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
        allowed_updates: ['message', 'callback_query'],
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
          { offset, timeout: 25, limit: 100, allowed_updates: ['message', 'callback_query'] },
          // telegraf types the signal with the abort-controller polyfill; Node's own is what it uses.
          { signal: signal as never },
        ),
      process: (update) => this.process(update, handler),
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

  handleWebhook(request: WebhookRequest, handler: EventHandler): Promise<WebhookOutcome> {
    return secretHeaderWebhook(request, SECRET_HEADER, this.options.webhookSecret, (body) =>
      this.process(body, handler),
    );
  }

  /** Handles one update; throws when it could not be recorded, so the platform (or our poller) retries. */
  private async process(update: unknown, handler: EventHandler): Promise<void> {
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
