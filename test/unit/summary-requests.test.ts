import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { Renderer } from '../../src/conversation/render.ts';
import { compactUuid, expandUuid } from '../../src/domain/compact-id.ts';
import { parseSummaryArgs, parseSummaryRequest } from '../../src/domain/intents.ts';
import type { AttachmentRef } from '../../src/domain/message.ts';
import type { ChildBreakdown } from '../../src/domain/summary.ts';
import { fileLinks, readFileLinkName, readFileToken, signFileToken } from '../../src/file-links.ts';
import { createTranslator } from '../../src/i18n.ts';
import type { CampaignSummary } from '../../src/services/summaries.ts';

describe('summary requests by emulation block', () => {
  it.each([
    ['tổng hợp khối CUM1', { docQuery: null, block: 'cum1' }],
    ['tong hop khoi cum1', { docQuery: null, block: 'cum1' }],
    ['Tổng hợp cụm Biên-Giới', { docQuery: null, block: 'bien-gioi' }],
    ['tong hop cum thi dua so 3 01/KH-UBND', { docQuery: '01/kh-ubnd', block: '3' }],
    ['Tổng hợp 01/KH-HĐTĐKT khối thi đua KHOI-XA', { docQuery: '01/kh-hdtdkt', block: 'khoi-xa' }],
    ['tình hình khối: X1', { docQuery: null, block: 'x1' }],
    ['/summary block CUM1', { docQuery: null, block: 'cum1' }],
    ['tổng hợp khối', { docQuery: null, block: '' }],
    ['tong hop khoi thi dua', { docQuery: null, block: '' }],
  ])('%s', (text, expected) => {
    expect(parseSummaryRequest(text)).toEqual(expected);
  });

  it('reads the arguments of /tonghop the same way', () => {
    expect(parseSummaryArgs('khối CUM1')).toEqual({ docQuery: null, block: 'cum1' });
    expect(parseSummaryArgs('01/KH-UBND cụm 2')).toEqual({ docQuery: '01/kh-ubnd', block: '2' });
    expect(parseSummaryArgs('01/KH-UBND')).toEqual({ docQuery: '01/kh-ubnd' });
    expect(parseSummaryArgs('  ')).toEqual({ docQuery: null });
  });

  it('leaves status replies that fold to "khoi…" alone', () => {
    expect(parseSummaryRequest('khởi công xong')).toBeNull();
    expect(parseSummaryRequest('Khối CUM1')).toBeNull();
    expect(parseSummaryRequest('đã xong')).toBeNull();
  });
});

describe('compact ids in button data', () => {
  it('round-trips a UUID in 22 characters and rejects anything else', () => {
    const id = '0190f0f0-1234-7abc-8def-0123456789ab';
    const compact = compactUuid(id);
    expect(compact).toHaveLength(22);
    expect(expandUuid(compact ?? '')).toBe(id);
    expect(compactUuid('not-a-uuid')).toBeNull();
    expect(expandUuid('short')).toBeNull();
    expect(expandUuid('!'.repeat(22))).toBeNull();
  });
});

describe('signed file links', () => {
  const secret = 'a-secret-of-enough-length';
  const ref: AttachmentRef = {
    type: 'chart',
    campaignId: '0190f0f0-1234-7abc-8def-0123456789ab',
    unitCode: 'TD',
    block: 'CUM1',
    locale: 'vi',
    at: '2026-07-20T03:00:00.000Z',
  };
  const now = new Date('2026-07-20T03:00:00Z');
  const later = (days: number) => new Date(now.getTime() + days * 86_400_000);

  it('names the reference until it expires', () => {
    const token = signFileToken(ref, later(7), secret);
    expect(readFileToken(token, secret, later(6.9))).toEqual(ref);
    expect(readFileToken(token, secret, later(7))).toBeNull();
  });

  it('refuses a forged, tampered or foreign token', () => {
    const token = signFileToken(ref, later(7), secret);
    const [payload = '', mac = ''] = token.split('.');
    expect(readFileToken(token, 'another-secret-entirely', now)).toBeNull();
    const widened = Buffer.from(JSON.stringify({ ref: { ...ref, unitCode: 'LC' }, exp: 9e9 })).toString(
      'base64url',
    );
    expect(readFileToken(`${widened}.${mac}`, secret, now)).toBeNull();
    expect(readFileToken(`${payload}.`, secret, now)).toBeNull();
    expect(readFileToken(`${payload}.${mac}.x`, secret, now)).toBeNull();
    expect(readFileToken('', secret, now)).toBeNull();
  });

  it('serves a name only with the extension its reference calls for', () => {
    const url = fileLinks('https://bot.example.gov.vn', secret)(ref, now);
    expect(url).toMatch(/^https:\/\/bot\.example\.gov\.vn\/files\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.png$/);
    const name = url.slice(url.lastIndexOf('/') + 1);
    expect(readFileLinkName(name, secret, now)).toEqual(ref);
    expect(readFileLinkName(name.replace(/\.png$/, '.xlsx'), secret, now)).toBeNull();
    const workbook = fileLinks('https://bot.example.gov.vn', secret)({ ...ref, type: 'xlsx' }, now);
    expect(workbook).toMatch(/\.xlsx$/);
  });

  it('derives the secret from the admin token unless FILES_URL_SECRET is set', () => {
    const derived = loadConfig({
      TELEGRAM_BOT_TOKEN: '1:a',
      ADMIN_API_TOKEN: 'admin-token-0123456789',
    }).filesUrlSecret;
    expect(derived).toMatch(/^[0-9a-f]{64}$/);
    expect(derived).not.toContain('admin-token-0123456789');
    expect(
      loadConfig({
        TELEGRAM_BOT_TOKEN: '1:a',
        ADMIN_API_TOKEN: 'x'.repeat(16),
        FILES_URL_SECRET: 's'.repeat(16),
      }).filesUrlSecret,
    ).toBe('s'.repeat(16));
    expect(loadConfig({ TELEGRAM_BOT_TOKEN: '1:a' }).filesUrlSecret).toBeUndefined();
    expect(() => loadConfig({ TELEGRAM_BOT_TOKEN: '1:a', FILES_URL_SECRET: 'short' })).toThrow(
      /FILES_URL_SECRET/,
    );
  });
});

