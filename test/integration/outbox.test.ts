import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Renderer } from '../../src/conversation/render.ts';
import type { Db } from '../../src/db/client.ts';
import { createTranslator } from '../../src/i18n.ts';
import { createCampaign, launchCampaign } from '../../src/services/campaigns.ts';
import {
  messageFromPayload,
  offeredChoices,
  writeOutbox,
  writeOutboxReturning,
  type OutboxItem,
} from '../../src/services/outbox.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { withTestDb } from '../support/db.ts';

/** The outbox writer's contract: dedupe, order, the chat's offered choices, held rows; and a launch's rows. */
let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
const NOW = new Date('2026-06-16T02:00:00.000Z');

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
});

afterAll(async () => {
  await testDb?.close();
});

const question = (key: string, chatId: string, labels: string[]): OutboxItem => ({
  dedupeKey: key,
  channel: 'zalo',
  chatId,
  message: { text: key, choices: [labels.map((label) => ({ label, data: `${key}:${label}` }))] },
});

const rowsOf = (chatId: string) =>
  db.outboxMessage.findMany({ where: { channel: 'zalo', chatId }, orderBy: { seq: 'asc' } });

describe('writeOutbox', () => {
  it('keeps the order of the messages to a chat and numbers their choices across them', async () => {
    const written = await db.$transaction((tx) =>
      writeOutboxReturning(tx, [
        question('order:1', '9001', ['a', 'b']),
        { dedupeKey: 'order:2', channel: 'zalo', chatId: '9001', message: { text: 'no choices' } },
        question('order:3', '9001', ['c']),
        question('order:other', '9002', ['x']),
      ]),
    );
    const rows = await rowsOf('9001');
    expect(rows.map((row) => row.dedupeKey)).toEqual(['order:1', 'order:2', 'order:3']);
    expect(written.map((row) => row.dedupeKey).sort()).toEqual([
      'order:1',
      'order:2',
      'order:3',
      'order:other',
    ]);
    const ids = new Map(
      (await db.outboxMessage.findMany({ where: { dedupeKey: { startsWith: 'order:' } } })).map((row) => [
        row.dedupeKey,
        row.id,
      ]),
    );
    for (const row of written) {
      expect(row.id).toBe(ids.get(row.dedupeKey));
      // Time-ordered (version 7) like the ids Prisma makes.
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.channel).toBe('zalo');
    }
    expect(rows.map((row) => messageFromPayload(row.payload).choices)).toEqual([
      [
        [
          { label: 'a', data: 'order:1:a', n: 1 },
          { label: 'b', data: 'order:1:b', n: 2 },
        ],
      ],
      [],
      [[{ label: 'c', data: 'order:3:c', n: 3 }]],
    ]);
    expect(await offeredChoices(db, { channel: 'zalo', chatId: '9001', now: new Date() })).toEqual([
      { n: 1, label: 'a', data: 'order:1:a' },
      { n: 2, label: 'b', data: 'order:1:b' },
      { n: 3, label: 'c', data: 'order:3:c' },
    ]);
    const offer = await db.offeredChoice.findUniqueOrThrow({
      where: { channel_chatId: { channel: 'zalo', chatId: '9001' } },
    });
    expect(offer.seq).toBe(rows[2]?.seq);
    expect(await offeredChoices(db, { channel: 'zalo', chatId: '9002', now: new Date() })).toEqual([
      { n: 1, label: 'x', data: 'order:other:x' },
    ]);
  });

  it('numbers one message object sent to several chats from where each chat is', async () => {
    const shared = { text: 'shared', choices: [[{ label: 's', data: 'shared:s' }]] };
    await db.$transaction((tx) =>
      writeOutbox(tx, [
        { dedupeKey: 'shared:a', channel: 'zalo', chatId: '9601', message: shared },
        question('shared:before', '9602', ['q']),
        { dedupeKey: 'shared:b', channel: 'zalo', chatId: '9602', message: shared },
        { dedupeKey: 'shared:c', channel: 'zalo', chatId: '9603', message: shared },
      ]),
    );
    const choicesOf = async (chatId: string) =>
      (await rowsOf(chatId)).map((row) => messageFromPayload(row.payload).choices);
    expect(await choicesOf('9601')).toEqual([[[{ label: 's', data: 'shared:s', n: 1 }]]]);
    expect(await choicesOf('9602')).toEqual([
      [[{ label: 'q', data: 'shared:before:q', n: 1 }]],
      [[{ label: 's', data: 'shared:s', n: 2 }]],
    ]);
    expect(await choicesOf('9603')).toEqual([[[{ label: 's', data: 'shared:s', n: 1 }]]]);
  });

  it('writes a dedupe key once and counts only new rows; a skipped row offers nothing', async () => {
    const first = [question('dedupe:1', '9101', ['a'])];
    expect(await db.$transaction((tx) => writeOutbox(tx, first))).toBe(1);
    const later = await db.$transaction((tx) => writeOutbox(tx, [question('dedupe:2', '9101', ['b'])]));
    expect(later).toBe(1);
    const again = await db.$transaction((tx) =>
      writeOutboxReturning(tx, [question('dedupe:1', '9101', ['a']), question('dedupe:3', '9101', ['c'])]),
    );
    expect(again.map((row) => row.dedupeKey)).toEqual(['dedupe:3']);
    expect((await rowsOf('9101')).map((row) => row.dedupeKey)).toEqual(['dedupe:1', 'dedupe:2', 'dedupe:3']);
    // Only the new row's choice, numbered from 2 as written in that call.
    expect(await offeredChoices(db, { channel: 'zalo', chatId: '9101', now: new Date() })).toEqual([
      { n: 2, label: 'c', data: 'dedupe:3:c' },
    ]);
    expect(
      await db.$transaction((tx) => writeOutboxReturning(tx, [question('dedupe:3', '9101', ['c'])])),
    ).toEqual([]);
  });

  it('never replaces a newer offer with an older one committed late', async () => {
    await db.$transaction((tx) => writeOutbox(tx, [question('late:old', '9201', ['old'])]));
    // As if a newer message's offer had committed first.
    await db.offeredChoice.update({
      where: { channel_chatId: { channel: 'zalo', chatId: '9201' } },
      data: { seq: 1n << 50n, choices: [{ n: 1, label: 'newer', data: 'late:newer' }] },
    });
    await db.$transaction((tx) => writeOutbox(tx, [question('late:older', '9201', ['older'])]));
    expect(await offeredChoices(db, { channel: 'zalo', chatId: '9201', now: new Date() })).toEqual([
      { n: 1, label: 'newer', data: 'late:newer' },
    ]);
  });

  it('keeps an attachment reference', async () => {
    const attachment = {
      kind: 'photo' as const,
      ref: { type: 'chart' as const, campaignId: 'c', locale: 'vi', at: NOW.toISOString() },
      fallback: 'see the chart',
    };
    await db.$transaction((tx) =>
      writeOutbox(tx, [
        { dedupeKey: 'attach:1', channel: 'zalo', chatId: '9301', message: { text: 'chart', attachment } },
      ]),
    );
    const [row] = await rowsOf('9301');
    expect(messageFromPayload(row?.payload)).toEqual({ text: 'chart', choices: [], attachment });
  });

  it('writes held rows as handed over, so the relay leaves them to the writer; others as pending', async () => {
    const held = await db.$transaction((tx) =>
      writeOutboxReturning(tx, [question('hold:1', '9401', ['a'])], { hold: true }),
    );
    await db.$transaction((tx) => writeOutbox(tx, [question('hold:2', '9402', ['b'])]));
    const rows = await db.outboxMessage.findMany({ where: { dedupeKey: { startsWith: 'hold:' } } });
    const byKey = new Map(rows.map((row) => [row.dedupeKey, row]));
    expect(held).toEqual([
      {
        id: byKey.get('hold:1')?.id,
        dedupeKey: 'hold:1',
        channel: 'zalo',
        chatId: '9401',
        message: { text: 'hold:1', choices: [[{ label: 'a', data: 'hold:1:a', n: 1 }]] },
        held: true,
      },
    ]);
    expect(byKey.get('hold:1')?.enqueuedAt).toBeInstanceOf(Date);
    expect(byKey.get('hold:1')?.state).toBe('pending');
    expect(byKey.get('hold:2')?.enqueuedAt).toBeNull();
    // A held row offers its choices like any other.
    expect(await offeredChoices(db, { channel: 'zalo', chatId: '9401', now: new Date() })).toEqual([
      { n: 1, label: 'a', data: 'hold:1:a' },
    ]);
  });

  it('holds, when asked to if the chat is idle, only rows of chats with nothing else waiting', async () => {
    // 9402 still waits for hold:2 (pending); 9403 has nothing pending.
    const written = await db.$transaction((tx) =>
      writeOutboxReturning(tx, [question('idle:1', '9402', ['a']), question('idle:2', '9403', ['b'])], {
        hold: 'if-chat-idle',
      }),
    );
    expect(written.map((row) => [row.dedupeKey, row.held])).toEqual([
      ['idle:1', false],
      ['idle:2', true],
    ]);
    const rows = await db.outboxMessage.findMany({ where: { dedupeKey: { startsWith: 'idle:' } } });
    const enqueued = Object.fromEntries(rows.map((row) => [row.dedupeKey, row.enqueuedAt !== null]));
    expect(enqueued).toEqual({ 'idle:1': false, 'idle:2': true });
  });
});

