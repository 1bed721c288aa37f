import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_CALLER } from '../../src/services/audit.ts';
import { Renderer } from '../../src/conversation/render.ts';
import type { Db } from '../../src/db/client.ts';
import type { Role } from '../../src/generated/prisma/enums.ts';
import { createTranslator } from '../../src/i18n.ts';
import {
  createCampaign,
  getCampaign,
  launchCampaign,
  sendMissedLaunches,
  updateCampaign,
  type CampaignInput,
} from '../../src/services/campaigns.ts';
import { DomainError } from '../../src/services/errors.ts';
import { issueLinkCode, redeemLinkCode, upsertOfficial } from '../../src/services/officials.ts';
import { TEST_LINK_CODE_KEYS, redeemDeps } from '../support/link-codes.ts';
import { messageFromPayload } from '../../src/services/outbox.ts';
import type { Clock, Random } from '../../src/services/ports.ts';
import { recordStatus } from '../../src/services/reports.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { withTestDb } from '../support/db.ts';

const T0 = new Date('2026-06-16T02:00:00.000Z');
const clock: Clock = { now: () => T0 };
const random: Random = { bytes: (n) => randomBytes(n) };
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);
const renderer = new Renderer(createTranslator(), 'Asia/Ho_Chi_Minh');

let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let chatSeq = 1000;

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
});

afterAll(async () => {
  await testDb?.close();
});

