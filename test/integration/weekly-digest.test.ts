import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobsApi } from '../../jobs/api.ts';
import { createJobs } from '../../jobs/index.ts';
import { JobScheduler, createJobsQueue, startJobsWorker } from '../../jobs/scheduler.ts';
import type { Job, JobContext } from '../../jobs/types.ts';
import { Renderer } from '../../src/conversation/render.ts';
import type { Db } from '../../src/db/client.ts';
import type { AttachmentRef } from '../../src/domain/message.ts';
import { buildServer } from '../../src/http/server.ts';
import { createTranslator } from '../../src/i18n.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { createCampaign, launchCampaign } from '../../src/services/campaigns.ts';
import { closeCampaign } from '../../src/services/collection.ts';
import { upsertOfficial, type OfficialInput } from '../../src/services/officials.ts';
import { messageFromPayload } from '../../src/services/outbox.ts';
import { recordCampaignAct, recordStatus } from '../../src/services/reports.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { withTestDb } from '../support/db.ts';
import { REDIS_SERVER_URL } from '../support/env.ts';
import { waitFor } from '../support/wait.ts';

/**
 * The weekly summary digest over the real PostgreSQL and Redis, as of fixed instants in Hà Nội time:
 * who gets what, once, and only when something changed or something is late.
 */
const ZONE = 'Asia/Ho_Chi_Minh';
const TOKEN = 'weekly-digest-token';
const local = (text: string): Date => DateTime.fromISO(text, { zone: ZONE }).toJSDate();
const render = new Renderer(createTranslator(), ZONE);
const logger = createLogger('silent');

let testDb: Awaited<ReturnType<typeof withTestDb>>;
let db: Db;
let ctx: JobContext;
let job: Job;
let app: FastifyInstance;
let redis: Redis;
const prefix = `t${randomBytes(6).toString('hex')}`;
let c1: string;
let c2: string;

const UNITS: [code: string, name: string, parent?: string][] = [
  ['TD', 'UBND huyện Tam Đường'],
  ['TD-1', 'UBND xã Bình Lư', 'TD'],
  ['TD-1-T1', 'Thôn Nà Đon', 'TD-1'],
  ['TD-2', 'UBND xã Sơn Bình', 'TD'],
  ['TD-3', 'UBND xã Bản Giang', 'TD'],
  ['PT', 'UBND huyện Phong Thổ'],
];

/** Officials, each with a Telegram chat unless said otherwise. */
const OFFICIALS: [
  code: string,
  unitCode: string,
  role: OfficialInput['role'],
  extra?: Partial<OfficialInput>,
][] = [
  ['ADM', 'TD', 'admin'],
  ['L1', 'TD-1', 'leader'],
  ['L2', 'TD-2', 'leader', { digest: { weekday: 5, time: '16:00' } }],
  ['L3', 'TD-3', 'leader', { digest: null }],
  ['LPT', 'PT', 'leader'],
  ['APT', 'PT', 'admin'],
  ['L1-GONE', 'TD-1', 'leader'],
  ['F1', 'TD-1', 'focal'],
  ['FT', 'TD-1-T1', 'focal'],
  ['F2', 'TD-2', 'focal'],
];
const NEVER = ['L3', 'LPT', 'APT', 'L1-GONE', 'F1', 'FT', 'F2'];

const run = (at: string, dryRun = false) => job.run(ctx, { at: local(at), dryRun });

interface DigestRow {
  to: string;
  campaignId: string;
  text: string;
  buttons: string[];
  attachment: AttachmentRef | undefined;
}

/** The outbox rows of one week's digests, in the order they were queued. */
async function digestRows(week: string): Promise<DigestRow[]> {
  const rows = await db.outboxMessage.findMany({
    where: { dedupeKey: { startsWith: `weekly-digest:${week}:` } },
    include: { official: { select: { code: true } } },
    orderBy: { seq: 'asc' },
  });
  return rows.map((row) => {
    const message = messageFromPayload(row.payload);
    return {
      to: row.official?.code ?? '',
      campaignId: row.dedupeKey.split(':')[2] ?? '',
      text: message.text,
      buttons: (message.choices ?? []).flat().map((choice) => choice.label),
      attachment: message.attachment?.ref,
    };
  });
}

const sentTo = (rows: DigestRow[]) => rows.map((row) => `${row.to}:${row.campaignId === c1 ? 'C1' : 'C2'}`);

