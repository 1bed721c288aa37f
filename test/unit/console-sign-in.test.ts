import { describe, expect, it } from 'vitest';
import {
  SESSION_IDLE_MS,
  SESSION_TOUCH_EVERY_MS,
  SESSION_WORKING_DAY_MS,
  sessionExpiry,
  sessionState,
  shouldTouch,
} from '../../src/domain/console-session.ts';
import {
  checkSignInCode,
  normaliseSignInCode,
  SIGN_IN_CODE_TRIES,
  SIGN_IN_CODE_TTL_MS,
  signInCodeFromBytes,
  triesLeftAfterWrong,
} from '../../src/domain/sign-in-code.ts';
import { safeNext } from '../../src/console/sign-in.ts';
import { unreachableReason } from '../../src/services/console-reads.ts';

const at = (iso: string) => new Date(iso);
const issued = at('2026-12-01T08:00:00Z');
const live = { expiresAt: new Date(issued.getTime() + SIGN_IN_CODE_TTL_MS), usedAt: null, attempts: 0 };

describe('console sign-in codes', () => {
  it('are six digits, every value equally likely (biased words are skipped)', () => {
    expect(signInCodeFromBytes(Uint8Array.from([0, 0, 0, 7]))).toBe('000007');
    expect(signInCodeFromBytes(Uint8Array.from([0, 15, 66, 63]))).toBe('999999');
    // 0xFFFFFFFF is above the last whole multiple of 10^6: skipped, the next word is used.
    expect(signInCodeFromBytes(Uint8Array.from([255, 255, 255, 255, 0, 0, 0, 42]))).toBe('000042');
    expect(() => signInCodeFromBytes(Uint8Array.from([255, 255, 255, 255]))).toThrow(RangeError);
  });

  it('read what people type, spaces and dashes included, and nothing else', () => {
    expect(normaliseSignInCode(' 123 456 ')).toBe('123456');
    expect(normaliseSignInCode('123-456')).toBe('123456');
    expect(normaliseSignInCode('12345')).toBeNull();
    expect(normaliseSignInCode('12345a')).toBeNull();
  });

  it('live 10 minutes', () => {
    const justBefore = new Date(live.expiresAt.getTime() - 1);
    expect(checkSignInCode(live, true, justBefore)).toBe('accepted');
    expect(checkSignInCode(live, true, live.expiresAt)).toBe('expired');
  });

  it('allow 5 tries: after 5 wrong ones even the right code is refused', () => {
    let stored = { ...live };
    const tries: string[] = [];
    for (let attempt = 0; attempt < SIGN_IN_CODE_TRIES; attempt += 1) {
      tries.push(`${checkSignInCode(stored, false, issued)}:${triesLeftAfterWrong(stored)}`);
      stored = { ...stored, attempts: stored.attempts + 1 };
    }
    expect(tries).toEqual(['wrong:4', 'wrong:3', 'wrong:2', 'wrong:1', 'wrong:0']);
    expect(checkSignInCode(stored, true, issued)).toBe('exhausted');
  });

  it('are single use', () => {
    expect(checkSignInCode({ ...live, usedAt: issued }, true, issued)).toBe('used');
  });
});

describe('console sessions', () => {
  const opened = { createdAt: issued, lastSeenAt: issued, expiresAt: sessionExpiry(issued), endedAt: null };

  it('last a working day at most, however busy', () => {
    const busy = { ...opened, lastSeenAt: new Date(issued.getTime() + SESSION_WORKING_DAY_MS - 60_000) };
    expect(sessionState(busy, new Date(issued.getTime() + SESSION_WORKING_DAY_MS - 1))).toBe('active');
    expect(sessionState(busy, new Date(issued.getTime() + SESSION_WORKING_DAY_MS))).toBe('expired');
  });

  it('end after two idle hours', () => {
    expect(sessionState(opened, new Date(issued.getTime() + SESSION_IDLE_MS - 1))).toBe('active');
    expect(sessionState(opened, new Date(issued.getTime() + SESSION_IDLE_MS))).toBe('idle');
  });

  it('end when signed out (everywhere)', () => {
    const ended = { ...opened, endedAt: new Date(issued.getTime() + 1000) };
    expect(sessionState(ended, new Date(issued.getTime() + 2000))).toBe('ended');
  });

  it('record use at most once a minute', () => {
    expect(shouldTouch(opened, new Date(issued.getTime() + SESSION_TOUCH_EVERY_MS - 1))).toBe(false);
    expect(shouldTouch(opened, new Date(issued.getTime() + SESSION_TOUCH_EVERY_MS))).toBe(true);
  });
});

describe('console helpers', () => {
  it('go back only to the console’s own pages after signing in', () => {
    expect(safeNext('/console/campaigns/abc?unit=X')).toBe('/console/campaigns/abc?unit=X');
    expect(safeNext('https://evil.example/console')).toBe('/console');
    expect(safeNext('//evil.example')).toBe('/console');
    expect(safeNext('/console//evil.example')).toBe('/console');
    expect(safeNext('/api/campaigns')).toBe('/console');
    expect(safeNext(undefined)).toBe('/console');
  });

  it('tell blocked chats from those outside Zalo’s window and those that are gone', () => {
    expect(unreachableReason('Forbidden: bot was blocked by the user')).toBe('blocked');
    expect(unreachableReason('the user blocked the OA (-217 …)')).toBe('blocked');
    expect(unreachableReason('outside the customer-service window (-230 …)')).toBe('outside_window');
    expect(unreachableReason('Bad Request: chat not found')).toBe('gone');
  });
});
