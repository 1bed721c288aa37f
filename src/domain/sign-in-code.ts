/**
 * The console's sign-in codes: six digits sent to an operator's chats, with a one-tap link beside them.
 * A code lives 10 minutes and allows 5 tries; using the code or the link spends both; a newer code
 * supersedes older ones. Pure rules: storage and hashing are the service's (services/sign-in-codes.ts).
 */
export const SIGN_IN_CODE_TTL_MS = 10 * 60_000;
export const SIGN_IN_CODE_TRIES = 5;
export const SIGN_IN_CODE_DIGITS = 6;

const CODE_SPACE = 10 ** SIGN_IN_CODE_DIGITS;
/** Values of a 32-bit word at or above this are skipped, so that every code is equally likely. */
const UNBIASED_LIMIT = Math.floor(2 ** 32 / CODE_SPACE) * CODE_SPACE;

/** Six digits from random bytes supplied by the caller (randomness is injected, never ambient). */
export function signInCodeFromBytes(bytes: Uint8Array): string {
  for (let offset = 0; offset + 4 <= bytes.length; offset += 4) {
    const word =
      ((bytes[offset] ?? 0) * 2 ** 24 +
        ((bytes[offset + 1] ?? 0) << 16) +
        ((bytes[offset + 2] ?? 0) << 8) +
        (bytes[offset + 3] ?? 0)) >>>
      0;
    if (word < UNBIASED_LIMIT) return String(word % CODE_SPACE).padStart(SIGN_IN_CODE_DIGITS, '0');
  }
  throw new RangeError('not enough random bytes for a sign-in code');
}

/** What a person typed ("123 456", "123-456") -> the six digits, or null when it cannot be a code. */
export function normaliseSignInCode(input: string): string | null {
  const digits = input.replace(/[\s-]/g, '');
  return /^\d{6}$/.test(digits) ? digits : null;
}

export interface StoredSignInCode {
  expiresAt: Date;
  usedAt: Date | null;
  attempts: number;
}

export type SignInCodeCheck = 'accepted' | 'wrong' | 'expired' | 'used' | 'exhausted';

/**
 * What a typed code does to a stored one: accepted (it matches and the code is live), wrong (one try
 * spent), or why the code cannot be used at all any more (then nothing is spent and nothing matches).
 */
export function checkSignInCode(stored: StoredSignInCode, matches: boolean, now: Date): SignInCodeCheck {
  if (stored.usedAt !== null) return 'used';
  if (stored.expiresAt.getTime() <= now.getTime()) return 'expired';
  if (stored.attempts >= SIGN_IN_CODE_TRIES) return 'exhausted';
  return matches ? 'accepted' : 'wrong';
}

/** Tries left after a wrong one. */
export function triesLeftAfterWrong(stored: StoredSignInCode): number {
  return Math.max(0, SIGN_IN_CODE_TRIES - stored.attempts - 1);
}
