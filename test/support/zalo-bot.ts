import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { freePort } from './ports.ts';
import { waitFor } from './wait.ts';

/** A Bot API error as Zalo answers it: HTTP 200, `ok: false`. */
export interface ZaloBotFault {
  error_code: number;
  description: string;
}

/** An answer to the next sends to anyone: a Bot API error, or a gateway's HTTP error without a Bot API body. */
export type ZaloBotBurstFault = ZaloBotFault | { httpStatus: number };

export interface SentMessage {
  chatId: string;
  text: string;
  at: number;
}

/** A sendPhoto as Zalo takes it: a public URL it fetches itself, and an optional caption. */
export interface SentPhoto {
  chatId: string;
  photo: string;
  caption: string | undefined;
  at: number;
}

const METHODS = new Set([
  'getMe',
  'getUpdates',
  'setWebhook',
  'deleteWebhook',
  'getWebhookInfo',
  'sendMessage',
  'sendPhoto',
  'sendSticker',
  'sendChatAction',
]);

/**
 * A fake Zalo Bot Platform on loopback that checks every request against the documented shape
 * (POST /bot<TOKEN>/<method>, JSON body, field types and lengths), answers with the documented bodies,
 * and records every violation so a test can assert there was none. getUpdates long-polls and hands out
 * ONE update per call, 408 when nothing came, as Zalo does.
 */
export class FakeZaloBot {
  readonly violations: string[] = [];
  readonly sent: SentMessage[] = [];
  readonly photos: SentPhoto[] = [];
  readonly calls: string[] = [];
  webhook: { url: string; secret_token: string } | null = null;
  private readonly updates: object[] = [];
  private wake: (() => void)[] = [];
  private readonly faults = new Map<string, ZaloBotFault[]>();
  private readonly burst: ZaloBotBurstFault[] = [];
  /** Per chat: sendMessage calls, those answered with the chat's own outcome, and messages delivered. */
  private readonly perChat = new Map<string, { attempts: number; tries: number; delivered: number }>();
  /** Answers of injectNext given so far. */
  burstAnswered = 0;
  private nextId = 1;
  private readonly server: Server;
  /** Cap on how long getUpdates holds a call, whatever timeout the bot asked for. */
  holdMs = 5_000;
  /** How long sendPhoto takes to answer: Zalo fetches the picture first (the photo counts as sent). */
  photoDelayMs = 0;

  private constructor(
    readonly url: string,
    readonly token: string,
  ) {
    this.server = createServer((request, response) => {
      void this.handle(request, response).catch((error: unknown) => {
        this.violations.push(`fake crashed: ${String(error)}`);
        if (!response.headersSent) response.writeHead(500).end();
      });
    });
  }

  static async start(token: string): Promise<FakeZaloBot> {
    const port = await freePort();
    const fake = new FakeZaloBot(`http://127.0.0.1:${port}`, token);
    await new Promise<void>((resolve) => fake.server.listen(port, '127.0.0.1', resolve));
    return fake;
  }

