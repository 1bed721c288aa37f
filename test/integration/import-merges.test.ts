import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.ts';
import { createCampaign, launchCampaign } from '../../src/services/campaigns.ts';
import { upsertUnit } from '../../src/services/units.ts';
import {
  ADMIN_TOKEN,
  adminApp,
  linkedOfficial,
  local,
  render,
  reportAs,
  type AdminApp,
} from '../support/admin-app.ts';
import { withTestDb } from '../support/db.ts';
import { OFFICIAL_HEADER, UNIT_HEADER, workbook } from '../support/spreadsheets.ts';

/**
 * The import shows what it would change before applying (?dryRun=true: per sheet, row by row) and can
 * merge units with the column "sáp nhập vào" (issue 17), through POST /api/import.
 */
let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let admin: AdminApp;
let campaignId = '';

const MERGE_HEADER = [...UNIT_HEADER, 'sáp nhập vào'];

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  admin = await adminApp(db, local('2026-07-13T10:00'));
  await upsertUnit(db, 'TINH', { name: 'UBND tỉnh Lai Châu' });
  for (const code of ['XA1', 'XA2', 'XA3'])
    await upsertUnit(db, code, { name: `UBND ${code}`, parentCode: 'TINH', blockCodes: ['CUM1'] });
  await upsertUnit(db, 'XA1-T', { name: 'Thôn của XA1', parentCode: 'XA1' });
  await linkedOfficial(db, 'CB1', 'XA1', 'focal');
  await linkedOfficial(db, 'CB2', 'XA2', 'focal');
  await linkedOfficial(db, 'CB3', 'XA3', 'focal');
  const created = await createCampaign(db, {
    docNumber: '05/KH',
    title: 'Kế hoạch',
    issuerUnitCode: 'TINH',
    startsOn: '2026-06-15',
    endsOn: '2026-12-31',
    unitCodes: ['XA1', 'XA2', 'XA3'],
    tasks: [{ key: 'QT', title: 'Quán triệt', dueOn: '2026-08-15' }],
  });
  campaignId = created.id;
  await launchCampaign(db, campaignId, render, local('2026-07-01T09:00'));
  const task = await db.task.findFirstOrThrow({ where: { campaignId } });
  await reportAs(db, 'CB2', task.id, 'done', null, local('2026-07-05T10:00'));
});

afterAll(async () => {
  await admin?.app.close();
  await testDb?.close();
});

async function upload<T>(file: Buffer, query = '') {
  const response = await admin.app.inject({
    method: 'POST',
    url: `/api/import${query}`,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    },
    payload: file,
  });
  return { status: response.statusCode, body: response.json<T>() };
}

async function snapshot() {
  return {
    units: await db.unit.findMany({ orderBy: { code: 'asc' } }),
    officials: await db.official.findMany({ orderBy: { code: 'asc' } }),
    participants: await db.campaignUnit.count(),
    history: await db.unitEvent.count(),
    audit: await db.auditEvent.count(),
    outbox: await db.outboxMessage.count(),
  };
}

const reorganisation = () =>
  workbook({
    'Đơn vị': [
      MERGE_HEADER,
      ['XA1', 'UBND XA1', 'TINH', 'CUM1', 'XA-MOI'],
      ['XA2', 'UBND XA2', 'TINH', 'CUM1', 'XA-MOI'],
      ['XA-MOI', 'UBND xã Mới', 'TINH', 'CUM1', null],
      ['XA3', 'UBND phường XA3', 'TINH', 'CUM1', null],
      ['XA4', 'UBND XA4', 'XA-MOI', null, null],
    ],
    'Cán bộ': [
      OFFICIAL_HEADER,
      ['CB3', 'Cán bộ CB3', 'XA3', 'đầu mối', null],
      ['CB4', 'Cán bộ mới', 'XA-MOI', 'lãnh đạo', null],
    ],
  });

describe('the dry run', () => {
  it('answers per sheet what each row would change, merges included, and writes nothing', async () => {
    const before = await snapshot();
    const answer = await upload<{ dryRun: boolean; units: object; officials: object }>(
      await reorganisation(),
      '?dryRun=true',
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      dryRun: true,
      units: {
        sheet: 'Đơn vị',
        created: 2,
        updated: 1,
        unchanged: 0,
        renamed: 1,
        moved: 0,
        merged: 2,
        rows: [
          { row: 2, code: 'XA1', change: 'merged', into: 'XA-MOI' },
          { row: 3, code: 'XA2', change: 'merged', into: 'XA-MOI' },
          { row: 4, code: 'XA-MOI', change: 'created' },
          { row: 5, code: 'XA3', change: 'updated', name: ['UBND XA3', 'UBND phường XA3'] },
          { row: 6, code: 'XA4', change: 'created' },
        ],
        listed: 5,
        total: 5,
      },
      officials: {
        sheet: 'Cán bộ',
        created: 1,
        updated: 0,
        unchanged: 1,
        renamed: 0,
        moved: 0,
        merged: 0,
        rows: [
          { row: 2, code: 'CB3', change: 'unchanged' },
          { row: 3, code: 'CB4', change: 'created' },
        ],
        listed: 2,
        total: 2,
      },
    });
    expect(await snapshot()).toEqual(before);
  });
});

