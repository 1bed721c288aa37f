import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkCalendar, addDays } from '../../src/domain/calendar.ts';
import { DEFAULT_POLICY } from '../../src/domain/policy.ts';
import { escalationOf, trackUntil } from '../../src/domain/reminder-planner.ts';
import { formatDate, dateFromIso } from '../../src/domain/time.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startService, type ServiceProcess } from '../support/service.ts';
import { hasText, linkTelegramUser, putOfficials, putUnits } from '../support/seed-api.ts';
import { Emulator, type ChatUser } from '../support/telegram.ts';

/** Reminders end to end: the jobs API runs the sweep as of an instant; a Telegram user gets it and answers. */
const TOKEN = '200000002:E2E-reminders';
const DOC = '02/KH-UBND';

let emulator: Emulator;
let database: TestDatabase;
let service: ServiceProcess;
let campaignId: string;
let focal: ChatUser;
let leader: ChatUser;

// Dates relative to today (a launch is never chased for what was due before it): a task due in 60 days,
// its first reminder and its escalation as the planner places them.
const calendar = new WorkCalendar('Asia/Ho_Chi_Minh');
const DUE = addDays(calendar.dayOf(new Date()), 60);
const FIRST = trackUntil({ dueOn: DUE }, DEFAULT_POLICY, calendar, DUE)[0];
const ESCALATION = escalationOf({ dueOn: DUE }, DEFAULT_POLICY, calendar);
const ENDS = addDays(DUE, 90);

const linkedUser = (officialCode: string, userId: number): Promise<ChatUser> =>
  linkTelegramUser(service, emulator, TOKEN, officialCode, userId);

beforeAll(async () => {
  emulator = await Emulator.start();
  database = await createTestDatabase();
  service = await startService({
    DATABASE_URL: database.url,
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: emulator.url,
  });
  await putUnits(service, [
    { code: 'TAMDUONG', name: 'UBND huyện Tam Đường' },
    { code: 'TD-BINHLU', name: 'UBND xã Bình Lư', parentCode: 'TAMDUONG' },
    { code: 'TD-SONBINH', name: 'UBND xã Sơn Bình', parentCode: 'TAMDUONG' },
  ]);
  await putOfficials(service, [
    { code: 'CB1', name: 'Tẩn Văn Chiến', unitCode: 'TD-BINHLU', role: 'focal' },
    { code: 'CB2', name: 'Chảo Văn Minh', unitCode: 'TD-SONBINH', role: 'focal' },
    { code: 'CB3', name: 'Sùng Lữ Páo', unitCode: 'TAMDUONG', role: 'leader' },
  ]);
  focal = await linkedUser('CB1', 6001);
  leader = await linkedUser('CB3', 6003);
});

afterAll(async () => {
  await service?.stop();
  await emulator?.stop();
  await database?.drop();
});

