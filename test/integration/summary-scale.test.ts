import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { numberedParts } from '../../src/channels/zalo/text.ts';
import { Dialogue } from '../../src/conversation/dialogue.ts';
import { Renderer } from '../../src/conversation/render.ts';
import type { Db } from '../../src/db/client.ts';
import { splitText } from '../../src/domain/intents.ts';
import { plainText, type OutboundMessage } from '../../src/domain/message.ts';
import { createTranslator } from '../../src/i18n.ts';
import { createLogger } from '../../src/logger.ts';
import { createRedis } from '../../src/redis.ts';
import { upsertOfficial } from '../../src/services/officials.ts';
import { messageFromPayload } from '../../src/services/outbox.ts';
import { campaignSummary } from '../../src/services/summaries.ts';
import { RedisLinkAttempts } from '../../src/throttle.ts';
import { seedProvinceCampaign } from '../support/bulk-seed.ts';
import { withTestDb } from '../support/db.ts';
import { REDIS_SERVER_URL } from '../support/env.ts';
import { TEST_LINK_CODE_KEYS } from '../support/link-codes.ts';

/**
 * /tonghop at the root of a province of 1,500 communes (the 2025 reform's largest): the answer stays
 * readable, within at most 3 Telegram messages and 6,000 characters in all, naming at most 20 units not
 * reported or late and counting the rest; the late-units-only answer keeps the same caps; on Zalo every
 * message is within 2,000 characters. The API keeps the full lists. Timing is bench/tonghop.ts's.
 */
const TZ = 'Asia/Ho_Chi_Minh';
const COMMUNES = 1500;
const TELEGRAM_TEXT = 4096;
const ZALO_TEXT = 2000;
const render = new Renderer(createTranslator(), TZ);
const now = new Date('2026-08-01T02:00:00Z');
let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let redis: Redis;
let talk: Dialogue;
let campaignId: string;
let nextUpdate = 1;

async function handle(
  channel: string,
  chatId: string,
  input: { command: string } | { data: string },
): Promise<OutboundMessage[]> {
  const updateId = `t${nextUpdate++}`;
  await talk.handle({
    channel,
    updateId,
    chatId,
    ...('command' in input
      ? { kind: 'command', command: input.command, args: '' }
      : { kind: 'choice', data: input.data }),
  });
  const rows = await db.outboxMessage.findMany({
    where: { dedupeKey: { startsWith: `reply:${channel}:${updateId}:` } },
    orderBy: { seq: 'asc' },
  });
  return rows.map((row) => messageFromPayload(row.payload));
}

/** The Telegram messages an answer makes: a picture is one (its caption), a text one per 4,096 characters. */
const telegramMessages = (answer: OutboundMessage[]): number =>
  answer.reduce(
    (sum, message) => sum + (message.attachment ? 1 : splitText(message.text, TELEGRAM_TEXT).length),
    0,
  );

/** The Zalo bot's messages for an answer without a public URL: the picture becomes a line of text. */
const zaloMessages = (answer: OutboundMessage[]): string[] =>
  answer.flatMap((message) =>
    numberedParts(
      { ...message, text: [message.text, message.attachment?.fallback].filter(Boolean).join('\n') },
      ZALO_TEXT,
    ),
  );

const characters = (answer: OutboundMessage[]): number =>
  answer.reduce((sum, message) => sum + message.text.length, 0);

/** Commune names listed after "Chưa báo cáo (n):" and "Quá hạn (n):". */
function namesListed(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => /^<b>(Chưa báo cáo|Quá hạn) \(\d+\):<\/b>/.test(line))
    .flatMap((line) =>
      line
        .replace(/^<b>[^<]*<\/b> /, '')
        .replace(/ … và \d+ đơn vị khác$/, '')
        .split(', '),
    );
}

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  const sql = new pg.Client({ connectionString: testDb.database.url });
  await sql.connect();
  try {
    ({ campaignId } = await seedProvinceCampaign(sql, {
      communes: COMMUNES,
      tasks: 12,
      pastDue: '2026-07-15',
    }));
  } finally {
    await sql.end();
  }
  for (const [code, channel, chatId] of [
    ['LD-TG', 'telegram', 'tg-1'],
    ['LD-ZL', 'zalo', 'zl-1'],
  ] as const) {
    await upsertOfficial(db, code, { name: `Lãnh đạo ${code}`, unitCode: 'TINH', role: 'leader' });
    const official = await db.official.findUniqueOrThrow({ where: { code } });
    await db.channelAccount.create({ data: { officialId: official.id, channel, chatId } });
  }
  redis = createRedis(`${REDIS_SERVER_URL}/0`);
  talk = new Dialogue({
    db,
    render,
    linkAttempts: new RedisLinkAttempts(redis, `t${randomBytes(6).toString('hex')}`),
    linkCodeKeys: TEST_LINK_CODE_KEYS,
    clock: { now: () => now },
    timeZone: TZ,
    logger: createLogger('silent'),
    numberedChoiceChannels: new Set(['zalo']),
  });
}, 120_000);