async function domainError(work: () => Promise<unknown>): Promise<DomainError> {
  try {
    await work();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected a DomainError, nothing was thrown');
}

/** Creates an official and, unless `chats` is 0, links that many chats to them (the last one linked latest). */
async function official(
  code: string,
  unitCode: string,
  role: Role,
  chats = 1,
  linkedAt: Date = at(0),
): Promise<{ id: string; chatIds: string[]; accountIds: string[] }> {
  await upsertOfficial(db, code, { name: `Cán bộ ${code}`, unitCode, role });
  const { id } = await db.official.findUniqueOrThrow({ where: { code } });
  const chatIds: string[] = [];
  const accountIds: string[] = [];
  for (let i = 0; i < chats; i += 1) {
    chatSeq += 1;
    const chatId = String(chatSeq);
    const { code: linkCode } = await issueLinkCode(db, code, {
      clock,
      random,
      linkCodeKeys: TEST_LINK_CODE_KEYS,
    });
    const now = new Date(linkedAt.getTime() + i * 1000);
    const result = await db.$transaction((tx) =>
      redeemLinkCode(tx, { channel: 'telegram', chatId, code: linkCode, now }, redeemDeps),
    );
    if (result.kind !== 'linked') throw new Error(`could not link ${code}: ${result.kind}`);
    chatIds.push(chatId);
    accountIds.push(result.accountId);
  }
  return { id, chatIds, accountIds };
}

function launchRows(campaignId: string) {
  return db.outboxMessage.findMany({
    where: { dedupeKey: { startsWith: `launch:${campaignId}:` } },
    orderBy: { seq: 'asc' },
  });
}

const counts = async () => ({
  campaigns: await db.campaign.count(),
  tasks: await db.task.count(),
  participants: await db.campaignUnit.count(),
});

describe('createCampaign validation', () => {
  const valid = (overrides: Partial<CampaignInput> = {}): CampaignInput => ({
    docNumber: '01/KH-UBND',
    title: 'Phong trào thi đua chung sức xây dựng nông thôn mới',
    issuerUnitCode: 'V-ISSUER',
    startsOn: '2026-06-15',
    endsOn: '2026-10-30',
    unitCodes: ['V-A', 'V-B'],
    tasks: [
      { key: 'QT', title: 'Quán triệt, triển khai', dueOn: '2026-07-15' },
      { key: 'TK', title: 'Tổng kết', dueOn: '2026-10-30' },
    ],
    ...overrides,
  });

  beforeAll(async () => {
    await upsertUnit(db, 'V-ISSUER', { name: 'UBND huyện Tam Đường' });
    await upsertUnit(db, 'V-A', { name: 'UBND xã Bình Lư', parentCode: 'V-ISSUER' });
    await upsertUnit(db, 'V-B', { name: 'UBND xã Bản Giang', parentCode: 'V-ISSUER' });
  });

  it('creates a valid campaign as a draft', async () => {
    const created = await createCampaign(db, valid({ docNumber: 'V-OK/KH' }));
    expect(created).toMatchObject({
      docNumber: 'V-OK/KH',
      issuerUnitCode: 'V-ISSUER',
      startsOn: '2026-06-15',
      endsOn: '2026-10-30',
      state: 'draft',
      kind: 'regular',
      unitCodes: ['V-A', 'V-B'],
      tasks: valid().tasks,
      launchedAt: null,
    });
    expect(await getCampaign(db, created.id)).toEqual(created);
  });

  it('refuses unknown unit codes, listing them, and writes nothing', async () => {
    const before = await counts();
    const error = await domainError(() =>
      createCampaign(db, valid({ unitCodes: ['V-A', 'NOPE-1', 'V-B', 'NOPE-2', 'NOPE-1'] })),
    );
    expect(error.code).toBe('unknown_units');
    expect(error.kind).toBe('invalid');
    expect(error.details).toEqual({ unitCodes: ['NOPE-1', 'NOPE-2'] });
    expect(await counts()).toEqual(before);
  });

  it('refuses an unknown issuer', async () => {
    const before = await counts();
    const error = await domainError(() => createCampaign(db, valid({ issuerUnitCode: 'NOPE' })));
    expect(error.code).toBe('unknown_issuer');
    expect(await counts()).toEqual(before);
  });

  it('refuses a task due outside the campaign', async () => {
    const before = await counts();
    const late = await domainError(() =>
      createCampaign(
        db,
        valid({
          tasks: [
            { key: 'QT', title: 'Quán triệt', dueOn: '2026-07-15' },
            { key: 'TK', title: 'Tổng kết', dueOn: '2026-10-31' },
          ],
        }),
      ),
    );
    expect(late.code).toBe('task_due_outside_campaign');
    expect(late.details).toMatchObject({ taskKeys: ['TK'] });
    const early = await domainError(() =>
      createCampaign(db, valid({ tasks: [{ key: 'QT', title: 'Quán triệt', dueOn: '2026-06-14' }] })),
    );
    expect(early.code).toBe('task_due_outside_campaign');
    expect(early.details).toMatchObject({ taskKeys: ['QT'] });
    expect(await counts()).toEqual(before);
  });

  it('refuses duplicate task keys', async () => {
    const before = await counts();
    const error = await domainError(() =>
      createCampaign(
        db,
        valid({
          tasks: [
            { key: 'QT', title: 'Quán triệt', dueOn: '2026-07-15' },
            { key: 'QT', title: 'Quán triệt lần 2', dueOn: '2026-08-15' },
          ],
        }),
      ),
    );
    expect(error.code).toBe('duplicate_task_key');
    expect(error.details).toEqual({ taskKeys: ['QT'] });
    expect(await counts()).toEqual(before);
  });

  it('refuses startsOn after endsOn', async () => {
    const before = await counts();
    const error = await domainError(() =>
      createCampaign(db, valid({ startsOn: '2026-10-31', endsOn: '2026-10-30', tasks: [] })),
    );
    expect(error.code).toBe('invalid_dates');
    expect(await counts()).toEqual(before);
  });

  it('refuses a document number already used, as a conflict', async () => {
    const first = await createCampaign(db, valid({ docNumber: 'V-DUP/KH' }));
    const before = await counts();
    const error = await domainError(() =>
      createCampaign(db, valid({ docNumber: 'V-DUP/KH', title: 'Khác' })),
    );
    expect(error.code).toBe('duplicate_doc_number');
    expect(error.kind).toBe('conflict');
    expect(error.details).toEqual({ id: first.id });
    expect(await counts()).toEqual(before);
    expect((await getCampaign(db, first.id)).title).toBe(valid().title);
  });

  it('refuses one of two concurrent creations with the same document number as a conflict', async () => {
    const before = await counts();
    const results = await Promise.allSettled([
      createCampaign(db, valid({ docNumber: 'V-RACE/KH' })),
      createCampaign(db, valid({ docNumber: 'V-RACE/KH' })),
    ]);
    const fulfilled = results.filter((result) => result.status === 'fulfilled');
    const rejected = results.flatMap((result) =>
      result.status === 'rejected' ? [result.reason as unknown] : [],
    );
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toBeInstanceOf(DomainError);
    expect(rejected[0]).toMatchObject({ code: 'duplicate_doc_number', kind: 'conflict' });
    expect(await counts()).toEqual({
      campaigns: before.campaigns + 1,
      tasks: before.tasks + 2,
      participants: before.participants + 2,
    });
  });
});

describe('launchCampaign', () => {
  let campaignId: string;
  const recipients: Record<string, { id: string; chatIds: string[]; accountIds: string[] }> = {};

  beforeAll(async () => {
    await upsertUnit(db, 'L-ISSUER', { name: 'UBND huyện Tam Đường' });
    await upsertUnit(db, 'L-A', { name: 'UBND xã Bình Lư', parentCode: 'L-ISSUER' });
    await upsertUnit(db, 'L-B', { name: 'UBND xã Bản Giang', parentCode: 'L-ISSUER' });
    await upsertUnit(db, 'L-C', { name: 'UBND xã Sơn Bình', parentCode: 'L-ISSUER' });
    recipients.aFocal = await official('L-A-F1', 'L-A', 'focal');
    recipients.aLeader = await official('L-A-L1', 'L-A', 'leader');
    recipients.bFocal = await official('L-B-F1', 'L-B', 'focal', 2);
    // Not recipients:
    await official('L-A-M1', 'L-A', 'member'); // a member
    await official('L-A-F2', 'L-A', 'focal', 0); // unreachable: no account
    const blocked = await official('L-A-L2', 'L-A', 'leader'); // unreachable: account deactivated
    await db.channelAccount.update({
      where: { id: blocked.accountIds[0] },
      data: { active: false, inactiveReason: 'blocked', deactivatedAt: at(1) },
    });
    await official('L-B-A1', 'L-B', 'admin'); // an admin of a participating unit
    await official('L-C-F1', 'L-C', 'focal'); // a unit not taking part
    await official('L-ISS-L1', 'L-ISSUER', 'leader'); // the issuer, not taking part
    const created = await createCampaign(db, {
      docNumber: '15/KH-UBND',
      title: 'Thi đua thực hiện nhiệm vụ phát triển kinh tế – xã hội năm 2026',
      theme: 'Đoàn kết, sáng tạo',
      issuerUnitCode: 'L-ISSUER',
      startsOn: '2026-06-15',
      endsOn: '2026-10-30',
      unitCodes: ['L-A', 'L-B'],
      tasks: [
        { key: 'QT', title: 'Quán triệt, triển khai', dueOn: '2026-07-05' },
        { key: 'TK', title: 'Tổng kết, đề xuất khen thưởng', dueOn: '2026-10-30' },
      ],
    });
    campaignId = created.id;
  });

  it('writes one row per reachable focal or leader official of the participating units', async () => {
    const result = await launchCampaign(db, campaignId, renderer, at(10));
    expect(result).toEqual({ recipients: 3, unreachable: 2, newlySent: 3 });
    const campaign = await db.campaign.findUniqueOrThrow({ where: { id: campaignId } });
    expect(campaign.state).toBe('running');
    expect(campaign.launchedAt?.toISOString()).toBe(at(10).toISOString());

    const rows = await launchRows(campaignId);
    const expected = [recipients.aFocal, recipients.aLeader, recipients.bFocal].map((who) => ({
      officialId: who?.id,
      // An official with several chats is reached on the one linked last.
      chatId: who?.chatIds.at(-1),
      channelAccountId: who?.accountIds.at(-1),
      channel: 'telegram',
      state: 'pending',
      dedupeKey: `launch:${campaignId}:${who?.id}`,
    }));
    const sortByOfficial = <T extends { officialId?: string | null }>(list: T[]) =>
      [...list].sort((a, b) => (a.officialId ?? '').localeCompare(b.officialId ?? ''));
    expect(sortByOfficial(rows)).toEqual(
      sortByOfficial(expected).map((row): unknown => expect.objectContaining(row)),
    );

    for (const row of rows) {
      const message = messageFromPayload(row.payload);
      expect(message.text).toContain('15/KH-UBND');
      expect(message.text).toContain('Thi đua thực hiện nhiệm vụ phát triển kinh tế – xã hội năm 2026');
      expect(message.text).toContain('05/07/2026');
      expect(message.text).toContain('30/10/2026');
      expect(message.text).not.toContain('2026-07-05');
      expect(message.choices?.map((row) => row.map(({ label, data }) => ({ label, data })))).toEqual([
        [
          { label: '👍 Đã nhận', data: `ack:${campaignId}` },
          { label: '📝 Đăng ký thi đua', data: `reg:${campaignId}` },
        ],
      ]);
    }
  });

  it('adds nothing when launched again', async () => {
    const before = await db.outboxMessage.count();
    const again = await launchCampaign(db, campaignId, renderer, at(20));
    expect(again).toEqual({ recipients: 3, unreachable: 2, newlySent: 0 });
    expect(await db.outboxMessage.count()).toBe(before);
    // The first launch time stays.
    const campaign = await db.campaign.findUniqueOrThrow({ where: { id: campaignId } });
    expect(campaign.launchedAt?.toISOString()).toBe(at(10).toISOString());
  });

  it('adds rows once when two launches race', async () => {
    const raced = await createCampaign(db, {
      docNumber: '16/KH-UBND',
      title: 'Thi đua đợt cao điểm',
      issuerUnitCode: 'L-ISSUER',
      startsOn: '2026-06-15',
      endsOn: '2026-09-02',
      unitCodes: ['L-A', 'L-B'],
      tasks: [{ key: 'DK', title: 'Đăng ký thi đua', dueOn: '2026-06-30' }],
    });
    const results = await Promise.all([
      launchCampaign(db, raced.id, renderer, at(30)),
      launchCampaign(db, raced.id, renderer, at(31)),
    ]);
    expect(results.map((result) => result.newlySent).sort()).toEqual([0, 3]);
    expect(results.every((result) => result.recipients === 3 && result.unreachable === 2)).toBe(true);
    const rows = await launchRows(raced.id);
    expect(rows).toHaveLength(3);
    expect(new Set(rows.map((row) => row.officialId)).size).toBe(3);
    expect((await getCampaign(db, raced.id)).state).toBe('running');
  });

  it('refuses to launch a closed campaign and writes nothing', async () => {
    const closed = await createCampaign(db, {
      docNumber: '17/KH-UBND',
      title: 'Thi đua đã kết thúc',
      issuerUnitCode: 'L-ISSUER',
      startsOn: '2026-06-15',
      endsOn: '2026-07-30',
      unitCodes: ['L-A'],
      tasks: [],
    });
    await db.campaign.update({ where: { id: closed.id }, data: { state: 'closed', closedAt: at(40) } });
    const before = await db.outboxMessage.count();
    const error = await domainError(() => launchCampaign(db, closed.id, renderer, at(41)));
    expect(error.code).toBe('campaign_closed');
    expect(error.kind).toBe('conflict');
    expect(await db.outboxMessage.count()).toBe(before);
    const row = await db.campaign.findUniqueOrThrow({ where: { id: closed.id } });
    expect(row.state).toBe('closed');
    expect(row.launchedAt).toBeNull();
  });

  it('answers not_found for an unknown campaign id, whatever its shape', async () => {
    const unknownUuid = await domainError(() => launchCampaign(db, randomUUID(), renderer, at(50)));
    expect(unknownUuid).toMatchObject({ code: 'not_found', kind: 'not_found' });
    const notAUuid = await domainError(() => launchCampaign(db, 'no-such-campaign', renderer, at(50)));
    expect(notAUuid).toMatchObject({ code: 'not_found', kind: 'not_found' });
  });
});

describe('updateCampaign', () => {
  beforeAll(async () => {
    await upsertUnit(db, 'U-ISSUER', { name: 'UBND huyện Phong Thổ' });
    await upsertUnit(db, 'U-A', { name: 'UBND xã Dào San', parentCode: 'U-ISSUER' });
    await upsertUnit(db, 'U-B', { name: 'UBND xã Mồ Sì San', parentCode: 'U-ISSUER' });
    await official('U-A-F1', 'U-A', 'focal');
  });

  it('keeps the reports of a task renamed under the same key and drops a removed unit', async () => {
    const created = await createCampaign(db, {
      docNumber: '20/KH-UBND',
      title: 'Thi đua cải cách hành chính',
      issuerUnitCode: 'U-ISSUER',
      startsOn: '2026-06-15',
      endsOn: '2026-12-31',
      unitCodes: ['U-A', 'U-B'],
      tasks: [
        { key: 'QT', title: 'Quán triệt', dueOn: '2026-07-15' },
        { key: 'SK', title: 'Sơ kết', dueOn: '2026-09-30' },
      ],
    });
    await launchCampaign(db, created.id, renderer, at(0));
    const task = await db.task.findUniqueOrThrow({
      where: { campaignId_key: { campaignId: created.id, key: 'QT' } },
    });
    const unitA = await db.unit.findUniqueOrThrow({ where: { code: 'U-A' } });
    const focal = await db.official.findUniqueOrThrow({ where: { code: 'U-A-F1' } });
    const recorded = await db.$transaction((tx) =>
      recordStatus(tx, {
        officialId: focal.id,
        unitId: unitA.id,
        taskId: task.id,
        status: 'in_progress',
        percent: 40,
        note: null,
        sourceText: 'đang triển khai 40%',
        channel: 'telegram',
        now: at(5),
      }),
    );
    expect(recorded.kind).toBe('recorded');

    const updated = await updateCampaign(
      db,
      created.id,
      {
        unitCodes: ['U-A'],
        tasks: [
          { key: 'SK', title: 'Sơ kết 6 tháng', dueOn: '2026-09-30' },
          { key: 'QT', title: 'Quán triệt, triển khai kế hoạch', dueOn: '2026-07-20' },
        ],
      },
      SYSTEM_CALLER,
      at(6),
    );
    expect(updated.unitCodes).toEqual(['U-A']);
    expect(updated.tasks).toEqual([
      { key: 'SK', title: 'Sơ kết 6 tháng', dueOn: '2026-09-30' },
      { key: 'QT', title: 'Quán triệt, triển khai kế hoạch', dueOn: '2026-07-20' },
    ]);
    const participants = await db.campaignUnit.findMany({
      where: { campaignId: created.id },
      include: { unit: { select: { code: true } } },
    });
    expect(participants.map((row) => row.unit.code)).toEqual(['U-A']);
    const renamed = await db.task.findUniqueOrThrow({
      where: { campaignId_key: { campaignId: created.id, key: 'QT' } },
      include: { statusReports: true },
    });
    expect(renamed.id).toBe(task.id);
    expect(renamed.title).toBe('Quán triệt, triển khai kế hoạch');
    expect(renamed.statusReports).toHaveLength(1);
    expect(renamed.statusReports[0]).toMatchObject({
      id: recorded.kind === 'recorded' ? recorded.reportId : '',
      status: 'in_progress',
      percent: 40,
    });
    // The state and launch stay as they were.
    expect(updated.state).toBe('running');
    expect(updated.launchedAt).toBe(at(0).toISOString());

    // A task with a report cannot be removed: the patch is refused whole, the task and its report stay.
    const refused = await updateCampaign(
      db,
      created.id,
      { title: 'Tên mới', tasks: [{ key: 'SK', title: 'Sơ kết 6 tháng', dueOn: '2026-09-30' }] },
      SYSTEM_CALLER,
      at(7),
    ).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({
      code: 'task_has_reports',
      kind: 'conflict',
      details: { taskKeys: ['QT'] },
    });
    const kept = await getCampaign(db, created.id);
    expect(kept.title).toBe(updated.title);
    expect(kept.tasks.map((row) => row.key)).toEqual(['SK', 'QT']);
    expect(await db.statusReport.count({ where: { taskId: task.id } })).toBe(1);
  });
});

describe('sendMissedLaunches', () => {
  const campaign = async (docNumber: string, unitCodes: string[]) =>
    createCampaign(db, {
      docNumber,
      title: `Kế hoạch ${docNumber}`,
      issuerUnitCode: 'M-ISSUER',
      startsOn: '2026-06-15',
      endsOn: '2026-12-31',
      unitCodes,
      tasks: [{ key: 'QT', title: 'Quán triệt', dueOn: '2026-07-31' }],
    });

  beforeAll(async () => {
    await upsertUnit(db, 'M-ISSUER', { name: 'UBND huyện Sìn Hồ' });
    await upsertUnit(db, 'M-A', { name: 'UBND xã Pa Tần', parentCode: 'M-ISSUER' });
    await upsertUnit(db, 'M-B', { name: 'UBND xã Nậm Tăm', parentCode: 'M-ISSUER' });
    await official('M-A-F0', 'M-A', 'focal');
  });

  it('sends an official linked after the launch one launch row per running campaign', async () => {
    const running1 = await campaign('30/KH-UBND', ['M-A', 'M-B']);
    const running2 = await campaign('31/KH-UBND', ['M-A']);
    const otherUnit = await campaign('32/KH-UBND', ['M-B']);
    const draft = await campaign('33/KH-UBND', ['M-A']);
    const closed = await campaign('34/KH-UBND', ['M-A']);
    for (const launched of [running1, running2, otherUnit, closed]) {
      await launchCampaign(db, launched.id, renderer, at(0));
    }
    await db.campaign.update({ where: { id: closed.id }, data: { state: 'closed', closedAt: at(1) } });

    // Linked after the launches.
    const late = await official('M-A-F9', 'M-A', 'focal', 1, at(60));
    const sent = await db.$transaction((tx) => sendMissedLaunches(tx, late.id, renderer));
    expect(sent).toBe(2);
    const rows = await db.outboxMessage.findMany({ where: { officialId: late.id } });
    expect(rows.map((row) => row.dedupeKey).sort()).toEqual(
      [`launch:${running1.id}:${late.id}`, `launch:${running2.id}:${late.id}`].sort(),
    );
    expect(rows.every((row) => row.chatId === late.chatIds[0])).toBe(true);
    expect(
      rows.map((row) => messageFromPayload(row.payload).text).some((text) => text.includes('30/KH-UBND')),
    ).toBe(true);

    // Again, or a relaunch, sends nothing more.
    expect(await db.$transaction((tx) => sendMissedLaunches(tx, late.id, renderer))).toBe(0);
    await launchCampaign(db, running1.id, renderer, at(70));
    expect(await db.outboxMessage.count({ where: { officialId: late.id } })).toBe(2);
    expect(await db.outboxMessage.count({ where: { dedupeKey: { contains: draft.id } } })).toBe(0);

    // A member linked late gets nothing.
    const member = await official('M-A-M9', 'M-A', 'member', 1, at(80));
    expect(await db.$transaction((tx) => sendMissedLaunches(tx, member.id, renderer))).toBe(0);
    expect(await db.outboxMessage.count({ where: { officialId: member.id } })).toBe(0);
  });
});
