// Prisma runs the relations of one `include` at the same moment; inside a transaction that is one
// connection, and pg warns (and pg 9 refuses) when it is handed a query while another runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.ts';
import { createCampaign } from '../../src/services/campaigns.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { withTestDb } from '../support/db.ts';

let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
// From the start: pg warns once per process, and the setup's own transactions would be the first to.
const warnings: string[] = [];
const onWarning = (warning: Error) => warnings.push(warning.message);
process.on('warning', onWarning);

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  await upsertUnit(db, 'HUYEN', { name: 'UBND huyện' });
  await upsertUnit(db, 'XA1', { name: 'UBND xã Một', parentCode: 'HUYEN' });
  await createCampaign(db, {
    docNumber: '01/KH-PQ',
    title: 'Phong trào',
    issuerUnitCode: 'HUYEN',
    startsOn: '2026-07-01',
    endsOn: '2026-12-31',
    unitCodes: ['XA1'],
    tasks: [{ key: 'NV1', title: 'Quán triệt', dueOn: '2026-08-01' }],
  });
});

afterAll(async () => {
  process.off('warning', onWarning);
  await testDb.close();
});

describe('queries on one connection', () => {
  it('a write returning several relations inside a transaction hands pg one query at a time (no warning)', async () => {
    const found = await db.$transaction(async (tx) =>
      tx.campaign.findFirstOrThrow({
        where: { docNumber: '01/KH-PQ' },
        include: {
          tasks: true,
          units: { include: { unit: true } },
          issuerUnit: true,
          acknowledgements: true,
        },
      }),
    );
    expect(found.tasks.map((task) => task.key)).toEqual(['NV1']);
    expect(found.units.map((row) => row.unit.code)).toEqual(['XA1']);
    // Warnings are emitted on a later tick.
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.filter((message) => message.includes('already executing a query'))).toEqual([]);
  });
});