async function decisions(week: string) {
  const rows = await db.weeklyDigestSent.findMany({
    where: { week },
    include: { official: { select: { code: true } } },
  });
  return rows
    .map(
      (row) => `${row.official.code}:${row.campaignId === c1 ? 'C1' : 'C2'}:${row.sent ? 'sent' : 'quiet'}`,
    )
    .sort();
}

async function report(officialCode: string, taskKey: string, status: 'in_progress' | 'done', at: string) {
  const official = await db.official.findUniqueOrThrow({ where: { code: officialCode } });
  const task = await db.task.findFirstOrThrow({ where: { campaignId: c1, key: taskKey } });
  const result = await recordStatus(db, {
    officialId: official.id,
    unitId: official.unitId,
    taskId: task.id,
    status,
    percent: null,
    note: null,
    sourceText: null,
    channel: 'telegram',
    now: local(at),
  });
  expect(result.kind).toBe('recorded');
}

beforeAll(async () => {
  testDb = await withTestDb();
  db = testDb.db;
  redis = new Redis(`${REDIS_SERVER_URL}/0`, { maxRetriesPerRequest: null });
  for (const [code, name, parentCode] of UNITS) await upsertUnit(db, code, { name, parentCode });
  let chat = 9100;
  for (const [code, unitCode, role, extra] of OFFICIALS) {
    await upsertOfficial(db, code, { name: `Cán bộ ${code}`, unitCode, role, ...extra });
    const official = await db.official.findUniqueOrThrow({ where: { code } });
    chat += 1;
    await db.channelAccount.create({
      data: {
        officialId: official.id,
        channel: 'telegram',
        chatId: String(chat),
        // A leader who blocked the bot: nobody to send the digest to.
        active: code !== 'L1-GONE',
      },
    });
  }
  const launch = local('2026-07-01T09:00');
  const first = await createCampaign(db, {
    docNumber: '12/KH-UBND',
    title: 'Thi đua thực hiện chương trình xây dựng nông thôn mới',
    issuerUnitCode: 'TD',
    startsOn: '2026-07-01',
    endsOn: '2026-12-31',
    unitCodes: ['TD-1', 'TD-1-T1', 'TD-2', 'TD-3'],
    tasks: [
      { key: 'QT', title: 'Quán triệt, triển khai', dueOn: '2026-07-29' },
      { key: 'TK', title: 'Tổng kết', dueOn: '2026-12-15' },
    ],
  });
  const second = await createCampaign(db, {
    docNumber: '13/KH-UBND',
    title: 'Thi đua cải cách hành chính',
    issuerUnitCode: 'TD',
    startsOn: '2026-07-01',
    endsOn: '2026-12-31',
    unitCodes: ['TD-2'],
    tasks: [{ key: 'CC', title: 'Rà soát thủ tục', dueOn: '2026-09-30' }],
  });
  c1 = first.id;
  c2 = second.id;
  await launchCampaign(db, c1, render, launch);
  await launchCampaign(db, c2, render, launch);
  const f1 = await db.official.findUniqueOrThrow({ where: { code: 'F1' } });
  await recordCampaignAct(db, 'acknowledge', {
    campaignId: c1,
    unitId: f1.unitId,
    officialId: f1.id,
    channel: 'telegram',
    now: local('2026-07-02T09:00'),
  });
  await report('FT', 'QT', 'in_progress', '2026-07-02T10:00');
  const f2 = await db.official.findUniqueOrThrow({ where: { code: 'F2' } });
  await db.exemplar.create({
    data: {
      campaignId: c1,
      unitId: f2.unitId,
      officialId: f2.id,
      subject: 'Bà Lò Thị Mai',
      achievement: 'Vận động 30 hộ hiến đất làm đường',
      channel: 'telegram',
      createdAt: local('2026-07-03T10:00'),
    },
  });

  ctx = { db, render, timeZone: ZONE, logger };
  const jobs = createJobs(ZONE);
  const found = jobs.find((candidate) => candidate.name === 'weekly-digest');
  if (!found) throw new Error('no weekly-digest job');
  job = found;
  app = buildServer({
    db,
    token: TOKEN,
    clock: { now: () => local('2026-07-06T09:00') },
    random: { bytes: (n) => randomBytes(n) },
    render,
    timeZone: ZONE,
    channels: [],
    logger,
    metrics: createMetrics(),
    readiness: {},
    boardQueues: [],
    jobs: createJobsApi(jobs, ctx),
  });
});

afterAll(async () => {
  await app?.close();
  await redis?.quit();
  await testDb?.close();
});

