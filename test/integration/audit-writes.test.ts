// Every change through the services writes its audit row in its own transaction, with its actor, target
// and changes; a change that fails writes none. Phone numbers, chat ids and link codes never reach the trail.
// In Vietnam's time zone, so a time written on the dialogue's plain pg transactions would show a naive shift.
process.env.TZ = 'Asia/Ho_Chi_Minh';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Renderer } from '../../src/conversation/render.ts';
import type { Db } from '../../src/db/client.ts';
import { RawTransactions } from '../../src/db/raw-transactions.ts';
import { createTranslator } from '../../src/i18n.ts';
import { ADMIN_TOKEN_CALLER, listAudit, type AuditView, type Caller } from '../../src/services/audit.ts';
import { createCampaign, launchCampaign, updateCampaign } from '../../src/services/campaigns.ts';
import { closeCampaign } from '../../src/services/collection.ts';
import { DomainError } from '../../src/services/errors.ts';
import { importSpreadsheet } from '../../src/services/import.ts';
import { issueSubtreeLinkCodes } from '../../src/services/link-codes.ts';
import { issueLinkCode, redeemLinkCode, upsertOfficial } from '../../src/services/officials.ts';
import type { Clock, Random } from '../../src/services/ports.ts';
import { recordCampaignAct, recordStatus, undoReport, type Undoer } from '../../src/services/reports.ts';
import { WHOLE_ORGANISATION } from '../../src/services/scope.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { withTestDb } from '../support/db.ts';
import { OFFICIAL_HEADER, UNIT_HEADER } from '../support/spreadsheets.ts';
import { redeemDeps, TEST_LINK_CODE_KEYS } from '../support/link-codes.ts';

const T0 = new Date('2026-06-16T02:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const clock: Clock = { now: () => T0 };
const random: Random = { bytes: (n) => randomBytes(n) };
const render = new Renderer(createTranslator(), 'Asia/Ho_Chi_Minh');
/** An operator's token, as the admin API hands its caller to the services. */
const SCRIPT: Caller = {
  actor: { kind: 'token', tokenId: null, name: 'Kịch bản đồng bộ' },
  principal: WHOLE_ORGANISATION,
};

let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
const ids = new Map<string, string>();

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  await upsertUnit(db, 'TINH', { name: 'UBND tỉnh' });
  await upsertUnit(db, 'HUYEN1', { name: 'UBND huyện Một', parentCode: 'TINH' });
  await upsertUnit(db, 'XA1', { name: 'UBND xã Một', parentCode: 'HUYEN1' });
  await upsertUnit(db, 'XA2', { name: 'UBND xã Hai', parentCode: 'HUYEN1' });
  for (const [code, unitCode, role] of [
    ['XA1-F', 'XA1', 'focal'],
    ['XA1-M', 'XA1', 'member'],
    ['XA1-M2', 'XA1', 'member'],
    ['XA1-L', 'XA1', 'leader'],
    ['XA2-F', 'XA2', 'focal'],
  ] as const) {
    await upsertOfficial(db, code, { name: `Cán bộ ${code}`, unitCode, role });
    ids.set(code, (await db.official.findUniqueOrThrow({ where: { code } })).id);
  }
});

afterAll(async () => {
  await testDb?.close();
});

const must = (key: string): string => {
  const value = ids.get(key);
  if (!value) throw new Error(`no id for ${key}`);
  return value;
};

/** The trail about one target (code or id), newest first, as the whole organisation reads it. */
const about = (target: string, action?: string) =>
  listAudit(db, WHOLE_ORGANISATION, { target, ...(action ? { action } : {}) });
const shape = (rows: AuditView[]) => rows.map((row) => [row.action, row.changes]);