describe('reminders through the jobs API and Telegram', () => {
  it('refuses a policy that makes no sense, naming the field', async () => {
    const base = {
      docNumber: 'BAD/KH',
      title: 'Kế hoạch thử',
      issuerUnitCode: 'TAMDUONG',
      startsOn: calendar.dayOf(new Date()),
      endsOn: ENDS,
      unitCodes: ['TD-BINHLU'],
      tasks: [{ key: 'A', title: 'A', dueOn: DUE }],
    };
    const cases: [Record<string, unknown>, string][] = [
      [{ policy: { daysBefore: [3, -2] } }, 'policy.daysBefore.1'],
      [{ policy: { quietHours: { start: '07:00', end: '07:00' } } }, 'policy.quietHours'],
      [{ policy: { escalateAfterWorkingDays: 'soon' } }, 'policy.escalateAfterWorkingDays'],
      [{ reportSchedule: { cadence: 'weekly' } }, 'reportSchedule.cadence'],
      [{ reportSchedule: { cadence: 'monthly', dueDay: 45 } }, 'reportSchedule.dueDay'],
    ];
    for (const [extra, field] of cases) {
      const answer = await service.api<{ error: { code: string; message: string } }>(
        'POST',
        '/api/campaigns',
        {
          ...base,
          ...extra,
        },
      );
      expect(answer.status, field).toBe(400);
      expect(answer.body.error.message).toContain(field);
    }
  });

  it('creates and launches a campaign with a policy, then changes it', async () => {
    const created = await service.api<{ id: string; policy: unknown }>('POST', '/api/campaigns', {
      docNumber: DOC,
      title: 'Phong trào thi đua đặc biệt chào mừng các sự kiện lịch sử của tỉnh',
      issuerUnitCode: 'TAMDUONG',
      startsOn: calendar.dayOf(new Date()),
      endsOn: ENDS,
      unitCodes: ['TD-BINHLU', 'TD-SONBINH'],
      tasks: [{ key: 'QT', title: 'Quán triệt, triển khai kế hoạch', dueOn: DUE }],
      policy: { daysBefore: [3, 1] },
    });
    expect(created.status).toBe(201);
    campaignId = created.body.id;
    const patched = await service.api<{ policy: unknown }>('PATCH', `/api/campaigns/${campaignId}`, {
      policy: { daysBefore: [3, 1], escalateAfterWorkingDays: 2 },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.policy).toEqual({ daysBefore: [3, 1], escalateAfterWorkingDays: 2 });
    const bad = await service.api('PATCH', `/api/campaigns/${campaignId}`, { policy: { sendAt: '23:00' } });
    expect(bad.status).toBe(400);
    expect((await service.api('POST', `/api/campaigns/${campaignId}/launch`)).status).toBe(202);
    await focal.waitFor('the launch', hasText(DOC));
  });

  it('dry-runs, runs and reruns the reminders job as of an instant; the user gets one reminder with buttons', async () => {
    const at = FIRST?.at.toISOString() ?? '';
    const dry = await service.api<{
      dryRun: boolean;
      wouldSend: number;
      messages: { to: string; text: string }[];
    }>('POST', '/api/jobs/reminders/run', { at, dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body.wouldSend).toBe(1); // CB2 has no linked chat
    expect(dry.body.messages[0]?.to).toBe('CB1');

    const after = (await focal.drain(), focal.received.length);
    const run = await service.api<{ sent: number }>('POST', '/api/jobs/reminders/run', { at });
    expect(run.body.sent).toBe(1);
    const reminder = await focal.waitFor('the reminder', hasText('Nhắc việc'), { after });
    expect(reminder.text).toContain(`hạn ${formatDate(dateFromIso(DUE))}`);
    expect(reminder.buttons.map((button) => button.text)).toEqual([
      '✅ Hoàn thành',
      '⏳ Đang thực hiện',
      '⚠️ Vướng mắc',
      '❌ Chưa thực hiện',
    ]);
    expect((await service.api<{ sent: number }>('POST', '/api/jobs/reminders/run', { at })).body.sent).toBe(
      0,
    );

    // One tap answers it; nothing more comes for that unit, while the other unit is escalated.
    const recorded = await focal.tap(reminder, '✅ Hoàn thành', hasText('Đã ghi nhận'));
    expect(recorded.text).toContain('Quán triệt');
    const late = await service.api<{ sent: number; messages: { kind: string; to: string; text: string }[] }>(
      'POST',
      '/api/jobs/reminders/run',
      { at: ESCALATION?.at.toISOString() },
    );
    expect(late.body.messages.map((m) => `${m.kind}:${m.to}`)).toEqual(['escalation:CB3']);
    const escalation = await leader.waitFor('the escalation', hasText('Báo cáo chậm'));
    expect(escalation.text).toContain('UBND xã Sơn Bình');
    await focal.ask('/huongdan', hasText('Hướng dẫn'));
    expect(
      focal.received.filter(
        (message) => message.text.includes('Nhắc việc') || message.text.includes('Đôn đốc'),
      ),
    ).toHaveLength(1);
  });

  it('lists the jobs with cron, time zone, last and next run; refuses unknown jobs and far instants', async () => {
    const jobs = await service.api<
      { name: string; cron: string; timezone: string; lastRun: unknown; nextRun: string }[]
    >('GET', '/api/jobs');
    expect(jobs.body.map((job) => job.name)).toEqual([
      'reminders',
      'collection',
      'digest',
      'weekly-digest',
      'outbox-relay',
      'cleanup',
      'retention',
    ]);
    const reminders = jobs.body[0];
    expect(reminders).toMatchObject({ cron: '*/15 * * * *', timezone: 'Asia/Ho_Chi_Minh' });
    expect(reminders?.lastRun).toMatchObject({ trigger: 'api', ok: true, at: ESCALATION?.at.toISOString() });
    expect(Date.parse(reminders?.nextRun ?? '')).toBeGreaterThan(Date.now());
    expect((await service.api('POST', '/api/jobs/nope/run', {})).status).toBe(404);
    const far = new Date(Date.now() + 400 * 24 * 3600_000).toISOString();
    expect((await service.api('POST', '/api/jobs/reminders/run', { at: far })).status).toBe(400);
    expect((await service.api('POST', '/api/jobs/reminders/run', { at: far, dryRun: true })).status).toBe(
      200,
    );
  });

  it('closes the campaign: no more reminders, a closing report that shows in the summary', async () => {
    const closed = await service.api<{ state: string }>('POST', `/api/campaigns/${campaignId}/close`);
    expect(closed.status).toBe(200);
    expect(closed.body.state).toBe('closed');
    const after = await service.api<{ sent: number }>('POST', '/api/jobs/reminders/run', {
      at: new Date((ESCALATION?.at.getTime() ?? 0) + 24 * 3600_000).toISOString(),
    });
    expect(after.body.sent).toBe(0);
    const summary = await service.api<{ closing?: { total: number } }>(
      'GET',
      `/api/campaigns/${campaignId}/summary`,
    );
    expect(summary.body.closing?.total).toBe(2);
  });
});
