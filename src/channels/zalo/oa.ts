import type { AxiosInstance } from 'axios';
import { DateTime } from 'luxon';
import type { InboundEvent } from '../../conversation/events.ts';
import type { OutboundMessage } from '../../domain/message.ts';
import type { Logger } from '../../logger.ts';
import type { Channel, DeliveryFailure, EventHandler, WebhookRequest, WebhookVerdict } from '../channel.ts';
import { acceptedUpdate } from '../webhook.ts';
import { networkError, PHOTO_TIMEOUT_MS, sentUnlessTimedOut, ZaloNetworkError, zaloHttp } from './http.ts';
import { OaTokenStore, OaTokenUnavailable, type OaTokenOptions } from './oa-tokens.ts';
import { SecretBox } from '../../secret-box.ts';
import { safeEqual } from '../../secrets.ts';
import { numberedParts, oaSignature, plainText } from './text.ts';

/**
 * Zalo Official Account API v3: customer-service messages with quick-reply buttons, a signed webhook,
 * and OAuth tokens kept in PostgreSQL (oa-tokens.ts).
 */
export interface ZaloOaOptions {
  appId: string;
  /** The OA's secret key (Webhook settings): signs the webhook. */
  oaSecretKey: string;
  apiRoot: string;
  tokens: OaTokenStore;
  logger: Logger;
  /** How often the token is checked for a refresh ahead of its expiry. */
  refreshCheckMs?: number;
  /** The clock webhook timestamps are checked against. */
  now?: () => Date;
  /** How long a picture may take: Zalo fetches it before it answers. */
  photoTimeoutMs?: number;
}

/** `{ error: <negative>, message }`, with HTTP 200. */
export class ZaloOaError extends Error {
  constructor(
    readonly errorCode: number,
    readonly description: string,
  ) {
    super(`Zalo OA ${errorCode}: ${description}`);
    this.name = 'ZaloOaError';
  }
}

const SIGNATURE_HEADER = 'x-zevent-signature';
const CS_PATH = '/v3.0/oa/message/cs';
const GROUP_PATH = '/v3.0/oa/group/message';
const MAX_TEXT = 2000;
const MAX_BUTTONS = 5;
/** Zalo documents "short titles" without a number; this is our guess. */
const MAX_TITLE = 100;
/** Marks a button's payload, which comes back as the text of a user_send_text when the button is tapped. */
const CHOICE_PREFIX = '#c:';
/** "Access token invalid" (-124, -216) and "expired" (-220): refresh, then try once more. */
const TOKEN_EXPIRED = new Set([-124, -216, -220]);
/** A signed event older than this is a replay (Zalo's own retries end within about two hours). */
export const OA_EVENT_MAX_AGE_MS = 24 * 3600_000;
/** Clocks differ a little; an event further ahead than this is not from Zalo. */
export const OA_EVENT_MAX_AHEAD_MS = 5 * 60_000;