afterAll(async () => {
  await redis?.quit();
  await testDb?.close();
});

describe(`/tonghop at the root of a province of ${COMMUNES} communes`, () => {
  let answer: OutboundMessage[];

  it('answers in at most 3 Telegram messages and 6,000 characters: counts, tasks, the worst communes, 20 names', async () => {
    answer = await handle('telegram', 'tg-1', { command: 'tonghop' });
    const [text, chart] = answer;
    const full = await campaignSummary(db, campaignId, { now, timeZone: TZ });
    process.stdout.write(
      `[tonghop] ${COMMUNES} units, telegram: messages=${telegramMessages(answer)} characters=${characters(answer)}; ` +
        `zalo: messages=${zaloMessages(answer).length}\n`,
    );
    expect(answer).toHaveLength(2);
    expect(telegramMessages(answer)).toBeLessThanOrEqual(3);
    expect(characters(answer)).toBeLessThanOrEqual(6000);
    expect(text?.text).toContain(`Đơn vị tham gia: ${COMMUNES}`);
    expect(text?.text).toContain(`<b>Chưa báo cáo (${full.unreportedUnits.length}):</b>`);
    expect(text?.text).toContain(`<b>Quá hạn (${full.lateUnits.length}):</b>`);
    expect(full.lateUnits.length).toBeGreaterThan(1300);
    const listed = namesListed(text?.text ?? '');
    expect(listed.length).toBeLessThanOrEqual(20);
    expect(listed.length).toBeGreaterThan(0);
    expect(text?.text).toMatch(/… và \d+ đơn vị khác/);
    // Every task is there with its counts; the child lines are the worst communes, the rest counted.
    expect(text?.text.match(/^ {3}✅ /gm)).toHaveLength(12);
    expect(text?.text).toMatch(/… và \d+ đơn vị khác \(xem biểu đồ hoặc tệp Excel\)/);
    expect(chart?.attachment?.kind).toBe('photo');
    expect(chart?.choices?.flat().map((choice) => choice.label)).toEqual(
      expect.arrayContaining(['⏰ Chỉ đơn vị chậm', '📥 Tệp Excel']),
    );
  });

  it('answers "late units only" within the same caps, with the Excel file of the full list one tap away', async () => {
    const late = answer[1]?.choices?.flat().find((choice) => choice.label === '⏰ Chỉ đơn vị chậm');
    const [only, ...rest] = await handle('telegram', 'tg-1', { data: late?.data ?? '' });
    expect(rest).toEqual([]);
    expect(only?.text.length).toBeLessThanOrEqual(TELEGRAM_TEXT);
    expect(only?.text.split('\n').filter((line) => line.startsWith('• '))).toHaveLength(20);
    expect(only?.text).toMatch(/… và \d+ đơn vị khác/);
    const excel = only?.choices?.flat().find((choice) => choice.label === '📥 Tệp Excel');
    const [workbook] = await handle('telegram', 'tg-1', { data: excel?.data ?? '' });
    expect(workbook?.attachment?.kind).toBe('document');
  });

  it('keeps every Zalo message within 2,000 characters', async () => {
    const zalo = await handle('zalo', 'zl-1', { command: 'tonghop' });
    const parts = zaloMessages(zalo);
    expect(parts.every((part) => part.length <= ZALO_TEXT)).toBe(true);
    expect(parts.length).toBeLessThanOrEqual(5);
    expect(plainText(zalo[0]?.text ?? '')).toContain(`Đơn vị tham gia: ${COMMUNES}`);
  });

  it('keeps the full lists in the API’s summary', async () => {
    const full = await campaignSummary(db, campaignId, { now, timeZone: TZ });
    expect(full.units.total).toBe(COMMUNES);
    expect(full.unreportedUnits).toHaveLength(COMMUNES - COMMUNES / 10);
    expect(full.lateUnits.length + COMMUNES / 20).toBe(COMMUNES);
  });
});
