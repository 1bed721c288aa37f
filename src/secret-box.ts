import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** SECRETS_KEY: 32 bytes in base64 (standard or URL-safe). Throws on anything else. */
export function parseSecretsKey(value: string): Buffer {
  const trimmed = value.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) throw new Error('not base64');
  const key = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== 32) throw new Error(`${key.length} bytes, not 32`);
  return key;
}

const PREFIX = 'enc:v1:';

/** Names a key without saying anything about it, so a sealed value says which key opens it. */
const keyIdOf = (key: Buffer) =>
  createHash('sha256').update(key).digest().subarray(0, 6).toString('base64url');

export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

/**
 * AES-256-GCM for secrets kept in the database (platform tokens): `enc:v1:<key id>:<iv>:<tag>:<data>`,
 * base64url. `context` (the column and row it belongs to) is authenticated with it, so a sealed value
 * copied into another column or row does not open. Keys rotate: values sealed with a previous key still
 * open (and report `stale`, so the caller seals them again with the current key).
 */
export class SecretBox {
  private readonly keys: Map<string, Buffer>;
  private readonly currentId: string;

  constructor(
    private readonly current: Buffer,
    previous: readonly Buffer[] = [],
  ) {
    this.currentId = keyIdOf(current);
    this.keys = new Map([current, ...previous].map((key) => [keyIdOf(key), key]));
  }

  static isSealed(value: string): boolean {
    return value.startsWith(PREFIX);
  }

  seal(plain: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const parts = [iv, cipher.getAuthTag(), data].map((part) => part.toString('base64url'));
    return `${PREFIX}${this.currentId}:${parts.join(':')}`;
  }

  /** The plain text; `stale` when it was sealed with a previous key. Throws when no key opens it. */
  open(sealed: string, context: string): { plain: string; stale: boolean } {
    if (!SecretBox.isSealed(sealed)) throw new SecretBoxError('not a sealed value');
    const [keyId = '', iv = '', tag = '', data = ''] = sealed.slice(PREFIX.length).split(':');
    const key = this.keys.get(keyId);
    if (!key)
      throw new SecretBoxError('sealed with a key that is neither SECRETS_KEY nor SECRETS_KEY_PREVIOUS');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      const plain = Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]);
      return { plain: plain.toString('utf8'), stale: keyId !== this.currentId };
    } catch {
      throw new SecretBoxError('a sealed value failed its integrity check');
    }
  }
}