const UNREACHABLE: Record<number, string> = {
  [-213]: 'the user does not follow the OA',
  [-217]: 'the user blocked the OA',
  [-244]: 'the user is restricted',
  [-227]: 'the user has been inactive for more than 45 days',
  [-230]: 'outside the customer-service window (no interaction within 7 days)',
  [-232]: 'outside the customer-service window',
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Ids are strings beyond 2^53: never parsed as numbers. */
const idOf = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/**
 * A group's chat id as the adapter keeps it: group and user ids are different namespaces at Zalo and are
 * sent to through different APIs (GMF's group/message), so a group's id carries this prefix.
 */
const GROUP_CHAT = 'group:';

export function eventFromOaWebhook(body: unknown): InboundEvent | null {
  if (!isObject(body) || typeof body.event_name !== 'string') return null;
  const eventName = body.event_name;
  if (!eventName.startsWith('user_send_')) return null;
  const sender = isObject(body.sender) ? idOf(body.sender.id) : null;
  const message = isObject(body.message) ? body.message : undefined;
  const updateId = message ? idOf(message.msg_id) : null;
  if (!sender || !updateId) return null;
  // Group Message Framework: user_send_group_text, _image, _sticker…, with the group as the recipient.
  if (eventName.startsWith('user_send_group_')) {
    const group = isObject(body.recipient) ? idOf(body.recipient.id) : null;
    if (!group) return null;
    const what = eventName.slice('user_send_group_'.length);
    const base = { channel: 'zalo_oa', updateId, chatId: `${GROUP_CHAT}${group}`, senderId: sender };
    return { ...base, chatKind: 'group', kind: 'unsupported', what: `group ${what}` };
  }
  const base = {
    channel: 'zalo_oa',
    updateId,
    chatId: sender,
    chatKind: 'private' as const,
    senderId: sender,
  };
  if (eventName === 'user_send_text' && typeof message?.text === 'string' && message.text.trim() !== '') {
    const text = message.text;
    if (text.startsWith(CHOICE_PREFIX))
      return { ...base, kind: 'choice', data: text.slice(CHOICE_PREFIX.length) };
    const command = /^\/([A-Za-z0-9_]{1,64})(?:\s+([\s\S]*))?$/.exec(text.trim());
    if (command)
      return { ...base, kind: 'command', command: command[1] ?? '', args: (command[2] ?? '').trim() };
    return { ...base, kind: 'text', text };
  }
  if (eventName === 'user_send_image' && Array.isArray(message?.attachments)) {
    const url = message.attachments
      .map((attachment) =>
        isObject(attachment) && isObject(attachment.payload) ? attachment.payload.url : undefined,
      )
      .find((value): value is string => typeof value === 'string' && /^https?:\/\//.test(value));
    if (url) {
      // An image sent with words carries them in message.text.
      const caption = typeof message.text === 'string' ? message.text.trim() : '';
      return { ...base, kind: 'photo', ref: url, ...(caption !== '' ? { caption } : {}) };
    }
  }
  return { ...base, kind: 'unsupported', what: eventName.slice('user_send_'.length) };
}

/** Milliseconds until 06:00 in Việt Nam, when night-time sends (-234) are accepted again. */
export function untilMorning(now: Date): number {
  const local = DateTime.fromJSDate(now, { zone: 'Asia/Ho_Chi_Minh' });
  let morning = local.set({ hour: 6, minute: 0, second: 0, millisecond: 0 });
  if (morning <= local) morning = morning.plus({ days: 1 });
  return Math.max(60_000, morning.toMillis() - local.toMillis());
}

export class ZaloOaChannel implements Channel {
  readonly name = 'zalo_oa';
  readonly maxTextLength = MAX_TEXT;
  /** 4,000 requests a minute per app, shared with everything else the app does. */
  readonly limits = { perSecond: 40, perChatGapMs: 1000 };
  readonly webhookPath = '/webhooks/zalo-oa';
  readonly rawBody = true;
  readonly numberedChoices = true;
  private readonly http: AxiosInstance;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ZaloOaOptions) {
    this.http = zaloHttp(options.apiRoot);
  }

  private async post(accessToken: string, body: object, timeoutMs?: number, path = CS_PATH): Promise<void> {
    let response;
    try {
      response = await this.http.post<unknown>(path, body, {
        headers: { 'content-type': 'application/json', access_token: accessToken },
        ...(timeoutMs ? { timeout: timeoutMs } : {}),
      });
    } catch (error) {
      throw networkError(error);
    }
    const data = response.data;
    if (isObject(data) && data.error === 0) return;
    if (isObject(data) && typeof data.error === 'number') {
      throw new ZaloOaError(data.error, typeof data.message === 'string' ? data.message : '');
    }
    throw new ZaloNetworkError(`HTTP ${response.status} without an OA answer`, undefined, response.status);
  }

  /** Sends with the current token; a token Zalo calls invalid or expired is refreshed and tried once more. */
  private async postWithToken(body: object, timeoutMs?: number, path?: string): Promise<void> {
    const token = await this.options.tokens.accessToken();
    try {
      await this.post(token, body, timeoutMs, path);
    } catch (error) {
      if (!(error instanceof ZaloOaError) || !TOKEN_EXPIRED.has(error.errorCode)) throw error;
      await this.post(await this.options.tokens.refresh(token), body, timeoutMs, path);
    }
  }

  /**
   * A group hears from us only that we work in private chats: plain text through the Group Message
   * Framework (`group/message`, recipient.group_id), which takes no buttons.
   */
  private async sendToGroup(groupId: string, message: OutboundMessage): Promise<void> {
    for (const text of numberedParts(message, MAX_TEXT))
      await this.postWithToken(
        { recipient: { group_id: groupId }, message: { text } },
        undefined,
        GROUP_PATH,
      );
  }

  /** Stores the configured tokens and seals what is kept; fails when SECRETS_KEY cannot open them. */
  async prepare(): Promise<void> {
    await this.options.tokens.prepare();
  }

  async send(chatId: string, message: OutboundMessage): Promise<void> {
    if (chatId.startsWith(GROUP_CHAT)) return this.sendToGroup(chatId.slice(GROUP_CHAT.length), message);
    const choices = (message.choices ?? []).flat();
    const buttons = choices.slice(0, MAX_BUTTONS);
    const parts = numberedParts({ text: message.text }, MAX_TEXT, choices.slice(MAX_BUTTONS));
    for (const [index, text] of parts.entries()) {
      const last = index === parts.length - 1;
      await this.postWithToken({
        recipient: { user_id: chatId },
        message: {
          text,
          ...(last && buttons.length > 0
            ? {
                attachment: {
                  type: 'template',
                  payload: {
                    buttons: buttons
                      .map(({ label: html, data }) => ({ label: plainText(html), data }))
                      .map((choice) => ({
                        title:
                          choice.label.length > MAX_TITLE
                            ? `${choice.label.slice(0, MAX_TITLE - 1)}…`
                            : choice.label,
                        type: 'oa.query.hide',
                        payload: `${CHOICE_PREFIX}${choice.data}`,
                      })),
                  },
                },
              }
            : {}),
        },
      });
    }
  }

  /**
   * A picture by URL (Zalo fetches it; PNG or JPG up to 1 MB): the "media" template with one image
   * element and the text as its title. A message has one attachment, so it cannot carry buttons as
   * well: the choices are numbered in the text (numbers and words answer them as usual).
   */
  async sendPhotoLink(chatId: string, url: string, message: OutboundMessage): Promise<void> {
    const [text = '', ...rest] = numberedParts(message, MAX_TEXT);
    await sentUnlessTimedOut(
      () =>
        this.postWithToken(
          {
            recipient: { user_id: chatId },
            message: {
              text,
              attachment: {
                type: 'template',
                payload: { template_type: 'media', elements: [{ media_type: 'image', url }] },
              },
            },
          },
          this.options.photoTimeoutMs ?? PHOTO_TIMEOUT_MS,
        ),
      this.options.logger,
    );
    for (const part of rest)
      await this.postWithToken({ recipient: { user_id: chatId }, message: { text: part } });
  }

  /**
   * -32 rate limit: wait a minute. -234 (no sends 22:00-06:00): wait for the morning. Not following,
   * blocked, restricted, inactive, and outside the customer-service window (-230/-232): unreachable, so the
   * row fails with the reason and the account rests until the person writes again. -216/-220 reach here
   * only when a fresh token was refused too: retried. -201 invalid field: rejected.
   */
  classify(error: unknown): DeliveryFailure {
    if (error instanceof ZaloOaError) {
      const reason = `${error.errorCode} ${error.description}`.trim();
      const unreachable = UNREACHABLE[error.errorCode];
      if (unreachable) return { kind: 'unreachable', reason: `${unreachable} (${reason})` };
      if (error.errorCode === -32) return { kind: 'rate_limited', retryAfterMs: 60_000, reason };
      if (error.errorCode === -234)
        return { kind: 'rate_limited', retryAfterMs: untilMorning(new Date()), reason };
      if (error.errorCode === -201) return { kind: 'rejected', reason };
      return { kind: 'retry', reason };
    }
    if (error instanceof OaTokenUnavailable) return { kind: 'retry', reason: error.message };
    return { kind: 'retry', reason: error instanceof Error ? error.message : String(error) };
  }

  async start(_handler: EventHandler): Promise<void> {
    const check = () =>
      this.options.tokens.accessToken().catch((error: unknown) => {
        this.options.logger.warn({ err: error }, 'zalo oa token check failed');
      });
    await check();
    this.timer = setInterval(() => void check(), this.options.refreshCheckMs ?? 5 * 60_000);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    return Promise.resolve();
  }

  async readiness(): Promise<void> {
    await this.options.tokens.health();
  }

  readWebhook(request: WebhookRequest): WebhookVerdict {
    const raw = request.rawBody;
    const header = request.headers[SIGNATURE_HEADER];
    if (!raw || typeof header !== 'string') return { status: 401 };
    const body = request.body;
    const timestamp = isObject(body) && typeof body.timestamp === 'string' ? body.timestamp : null;
    if (timestamp === null) return { status: 401 };
    const expected = oaSignature(this.options.appId, raw, timestamp, this.options.oaSecretKey);
    if (!safeEqual(header.trim(), expected)) return { status: 401 };
    // A signature never expires by itself: an event recorded by someone and sent again later must not be
    // taken (its msg_id may be gone from the dedupe table by then). Inbound ids are kept far longer (cleanup).
    const age = (this.options.now?.() ?? new Date()).getTime() - Number(timestamp);
    if (!Number.isFinite(age) || age > OA_EVENT_MAX_AGE_MS || age < -OA_EVENT_MAX_AHEAD_MS) {
      this.options.logger.warn({ age }, 'zalo oa event refused: its timestamp is out of range');
      return { status: 401 };
    }
    return acceptedUpdate(body, eventFromOaWebhook(body));
  }

  /** A recorded event, signature and timestamp checked when it was received. */
  async processUpdate(body: unknown, handler: EventHandler): Promise<void> {
    const event = eventFromOaWebhook(body);
    if (event) await handler(event);
  }
}

/** Builds the OA channel and its token store from the configuration (one line in app.ts). */
export function createZaloOaChannel(input: {
  appId: string;
  secretKey: string;
  appSecret: string;
  accessToken: string | undefined;
  refreshToken: string;
  apiRoot: string;
  oauthRoot: string;
  /** SECRETS_KEY and SECRETS_KEY_PREVIOUS: the stored tokens are sealed with them. */
  secretsKeys: { current: Buffer; previous: readonly Buffer[] };
  db: OaTokenOptions['db'];
  logger: Logger;
  onTokenFailure?: (reason: string) => void;
  now?: () => Date;
}): ZaloOaChannel {
  const tokens = new OaTokenStore({
    db: input.db,
    appId: input.appId,
    appSecret: input.appSecret,
    oauthRoot: input.oauthRoot,
    seed: { accessToken: input.accessToken, refreshToken: input.refreshToken },
    box: new SecretBox(input.secretsKeys.current, input.secretsKeys.previous),
    logger: input.logger,
    ...(input.onTokenFailure ? { onFailure: input.onTokenFailure } : {}),
    ...(input.now ? { now: input.now } : {}),
  });
  return new ZaloOaChannel({
    appId: input.appId,
    oaSecretKey: input.secretKey,
    apiRoot: input.apiRoot,
    tokens,
    logger: input.logger,
    ...(input.now ? { now: input.now } : {}),
  });
}
