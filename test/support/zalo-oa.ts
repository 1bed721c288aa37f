import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { freePort } from './ports.ts';
import { waitFor } from './wait.ts';

/** SECRETS_KEY of services started against the fake: the OA's tokens are kept sealed with it. */
export const TEST_SECRETS_KEY_BASE64 = Buffer.alloc(32, 42).toString('base64');

export interface OaButton {
  title: string;
  type: string;
  payload: unknown;
}

export interface OaSent {
  userId: string;
  text: string;
  buttons: OaButton[];
  /** A picture sent with the "media" template: Zalo fetches the URL itself. */
  media?: { mediaType: string; url: string };
}

/** A text sent to a group through the Group Message Framework (GMF). */
export interface OaGroupSent {
  groupId: string;
  text: string;
}

export interface OaFault {
  error: number;
  message: string;
}

const BUTTON_TYPES = new Set([
  'oa.query.hide',
  'oa.query.show',
  'oa.open.url',
  'oa.open.phone',
  'oa.open.sms',
]);

/**
 * A fake Zalo OA API v3 (customer-service messages) and OAuth v4 (token refresh) on loopback. It checks
 * every request against the documented shape and records violations, answers with the documented
 * bodies (HTTP 200 with `error` ≠ 0 on failure), refuses a refresh token used twice, and can inject
 * the documented errors per user.
 */
export class FakeZaloOa {
  readonly violations: string[] = [];
  readonly sent: OaSent[] = [];
  readonly groupSent: OaGroupSent[] = [];
  /** Every refresh attempt: which refresh token, and whether it was accepted. */
  readonly refreshes: { refreshToken: string; ok: boolean }[] = [];
  private readonly validAccess = new Set<string>();
  private readonly liveRefresh = new Set<string>();
  private readonly faults = new Map<string, OaFault[]>();
  /** HTTP errors a gateway answers to the next messages, before any token or user is looked at. */
  private readonly burst: number[] = [];
  /** Per user: messages that got the user's own answer (past the token and any burst), and those sent. */
  private readonly perUser = new Map<string, { tries: number; delivered: number }>();
  /** Messages answered with -216 because their access token had expired, and by injectNextHttp. */
  expiredAnswers = 0;
  burstAnswered = 0;
  /** Slows the OAuth answer down, so that racing instances overlap. */
  refreshDelayMs = 0;
  /** Answers every refresh with this failure while set. */
  refreshFailure: object | null = null;
  private readonly server: Server;
  private nextId = 1;

  private constructor(
    readonly url: string,
    readonly appId: string,
    readonly appSecret: string,
    readonly oaSecretKey: string,
  ) {
    this.server = createServer((request, response) => {
      void this.handle(request, response).catch((error: unknown) => {
        this.violations.push(`fake crashed: ${String(error)}`);
        if (!response.headersSent) response.writeHead(500).end();
      });
    });
  }