/** Runs work that must fail with a DomainError, and checks that the trail did not grow. */
async function refusedWithoutTrail(work: () => Promise<unknown>): Promise<DomainError> {
  const before = await db.auditEvent.count();
  const error = await work().then(
    () => {
      throw new Error('expected the change to be refused');
    },
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(DomainError);
  expect(await db.auditEvent.count()).toBe(before);
  return error as DomainError;
}

describe('units', () => {
  it('writes a row for a creation, one per rename, move and other change, and none for no change', async () => {
    await upsertUnit(db, 'XA9', { name: 'Xã Chín', parentCode: 'HUYEN1', kind: 'commune' }, SCRIPT);
    expect(await about('XA9')).toMatchObject([
      {
        actor: { kind: 'token', name: 'Kịch bản đồng bộ' },
        action: 'unit.create',
        target: { kind: 'unit', code: 'XA9' },
        changes: { name: 'Xã Chín', parentCode: 'HUYEN1', kind: 'commune', blockCodes: [] },
      },
    ]);
    await upsertUnit(
      db,
      'XA9',
      { name: 'Xã Chín Mới', parentCode: 'TINH', kind: 'commune', blockCodes: ['K1'] },
      SCRIPT,
    );
    const changed = await about('XA9');
    expect(changed).toHaveLength(4);
    expect(shape(changed).sort()).toEqual(
      [
        ['unit.create', { name: 'Xã Chín', parentCode: 'HUYEN1', kind: 'commune', blockCodes: [] }],
        ['unit.rename', { name: ['Xã Chín', 'Xã Chín Mới'] }],
        ['unit.move', { parentCode: ['HUYEN1', 'TINH'] }],
        ['unit.update', { blockCodes: [[], ['K1']] }],
      ].sort(),
    );
    await upsertUnit(
      db,
      'XA9',
      { name: 'Xã Chín Mới', parentCode: 'TINH', kind: 'commune', blockCodes: ['K1'] },
      SCRIPT,
    );
    expect(await about('XA9')).toHaveLength(4);
  });

  it('writes nothing for a refused change: a cycle, an unknown parent', async () => {
    await refusedWithoutTrail(() => upsertUnit(db, 'HUYEN1', { name: 'X', parentCode: 'XA1' }, SCRIPT));
    await refusedWithoutTrail(() => upsertUnit(db, 'XA8', { name: 'X', parentCode: 'KHONG-CO' }, SCRIPT));
    expect(await db.unit.count({ where: { code: 'XA8' } })).toBe(0);
  });
});

describe('officials and link codes', () => {
  it('names the changed fields, and says only that a name or a phone number was set or changed', async () => {
    await upsertOfficial(
      db,
      'CB-9',
      { name: 'Nguyễn Văn Chín', unitCode: 'XA1', role: 'focal', phone: '0912 345 678' },
      SCRIPT,
    );
    await upsertOfficial(
      db,
      'CB-9',
      { name: 'Nguyễn Văn Chín', unitCode: 'XA2', role: 'leader', phone: '0987 654 321' },
      SCRIPT,
    );
    const rows = await about('CB-9');
    expect(shape(rows)).toEqual([
      ['official.update', { unitCode: ['XA1', 'XA2'], role: ['focal', 'leader'], phone: 'changed' }],
      [
        'official.create',
        {
          name: 'set',
          unitCode: 'XA1',
          role: 'focal',
          locale: 'vi',
          preferredChannel: null,
          digest: { weekday: 1, time: '08:00' },
          active: true,
          phone: 'set',
        },
      ],
    ]);
    // Personal data never enters the append-only trail, which outlives an erasure.
    expect(JSON.stringify(rows)).not.toMatch(/0912|0987|345|654|Chín/);
    await refusedWithoutTrail(() =>
      upsertOfficial(db, 'CB-9', { name: 'X', unitCode: 'KHONG-CO', role: 'member' }, SCRIPT),
    );
  });

  it('records a link code issued, one row per official for a sheet, and never the code', async () => {
    const issued = await issueLinkCode(
      db,
      'XA1-F',
      { clock, random, linkCodeKeys: TEST_LINK_CODE_KEYS },
      SCRIPT,
    );
    const sheet = await issueSubtreeLinkCodes(
      db,
      'XA2',
      { roles: undefined },
      { clock, random, linkCodeKeys: TEST_LINK_CODE_KEYS },
      SCRIPT,
    );
    const rows = await listAudit(db, WHOLE_ORGANISATION, { action: 'official.link_code' });
    expect(rows.map((row) => row.target.code).sort()).toEqual(
      ['XA1-F', ...sheet.codes.map((code) => code.officialCode)].sort(),
    );
    expect(rows.every((row) => row.actor.name === 'Kịch bản đồng bộ')).toBe(true);
    const trail = JSON.stringify(rows);
    for (const code of [issued.code, ...sheet.codes.map((entry) => entry.code)])
      expect(trail).not.toContain(code);
    await refusedWithoutTrail(() =>
      issueLinkCode(db, 'KHONG-CO', { clock, random, linkCodeKeys: TEST_LINK_CODE_KEYS }, SCRIPT),
    );
  });
});

describe('the import', () => {
  const csv = (header: string[], ...rows: string[][]) =>
    Buffer.from([header, ...rows].map((row) => row.join(',')).join('\n'));

  it('writes one row per unit and official it created or changed, none for a dry run or an invalid file', async () => {
    const units = csv(
      UNIT_HEADER,
      ['XA1', 'UBND xã Một (mới)', 'HUYEN1', ''],
      ['XA5', 'UBND xã Năm', 'HUYEN1', ''],
    );
    await importSpreadsheet(db, units, { dryRun: true, caller: SCRIPT });
    expect(await about('XA5')).toEqual([]);
    await refusedWithoutTrail(() =>
      importSpreadsheet(db, csv(UNIT_HEADER, ['XA6', 'UBND xã Sáu', 'KHONG-CO', '']), { caller: SCRIPT }),
    );
    await importSpreadsheet(db, units, { caller: SCRIPT });
    expect(shape(await about('XA5'))).toEqual([
      ['unit.create', { name: 'UBND xã Năm', parentCode: 'HUYEN1', blockCodes: [], via: 'import' }],
    ]);
    expect(shape(await about('XA1', 'unit.update'))).toEqual([
      ['unit.update', { name: ['UBND xã Một', 'UBND xã Một (mới)'], via: 'import' }],
    ]);
    await importSpreadsheet(
      db,
      csv(OFFICIAL_HEADER, ['XA5-F', 'Trần Thị Năm', 'XA5', 'đầu mối', '0911222333']),
      { caller: SCRIPT },
    );
    const official = await about('XA5-F');
    expect(shape(official)).toEqual([
      [
        'official.create',
        { name: 'Trần Thị Năm', unitCode: 'XA5', role: 'focal', phone: 'set', via: 'import' },
      ],
    ]);
    expect(official[0]?.actor).toEqual({ kind: 'token', name: 'Kịch bản đồng bộ' });
    expect(JSON.stringify(official)).not.toContain('0911222333');
  });
});

describe('campaigns', () => {
  const input = {
    docNumber: '21/KH-UBND',
    title: 'Thi đua nông thôn mới',
    issuerUnitCode: 'HUYEN1',
    startsOn: '2026-06-15',
    endsOn: '2026-12-31',
    unitCodes: ['XA1', 'XA2'],
    tasks: [{ key: 'NV1', title: 'Làm đường giao thông', dueOn: '2026-09-30' }],
  };

  it('records creation, a patch field by field, the launch with its recipients, and the close', async () => {
    const campaign = await createCampaign(db, input, SCRIPT);
    expect(await about(campaign.id)).toMatchObject([
      {
        action: 'campaign.create',
        target: { kind: 'campaign', code: '21/KH-UBND', id: campaign.id },
        changes: {
          docNumber: '21/KH-UBND',
          issuerUnitCode: 'HUYEN1',
          unitCodes: ['XA1', 'XA2'],
          tasks: input.tasks,
        },
      },
    ]);
    await updateCampaign(
      db,
      campaign.id,
      {
        title: 'Thi đua xây dựng nông thôn mới',
        tasks: [{ key: 'NV1', title: 'Làm đường giao thông', dueOn: '2026-10-31' }],
        unitCodes: ['XA1'],
      },
      SCRIPT,
      at(4),
    );
    expect(shape(await about(campaign.id, 'campaign.update'))).toEqual([
      [
        'campaign.update',
        {
          title: ['Thi đua nông thôn mới', 'Thi đua xây dựng nông thôn mới'],
          tasks: [input.tasks, [{ key: 'NV1', title: 'Làm đường giao thông', dueOn: '2026-10-31' }]],
          units: { added: [], removed: ['XA2'] },
        },
      ],
    ]);
    // Refused patches (a task due after the campaign ends, an unknown unit) and a no-op write nothing.
    await refusedWithoutTrail(() =>
      updateCampaign(
        db,
        campaign.id,
        { tasks: [{ key: 'NV1', title: 'X', dueOn: '2027-01-31' }] },
        SCRIPT,
        at(4),
      ),
    );
    await refusedWithoutTrail(() =>
      updateCampaign(db, campaign.id, { unitCodes: ['KHONG-CO'] }, SCRIPT, at(4)),
    );
    await updateCampaign(db, campaign.id, { title: 'Thi đua xây dựng nông thôn mới' }, SCRIPT, at(4));
    expect(await about(campaign.id, 'campaign.update')).toHaveLength(1);

    const launched = await launchCampaign(db, campaign.id, render, at(5), SCRIPT);
    await launchCampaign(db, campaign.id, render, at(6), SCRIPT);
    expect(await about(campaign.id, 'campaign.launch')).toEqual([
      {
        at: at(5),
        actor: { kind: 'token', name: 'Kịch bản đồng bộ' },
        action: 'campaign.launch',
        target: { kind: 'campaign', code: '21/KH-UBND', id: campaign.id },
        changes: { ...launched, state: ['draft', 'running'] },
      },
    ]);
    await closeCampaign({ db, render, timeZone: 'Asia/Ho_Chi_Minh' }, campaign.id, at(10), SCRIPT);
    await refusedWithoutTrail(() => launchCampaign(db, campaign.id, render, at(11), SCRIPT));
    expect(shape(await about(campaign.id, 'campaign.close'))).toEqual([
      ['campaign.close', { state: ['running', 'closed'] }],
    ]);
  });
});

describe('in chat', () => {
  let campaignId: string;
  let taskId: string;
  const member = (code: string, role: Undoer['role']): Undoer => ({
    id: must(code),
    unitId: ids.get(code.startsWith('XA2') ? 'unit:XA2' : 'unit:XA1') ?? '',
    role,
  });
  const report = async (official: string, now: Date) => {
    const result = await recordStatus(db, {
      officialId: must(official),
      unitId: member(official, 'member').unitId,
      taskId,
      status: 'in_progress',
      percent: 40,
      note: 'đang làm, liên hệ 0912000111',
      sourceText: 'đang làm 40%',
      channel: 'telegram',
      now,
    });
    if (result.kind !== 'recorded') throw new Error(`not recorded: ${result.kind}`);
    return result.reportId;
  };

  beforeAll(async () => {
    for (const code of ['XA1', 'XA2'])
      ids.set(`unit:${code}`, (await db.unit.findUniqueOrThrow({ where: { code } })).id);
    const campaign = await createCampaign(db, {
      docNumber: '22/KH-UBND',
      title: 'Thi đua cải cách hành chính',
      issuerUnitCode: 'HUYEN1',
      startsOn: '2026-06-15',
      endsOn: '2026-12-31',
      unitCodes: ['XA1', 'XA2'],
      tasks: [{ key: 'CCHC', title: 'Một cửa điện tử', dueOn: '2026-09-30' }],
    });
    campaignId = campaign.id;
    taskId = (await db.task.findFirstOrThrow({ where: { campaignId } })).id;
  });

  it('records a chat linked by its official, without the chat id or the code', async () => {
    const { code } = await issueLinkCode(db, 'XA1-M', { clock, random, linkCodeKeys: TEST_LINK_CODE_KEYS });
    const linked = await redeemLinkCode(
      db,
      { channel: 'telegram', chatId: '777000111', code, now: at(1) },
      redeemDeps,
    );
    expect(linked.kind).toBe('linked');
    const rows = await about('XA1-M', 'account.link');
    expect(rows).toEqual([
      {
        at: at(1),
        actor: { kind: 'official', code: 'XA1-M', name: 'Cán bộ XA1-M' },
        action: 'account.link',
        target: { kind: 'official', code: 'XA1-M', id: must('XA1-M') },
        changes: { channel: 'telegram' },
      },
    ]);
    expect(JSON.stringify(rows)).not.toContain('777000111');
    expect(JSON.stringify(rows)).not.toContain(code);
    // A code used up links nothing and writes nothing.
    const before = await db.auditEvent.count();
    expect(
      (await redeemLinkCode(db, { channel: 'telegram', chatId: '5', code, now: at(2) }, redeemDeps)).kind,
    ).toBe('used');
    expect(await db.auditEvent.count()).toBe(before);
  });

  it('refuses a report, an acknowledgement and a registration on a campaign not running, writing nothing', async () => {
    const before = await db.auditEvent.count();
    const unitId = member('XA1-F', 'focal').unitId;
    const input = {
      officialId: must('XA1-F'),
      unitId,
      taskId,
      status: 'done' as const,
      percent: null,
      note: null,
      sourceText: null,
      channel: 'telegram',
      now: at(2),
    };
    expect((await recordStatus(db, input)).kind).toBe('not_allowed');
    const act = { campaignId, unitId, officialId: must('XA1-F'), channel: 'telegram', now: at(2) };
    expect((await recordCampaignAct(db, 'acknowledge', act)).kind).toBe('not_allowed');
    expect((await recordCampaignAct(db, 'register', act)).kind).toBe('not_allowed');
    expect(await db.auditEvent.count()).toBe(before);
  });

  it('records a report, an acknowledgement and a registration once, by the official', async () => {
    await launchCampaign(db, campaignId, render, at(3));
    const reportId = await report('XA1-F', at(4));
    const rows = await listAudit(db, WHOLE_ORGANISATION, { action: 'report.create', campaignId });
    expect(rows).toEqual([
      {
        at: at(4),
        actor: { kind: 'official', code: 'XA1-F', name: 'Cán bộ XA1-F' },
        action: 'report.create',
        target: { kind: 'task', code: 'CCHC', id: taskId },
        changes: {
          reportId,
          docNumber: '22/KH-UBND',
          unitCode: 'XA1',
          status: 'in_progress',
          percent: 40,
          channel: 'telegram',
        },
      },
    ]);
    // The note is free text kept with the report, not copied into the trail that can never be erased.
    expect(JSON.stringify(rows)).not.toContain('0912000111');
    const act = {
      campaignId,
      unitId: member('XA1-F', 'focal').unitId,
      officialId: must('XA1-F'),
      channel: 'zalo',
      now: at(5),
    };
    for (const kind of ['acknowledge', 'register'] as const) {
      expect((await recordCampaignAct(db, kind, act)).kind).toBe('recorded');
      expect((await recordCampaignAct(db, kind, { ...act, officialId: must('XA1-M') })).kind).toBe('already');
    }
    expect(
      (await listAudit(db, WHOLE_ORGANISATION, { campaignId, actor: 'XA1-F' }))
        .map((row) => [row.action, row.changes])
        .filter(([action]) => action !== 'report.create'),
    ).toEqual([
      ['campaign.register', { channel: 'zalo' }],
      ['campaign.acknowledge', { channel: 'zalo' }],
    ]);
    expect(await listAudit(db, WHOLE_ORGANISATION, { campaignId, actor: 'XA1-M' })).toEqual([]);
  });

  it('writes the same row on the plain pg transactions a dialogue turn runs on first', async () => {
    const raw = new RawTransactions(testDb.database.url, 1);
    try {
      const reportId = await raw.run(async (tx) => {
        const result = await recordStatus(tx, {
          officialId: must('XA1-F'),
          unitId: member('XA1-F', 'focal').unitId,
          taskId,
          status: 'blocked',
          percent: null,
          note: null,
          sourceText: 'vướng kinh phí',
          channel: 'zalo',
          now: at(7),
        });
        return result.kind === 'recorded' ? result.reportId : undefined;
      });
      expect(await listAudit(db, WHOLE_ORGANISATION, { target: taskId, since: at(7), until: at(8) })).toEqual(
        [
          {
            at: at(7),
            actor: { kind: 'official', code: 'XA1-F', name: 'Cán bộ XA1-F' },
            action: 'report.create',
            target: { kind: 'task', code: 'CCHC', id: taskId },
            changes: {
              reportId,
              docNumber: '22/KH-UBND',
              unitCode: 'XA1',
              status: 'blocked',
              percent: null,
              channel: 'zalo',
            },
          },
        ],
      );
    } finally {
      await raw.end();
    }
  });

  it('lets the reporter, or a focal or leader official of the unit, undo a report, and records who did', async () => {
    const undoRows = () => listAudit(db, WHOLE_ORGANISATION, { action: 'report.undo', campaignId });
    const byMember = await report('XA1-M', at(10));
    // Another member of the unit, and the focal official of another unit, may not; nothing is written.
    const before = await db.auditEvent.count();
    expect(
      (await undoReport(db, { reportId: byMember, by: member('XA1-M2', 'member'), now: at(11) })).kind,
    ).toBe('not_allowed');
    expect(
      (await undoReport(db, { reportId: byMember, by: member('XA2-F', 'focal'), now: at(11) })).kind,
    ).toBe('not_allowed');
    expect(await db.auditEvent.count()).toBe(before);
    expect((await db.statusReport.findUniqueOrThrow({ where: { id: byMember } })).undoneAt).toBeNull();

    expect(
      (await undoReport(db, { reportId: byMember, by: member('XA1-M', 'member'), now: at(12) })).kind,
    ).toBe('undone');
    const byFocal = await report('XA1-F', at(13));
    expect(
      (await undoReport(db, { reportId: byFocal, by: member('XA1-L', 'leader'), now: at(14) })).kind,
    ).toBe('undone');
    const again = await report('XA1-M2', at(15));
    expect((await undoReport(db, { reportId: again, by: member('XA1-F', 'focal'), now: at(16) })).kind).toBe(
      'undone',
    );
    expect((await undoReport(db, { reportId: again, by: member('XA1-F', 'focal'), now: at(17) })).kind).toBe(
      'already_undone',
    );
    const undone = await db.statusReport.findMany({
      where: { id: { in: [byMember, byFocal, again] } },
      select: { id: true, undoneById: true, undoneAt: true },
    });
    expect(Object.fromEntries(undone.map((row) => [row.id, [row.undoneById, row.undoneAt]]))).toEqual({
      [byMember]: [must('XA1-M'), at(12)],
      [byFocal]: [must('XA1-L'), at(14)],
      [again]: [must('XA1-F'), at(16)],
    });
    expect((await undoRows()).map((row) => [row.actor.code, row.changes])).toEqual([
      ['XA1-F', { reportId: again, status: 'in_progress', percent: 40 }],
      ['XA1-L', { reportId: byFocal, status: 'in_progress', percent: 40 }],
      ['XA1-M', { reportId: byMember, status: 'in_progress', percent: 40 }],
    ]);
  });
});

describe('the break-glass token', () => {
  it('is recorded under its name', async () => {
    await upsertUnit(db, 'XA7', { name: 'UBND xã Bảy', parentCode: 'HUYEN1' }, ADMIN_TOKEN_CALLER);
    expect((await about('XA7'))[0]?.actor).toEqual({ kind: 'token', name: 'ADMIN_API_TOKEN' });
  });
});
