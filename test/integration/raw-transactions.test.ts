// A process in Vietnam's time zone, where a naive timestamp parser would shift every time by 7 hours
// (vitest runs each file in its own process).
process.env.TZ = 'Asia/Ho_Chi_Minh';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATEMENT_TIMEOUT_MS, type Db, type Tx } from '../../src/db/client.ts';
import { NeedsPrisma, RawTransactions } from '../../src/db/raw-transactions.ts';
import { openTurn } from '../../src/services/accounts.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { withTestDb } from '../support/db.ts';

/**
 * Turns that are raw SQL only run on plain `pg` transactions (src/db/raw-transactions.ts); what they write
 * and read must be what the same work through Prisma writes and reads, and work that needs a model query
 * must leave nothing behind, so that it can run again through Prisma.
 */
let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let raw: RawTransactions;

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  raw = new RawTransactions(testDb.database.url, 2);
});

afterAll(async () => {
  await raw?.end();
  await testDb?.close();
});

describe('RawTransactions', () => {
  it('writes and reads times and dates as Prisma does, whatever the process time zone', async () => {
    await upsertUnit(db, 'RAW-U', { name: 'UBND xã Bình Lư' });
    const unit = await db.unit.findUniqueOrThrow({ where: { code: 'RAW-U' } });
    const official = await db.official.create({
      data: { code: 'RAW-O', name: 'Lò Văn Minh', unitId: unit.id, role: 'focal' },
    });
    const linkedAt = new Date('2026-02-17T23:30:00.123Z');
    await raw.run(async (tx) => {
      await tx.$executeRaw`
        INSERT INTO "ChannelAccount" (id, "officialId", channel, "chatId", "linkedAt")
        VALUES (gen_random_uuid(), ${official.id}::uuid, 'telegram', '4242', ${linkedAt})`;
    });
    const stored = await db.channelAccount.findFirstOrThrow({ where: { chatId: '4242' } });
    expect(stored.linkedAt).toEqual(linkedAt);

    const viaRaw = await raw.run(
      (tx) =>
        tx.$queryRaw<{ linkedAt: Date; day: Date }[]>`
        SELECT "linkedAt", DATE '2026-02-17' AS day FROM "ChannelAccount" WHERE "chatId" = '4242'`,
    );
    const viaPrisma = await db.$queryRaw<{ linkedAt: Date; day: Date }[]>`
      SELECT "linkedAt", DATE '2026-02-17' AS day FROM "ChannelAccount" WHERE "chatId" = '4242'`;
    expect(viaRaw).toEqual(viaPrisma);
    expect(viaRaw[0]?.day.toISOString()).toBe('2026-02-17T00:00:00.000Z');
  });

  it('opens a turn the same way as Prisma does', async () => {
    const now = new Date('2026-03-02T01:00:00.000Z');
    const update = (updateId: string) => ({
      channel: 'telegram',
      updateId,
      kind: 'text',
      chatId: '4242',
      now,
    });
    const viaRaw = await raw.run((tx) => openTurn(tx, update('raw-1'), { withTasks: true }));
    const viaPrisma = await db.$transaction((tx) => openTurn(tx, update('raw-2'), { withTasks: true }));
    expect(viaRaw.fresh).toBe(true);
    expect(viaRaw.account?.official.code).toBe('RAW-O');
    expect(viaRaw).toEqual(viaPrisma);
  });

  it('rolls back and says so when the work needs a model query', async () => {
    const attempt = raw.run(async (tx) => {
      await tx.$executeRaw`
        INSERT INTO "InboundUpdate" (channel, "updateId", kind) VALUES ('telegram', 'raw-rolled-back', 'text')`;
      // As code typed for Prisma (a service taking a Queryable) would, handed the raw transaction.
      return (tx as unknown as Tx).official.count();
    });
    await expect(attempt).rejects.toBeInstanceOf(NeedsPrisma);
    expect(await db.inboundUpdate.count({ where: { updateId: 'raw-rolled-back' } })).toBe(0);
  });

  it('refuses to commit after a miss, even when the work caught it and carried on', async () => {
    const attempt = raw.run(async (tx) => {
      await tx.$executeRaw`
        INSERT INTO "InboundUpdate" (channel, "updateId", kind) VALUES ('telegram', 'raw-swallowed', 'text')`;
      try {
        tx.needsPrisma('a model query');
      } catch {
        // Swallowed.
      }
      return 'carried on';
    });
    await expect(attempt).rejects.toBeInstanceOf(NeedsPrisma);
    expect(await db.inboundUpdate.count({ where: { updateId: 'raw-swallowed' } })).toBe(0);
  });

  it('cancels a statement after the same time as the Prisma pool does', async () => {
    const viaRaw = await raw.run(
      (tx) => tx.$queryRaw<{ statement_timeout: string }[]>`SHOW statement_timeout`,
    );
    const viaPrisma = await db.$queryRaw<{ statement_timeout: string }[]>`SHOW statement_timeout`;
    expect(viaRaw).toEqual([{ statement_timeout: `${STATEMENT_TIMEOUT_MS / 1000}s` }]);
    expect(viaPrisma).toEqual(viaRaw);
  });

  it('rolls back on an SQL error and stays usable', async () => {
    await expect(
      raw.run(async (tx) => {
        await tx.$executeRaw`
          INSERT INTO "InboundUpdate" (channel, "updateId", kind) VALUES ('telegram', 'raw-error', 'text')`;
        await tx.$executeRaw`SELECT no_such_column FROM "InboundUpdate"`;
      }),
    ).rejects.toThrow(/no_such_column/);
    expect(await db.inboundUpdate.count({ where: { updateId: 'raw-error' } })).toBe(0);
    expect(await raw.run((tx) => tx.$queryRaw<{ one: number }[]>`SELECT 1 AS one`)).toEqual([{ one: 1 }]);
  });
});
