/**
 * A request the caller can fix; the HTTP layer turns it into 400/403/404/409 with this code and details.
 * `forbidden` is for a caller who may see the thing but not change it (a leader); what lies outside a
 * caller's subtree is `not_found`, exactly as if it did not exist.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: unknown = undefined,
    readonly kind: 'invalid' | 'not_found' | 'conflict' | 'forbidden' = 'invalid',
  ) {
    super(message);
  }
}

export const notFound = (what: string, key: string): DomainError =>
  new DomainError('not_found', `${what} ${key} does not exist`, { [what]: key }, 'not_found');

export const forbidden = (message: string): DomainError =>
  new DomainError('forbidden', message, null, 'forbidden');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids come from URLs and button data: anything not shaped like one of ours is simply unknown. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
