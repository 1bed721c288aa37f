import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { freePort } from './ports.ts';

/** A picture or file the bot sent, as the proxy saw it. */
export interface SentMedia {
  method: string;
  chatId: string;
  caption: string;
  filename: string;
  file: Buffer;
  buttons: { text: string; data: string }[];
}

/** A Bot API error as Telegram answers it. */
export interface InjectedError {
  status: number;
  description: string;
  retryAfter?: number;
}

/** The message reaches the chat, but the bot never hears back: the connection closes after `afterMs`. */
export interface InjectedTimeout {
  timeout: true;
  afterMs?: number;
}

export type Fault = InjectedError | InjectedTimeout;

/** The answers Telegram gives when something is wrong, word for word. */
export const FAULTS = {
  blocked: { status: 403, description: 'Forbidden: bot was blocked by the user' },
  neverStarted: { status: 403, description: "Forbidden: bot can't initiate conversation with a user" },
  chatNotFound: { status: 400, description: 'Bad Request: chat not found' },
  serverError: { status: 502, description: 'Bad Gateway' },
  tooManyRequests: (retryAfter: number): InjectedError => ({
    status: 429,
    description: `Too Many Requests: retry after ${retryAfter}`,
    retryAfter,
  }),
  /** Accepted and shown to the user, then the connection is closed without an answer. */
  timeout: { timeout: true },
} as const satisfies Record<string, Fault | ((retryAfter: number) => Fault)>;

/** Telegram's limits on sending messages (Bot FAQ); 429 with retry_after beyond them. */
export interface TelegramLimits {
  /** Messages per second to all chats together. */
  perSecond: number;
  /** Seconds between two messages to one chat. */
  perChatSeconds: number;
  /** Messages per minute to one group (a negative chat id). */
  perGroupMinute: number;
}

export const TELEGRAM_LIMITS: TelegramLimits = { perSecond: 30, perChatSeconds: 1, perGroupMinute: 20 };

export interface FaultyTelegramOptions {
  /** Enforce these limits (omitted fields take Telegram's numbers: `{}` is Telegram). Absent: no limits. */
  limits?: Partial<TelegramLimits>;
  /** Added before every Bot API call is answered. */
  latencyMs?: number;
}

/** One send the bot attempted, with the status it was answered (0: the connection was closed). */
export interface Attempt {
  chatId: string;
  method: string;
  status: number;
  at: number;
}

const SEND_METHODS = /\/(sendMessage|sendPhoto|sendDocument)$/;

/**
 * A Telegram for tests: sits between the bot and the Telegram emulator (which never fails) and answers
 * sends (sendMessage, sendPhoto, sendDocument) the way Telegram would.
 *
 * - Limits, when `limits` is given: sliding windows of 1 s over all chats, of `perChatSeconds` per chat
 *   and of a minute per group; a send beyond them gets 429 with `parameters.retry_after` (whole seconds
 *   until the window lets it through) and is not delivered.
 * - Faults on command: `inject(chatId, ...faults)` answers the next sends to that chat with these faults,
 *   in order; `injectNext(count, fault)` the next `count` sends to any chat. A fault is a Bot API error
 *   (`FAULTS.blocked`, `neverStarted`, `chatNotFound`, `serverError`, `tooManyRequests(s)`) or
 *   `FAULTS.timeout`: the message is delivered to the emulator, then the connection closes unanswered.
 *   Injected faults come before the limits; an injected error is not delivered.
 * - Latency: `latencyMs` (option or property) delays every answer.
 * - Counters: `attempts` (every send, in order, with its status), `tooManyRequests` (429s answered),
 *   `accepted(chatId)` / `acceptedByChat` (sends that reached the emulator), `timedOut`.
 *
 * sendPhoto and sendDocument, which the emulator lacks, are answered here and recorded in `media`.
 * Everything else (getMe, setWebhook, answerCallbackQuery…) is forwarded untouched.
 */
export class FaultyTelegram {
  /** Every send the bot attempted, in order, with what it was answered. */
  readonly attempts: Attempt[] = [];
  /** Sends that reached the chat (the emulator), by chat id. */
  readonly acceptedByChat = new Map<string, number>();
  /** 429s answered, injected or for a limit. */
  tooManyRequests = 0;
  /** Sends delivered whose answer was never given (injected timeouts). */
  timedOut = 0;
  /** Every sendPhoto/sendDocument (which the emulator lacks), answered here and recorded. */
  readonly media: SentMedia[] = [];
  latencyMs: number;

  private readonly limits: TelegramLimits | undefined;
  private readonly faults = new Map<string, Fault[]>();
  private readonly anyChatFaults: Fault[] = [];
  /** Times of accepted sends: all chats (last second), per chat (last one), per group (last minute). */
  private readonly recent: number[] = [];
  private readonly lastByChat = new Map<string, number>();
  private readonly recentByGroup = new Map<string, number[]>();
  private readonly server: Server;