const api = (method: 'GET' | 'PUT' | 'POST', url: string, body?: unknown) =>
  app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${TOKEN}` },
    ...(body !== undefined ? { payload: body as object } : {}),
  });

describe('the weekly digest job', () => {
  it('is listed by the jobs API, every 15 minutes in TZ_DEFAULT', async () => {
    const listed = (await api('GET', '/api/jobs')).json<{ name: string; cron: string; timezone: string }[]>();
    expect(listed.find((entry) => entry.name === 'weekly-digest')).toMatchObject({
      cron: '*/15 * * * *',
      timezone: ZONE,
    });
  });

  it('sends nothing for a week whose slot came before the launch, nor before Monday 08:00', async () => {
    expect((await run('2026-07-02T10:00')).messages).toBe(0);
    expect((await run('2026-07-06T07:45')).messages).toBe(0);
    expect(await db.weeklyDigestSent.count()).toBe(0);
  });

  it('dry-runs through POST /api/jobs/weekly-digest/run and writes nothing', async () => {
    const answer = await api('POST', '/api/jobs/weekly-digest/run', {
      at: local('2026-07-06T08:00').toISOString(),
      dryRun: true,
    });
    expect(answer.statusCode).toBe(200);
    const body = answer.json<{ wouldSend: number; messages: { kind: string; to: string; slot: string }[] }>();
    expect(body.wouldSend).toBe(6);
    expect(body.messages.map((m) => `${m.kind}:${m.slot}:${m.to}`)).toEqual([
      ...Array<string>(4).fill('weekly-digest:2026-W28:ADM'),
      'weekly-digest:2026-W28:L1',
      'weekly-digest:2026-W28:L1',
    ]);
    expect(await db.weeklyDigestSent.count()).toBe(0);
    expect(await digestRows('2026-W28')).toEqual([]);
  });

  it('on Monday 08:00 (run by the scheduler and a worker) sends the leader their subtree and the admin the whole campaign', async () => {
    const queues = [createJobsQueue(redis, prefix), createJobsQueue(redis, prefix)];
    const schedulers = queues.map((queue) => new JobScheduler({ jobs: [job], queue, logger }));
    const workers = [0, 1].map(() =>
      startJobsWorker({ jobs: [job], ctx, connection: redis, prefix, logger }),
    );
    try {
      const tick = local('2026-07-06T08:00');
      await Promise.all(schedulers.map((scheduler) => scheduler.tick(job, tick)));
      await waitFor('the scheduled run to finish', async () => {
        const runs = await db.jobRun.findMany({ where: { name: 'weekly-digest', trigger: 'schedule' } });
        return runs.length === 1 && runs[0]?.ok === true ? runs : undefined;
      });
    } finally {
      await Promise.all(workers.map((worker) => worker.close()));
      await queues[0]?.obliterate({ force: true });
      await Promise.all(queues.map((queue) => queue.close()));
    }

    const rows = await digestRows('2026-W28');
    expect(sentTo(rows)).toEqual(['ADM:C1', 'ADM:C1', 'ADM:C2', 'ADM:C2', 'L1:C1', 'L1:C1']);
    const [admText, admChart, , , leaderText, leaderChart] = rows;
    expect(leaderText?.text.split('\n').slice(0, 5)).toEqual([
      '🗓 <b>Tổng hợp tuần 06/07 – 12/07/2026</b>',
      '📊 <b>TỔNG HỢP 12/KH-UBND</b>',
      'Thi đua thực hiện chương trình xây dựng nông thôn mới',
      'Phạm vi: UBND xã Bình Lư',
      'Số liệu đến 08:00 06/07/2026',
    ]);
    expect(leaderText?.text).toContain(
      'Đơn vị tham gia: 2 · Đã nhận: 1 · Đăng ký: 0 · Đã báo cáo: 1 · Quá hạn: 0',
    );
    expect(leaderText?.text).toContain('<b>Chưa báo cáo (1):</b> UBND xã Bình Lư');
    // As under /tonghop, the exemplars recorded in the scope are counted: Sơn Bình's is not in Bình Lư's.
    expect(leaderText?.text).not.toContain('Điển hình');
    expect(admText?.text).toContain(render.text('vi', 'summary.exemplars', { count: 1 }).text);
    expect(admText?.text).toContain('Phạm vi: toàn bộ đơn vị tham gia');
    expect(admText?.text).toContain(
      'Đơn vị tham gia: 4 · Đã nhận: 1 · Đăng ký: 0 · Đã báo cáo: 1 · Quá hạn: 0',
    );
    expect(admText?.text).toContain('✅ 0 · ⏳ 1 · ⚠️ 0 · ❌ 0 · ∅ 3');
    // The chart picture follows, with the /tonghop buttons, drawn for the same scope.
    expect(leaderChart?.text).toBe('📊 Tiến độ theo đơn vị — 12/KH-UBND');
    expect(leaderChart?.attachment).toMatchObject({ type: 'chart', campaignId: c1, unitCode: 'TD-1' });
    expect(leaderChart?.buttons).toEqual(['🔎 Thôn Nà Đon', '⏰ Chỉ đơn vị chậm', '📥 Tệp Excel']);
    expect(admChart?.attachment).toMatchObject({ type: 'chart', campaignId: c1 });
    expect(admChart?.attachment?.unitCode).toBeUndefined();
    expect(admChart?.buttons).toEqual([
      '🔎 UBND xã Bản Giang',
      '🔎 UBND xã Bình Lư',
      '🔎 UBND xã Sơn Bình',
      '⏰ Chỉ đơn vị chậm',
      '📥 Tệp Excel',
    ]);
    expect(await decisions('2026-W28')).toEqual(['ADM:C1:sent', 'ADM:C2:sent', 'L1:C1:sent']);
  });

  it('sends nothing more when run again, or twice at once, later that Monday', async () => {
    const [first, second] = await Promise.all([run('2026-07-06T08:15'), run('2026-07-06T08:15')]);
    expect(first.messages + second.messages).toBe(0);
    expect((await run('2026-07-06T12:00')).messages).toBe(0);
    expect(await digestRows('2026-W28')).toHaveLength(6);
  });

  it('sends an official with Friday 16:00 theirs on Friday, once, even when two runs race for it', async () => {
    expect((await run('2026-07-10T15:45')).messages).toBe(0);
    const [first, second] = await Promise.all([run('2026-07-10T16:00'), run('2026-07-10T16:00')]);
    expect([first.messages, second.messages].sort()).toEqual([0, 4]);
    expect((await run('2026-07-11T09:00')).messages).toBe(0);
    const rows = (await digestRows('2026-W28')).filter((row) => row.to === 'L2');
    expect(sentTo(rows)).toEqual(['L2:C1', 'L2:C1', 'L2:C2', 'L2:C2']);
    expect(rows[0]?.text).toContain('Phạm vi: UBND xã Sơn Bình');
    expect(rows[0]?.text).toContain('Số liệu đến 16:00 10/07/2026');
  });

  it('the next week, with nothing changed and nothing late, records the week and sends nothing', async () => {
    const result = await run('2026-07-13T08:00');
    expect(result.messages).toBe(0);
    expect(result.details).toEqual({ week: '2026-W29', digests: 0, unchanged: 3 });
    expect(await digestRows('2026-W29')).toEqual([]);
    expect(await decisions('2026-W29')).toEqual(['ADM:C1:quiet', 'ADM:C2:quiet', 'L1:C1:quiet']);
  });

  it('after a new report, sends the scopes it changed and keeps the others quiet', async () => {
    await report('F2', 'QT', 'in_progress', '2026-07-14T09:00');
    await run('2026-07-20T08:00');
    // Sơn Bình is in the admin's campaign-wide scope, not in Bình Lư's subtree; campaign 13 did not change.
    expect(sentTo(await digestRows('2026-W30'))).toEqual(['ADM:C1', 'ADM:C1']);
    expect((await digestRows('2026-W30'))[0]?.text).toContain('Đã báo cáo: 2');
    expect(await decisions('2026-W30')).toEqual(['ADM:C1:sent', 'ADM:C2:quiet', 'L1:C1:quiet']);
  });

  it('after downtime over the slot, sends the missed digest once when the job runs again that week', async () => {
    // No run on Friday 24/7: the service came back on Saturday morning.
    const back = await run('2026-07-25T09:00');
    expect(back.details).toEqual({ week: '2026-W30', digests: 1, unchanged: 1 });
    expect((await run('2026-07-26T09:00')).messages).toBe(0);
    const rows = (await digestRows('2026-W30')).filter((row) => row.to === 'L2');
    expect(sentTo(rows)).toEqual(['L2:C1', 'L2:C1']);
    expect(rows[0]?.text).toContain('Số liệu đến 09:00 25/07/2026');
  });

  it('sends every week while a unit is late, even when nothing changed', async () => {
    expect((await run('2026-07-27T08:00')).messages).toBe(0);
    // QT was due on 29/7: on Monday 3/8 Bình Lư (no report) and Nà Đon (in progress) are late.
    await run('2026-08-03T08:00');
    const late = await digestRows('2026-W32');
    expect(sentTo(late)).toEqual(['ADM:C1', 'ADM:C1', 'L1:C1', 'L1:C1']);
    expect(late[2]?.text).toContain('Quá hạn: 2');
    expect(late[2]?.text).toContain('<b>Quá hạn (2):</b> Thôn Nà Đon, UBND xã Bình Lư');

    await run('2026-08-10T08:00');
    expect(sentTo(await digestRows('2026-W33'))).toEqual(['ADM:C1', 'ADM:C1', 'L1:C1', 'L1:C1']);
    const fingerprints = await db.weeklyDigestSent.findMany({
      where: { campaignId: c1, week: { in: ['2026-W32', '2026-W33'] }, official: { code: 'L1' } },
      orderBy: { week: 'asc' },
    });
    expect(fingerprints.map((row) => row.sent)).toEqual([true, true]);
    expect(fingerprints[0]?.fingerprint).toBe(fingerprints[1]?.fingerprint);
    expect(await decisions('2026-W33')).toEqual(['ADM:C1:sent', 'ADM:C2:quiet', 'L1:C1:sent']);
  });

  it('sends nothing for a closed campaign', async () => {
    await closeCampaign({ db, render, timeZone: ZONE }, c1, local('2026-08-11T09:00'));
    await run('2026-08-17T08:00');
    expect(await digestRows('2026-W34')).toEqual([]);
    expect(await decisions('2026-W34')).toEqual(['ADM:C2:quiet']);
  });

  it('never sent anything to an official without a digest, outside the campaign, unreachable or not a supervisor', async () => {
    const rows = await db.outboxMessage.findMany({
      where: { dedupeKey: { startsWith: 'weekly-digest:' } },
      include: { official: { select: { code: true } } },
    });
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((row) => NEVER.includes(row.official?.code ?? ''))).toEqual([]);
    expect(await db.weeklyDigestSent.count({ where: { official: { code: { in: NEVER } } } })).toBe(0);
  });
});

describe('the digest setting of an official (PUT/GET /api/officials/:code)', () => {
  const base = { name: 'Cán bộ L1', unitCode: 'TD-1', role: 'leader' };

  it('shows the setting, changes it, turns it off', async () => {
    expect((await api('GET', '/api/officials/L1')).json()).toMatchObject({
      code: 'L1',
      digest: { weekday: 1, time: '08:00' },
    });
    const friday = await api('PUT', '/api/officials/L1', { ...base, digest: { weekday: 5, time: '16:30' } });
    expect(friday.statusCode).toBe(200);
    expect(friday.json()).toMatchObject({ digest: { weekday: 5, time: '16:30' } });
    // Leaving the field out keeps it.
    expect((await api('PUT', '/api/officials/L1', base)).json()).toMatchObject({
      digest: { weekday: 5, time: '16:30' },
    });
    const off = await api('PUT', '/api/officials/L1', { ...base, digest: null });
    expect(off.json()).toMatchObject({ digest: null });
    expect((await api('GET', '/api/officials/L1')).json()).toMatchObject({ digest: null });
    expect((await api('GET', '/api/officials/NOBODY')).statusCode).toBe(404);
  });

  it('refuses a bad setting with 400 naming the field, and changes nothing', async () => {
    await api('PUT', '/api/officials/L1', { ...base, digest: { weekday: 2, time: '07:00' } });
    const before = await db.official.findUniqueOrThrow({ where: { code: 'L1' } });
    for (const [digest, field] of [
      [{ weekday: 0, time: '08:00' }, 'digest.weekday'],
      [{ weekday: 8, time: '08:00' }, 'digest.weekday'],
      [{ weekday: 1.5, time: '08:00' }, 'digest.weekday'],
      [{ weekday: 1, time: '24:00' }, 'digest.time'],
      [{ weekday: 1, time: '8:00' }, 'digest.time'],
      [{ weekday: 1 }, 'digest.time'],
      [{ weekday: 1, time: '08:00', every: 'day' }, 'digest'],
      ['monday', 'digest'],
    ] as const) {
      const answer = await api('PUT', '/api/officials/L1', { ...base, name: 'Đổi tên', digest });
      expect(answer.statusCode, JSON.stringify(digest)).toBe(400);
      const error = answer.json<{ error: { code: string; details: { path: string }[] } }>().error;
      expect(error.code).toBe('invalid_request');
      expect(error.details.map((detail) => detail.path)).toEqual([field]);
    }
    expect(await db.official.findUniqueOrThrow({ where: { code: 'L1' } })).toEqual(before);
  });
});
