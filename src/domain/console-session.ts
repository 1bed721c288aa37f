/**
 * How long a console session lives: a working day from sign-in at most, and it ends after two hours
 * without a page being opened. Background refreshes (the dashboard's live figures) do not count as use,
 * so a dashboard left open on a desk still signs itself out. Pure rules; storage is the service's
 * (services/console-sessions.ts).
 */
export const SESSION_WORKING_DAY_MS = 10 * 3600_000;
export const SESSION_IDLE_MS = 2 * 3600_000;
/** A page opened within this of the last recorded use writes nothing (one write a minute at most). */
export const SESSION_TOUCH_EVERY_MS = 60_000;

export interface StoredSession {
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
}

export type SessionState = 'active' | 'ended' | 'expired' | 'idle';

export function sessionExpiry(createdAt: Date): Date {
  return new Date(createdAt.getTime() + SESSION_WORKING_DAY_MS);
}

export function sessionState(session: StoredSession, now: Date): SessionState {
  if (session.endedAt !== null && session.endedAt.getTime() <= now.getTime()) return 'ended';
  if (session.expiresAt.getTime() <= now.getTime()) return 'expired';
  if (session.lastSeenAt.getTime() + SESSION_IDLE_MS <= now.getTime()) return 'idle';
  return 'active';
}

/** Whether opening a page now should record the use (so the idle timeout starts again). */
export function shouldTouch(session: StoredSession, now: Date): boolean {
  return now.getTime() - session.lastSeenAt.getTime() >= SESSION_TOUCH_EVERY_MS;
}
