import { describe, expect, it } from 'vitest';
import { parseSummaryRequest, splitText } from '../../src/domain/intents.ts';
import { LINK_CODE_ALPHABET, linkCodeFromBytes, normaliseLinkCode } from '../../src/domain/link-code.ts';
import { normalisePercent, statusCode, statusFromCode, STATUSES } from '../../src/domain/status.ts';
import { dateFromIso, dueInstant, formatDate, isValidIsoDate } from '../../src/domain/time.ts';

describe('link codes', () => {
  it('uses only unambiguous letters and skips biased bytes', () => {
    const code = linkCodeFromBytes(new Uint8Array([255, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 240]));
    expect(code).toBe('23456789AB');
    expect([...code].every((char) => LINK_CODE_ALPHABET.includes(char))).toBe(true);
    expect(() => linkCodeFromBytes(new Uint8Array([250, 251, 252]))).toThrow(RangeError);
  });

  it('accepts what people type and rejects what cannot be a code', () => {
    expect(normaliseLinkCode(' abcd-efgh jk ')).toBe('ABCDEFGHJK');
    expect(normaliseLinkCode('ABCDEFGHJ0')).toBeNull();
    expect(normaliseLinkCode('short')).toBeNull();
    expect(normaliseLinkCode('đã xong rồi')).toBeNull();
  });
});

describe('summary requests', () => {
  it.each([
    ['tổng hợp', null],
    ['Tổng hợp 01/KH-HĐTĐKT', '01/kh-hdtdkt'],
    ['tong hop 125/KH-UBND', '125/kh-ubnd'],
    ['tình hình', null],
    ['bao cao tong hop: 01/KH-UBND', '01/kh-ubnd'],
  ])('%s', (text, docQuery) => {
    expect(parseSummaryRequest(text)).toEqual({ docQuery });
  });

  it('is not fooled by status replies', () => {
    expect(parseSummaryRequest('đã xong')).toBeNull();
    expect(parseSummaryRequest('tổng hợpxyz')).toBeNull();
    expect(parseSummaryRequest('báo cáo đã xong')).toBeNull();
  });
});

describe('splitText', () => {
  it('keeps every part within the limit, cutting at line breaks', () => {
    const text = Array.from({ length: 300 }, (_, i) => `Dòng ${i}: UBND xã Bình Lư`).join('\n');
    const parts = splitText(text, 500);
    expect(parts.every((part) => part.length <= 500)).toBe(true);
    expect(parts.join('\n')).toBe(text);
  });

  it('cuts a text without spaces at the limit', () => {
    expect(splitText('x'.repeat(1001), 500).map((part) => part.length)).toEqual([500, 500, 1]);
  });
});

describe('statuses and dates', () => {
  it('round-trips one-letter codes', () => {
    for (const status of STATUSES) expect(statusFromCode(statusCode(status))).toBe(status);
    expect(statusFromCode('z')).toBeUndefined();
  });

  it('makes done 100% and keeps other percents', () => {
    expect(normalisePercent('done', 40)).toBe(100);
    expect(normalisePercent('in_progress', 40)).toBe(40);
    expect(normalisePercent('not_started', 40)).toBe(0);
    expect(normalisePercent('blocked', null)).toBeNull();
  });

  it('formats dd/MM/yyyy and validates ISO dates', () => {
    expect(formatDate(dateFromIso('2023-10-30'))).toBe('30/10/2023');
    expect(isValidIsoDate('2023-02-29')).toBe(false);
    expect(isValidIsoDate('2024-02-29')).toBe(true);
    expect(isValidIsoDate('30/10/2023')).toBe(false);
  });

  it('puts the end of a due day at local midnight', () => {
    expect(dueInstant(dateFromIso('2023-10-30'), 'Asia/Ho_Chi_Minh').toISOString()).toBe(
      '2023-10-30T17:00:00.000Z',
    );
    expect(dueInstant(dateFromIso('2023-10-30'), 'UTC').toISOString()).toBe('2023-10-31T00:00:00.000Z');
  });
});
