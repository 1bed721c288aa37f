import { timingSafeEqual } from 'node:crypto';

/** Compares a secret someone sent with ours in constant time (no timing hints about how much matched). */
export function safeEqual(given: string, expected: string): boolean {
  const left = Buffer.from(given);
  const right = Buffer.from(expected);
  return left.length === right.length && timingSafeEqual(left, right);
}
