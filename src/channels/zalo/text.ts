import { createHash } from 'node:crypto';
import { splitText } from '../../domain/intents.ts';
import { plainText, type Choice, type OutboundMessage } from '../../domain/message.ts';

export { plainText };

/** "1. 👍 Đã nhận" lines: the number is the one the reply "1" answers (set when queued). */
export function numberedLines(choices: Choice[]): string[] {
  return choices.map((choice, index) => `${choice.n ?? index + 1}. ${plainText(choice.label)}`);
}

/**
 * The text parts of one message with its choices as numbered lines, each part at most `limit`
 * characters (the lines go at the end, split like the text when they do not fit).
 */
export function numberedParts(message: OutboundMessage, limit: number, choices?: Choice[]): string[] {
  const list = numberedLines(choices ?? (message.choices ?? []).flat());
  const text = plainText(message.text);
  const full = list.length > 0 ? `${text}\n\n${list.join('\n')}` : text;
  return splitText(full, limit).filter((part) => part.length > 0);
}

/** Zalo OA webhook signature: `mac=` + hex SHA-256 of app id + raw body + timestamp + OA secret key. */
export function oaSignature(
  appId: string,
  rawBody: Buffer | string,
  timestamp: string,
  secretKey: string,
): string {
  return `mac=${createHash('sha256')
    .update(appId)
    .update(rawBody)
    .update(timestamp)
    .update(secretKey)
    .digest('hex')}`;
}