describe('applying a file with "sáp nhập vào"', () => {
  it('merges the units into the successor the file creates, as POST /api/units/merge does', async () => {
    const answer = await upload<{ merges: object[] }>(await reorganisation());
    expect(answer.status).toBe(200);
    expect(answer.body.merges).toEqual([
      {
        into: 'XA-MOI',
        from: [
          { row: 2, code: 'XA1' },
          { row: 3, code: 'XA2' },
        ],
      },
    ]);
    const successor = await db.unit.findUniqueOrThrow({ where: { code: 'XA-MOI' } });
    for (const code of ['XA1', 'XA2'])
      expect(await db.unit.findUniqueOrThrow({ where: { code } })).toMatchObject({
        successorId: successor.id,
      });
    expect((await db.unit.findUniqueOrThrow({ where: { code: 'XA1-T' } })).parentId).toBe(successor.id);
    const officials = await db.official.findMany({
      where: { unitId: successor.id },
      orderBy: { code: 'asc' },
    });
    expect(officials.map((official) => official.code)).toEqual(['CB1', 'CB2', 'CB4']);
    const summary = await admin.api<{ units: object; tasks: object[] }>(
      'GET',
      `/api/campaigns/${campaignId}/summary`,
    );
    expect(summary.body.units).toMatchObject({ total: 2, reported: 1 });
    expect(summary.body.tasks).toMatchObject([{ done: 1, noReport: 1 }]);
    // The rename of XA3 and the merges are the units' history; the notices went out once.
    const history = await admin.api<{ kind: string }[]>('GET', '/api/units/XA3/history');
    expect(history.body.map((entry) => entry.kind)).toEqual(['created', 'renamed']);
    expect(await db.outboxMessage.count({ where: { dedupeKey: { startsWith: 'unit-merged:' } } })).toBe(2);
  });

  it('previews moves: a unit to another parent, an official to another unit, with before and after', async () => {
    const answer = await upload<{ units: object; officials: object }>(
      await workbook({
        'Đơn vị': [UNIT_HEADER, ['XA4', 'UBND XA4', 'TINH', null]],
        'Cán bộ': [OFFICIAL_HEADER, ['CB3', 'Cán bộ CB3', 'XA4', 'lãnh đạo', '0912345678']],
      }),
      '?dryRun=true',
    );
    expect(answer.body.units).toMatchObject({
      updated: 1,
      moved: 1,
      rows: [{ row: 2, code: 'XA4', change: 'updated', parentCode: ['XA-MOI', 'TINH'] }],
    });
    expect(answer.body.officials).toMatchObject({
      updated: 1,
      moved: 1,
      rows: [
        {
          row: 2,
          code: 'CB3',
          change: 'updated',
          unitCode: ['XA3', 'XA4'],
          role: ['focal', 'leader'],
          phone: 'set',
        },
      ],
    });
  });

  it('refuses rows that merge nonsense or name units that left, row by row, applying nothing', async () => {
    const before = await snapshot();
    const answer = await upload<{ error: { code: string; details: { errors: object[] } } }>(
      await workbook({
        'Đơn vị': [
          MERGE_HEADER,
          ['XA3', 'UBND XA3', 'TINH', null, 'XA3'],
          ['XA-MOI', 'UBND xã Mới', 'TINH', null, 'XA4'],
          ['XA-BAN', 'Không có', 'TINH', null, 'XA-MOI'],
          ['XA5', 'UBND XA5', 'XA1', null, null],
        ],
        'Cán bộ': [OFFICIAL_HEADER, ['CB5', 'Cán bộ 5', 'XA2', 'đầu mối', null]],
      }),
      '?dryRun=true',
    );
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('import_invalid');
    expect(
      answer.body.error.details.errors.map((error) => {
        const { sheet, row, column, code } = error as Record<string, unknown>;
        return `${String(sheet)}:${String(row)}:${String(column)}:${String(code)}`;
      }),
    ).toEqual([
      'Đơn vị:2:sáp nhập vào:merge_into_itself',
      'Đơn vị:3:sáp nhập vào:merge_into_descendant',
      'Đơn vị:4:mã đơn vị:unknown_unit',
      'Đơn vị:5:mã đơn vị cấp trên:unit_retired',
      'Cán bộ:2:mã đơn vị:unit_retired',
    ]);
    expect(await snapshot()).toEqual(before);
  });
});