  static async start(appId: string, appSecret: string, oaSecretKey: string): Promise<FakeZaloOa> {
    const port = await freePort();
    const fake = new FakeZaloOa(`http://127.0.0.1:${port}`, appId, appSecret, oaSecretKey);
    await new Promise<void>((resolve) => fake.server.listen(port, '127.0.0.1', resolve));
    return fake;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A fresh token pair, as the OA console hands out. */
  issue(): { accessToken: string; refreshToken: string } {
    const pair = {
      accessToken: `at-${randomBytes(8).toString('hex')}`,
      refreshToken: `rt-${randomBytes(8).toString('hex')}`,
    };
    this.validAccess.add(pair.accessToken);
    this.liveRefresh.add(pair.refreshToken);
    return pair;
  }

  /** The service settings that point the OA channel at this fake, with a freshly issued token pair. */
  serviceEnv(): Record<string, string> {
    const tokens = this.issue();
    return {
      ZALO_OA_APP_ID: this.appId,
      ZALO_OA_SECRET_KEY: this.oaSecretKey,
      ZALO_OA_APP_SECRET: this.appSecret,
      ZALO_OA_ACCESS_TOKEN: tokens.accessToken,
      ZALO_OA_REFRESH_TOKEN: tokens.refreshToken,
      ZALO_OA_API_ROOT: this.url,
      ZALO_OA_OAUTH_ROOT: this.url,
      SECRETS_KEY: TEST_SECRETS_KEY_BASE64,
    };
  }

  /** Every access token issued so far stops working (-216), as after an expiry. */
  expireAccessTokens(): void {
    this.validAccess.clear();
  }

  /** The next `count` messages, to whichever user, get this HTTP status and no OA answer. */
  injectNextHttp(count: number, status: number): void {
    for (let i = 0; i < count; i += 1) this.burst.push(status);
  }

  /** Messages to this user that got the user's own answer: a per-user fault or delivery. */
  tries(userId: string): number {
    return this.perUser.get(userId)?.tries ?? 0;
  }

  /** Messages this user received. */
  delivered(userId: string): number {
    return this.perUser.get(userId)?.delivered ?? 0;
  }

  inject(userId: string, ...faults: OaFault[]): void {
    this.faults.set(userId, [...(this.faults.get(userId) ?? []), ...faults]);
  }

  /** A webhook event signed as Zalo signs it: mac = sha256(app_id + body + timestamp + OA secret key). */
  signed(event: Record<string, unknown>, secret = this.oaSecretKey): { body: string; signature: string } {
    const body = JSON.stringify(event);
    const timestamp = typeof event.timestamp === 'string' ? event.timestamp : '';
    const mac = createHash('sha256').update(`${this.appId}${body}${timestamp}${secret}`).digest('hex');
    return { body, signature: `mac=${mac}` };
  }

  /** A user_send_text event as documented (ids and timestamp are strings). */
  textEvent(userId: string, text: string, msgId = `msg${this.nextId++}${Date.now()}`) {
    return {
      app_id: this.appId,
      event_name: 'user_send_text',
      sender: { id: userId },
      recipient: { id: '579745863508352884' },
      message: { text, msg_id: msgId },
      timestamp: String(Date.now()),
      user_id_by_app: `app-${userId}`,
    };
  }

  /**
   * A member's text in a group the OA is in (GMF), as documented: user_send_group_text with the member as
   * sender and the group as recipient.
   */
  groupTextEvent(groupId: string, userId: string, text: string, msgId = `gmsg${this.nextId++}${Date.now()}`) {
    return {
      app_id: this.appId,
      event_name: 'user_send_group_text',
      sender: { id: userId },
      recipient: { id: groupId },
      message: { text, msg_id: msgId },
      timestamp: String(Date.now()),
      user_id_by_app: `app-${userId}`,
    };
  }

  sentTo(userId: string): OaSent[] {
    return this.sent.filter((message) => message.userId === userId);
  }

  async waitForSent(
    what: string,
    userId: string,
    match: (message: OaSent) => boolean,
    after = 0,
  ): Promise<OaSent> {
    return waitFor(`${what} (OA user ${userId})`, () => this.sentTo(userId).slice(after).find(match), {
      timeoutMs: 20_000,
      everyMs: 25,
    });
  }

  private answer(response: ServerResponse, body: object): void {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    if (request.method === 'POST' && request.url === '/v3.0/oa/message/cs')
      return this.message(request, raw, response);
    if (request.method === 'POST' && request.url === '/v3.0/oa/group/message')
      return this.groupMessage(request, raw, response);
    if (request.method === 'POST' && request.url === '/v4/oa/access_token')
      return this.refresh(request, raw, response);
    this.violations.push(`${request.method} ${request.url}`);
    response.writeHead(404).end();
  }

  private message(request: IncomingMessage, raw: string, response: ServerResponse): void {
    const invalid = (why: string) => {
      this.violations.push(`message/cs: ${why}`);
      this.answer(response, { error: -201, message: `Invalid parameter: ${why}` });
    };
    if (request.headers.authorization)
      this.violations.push('message/cs: an Authorization header (the token goes in access_token)');
    if (!String(request.headers['content-type'] ?? '').startsWith('application/json'))
      return invalid('content-type must be application/json');
    const token = request.headers.access_token;
    if (typeof token !== 'string' || token === '') return invalid('no access_token header');
    const status = this.burst.shift();
    if (status !== undefined) {
      this.burstAnswered += 1;
      return void response.writeHead(status).end('Bad Gateway');
    }
    if (!this.validAccess.has(token)) {
      this.expiredAnswers += 1;
      return this.answer(response, { error: -216, message: 'Access token is invalid' });
    }
    let body: { recipient?: { user_id?: unknown }; message?: { text?: unknown; attachment?: unknown } };
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      return invalid('body is not JSON');
    }
    const userId = body.recipient?.user_id;
    if (typeof userId !== 'string' || !/^\d+$/.test(userId))
      return invalid('recipient.user_id must be a string of digits');
    const text = body.message?.text;
    if (typeof text !== 'string' || text.length < 1 || text.length > 2000)
      return invalid('message.text must be 1-2000 characters');
    const buttons: OaButton[] = [];
    let media: OaSent['media'];
    const attachment = body.message?.attachment as
      | { type?: unknown; payload?: { buttons?: unknown; template_type?: unknown; elements?: unknown } }
      | undefined;
    if (attachment !== undefined && attachment.payload?.template_type !== undefined) {
      if (attachment.type !== 'template') return invalid('attachment.type must be template');
      if (attachment.payload.template_type !== 'media')
        return invalid(`template_type ${JSON.stringify(attachment.payload.template_type)}`);
      const elements = attachment.payload.elements;
      if (!Array.isArray(elements) || elements.length !== 1) return invalid('media: exactly one element');
      const element = elements[0] as { media_type?: unknown; url?: unknown; attachment_id?: unknown };
      if (element.media_type !== 'image' && element.media_type !== 'gif')
        return invalid('media_type must be image or gif');
      if (typeof element.url !== 'string' || !/^https?:\/\/\S+$/.test(element.url))
        return invalid('media element needs an http(s) url');
      if (attachment.payload.buttons !== undefined) return invalid('a media template carries no buttons');
      media = { mediaType: element.media_type, url: element.url };
    } else if (attachment !== undefined) {
      if (attachment.type !== 'template') return invalid('attachment.type must be template');
      const list = attachment.payload?.buttons;
      if (!Array.isArray(list) || list.length < 1 || list.length > 5) return invalid('1-5 buttons');
      for (const button of list as OaButton[]) {
        if (typeof button.title !== 'string' || button.title.length < 1 || button.title.length > 100)
          return invalid('button title must be 1-100 characters');
        if (!BUTTON_TYPES.has(button.type)) return invalid(`button type ${String(button.type)}`);
        if (
          button.type.startsWith('oa.query.') &&
          (typeof button.payload !== 'string' || button.payload === '')
        )
          return invalid('a query button needs a string payload');
        buttons.push(button);
      }
    }
    let counts = this.perUser.get(userId);
    if (!counts) this.perUser.set(userId, (counts = { tries: 0, delivered: 0 }));
    counts.tries += 1;
    const fault = this.faults.get(userId)?.shift();
    if (fault) return this.answer(response, fault);
    counts.delivered += 1;
    this.sent.push({ userId, text, buttons, ...(media ? { media } : {}) });
    this.answer(response, {
      error: 0,
      message: 'Success',
      data: { message_id: `mid${this.nextId++}`, user_id: userId, sent_time: String(Date.now()) },
    });
  }