describe('per-child lines of a summary', () => {
  const render = new Renderer(createTranslator(), 'Asia/Ho_Chi_Minh');
  const child = (n: number, overdue = 0, units = 1): ChildBreakdown => ({
    code: `X${n}`,
    name: `UBND xã Số ${String(n).padStart(3, '0')}`,
    units,
    done: 1,
    inProgress: 0,
    blocked: 0,
    notStarted: 0,
    noReport: units * 2 - 1,
    overdue,
    lateUnits: overdue > 0 ? 1 : 0,
  });
  const summary = (children: ChildBreakdown[]): CampaignSummary => ({
    campaign: { id: '0190f0f0-1234-7abc-8def-0123456789ab', docNumber: '01/KH-UBND', title: 'Thi đua' },
    scope: { code: 'TD', name: 'UBND huyện Tam Đường' },
    block: null,
    units: { total: children.length, acknowledged: 0, registered: 0, reported: 0, overdue: 0 },
    tasks: [],
    lateUnits: [],
    unreportedUnits: [],
    children,
  });

  it('puts the late ones first and caps a 100-commune district at 15 lines', () => {
    const children = Array.from({ length: 100 }, (_, i) => child(i + 1, i === 57 ? 2 : 0));
    const lines = render.summary('vi', summary(children), new Date()).text.split('\n');
    const first = lines.findIndex((line) => line.includes('Theo đơn vị trực thuộc'));
    expect(lines[first + 1]).toBe('• UBND xã Số 058: 1/2 · ⏰ quá hạn 2 việc');
    expect(lines[first + 2]).toBe('• UBND xã Số 001: 1/2');
    expect(lines.filter((line) => line.startsWith('• '))).toHaveLength(15);
    expect(lines[first + 16]).toBe('… và 85 đơn vị khác (xem biểu đồ hoặc tệp Excel)');
  });

  it('counts late units under a child that groups several', () => {
    const text = render.summary('en', summary([child(1, 3, 4)]), new Date()).text;
    expect(text).toContain('• UBND xã Số 001: 1/8 · ⏰ 3 items overdue (1/4 units late)');
    expect(text).not.toContain('more units');
  });

  it('keeps block buttons within 64 bytes, with the block', () => {
    const message = render.summaryChart(
      'vi',
      { ...summary([{ ...child(1), code: 'TD-BANGIANG-XA' }]), block: 'KHOI-XA-BIEN-GIOI' },
      {
        campaign: '0190f0f0-1234-7abc-8def-0123456789ab',
        unit: '-',
        attachment: { kind: 'photo', ref: { type: 'chart', campaignId: 'x', locale: 'vi', at: '' } },
      },
    );
    const data = (message.choices ?? []).flat().map((choice) => choice.data);
    expect(data).toEqual([
      'bd:AZDw8BI0eryN7wEjRWeJqw:TD-BANGIANG-XA:KHOI-XA-BIEN-GIOI',
      'bl:AZDw8BI0eryN7wEjRWeJqw:-:KHOI-XA-BIEN-GIOI',
      'bx:AZDw8BI0eryN7wEjRWeJqw:-:KHOI-XA-BIEN-GIOI',
    ]);
    expect(data.every((item) => Buffer.byteLength(item) <= 64)).toBe(true);
  });
});
