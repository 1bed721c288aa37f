// The audit trail is written in the transaction of the change it records, and nobody can rewrite it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.ts';
import { ADMIN_TOKEN_ACTOR, listAudit, recordAudit, type Actor } from '../../src/services/audit.ts';
import { upsertOfficial } from '../../src/services/officials.ts';
import { officialPrincipal, WHOLE_ORGANISATION } from '../../src/services/scope.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { withTestDb } from '../support/db.ts';

let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
const at = (minute: number) => new Date(Date.UTC(2026, 11, 3, 2, minute));

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  await upsertUnit(db, 'TINH', { name: 'UBND tỉnh' });
  await upsertUnit(db, 'HUYEN1', { name: 'UBND huyện Một', parentCode: 'TINH' });
  await upsertUnit(db, 'HUYEN2', { name: 'UBND huyện Hai', parentCode: 'TINH' });
  await upsertOfficial(db, 'LD1', { name: 'Lãnh Đạo Một', unitCode: 'HUYEN1', role: 'leader' });
});

afterAll(async () => {
  await testDb.close();
});

async function unitId(code: string): Promise<string> {
  return (await db.unit.findUniqueOrThrow({ where: { code } })).id;
}

describe('the audit trail', () => {
  it('commits with the change it records, and a failed change leaves no row', async () => {
    const huyen1 = await unitId('HUYEN1');
    await db.$transaction(async (tx) => {
      await tx.unit.update({ where: { id: huyen1 }, data: { name: 'UBND huyện Một (mới)' } });
      await recordAudit(tx, {
        actor: ADMIN_TOKEN_ACTOR,
        action: 'unit.update',
        target: { kind: 'unit', code: 'HUYEN1' },
        unitId: huyen1,
        changes: { name: ['UBND huyện Một', 'UBND huyện Một (mới)'] },
        at: at(1),
      });
    });
    await expect(
      db.$transaction(async (tx) => {
        await recordAudit(tx, {
          actor: ADMIN_TOKEN_ACTOR,
          action: 'unit.update',
          target: { kind: 'unit', code: 'HUYEN1' },
          unitId: huyen1,
          at: at(2),
        });
        // The change itself fails after its audit row was written: both go. (The parent is no unit: an id
        // made from huyen1's by changing its last digit to 0 was huyen1 itself one time in 16.)
        await tx.unit.update({
          where: { id: huyen1 },
          data: { parentId: '00000000-0000-7000-8000-000000000000' },
        });
      }),
    ).rejects.toThrow();
    const trail = await listAudit(db, WHOLE_ORGANISATION, { target: 'HUYEN1', action: 'unit.update' });
    expect(trail).toEqual([
      {
        at: at(1),
        actor: { kind: 'token', name: 'ADMIN_API_TOKEN' },
        action: 'unit.update',
        target: { kind: 'unit', code: 'HUYEN1' },
        changes: { name: ['UBND huyện Một', 'UBND huyện Một (mới)'] },
      },
    ]);
  });

  it('refuses UPDATE, DELETE and TRUNCATE, from the service or from SQL', async () => {
    const before = await db.auditEvent.count();
    expect(before).toBeGreaterThan(0);
    await expect(db.auditEvent.updateMany({ data: { action: 'forged' } })).rejects.toThrow(/append-only/);
    await expect(db.auditEvent.deleteMany({})).rejects.toThrow(/append-only/);
    await expect(db.$executeRawUnsafe('UPDATE "AuditEvent" SET "actorLabel" = \'x\'')).rejects.toThrow(
      /append-only/,
    );
    await expect(db.$executeRawUnsafe('DELETE FROM "AuditEvent"')).rejects.toThrow(/append-only/);
    await expect(db.$executeRawUnsafe('TRUNCATE "AuditEvent"')).rejects.toThrow(/append-only/);
    expect(await db.auditEvent.count()).toBe(before);
    expect((await db.auditEvent.findMany({ where: { action: 'forged' } })).length).toBe(0);
  });

  it('shows a leader the rows of their subtree only, naming officials as they are now', async () => {
    const leader = await db.official.findUniqueOrThrow({ where: { code: 'LD1' }, include: { unit: true } });
    const actor: Actor = { kind: 'official', officialId: leader.id };
    await recordAudit(
      db,
      {
        actor,
        action: 'report.create',
        target: { kind: 'task', code: 'NV1' },
        unitId: leader.unitId,
        at: at(10),
      },
      {
        actor: { kind: 'system', name: 'reminders' },
        action: 'unit.update',
        target: { kind: 'unit', code: 'HUYEN2' },
        unitId: await unitId('HUYEN2'),
        at: at(11),
      },
    );
    await db.official.update({ where: { id: leader.id }, data: { name: 'Cán bộ đã xóa 1' } });
    // The setup's own rows (units and officials the service created) aside.
    const seen = (await listAudit(db, officialPrincipal(leader))).filter(
      (row) => row.actor.name !== 'service',
    );
    expect(seen.map((row) => [row.action, row.target.code, row.actor])).toEqual([
      ['report.create', 'NV1', { kind: 'official', code: 'LD1', name: 'Cán bộ đã xóa 1' }],
      ['unit.update', 'HUYEN1', { kind: 'token', name: 'ADMIN_API_TOKEN' }],
    ]);
    const byActor = await listAudit(db, WHOLE_ORGANISATION, { actor: 'reminders' });
    expect(byActor.map((row) => row.target.code)).toEqual(['HUYEN2']);
    const window = await listAudit(db, WHOLE_ORGANISATION, { since: at(10), until: at(11) });
    expect(window.map((row) => row.action)).toEqual(['report.create']);
  });
});
