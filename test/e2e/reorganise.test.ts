import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startService, type ServiceProcess } from '../support/service.ts';
import { hasText, launchCampaign, linkTelegramUser, putOfficials, putUnits } from '../support/seed-api.ts';
import { Emulator, type ChatUser } from '../support/telegram.ts';

/**
 * A merge through the admin API while the officials of the merged communes are chatting with the bot
 * (issue 17): the service as a child process, PostgreSQL, Redis, BullMQ and the Telegram emulator. Every
 * report made around the merge counts (for the old unit before it, for the new one after), each official is
 * told once where their unit went, and the successor reports and is summarised as one unit.
 */
const TOKEN = '200000017:E2E-merge';
const DOC = '17/KH-UBND';

let emulator: Emulator;
let database: TestDatabase;
let service: ServiceProcess;

beforeAll(async () => {
  emulator = await Emulator.start();
  database = await createTestDatabase();
  service = await startService({
    DATABASE_URL: database.url,
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: emulator.url,
  });
});

afterAll(async () => {
  await service?.stop();
  if (process.env.E2E_DEBUG) process.stdout.write(service?.output() ?? '');
  await emulator?.stop();
  await database?.drop();
});

const notices = (user: ChatUser) =>
  user.received.filter((message) => message.text.includes('Đơn vị của anh/chị đã được sáp nhập vào'));

describe('a merge while officials chat', () => {
  let focalA: ChatUser;
  let focalB: ChatUser;
  let focalC: ChatUser;
  let leader: ChatUser;
  let campaignId = '';

  beforeAll(async () => {
    await putUnits(service, [
      { code: 'TINH', name: 'UBND tỉnh Lai Châu' },
      { code: 'XA-A', name: 'UBND xã Bình Lư', parentCode: 'TINH' },
      { code: 'XA-B', name: 'UBND xã Bản Bo', parentCode: 'TINH' },
      { code: 'XA-C', name: 'UBND xã Khun Há', parentCode: 'TINH' },
    ]);
    await putOfficials(service, [
      { code: 'CB-A', name: 'Giàng Thị Dợ', unitCode: 'XA-A', role: 'focal' },
      { code: 'CB-B', name: 'Lò Văn Xiêng', unitCode: 'XA-B', role: 'focal' },
      { code: 'CB-C', name: 'Tẩn Láo Lở', unitCode: 'XA-C', role: 'focal' },
      { code: 'LD', name: 'Lê Văn Lương', unitCode: 'TINH', role: 'leader' },
    ]);
    focalA = await linkTelegramUser(service, emulator, TOKEN, 'CB-A', 7101);
    focalB = await linkTelegramUser(service, emulator, TOKEN, 'CB-B', 7102);
    focalC = await linkTelegramUser(service, emulator, TOKEN, 'CB-C', 7103);
    leader = await linkTelegramUser(service, emulator, TOKEN, 'LD', 7104);
    campaignId = await launchCampaign(service, {
      docNumber: DOC,
      title: 'Phong trào thi đua chính quyền hai cấp vận hành thông suốt',
      issuerUnitCode: 'TINH',
      startsOn: '2026-06-15',
      endsOn: '2027-12-31',
      unitCodes: ['XA-A', 'XA-B', 'XA-C'],
      tasks: [{ key: 'BG', title: 'Bàn giao hồ sơ, tài liệu', dueOn: '2027-06-30' }],
    });
    for (const user of [focalA, focalB, focalC]) await user.waitFor('the launch', hasText(DOC));
  });

  it('counts every report made around the merge and tells each official of the merged units once', async () => {
    await focalB.ask('đã xong', hasText('Đã ghi nhận'));
    // Bình Lư's focal official reports while the operator merges the two communes.
    const [answer, merged] = await Promise.all([
      focalA.ask('đang triển khai 60%', hasText('Đã ghi nhận')),
      service.api<{ code: string; officialsMoved: number }>('POST', '/api/units/merge', {
        from: ['XA-A', 'XA-B'],
        into: { code: 'XA-AB', name: 'UBND xã Bình Lư (mới)' },
      }),
    ]);
    expect(merged.status).toBe(200);
    expect(merged.body).toMatchObject({ code: 'XA-AB', officialsMoved: 2 });
    expect(answer.text).toContain('Đang thực hiện');
    for (const user of [focalA, focalB]) {
      const notice = await user.waitFor(
        'the notice of the merge',
        hasText('sáp nhập vào UBND xã Bình Lư (mới)'),
      );
      expect(notice.text).toContain('các nhiệm vụ đang theo dõi');
    }
    // The report landed on one side of the merge: for Bình Lư before it (then the new commune has the
    // furthest status of the two, Bản Bo's "done"), or for the new commune after it (then it reported again).
    const [report] = (
      await service.api<{ changes: { unitCode: string } }[]>(
        'GET',
        '/api/audit?action=report.create&actor=CB-A',
      )
    ).body;
    expect(['XA-A', 'XA-AB']).toContain(report?.changes.unitCode);
    const expected = report?.changes.unitCode === 'XA-A' ? { done: 1 } : { inProgress: 1 };
    const summary = await service.api<{ units: { total: number }; tasks: object[] }>(
      'GET',
      `/api/campaigns/${campaignId}/summary`,
    );
    expect(summary.body.units.total).toBe(2);
    expect(summary.body.tasks[0]).toMatchObject({ ...expected, noReport: 1 });
  });

  it('lets the merged unit report again as one unit, and shows it with what it was formed from', async () => {
    const tasks = await focalA.ask('/nhiemvu', hasText('Bàn giao hồ sơ'));
    expect(tasks.text).toContain('UBND xã Bình Lư (mới)');
    await focalA.ask('đang triển khai 70%', hasText('Đã ghi nhận'));
    const summary = await service.api<{ tasks: { done: number; inProgress: number }[] }>(
      'GET',
      `/api/campaigns/${campaignId}/summary`,
    );
    expect(summary.body.tasks[0]).toMatchObject({ done: 0, inProgress: 1 });
    const answer = await leader.ask('/tonghop', hasText(DOC));
    expect(answer.text).toContain('UBND xã Bình Lư (mới) (trước đây: UBND xã Bình Lư, UBND xã Bản Bo)');
    // Nobody was told twice, and the commune left alone was told nothing.
    await focalA.drain();
    await focalB.drain();
    await focalC.drain();
    expect(notices(focalA)).toHaveLength(1);
    expect(notices(focalB)).toHaveLength(1);
    expect(notices(focalC)).toHaveLength(0);
    const history = await service.api<{ kind: string; to?: string }[]>('GET', '/api/units/XA-B/history');
    expect(history.body.at(-1)).toMatchObject({ kind: 'merged', to: 'XA-AB' });
  });
});