  /** GMF's text message: `recipient.group_id` and `message.text`; no buttons or templates there. */
  private groupMessage(request: IncomingMessage, raw: string, response: ServerResponse): void {
    const invalid = (why: string) => {
      this.violations.push(`group/message: ${why}`);
      this.answer(response, { error: -201, message: `Invalid parameter: ${why}` });
    };
    const token = request.headers.access_token;
    if (typeof token !== 'string' || token === '') return invalid('no access_token header');
    if (!this.validAccess.has(token))
      return this.answer(response, { error: -216, message: 'Access token is invalid' });
    let body: {
      recipient?: { group_id?: unknown; user_id?: unknown };
      message?: { text?: unknown; attachment?: unknown };
    };
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      return invalid('body is not JSON');
    }
    const groupId = body.recipient?.group_id;
    if (typeof groupId !== 'string' || groupId === '') return invalid('recipient.group_id must be a string');
    if (body.recipient?.user_id !== undefined) return invalid('a group message names no user_id');
    const text = body.message?.text;
    if (typeof text !== 'string' || text.length < 1 || text.length > 2000)
      return invalid('message.text must be 1-2000 characters');
    if (body.message?.attachment !== undefined) return invalid('no attachment in a group text message');
    this.groupSent.push({ groupId, text });
    this.answer(response, {
      error: 0,
      message: 'Success',
      data: { message_id: `gmid${this.nextId++}`, group_id: groupId, sent_time: String(Date.now()) },
    });
  }

  private async refresh(request: IncomingMessage, raw: string, response: ServerResponse): Promise<void> {
    if (!String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
      this.violations.push('access_token: body must be form-encoded');
    if (request.headers.secret_key !== this.appSecret)
      this.violations.push('access_token: wrong or missing secret_key header');
    const form = new URLSearchParams(raw);
    if (form.get('app_id') !== this.appId) this.violations.push('access_token: wrong app_id');
    if (form.get('grant_type') !== 'refresh_token')
      this.violations.push('access_token: grant_type must be refresh_token');
    const refreshToken = form.get('refresh_token') ?? '';
    if (this.refreshDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.refreshDelayMs));
    if (this.refreshFailure) {
      this.refreshes.push({ refreshToken, ok: false });
      return this.answer(response, this.refreshFailure);
    }
    if (!this.liveRefresh.delete(refreshToken)) {
      this.refreshes.push({ refreshToken, ok: false });
      return this.answer(response, { error: -14014, error_name: 'Invalid refresh token.' });
    }
    this.refreshes.push({ refreshToken, ok: true });
    const pair = this.issue();
    this.answer(response, {
      access_token: pair.accessToken,
      refresh_token: pair.refreshToken,
      expires_in: '90000',
    });
  }
}
