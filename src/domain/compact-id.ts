/**
 * A UUID in 22 base64url characters instead of 36: button data is limited to 64 bytes (Telegram), and a
 * summary button that keeps an emulation block needs room for the campaign, a unit code and the block.
 */
export function compactUuid(uuid: string): string | null {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) return null;
  return Buffer.from(hex, 'hex').toString('base64url');
}

/** The UUID back from `compactUuid`; null for anything else. */
export function expandUuid(compact: string): string | null {
  if (!/^[A-Za-z0-9_-]{22}$/.test(compact)) return null;
  const hex = Buffer.from(compact, 'base64url').toString('hex');
  if (hex.length !== 32 || Buffer.from(hex, 'hex').toString('base64url') !== compact) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
