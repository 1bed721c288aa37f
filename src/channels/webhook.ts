import type { InboundEvent } from '../conversation/events.ts';
import { safeEqual } from '../secrets.ts';
import type { WebhookRequest, WebhookVerdict } from './channel.ts';

/**
 * A webhook whose platform echoes a shared secret in a header (Telegram, Zalo Bot Platform): the secret
 * is checked before anything else (401, nothing recorded); then the update is handed over for recording
 * under its update id, or answered 200 and dropped when the bot has nothing to do with it.
 */
export function secretHeaderWebhook(
  request: WebhookRequest,
  header: string,
  secret: string | undefined,
  read: (body: unknown) => InboundEvent | null,
): WebhookVerdict {
  const given = request.headers[header];
  if (!secret || typeof given !== 'string' || !safeEqual(given, secret)) return { status: 401 };
  return acceptedUpdate(request.body, read(request.body));
}

/** 200, with the update to record when it carries an event. */
export function acceptedUpdate(body: unknown, event: InboundEvent | null): WebhookVerdict {
  if (!event) return { status: 200 };
  return {
    status: 200,
    update: { key: event.updateId, chatId: event.chatId, body, fromGroup: event.chatKind === 'group' },
  };
}
