import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dialogue } from '../../src/conversation/dialogue.ts';
import { Renderer } from '../../src/conversation/render.ts';
import { raw as rawRoute, Router } from '../../src/conversation/router.ts';
import type { Turn } from '../../src/conversation/turn.ts';
import type { Db, Tx } from '../../src/db/client.ts';
import { RawTransactions } from '../../src/db/raw-transactions.ts';
import { createTranslator } from '../../src/i18n.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics, type Metrics } from '../../src/metrics.ts';
import { createRedis } from '../../src/redis.ts';
import { createCampaign, launchCampaign } from '../../src/services/campaigns.ts';
import { upsertOfficial } from '../../src/services/officials.ts';
import { messageFromPayload } from '../../src/services/outbox.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { RedisLinkAttempts } from '../../src/throttle.ts';
import { withTestDb } from '../support/db.ts';
import { REDIS_SERVER_URL } from '../support/env.ts';
import { TEST_LINK_CODE_KEYS } from '../support/link-codes.ts';

/**
 * The engine a turn runs on: raw routes run on plain `pg` transactions, and a turn that needs Prisma after
 * all is rolled back and run again through Prisma, counted per route in /metrics. A miss must never be lost:
 * the raw transaction refuses to commit after one, even when the turn's own code caught the error.
 */
const TZ = 'Asia/Ho_Chi_Minh';
const render = new Renderer(createTranslator(), TZ);
let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let redis: Redis;
let rawTransactions: RawTransactions;
let nextUpdate = 1;

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  redis = createRedis(`${REDIS_SERVER_URL}/0`);
  rawTransactions = new RawTransactions(testDb.database.url, 2);
  await upsertUnit(db, 'TINH', { name: 'UBND tỉnh Thử' });
  await upsertUnit(db, 'XA', { name: 'UBND xã Một', parentCode: 'TINH' });
  await upsertOfficial(db, 'F-ZALO', { name: 'Cán bộ Zalo', unitCode: 'XA', role: 'focal' });
  const official = await db.official.findUniqueOrThrow({ where: { code: 'F-ZALO' } });
  await db.channelAccount.create({ data: { officialId: official.id, channel: 'zalo', chatId: 'z-1' } });
});

afterAll(async () => {
  await rawTransactions?.end();
  await redis?.quit();
  await testDb?.close();
});

function dialogue(metrics: Metrics, routes?: Router): Dialogue {
  return new Dialogue({
    db,
    render,
    raw: rawTransactions,
    linkCodeKeys: TEST_LINK_CODE_KEYS,
    engineFallbacks: metrics.dialogueEngineFallbacks,
    linkAttempts: new RedisLinkAttempts(redis, `t${randomBytes(6).toString('hex')}`),
    clock: { now: () => new Date() },
    timeZone: TZ,
    logger: createLogger('silent'),
    numberedChoiceChannels: new Set(['zalo']),
    ...(routes ? { routes } : {}),
  });
}

/** One update through the dialogue; the texts it queued, in order. */
async function say(talk: Dialogue, channel: string, chatId: string, words: string): Promise<string[]> {
  const updateId = `e${nextUpdate++}`;
  await talk.handle({ channel, updateId, chatId, kind: 'text', text: words });
  const rows = await db.outboxMessage.findMany({
    where: { dedupeKey: { startsWith: `reply:${channel}:${updateId}:` } },
    orderBy: { seq: 'asc' },
  });
  return rows.map((row) => messageFromPayload(row.payload).text);
}

async function fallbacks(metrics: Metrics): Promise<Record<string, number>> {
  const { values } = await metrics.dialogueEngineFallbacks.get();
  return Object.fromEntries(values.map(({ labels, value }) => [String(labels.route), value]));
}

const unitName = async () => (await db.unit.findUniqueOrThrow({ where: { code: 'XA' } })).name;

describe('a miss the turn swallowed', () => {
  /** A raw route whose step catches the miss and carries on, as a careless try/catch would. */
  const careless = (miss: (turn: Turn) => Promise<unknown>) =>
    new Router().text(
      () => true,
      rawRoute('careless'),
      async (turn) => {
        await turn.sql.$executeRaw`UPDATE "Unit" SET name = ${`written on ${turn.engine}`} WHERE code = 'XA'`;
        try {
          await miss(turn);
        } catch {
          // Swallowed, and nothing asked of the database after it: exactly what must not let it commit.
        }
      },
    );

  it.each<[string, (turn: Turn) => Promise<unknown>]>([
    ['asking for Prisma', (turn) => turn.prisma('a model query').unit.count()],
    ['a model query through code typed for Prisma', (turn) => (turn.sql as Tx).official.count()],
  ])(
    '%s: the raw attempt is rolled back, the turn runs once through Prisma and is counted',
    async (_, miss) => {
      const metrics = createMetrics();
      const updatesBefore = await db.inboundUpdate.count();
      await say(dialogue(metrics, careless(miss)), 'telegram', 'c-1', 'xin chào');
      expect(await db.inboundUpdate.count()).toBe(updatesBefore + 1);
      // Only the Prisma attempt's write is there: the raw one, with its miss caught, did not commit.
      expect(await unitName()).toBe('written on prisma');
      expect(await fallbacks(metrics)).toEqual({ careless: 1 });
      await db.unit.update({ where: { code: 'XA' }, data: { name: 'UBND xã Một' } });
    },
  );
});

describe('the dialogue on the raw engine', () => {
  let metrics: Metrics;
  let talk: Dialogue;

  beforeAll(async () => {
    metrics = createMetrics();
    talk = dialogue(metrics);
    const campaign = await createCampaign(db, {
      docNumber: '03/KH-UBND',
      title: 'Phong trào thử',
      issuerUnitCode: 'TINH',
      startsOn: '2026-01-01',
      endsOn: '2030-12-31',
      unitCodes: ['XA'],
      tasks: [{ key: 'NV1', title: 'Nhiệm vụ một', dueOn: '2030-06-30' }],
    });
    await launchCampaign(db, campaign.id, render, new Date());
  });

  it('runs a numbered reply that answers a launch again through Prisma, once, and counts it', async () => {
    // "1" answers the launch's first choice (👍 Đã nhận), a route that needs Prisma.
    const texts = await say(talk, 'zalo', 'z-1', '1');
    expect(texts).toEqual([render.text('vi', 'ack.recorded', { docNumber: '03/KH-UBND' }).text]);
    expect(await db.acknowledgement.count()).toBe(1);
    expect(await fallbacks(metrics)).toEqual({ 'status-text': 1 });
  });

  it('answers a Zalo status reply without falling back (its numbered choices are read in raw SQL)', async () => {
    const texts = await say(talk, 'zalo', 'z-1', 'đang triển khai 40%');
    expect(texts.join('\n')).toContain('Nhiệm vụ một');
    expect(await db.statusReport.count({ where: { percent: 40 } })).toBe(1);
    expect(await fallbacks(metrics)).toEqual({ 'status-text': 1 });
  });
});