  private constructor(
    readonly url: string,
    private readonly upstream: string,
    options: FaultyTelegramOptions,
  ) {
    this.limits = options.limits ? { ...TELEGRAM_LIMITS, ...options.limits } : undefined;
    this.latencyMs = options.latencyMs ?? 0;
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        response.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    });
  }

  static async start(upstream: string, options: FaultyTelegramOptions = {}): Promise<FaultyTelegram> {
    const port = await freePort();
    const proxy = new FaultyTelegram(`http://127.0.0.1:${port}`, upstream, options);
    await new Promise<void>((resolve) => proxy.server.listen(port, '127.0.0.1', resolve));
    return proxy;
  }

  /** The next `faults.length` sends to this chat get these answers, in order. */
  inject(chatId: string | number, ...faults: Fault[]): void {
    this.faults.set(String(chatId), [...(this.faults.get(String(chatId)) ?? []), ...faults]);
  }

  /** The next `count` sends, to whichever chats, get this answer (after any fault injected for their chat). */
  injectNext(count: number, fault: Fault): void {
    for (let i = 0; i < count; i += 1) this.anyChatFaults.push(fault);
  }

  /** How many sends reached this chat. */
  accepted(chatId: string | number): number {
    return this.acceptedByChat.get(String(chatId)) ?? 0;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    const method = SEND_METHODS.exec(request.url ?? '')?.[1];
    if (!method) {
      const forwarded = await this.forward(request, raw);
      return this.answer(response, forwarded.status, forwarded.body);
    }
    const media = method === 'sendMessage' ? undefined : this.readMedia(method, raw);
    const chatId =
      media?.chatId ?? String((JSON.parse(raw.toString('utf8') || '{}') as { chat_id?: unknown }).chat_id);
    const attempt: Attempt = { chatId, method, status: 200, at: Date.now() };
    this.attempts.push(attempt);

    const fault = this.faults.get(chatId)?.shift() ?? this.anyChatFaults.shift();
    const refusal = fault && !('timeout' in fault) ? fault : this.overLimit(chatId, attempt.at);
    if (refusal) {
      attempt.status = refusal.status;
      if (refusal.status === 429) this.tooManyRequests += 1;
      return this.answer(response, refusal.status, {
        ok: false,
        error_code: refusal.status,
        description: refusal.description,
        ...(refusal.retryAfter !== undefined ? { parameters: { retry_after: refusal.retryAfter } } : {}),
      });
    }

    this.accept(chatId, attempt.at);
    let answer: { status: number; body: unknown };
    if (media) {
      this.media.push(media);
      answer = {
        status: 200,
        body: {
          ok: true,
          result: { message_id: 900_000 + this.media.length, date: 0, chat: { id: Number(chatId) } },
        },
      };
    } else {
      answer = await this.forward(request, raw);
    }
    attempt.status = answer.status;
    if (fault && 'timeout' in fault) {
      attempt.status = 0;
      this.timedOut += 1;
      const afterMs = fault.afterMs ?? 0;
      if (afterMs > 0) await new Promise((resolve) => setTimeout(resolve, afterMs));
      response.destroy();
      return;
    }
    this.answer(response, answer.status, answer.body);
  }

  /** The limit this send would break, as Telegram's 429, or undefined. */
  private overLimit(chatId: string, now: number): InjectedError | undefined {
    if (!this.limits) return undefined;
    const { perSecond, perChatSeconds, perGroupMinute } = this.limits;
    const waits: number[] = [];
    while (this.recent.length > 0 && (this.recent[0] ?? 0) <= now - 1000) this.recent.shift();
    if (this.recent.length >= perSecond) waits.push((this.recent[0] ?? now) + 1000 - now);
    const last = this.lastByChat.get(chatId);
    if (last !== undefined && now - last < perChatSeconds * 1000)
      waits.push(last + perChatSeconds * 1000 - now);
    if (chatId.startsWith('-')) {
      const minute = (this.recentByGroup.get(chatId) ?? []).filter((at) => at > now - 60_000);
      this.recentByGroup.set(chatId, minute);
      if (minute.length >= perGroupMinute) waits.push((minute[0] ?? now) + 60_000 - now);
    }
    if (waits.length === 0) return undefined;
    return FAULTS.tooManyRequests(Math.max(1, Math.ceil(Math.max(...waits) / 1000)));
  }

  private accept(chatId: string, now: number): void {
    this.acceptedByChat.set(chatId, this.accepted(chatId) + 1);
    if (!this.limits) return;
    this.recent.push(now);
    this.lastByChat.set(chatId, now);
    if (chatId.startsWith('-'))
      this.recentByGroup.set(chatId, [...(this.recentByGroup.get(chatId) ?? []), now]);
  }

  private readMedia(method: string, raw: Buffer): SentMedia {
    const field = (name: string) =>
      new RegExp(`name="${name}"\r\n\r\n([\\s\\S]*?)\r\n--`).exec(raw.toString('utf8'))?.[1];
    const fileField = method === 'sendPhoto' ? 'photo' : 'document';
    const start = raw.indexOf(Buffer.from('\r\n\r\n', 'latin1'), raw.indexOf(`name="${fileField}"`)) + 4;
    const end = raw.indexOf(Buffer.from('\r\n--', 'latin1'), start);
    const markup = field('reply_markup');
    return {
      method,
      chatId: field('chat_id') ?? '',
      caption: field('caption') ?? '',
      filename: /filename="([^"]*)"/.exec(raw.toString('utf8'))?.[1] ?? '',
      file: raw.subarray(start, end),
      buttons: markup
        ? (
            JSON.parse(markup) as { inline_keyboard: { text: string; callback_data: string }[][] }
          ).inline_keyboard
            .flat()
            .map((button) => ({ text: button.text, data: button.callback_data }))
        : [],
    };
  }

  private async forward(request: IncomingMessage, raw: Buffer): Promise<{ status: number; body: string }> {
    const response = await fetch(`${this.upstream}${request.url ?? '/'}`, {
      method: request.method ?? 'POST',
      headers: { 'content-type': request.headers['content-type'] ?? 'application/json' },
      ...(request.method === 'GET' ? {} : { body: raw }),
    });
    return { status: response.status, body: await response.text() };
  }

  private answer(response: ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(typeof body === 'string' ? body : JSON.stringify(body));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
