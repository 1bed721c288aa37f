import { safeEqual } from '../secrets.ts';
import type { WebhookOutcome, WebhookRequest } from './channel.ts';

/**
 * A webhook whose platform echoes a shared secret in a header (Telegram, Zalo Bot Platform): the secret
 * is checked before anything else (401, nothing recorded); an update that could not be recorded answers
 * 500 so the platform delivers it again.
 */
export async function secretHeaderWebhook(
  request: WebhookRequest,
  header: string,
  secret: string | undefined,
  process: (body: unknown) => Promise<void>,
): Promise<WebhookOutcome> {
  const given = request.headers[header];
  if (!secret || typeof given !== 'string' || !safeEqual(given, secret)) return { status: 401 };
  try {
    await process(request.body);
    return { status: 200 };
  } catch (error) {
    return { status: 500, error };
  }
}
