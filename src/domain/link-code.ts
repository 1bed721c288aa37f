/** Crockford-style alphabet without 0/O, 1/I/L and U: codes are read aloud and copied from paper. */
export const LINK_CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
export const LINK_CODE_LENGTH = 10;
export const LINK_CODE_TTL_HOURS = 72;

/**
 * Builds a code from random bytes supplied by the caller (randomness is injected, never ambient).
 * Bytes at or above the largest multiple of the alphabet's size are skipped so every letter is equally likely.
 */
export function linkCodeFromBytes(bytes: Uint8Array): string {
  const limit = 256 - (256 % LINK_CODE_ALPHABET.length);
  let code = '';
  for (const byte of bytes) {
    if (byte >= limit) continue;
    code += LINK_CODE_ALPHABET[byte % LINK_CODE_ALPHABET.length];
    if (code.length === LINK_CODE_LENGTH) return code;
  }
  throw new RangeError('not enough random bytes for a link code');
}

/** What a person typed -> the canonical code, or null when it cannot be one of ours. */
export function normaliseLinkCode(input: string): string | null {
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== LINK_CODE_LENGTH) return null;
  for (const char of code) if (!LINK_CODE_ALPHABET.includes(char)) return null;
  return code;
}
