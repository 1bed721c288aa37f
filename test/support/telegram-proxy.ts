import { createServer, type IncomingMessage, type Server } from 'node:http';
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

/**
 * Sits between the bot and the Telegram emulator (which never fails) and answers sendMessage with
 * the errors Telegram gives: programmed per chat, for the next N sends. Everything else is forwarded.
 */
export class FaultyTelegram {
  /** Every sendMessage the bot attempted, in order, with what it was answered. */
  readonly attempts: { chatId: string; status: number; at: number }[] = [];
  private readonly faults = new Map<string, InjectedError[]>();
  /** Every sendPhoto/sendDocument (which the emulator lacks), answered here and recorded. */
  readonly media: SentMedia[] = [];

  private readonly server: Server;

  private constructor(
    readonly url: string,
    private readonly upstream: string,
  ) {
    this.server = createServer((request, response) => {
      void this.handle(request).then(({ status, body }) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(body);
      });
    });
  }

  static async start(upstream: string): Promise<FaultyTelegram> {
    const port = await freePort();
    const proxy = new FaultyTelegram(`http://127.0.0.1:${port}`, upstream);
    await new Promise<void>((resolve) => proxy.server.listen(port, '127.0.0.1', resolve));
    return proxy;
  }

  /** The next `errors.length` sends to this chat get these answers, in order. */
  inject(chatId: string | number, ...errors: InjectedError[]): void {
    this.faults.set(String(chatId), [...(this.faults.get(String(chatId)) ?? []), ...errors]);
  }

  private async handle(request: IncomingMessage): Promise<{ status: number; body: string }> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const method = /\/(sendPhoto|sendDocument)$/.exec(request.url ?? '')?.[1];
    if (method) {
      const field = (name: string) =>
        new RegExp(`name="${name}"\r\n\r\n([\\s\\S]*?)\r\n--`).exec(raw.toString('utf8'))?.[1];
      const fileField = method === 'sendPhoto' ? 'photo' : 'document';
      const start = raw.indexOf(Buffer.from('\r\n\r\n', 'latin1'), raw.indexOf(`name="${fileField}"`)) + 4;
      const end = raw.indexOf(Buffer.from('\r\n--', 'latin1'), start);
      const markup = field('reply_markup');
      const chatId = field('chat_id') ?? '';
      this.media.push({
        method,
        chatId,
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
      });
      return {
        status: 200,
        body: JSON.stringify({
          ok: true,
          result: { message_id: 900_000 + this.media.length, date: 0, chat: { id: Number(chatId) } },
        }),
      };
    }
    if (request.url?.endsWith('/sendMessage')) {
      const { chat_id: chatId } = JSON.parse(raw.toString('utf8') || '{}') as { chat_id?: unknown };
      const fault = this.faults.get(String(chatId))?.shift();
      if (fault) {
        this.attempts.push({ chatId: String(chatId), status: fault.status, at: Date.now() });
        return {
          status: fault.status,
          body: JSON.stringify({
            ok: false,
            error_code: fault.status,
            description: fault.description,
            ...(fault.retryAfter !== undefined ? { parameters: { retry_after: fault.retryAfter } } : {}),
          }),
        };
      }
      this.attempts.push({ chatId: String(chatId), status: 200, at: Date.now() });
    }
    const response = await fetch(`${this.upstream}${request.url ?? '/'}`, {
      method: request.method ?? 'POST',
      headers: { 'content-type': request.headers['content-type'] ?? 'application/json' },
      ...(request.method === 'GET' ? {} : { body: raw }),
    });
    return { status: response.status, body: await response.text() };
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