describe('launchCampaign', () => {
  it('says the launch in each official’s language and reaches each on their preferred channel', async () => {
    await upsertUnit(db, 'O-ISSUER', { name: 'UBND huyện Tam Đường' });
    await upsertUnit(db, 'O-A', { name: 'UBND xã Bình Lư', parentCode: 'O-ISSUER' });
    const { id: unitId } = await db.unit.findUniqueOrThrow({ where: { code: 'O-A' } });
    const person = async (code: string, locale: string, preferredChannel: string | null) =>
      db.official.create({
        data: { code, name: code, unitId, role: 'focal', locale, preferredChannel },
      });
    const vi = await person('O-A-VI', 'vi', null);
    const en = await person('O-A-EN', 'en', 'zalo');
    await db.channelAccount.create({
      data: { officialId: vi.id, channel: 'telegram', chatId: '9501', linkedAt: NOW },
    });
    // The English reader prefers Zalo, though their Telegram was linked later.
    await db.channelAccount.create({
      data: { officialId: en.id, channel: 'zalo', chatId: '9502', linkedAt: NOW },
    });
    await db.channelAccount.create({
      data: {
        officialId: en.id,
        channel: 'telegram',
        chatId: '9503',
        linkedAt: new Date(NOW.getTime() + 60_000),
      },
    });
    const campaign = await createCampaign(db, {
      docNumber: '20/KH-UBND',
      title: 'Thi đua chào mừng',
      issuerUnitCode: 'O-ISSUER',
      startsOn: '2026-06-15',
      endsOn: '2026-10-30',
      unitCodes: ['O-A'],
      tasks: [{ key: 'QT', title: 'Quán triệt', dueOn: '2026-07-05' }],
    });
    const render = new Renderer(createTranslator(), 'Asia/Ho_Chi_Minh');
    expect(await launchCampaign(db, campaign.id, render, NOW)).toEqual({
      recipients: 2,
      unreachable: 0,
      newlySent: 2,
    });
    const rows = await db.outboxMessage.findMany({
      where: { dedupeKey: { startsWith: `launch:${campaign.id}:` } },
    });
    const byOfficial = new Map(rows.map((row) => [row.officialId, row]));
    expect(byOfficial.get(vi.id)).toMatchObject({ channel: 'telegram', chatId: '9501' });
    expect(byOfficial.get(en.id)).toMatchObject({ channel: 'zalo', chatId: '9502' });
    const news = {
      campaignId: campaign.id,
      docNumber: '20/KH-UBND',
      title: 'Thi đua chào mừng',
      theme: null,
      tasks: [{ title: 'Quán triệt', dueOn: new Date('2026-07-05T00:00:00.000Z') }],
    };
    const numbered = (locale: string) => {
      const message = render.launch(locale, news);
      return {
        ...message,
        choices: message.choices?.map((row, r) => row.map((c, i) => ({ ...c, n: r + i + 1 }))),
      };
    };
    expect(messageFromPayload(byOfficial.get(vi.id)?.payload)).toEqual(numbered('vi'));
    expect(messageFromPayload(byOfficial.get(en.id)?.payload)).toEqual(numbered('en'));
    expect(numbered('vi').text).not.toBe(numbered('en').text);
  });
});