  async stop(): Promise<void> {
    for (const wake of this.wake) wake();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next sends to this chat get these answers, in order. */
  inject(chatId: string, ...faults: ZaloBotFault[]): void {
    this.faults.set(chatId, [...(this.faults.get(chatId) ?? []), ...faults]);
  }

  /** The next `count` sendMessage calls, to whichever chat, get this answer instead of their own. */
  injectNext(count: number, fault: ZaloBotBurstFault): void {
    for (let i = 0; i < count; i += 1) this.burst.push(fault);
  }

  /** sendMessage calls to this chat, whatever the answer. */
  attempts(chatId: string): number {
    return this.perChat.get(chatId)?.attempts ?? 0;
  }

  /** sendMessage calls to this chat that got the chat's own answer (not one of injectNext's). */
  tries(chatId: string): number {
    return this.perChat.get(chatId)?.tries ?? 0;
  }

  /** Text messages this chat received. */
  delivered(chatId: string): number {
    return this.perChat.get(chatId)?.delivered ?? 0;
  }

  private chat(chatId: string) {
    let counts = this.perChat.get(chatId);
    if (!counts) this.perChat.set(chatId, (counts = { attempts: 0, tries: 0, delivered: 0 }));
    return counts;
  }

  /** An update as the platform documents it (ids are strings, dates in ms). */
  update(chatId: string, eventName: string, message: Record<string, unknown> = {}) {
    const id = `m${this.nextId++}${Date.now()}`;
    return {
      event_name: eventName,
      message: {
        message_id: id,
        date: Date.now(),
        from: { id: chatId, display_name: `User ${chatId}`, is_bot: false },
        chat: { id: chatId, chat_type: 'PRIVATE' },
        ...message,
      },
    };
  }

  /**
   * An update from a group chat as documented: `chat.id` is the group, `chat_type` "GROUP", and `from` the
   * member who wrote (the bot hears a group only when replied to or mentioned).
   */
  groupUpdate(groupId: string, userId: string, eventName: string, message: Record<string, unknown> = {}) {
    const update = this.update(userId, eventName, message);
    return { ...update, message: { ...update.message, chat: { id: groupId, chat_type: 'GROUP' } } };
  }

  /** Queues an update for getUpdates. */
  push(update: object): void {
    this.updates.push(update);
    const waiting = this.wake;
    this.wake = [];
    for (const wake of waiting) wake();
  }

  pending(): number {
    return this.updates.length;
  }

  user(chatId: string): ZaloUser {
    return new ZaloUser(this, chatId);
  }

  private answer(response: ServerResponse, body: object, status = 200): void {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  }

  private fail(response: ServerResponse, code: number, description: string, violation?: string): void {
    if (violation) this.violations.push(violation);
    this.answer(response, { ok: false, error_code: code, description });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(request.url ?? '');
    if (request.method !== 'POST')
      return this.fail(response, 404, 'Not Found', `${request.method} ${request.url}`);
    if (!match) return this.fail(response, 404, 'Not Found', `unknown path ${request.url}`);
    const [, token, method = ''] = match;
    this.calls.push(method);
    if (token !== this.token) return this.fail(response, 401, 'Unauthorized', `wrong token in ${method}`);
    if (!METHODS.has(method)) return this.fail(response, 404, 'Not Found', `unknown method ${method}`);
    if (!String(request.headers['content-type'] ?? '').startsWith('application/json'))
      return this.fail(
        response,
        400,
        'Bad Request',
        `${method}: content-type ${request.headers['content-type']}`,
      );
    let body: Record<string, unknown>;
    try {
      body = (raw.trim() === '' ? {} : JSON.parse(raw)) as Record<string, unknown>;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object');
    } catch {
      return this.fail(response, 400, 'Bad Request', `${method}: body is not a JSON object`);
    }
    const chatIdOk = () => typeof body.chat_id === 'string' && body.chat_id !== '';
    switch (method) {
      case 'getMe':
        return this.answer(response, {
          ok: true,
          result: {
            id: '1234567890',
            account_name: 'bot.thidua',
            account_type: 'BASIC',
            can_join_groups: false,
          },
        });
      case 'getUpdates': {
        if (typeof body.timeout !== 'string' || !/^\d+$/.test(body.timeout))
          return this.fail(response, 400, 'Bad Request', `getUpdates: timeout must be a string of seconds`);
        if (this.webhook) return this.fail(response, 400, 'Bad Request', 'getUpdates while a webhook is set');
        if (this.updates.length === 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.min(Number(body.timeout) * 1000, this.holdMs));
            this.wake.push(() => {
              clearTimeout(timer);
              resolve();
            });
            // The bot gave up (shutdown): the response closes before anything was written.
            response.once('close', () => resolve());
          });
        }
        if (response.destroyed) return;
        const update = this.updates.shift();
        if (!update) return this.fail(response, 408, 'Request timeout');
        return this.answer(response, { ok: true, result: update });
      }
      case 'setWebhook': {
        const url = body.url;
        const secret = body.secret_token;
        if (typeof url !== 'string' || !url.startsWith('https://'))
          return this.fail(response, 400, 'Bad Request', 'setWebhook: url must be https');
        if (typeof secret !== 'string' || secret.length < 8 || secret.length > 256)
          return this.fail(response, 400, 'Bad Request', 'setWebhook: secret_token must be 8-256 characters');
        this.webhook = { url, secret_token: secret };
        return this.answer(response, { ok: true, result: { url, updated_at: Date.now() } });
      }
      case 'deleteWebhook':
        this.webhook = null;
        return this.answer(response, { ok: true, result: { url: '', updated_at: Date.now() } });
      case 'getWebhookInfo':
        if (!this.webhook) return this.fail(response, 404, 'Not Found');
        return this.answer(response, { ok: true, result: { url: this.webhook.url, updated_at: Date.now() } });
      case 'sendChatAction':
        if (!chatIdOk() || body.action !== 'typing')
          return this.fail(response, 400, 'Bad Request', 'sendChatAction: chat_id and action "typing"');
        return this.answer(response, { ok: true });
      case 'sendPhoto': {
        const extra = Object.keys(body).filter((key) => !['chat_id', 'photo', 'caption'].includes(key));
        if (!chatIdOk())
          return this.fail(response, 400, 'Bad Request', 'sendPhoto: chat_id must be a string');
        // Zalo takes no uploads: `photo` is a URL it downloads (https in production; loopback here).
        if (typeof body.photo !== 'string' || !/^https?:\/\/[^\s]+$/.test(body.photo))
          return this.fail(response, 400, 'Bad Request', 'sendPhoto: photo must be an http(s) URL');
        if (
          body.caption !== undefined &&
          (typeof body.caption !== 'string' || body.caption.length < 1 || body.caption.length > 2000)
        )
          return this.fail(response, 400, 'Bad Request', 'sendPhoto: caption must be 1-2000 characters');
        if (extra.length > 0) this.violations.push(`sendPhoto: undocumented fields ${extra.join(', ')}`);
        const chatId = body.chat_id as string;
        const fault = this.faults.get(chatId)?.shift();
        if (fault) return this.answer(response, { ok: false, ...fault });
        this.photos.push({
          chatId,
          photo: body.photo,
          caption: typeof body.caption === 'string' ? body.caption : undefined,
          at: Date.now(),
        });
        if (this.photoDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.photoDelayMs));
        if (response.destroyed) return;
        return this.answer(response, {
          ok: true,
          result: { message_id: `p${this.nextId++}`, date: Date.now() },
        });
      }
      case 'sendSticker':
        return this.fail(response, 400, 'Bad Request', `${method} is not expected from this bot`);
      case 'sendMessage': {
        const extra = Object.keys(body).filter((key) => !['chat_id', 'text', 'parse_mode'].includes(key));
        if (!chatIdOk())
          return this.fail(response, 400, 'Bad Request', 'sendMessage: chat_id must be a string');
        if (typeof body.text !== 'string' || body.text.length < 1 || body.text.length > 2000)
          return this.fail(
            response,
            400,
            'Bad Request',
            `sendMessage: text must be 1-2000 characters (got ${typeof body.text === 'string' ? body.text.length : typeof body.text})`,
          );
        if (body.parse_mode !== undefined && body.parse_mode !== 'markdown' && body.parse_mode !== 'html')
          return this.fail(response, 400, 'Bad Request', 'sendMessage: parse_mode');
        if (extra.length > 0) this.violations.push(`sendMessage: undocumented fields ${extra.join(', ')}`);
        const chatId = body.chat_id as string;
        const counts = this.chat(chatId);
        counts.attempts += 1;
        const burst = this.burst.shift();
        if (burst) {
          this.burstAnswered += 1;
          if ('httpStatus' in burst) return void response.writeHead(burst.httpStatus).end('Bad Gateway');
          return this.answer(response, { ok: false, ...burst });
        }
        counts.tries += 1;
        const fault = this.faults.get(chatId)?.shift();
        if (fault) return this.answer(response, { ok: false, ...fault });
        counts.delivered += 1;
        this.sent.push({ chatId, text: body.text, at: Date.now() });
        return this.answer(response, {
          ok: true,
          result: { message_id: `s${this.nextId++}`, date: Date.now() },
        });
      }
    }
  }
}

