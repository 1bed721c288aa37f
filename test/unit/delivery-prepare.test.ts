import { describe, expect, it } from 'vitest';
import type { OutboundFile } from '../../src/channels/channel.ts';
import { TelegramChannel } from '../../src/channels/telegram/telegram.ts';
import { ZaloBotChannel } from '../../src/channels/zalo/bot-api.ts';
import { prepareSend, type AttachmentMakers, type SendPlan } from '../../src/delivery/prepare.ts';
import type { AttachmentRef, OutboundMessage } from '../../src/domain/message.ts';
import { createLogger } from '../../src/logger.ts';

const logger = createLogger('silent');
const channelOptions = { mode: 'polling', webhookSecret: undefined, publicUrl: undefined, logger } as const;
const telegram = new TelegramChannel({ token: '1:t', apiRoot: 'http://127.0.0.1:9', ...channelOptions });
const zalo = new ZaloBotChannel({ token: '1:z', apiRoot: 'http://127.0.0.1:9', ...channelOptions });

const chartRef: AttachmentRef = { type: 'chart', campaignId: 'c1', locale: 'vi', at: '2025-03-01T00:00:00Z' };
const xlsxRef: AttachmentRef = { ...chartRef, type: 'xlsx' };
const choices = [[{ label: 'Chi tiết', data: 'd' }]];
const chart: OutboundMessage = {
  text: 'Tổng hợp',
  choices,
  attachment: { kind: 'photo', ref: chartRef, fallback: '(biểu đồ)' },
};
const workbook: OutboundMessage = {
  text: 'Bảng tính',
  attachment: { kind: 'document', ref: xlsxRef, fallback: '(tệp Excel)' },
};
const makeFile = (ref: AttachmentRef): Promise<OutboundFile> =>
  Promise.resolve({ bytes: Buffer.from(ref.type), filename: `${ref.type}.bin`, contentType: 'x/y' });
const links: AttachmentMakers = {
  attachmentLink: (ref) => ({ url: `https://files.example/${ref.type}`, line: `Tải: ${ref.type}` }),
};

function textOf(plan: SendPlan): OutboundMessage {
  if (plan.kind !== 'text') throw new Error(`expected text, got ${plan.kind}`);
  return plan.part;
}

describe('preparing a row for its channel', () => {
  it('uploads a picture or a file where the channel can and the worker can make it', () => {
    expect(prepareSend(chart, 0, telegram, { attachments: makeFile })).toMatchObject({
      kind: 'upload',
      ref: chartRef,
      message: chart,
    });
    expect(prepareSend(workbook, 0, telegram, { attachments: makeFile })).toMatchObject({
      kind: 'upload',
      ref: xlsxRef,
      message: workbook,
    });
  });

  it('sends a picture by a signed link where the channel takes no uploads (Zalo)', () => {
    expect(prepareSend(chart, 0, zalo, { attachments: makeFile, ...links })).toMatchObject({
      kind: 'photo_link',
      url: 'https://files.example/chart',
      message: chart,
    });
  });

  it('offers a file it cannot carry as a link in the text, else as the fallback line', () => {
    const linked = prepareSend(workbook, 0, zalo, { attachments: makeFile, ...links });
    expect(textOf(linked).text).toBe('Bảng tính\nTải: xlsx');
    expect(linked.message).toEqual({ text: 'Bảng tính\nTải: xlsx' });
    // No public address: no link; the fallback line says what was left out.
    const unlinked = prepareSend(chart, 0, zalo, { attachments: makeFile });
    expect(textOf(unlinked)).toEqual({ text: 'Tổng hợp\n(biểu đồ)', choices });
    // A worker that cannot make files sends text even where the channel could upload.
    expect(textOf(prepareSend(chart, 0, telegram, {})).text).toBe('Tổng hợp\n(biểu đồ)');
  });

  it('sends the part that is due of a long text, the choices with the last', () => {
    const text = Array.from({ length: 300 }, (_, i) => `${i + 1}. UBND xã Bình Lư — chưa báo cáo`).join('\n');
    const long: OutboundMessage = { text, choices };
    const first = prepareSend(long, 0, zalo, {});
    if (first.kind !== 'text') throw new Error('expected text');
    expect(first.count).toBeGreaterThan(2);
    expect(first.index).toBe(0);
    expect(first.part.choices).toBeUndefined();
    const parts = Array.from({ length: first.count }, (_, i) => textOf(prepareSend(long, i, zalo, {})));
    expect(parts.map((part) => part.text).join('\n')).toBe(text);
    expect(parts.every((part) => part.text.length <= zalo.maxTextLength)).toBe(true);
    expect(parts.map((part) => part.choices !== undefined)).toEqual(
      Array.from({ length: first.count }, (_, i) => i === first.count - 1),
    );
    expect(parts.at(-1)?.choices).toEqual(choices);
    // A row that records more parts than the text now splits into (a channel's length changed): the last.
    expect(prepareSend(long, first.count + 3, zalo, {})).toMatchObject({ index: first.count - 1 });
  });
});