/** A person chatting with the bot: what they send is queued for getUpdates, what the bot sends is read back. */
export class ZaloUser {
  constructor(
    private readonly fake: FakeZaloBot,
    readonly chatId: string,
  ) {}

  get received(): string[] {
    return this.fake.sent.filter((message) => message.chatId === this.chatId).map((message) => message.text);
  }

  get photos(): SentPhoto[] {
    return this.fake.photos.filter((photo) => photo.chatId === this.chatId);
  }

  send(text: string): object {
    const update = this.fake.update(this.chatId, 'message.text.received', { text });
    this.fake.push(update);
    return update;
  }

  async waitFor(
    what: string,
    match: (text: string) => boolean,
    { after = 0, timeoutMs = 20_000 }: { after?: number; timeoutMs?: number } = {},
  ): Promise<string> {
    try {
      return await waitFor(
        `${what} (zalo chat ${this.chatId})`,
        () => this.received.slice(after).find(match),
        {
          timeoutMs,
          everyMs: 25,
        },
      );
    } catch (error) {
      const seen = JSON.stringify(this.received.slice(after).map((text) => text.slice(0, 80)));
      throw new Error(`${error instanceof Error ? error.message : String(error)}; received: ${seen}`, {
        cause: error,
      });
    }
  }

  /** Sends a text and waits for the first answer that matches. */
  async ask(text: string, match: (text: string) => boolean = () => true): Promise<string> {
    const after = this.received.length;
    this.send(text);
    return this.waitFor(`an answer to "${text}"`, match, { after });
  }
}
