import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobs } from '../../jobs/index.ts';
import type { JobContext } from '../../jobs/types.ts';
import { createLogger } from '../../src/logger.ts';
import { listAudit, recordAudit } from '../../src/services/audit.ts';
import { createCampaign, launchCampaign } from '../../src/services/campaigns.ts';
import { WHOLE_ORGANISATION } from '../../src/services/scope.ts';
import { fingerprint, SECRETS, startInProcess, tableNames, type InProcess } from './harness.ts';

/**
 * Decree 13/2023/NĐ-CP: an official's personal data is erased on request (reports and audit keep their
 * history under an anonymous name), everything kept about them can be exported, and what is only kept for
 * a while is purged after its period.
 */
let env: InProcess;
let tables: string[];
let campaignId: string;
let nextUpdate = 1;

const PERSON = { name: 'Hoàng Thị Nguyệt', phone: '0912 345 678', unitCode: 'PD-XA', role: 'focal' } as const;
const TELEGRAM_CHAT = 72_001;
const ZALO_CHAT = 'z-72002-nguyet';

const api = async (method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown) => {
  const response = await env.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${SECRETS.admin}` },
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
  return { status: response.statusCode, body: response.json<Record<string, unknown>>(), raw: response.body };
};

async function telegram(chat: number, text: string): Promise<void> {
  const id = nextUpdate++;
  const response = await env.app.inject({
    method: 'POST',
    url: '/webhooks/telegram',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRETS.telegram },
    payload: {
      update_id: id,
      message: {
        message_id: id,
        date: Math.floor(Date.now() / 1000),
        chat: { id: chat, type: 'private' },
        from: { id: chat, is_bot: false, first_name: 'Nguyệt' },
        text,
      },
    },
  });
  expect(response.statusCode).toBe(200);
}

async function zalo(chat: string, text: string): Promise<void> {
  const response = await env.app.inject({
    method: 'POST',
    url: '/webhooks/zalo',
    headers: { 'content-type': 'application/json', 'x-bot-api-secret-token': SECRETS.zalo },
    payload: {
      event_name: 'message.text.received',
      message: {
        message_id: `pd${nextUpdate++}`,
        date: Date.now(),
        text,
        from: { id: chat, display_name: 'Nguyệt', is_bot: false },
        chat: { id: chat, chat_type: 'PRIVATE' },
      },
    },
  });
  expect(response.statusCode).toBe(200);
}

async function newOfficial(code: string, person: Record<string, unknown> = PERSON): Promise<void> {
  expect((await api('PUT', `/api/officials/${code}`, person)).status).toBe(200);
}

/** Rows of any table whose text holds `needle` (case-insensitive), as "table: count". */
async function whereFound(needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const table of tables) {
    const [row] = await env.db.$queryRawUnsafe<{ n: bigint }[]>(
      `SELECT count(*) AS n FROM "${table}" t WHERE t::text ILIKE $1`,
      `%${needle}%`,
    );
    if (Number(row?.n ?? 0) > 0) found.push(`${table}: ${String(row?.n)}`);
  }
  return found;
}

beforeAll(async () => {
  env = await startInProcess();
  expect((await api('PUT', '/api/units/PD-HUYEN', { name: 'UBND huyện Thử' })).status).toBe(200);
  expect((await api('PUT', '/api/units/PD-XA', { name: 'UBND xã Thử', parentCode: 'PD-HUYEN' })).status).toBe(
    200,
  );
  await newOfficial('PD-CB');
  campaignId = (
    await createCampaign(env.db, {
      docNumber: '07/KH-PD',
      title: 'Phong trào thử',
      issuerUnitCode: 'PD-HUYEN',
      startsOn: '2026-01-01',
      endsOn: '2027-12-31',
      unitCodes: ['PD-XA'],
      tasks: [{ key: 'NV1', title: 'Nhiệm vụ một', dueOn: '2027-06-30' }],
    })
  ).id;
  for (const link of [
    (code: string) => telegram(TELEGRAM_CHAT, `/start ${code}`),
    (code: string) => zalo(ZALO_CHAT, `/start ${code}`),
  ]) {
    const issued = await api('POST', '/api/officials/PD-CB/link-codes');
    await link(issued.body.code as string);
  }
  await launchCampaign(env.db, campaignId, env.render, new Date());
  await telegram(TELEGRAM_CHAT, 'Nguyệt báo: đã xong nhiệm vụ, gọi 0912345678 nếu cần');
  // A code handed out and never used.
  expect((await api('POST', '/api/officials/PD-CB/link-codes')).status).toBe(201);
  const official = await env.db.official.findUniqueOrThrow({ where: { code: 'PD-CB' } });
  await recordAudit(env.db, {
    actor: { kind: 'official', officialId: official.id },
    action: 'report.create',
    target: { kind: 'task', code: 'NV1' },
    unitId: official.unitId,
    campaignId,
    at: new Date(),
  });
  tables = await tableNames(env.db);
});

afterAll(async () => {
  await env?.close();
});

describe('GET /api/officials/:code/export', () => {
  it('answers everything kept about one official as JSON', async () => {
    // Updates the webhooks recorded because their turn was slow: one from the official's chat, one not.
    for (const [chatId, text] of [
      [String(TELEGRAM_CHAT), 'chậm quá'],
      ['555000111', 'của người khác'],
    ])
      await env.db.$executeRaw`
        INSERT INTO "WebhookInbox" (id, channel, "updateKey", "chatId", body, "processedAt")
        VALUES (gen_random_uuid(), 'telegram', ${`slow-${chatId}`}, ${chatId},
                ${JSON.stringify({ message: { chat: { id: chatId }, text } })}::jsonb, now())`;
    const exported = await api('GET', '/api/officials/PD-CB/export');
    expect(exported.status).toBe(200);
    const data = exported.body as {
      official: Record<string, unknown>;
      chatAccounts: { channel: string; chatId: string }[];
      linkCodes: Record<string, unknown>[];
      statusReports: { docNumber: string; status: string; sourceText: string | null }[];
      messages: { text: string }[];
      receivedUpdates: { channel: string; chatId: string; body: unknown }[];
      audit: { action: string; as: string }[];
    };
    expect(data.official).toMatchObject({ code: 'PD-CB', name: PERSON.name, phone: PERSON.phone });
    expect(data.chatAccounts.map((account) => [account.channel, account.chatId]).sort()).toEqual([
      ['telegram', String(TELEGRAM_CHAT)],
      ['zalo', ZALO_CHAT],
    ]);
    expect(data.linkCodes).toHaveLength(3);
    expect(data.statusReports).toMatchObject([
      { docNumber: '07/KH-PD', status: 'done', sourceText: expect.stringContaining('đã xong') as unknown },
    ]);
    expect(data.messages.some((message) => message.text.includes('07/KH-PD'))).toBe(true);
    // What their chats sent as the webhooks recorded it (a turn that was slow), theirs only.
    expect(data.receivedUpdates.map((update) => [update.chatId, JSON.stringify(update.body)])).toEqual([
      [String(TELEGRAM_CHAT), expect.stringContaining('chậm quá') as unknown],
    ]);
    expect(data.audit).toEqual(
      expect.arrayContaining([expect.objectContaining({ action: 'report.create', as: 'actor' })]),
    );
    // Never a stored secret: no code hash, no code.
    expect(exported.raw).not.toMatch(/codeHash|[0-9a-f]{64}/);
  });

  it('answers 404 for an unknown official', async () => {
    expect((await api('GET', '/api/officials/NOBODY/export')).status).toBe(404);
  });
});

describe('POST /api/officials/:code/erase', () => {
  it('refuses an unknown official with 404 and changes nothing', async () => {
    const before = await fingerprint(env.db, tables);
    expect((await api('POST', '/api/officials/NOBODY/erase')).status).toBe(404);
    expect(await fingerprint(env.db, tables)).toEqual(before);
  });

  it('removes name, phone, chat ids and link codes from every table; reports and audit stay, anonymous', async () => {
    for (const needle of [PERSON.name, '345 678', '0912345678', String(TELEGRAM_CHAT), ZALO_CHAT])
      expect(await whereFound(needle), needle).not.toEqual([]);
    const erased = await api('POST', '/api/officials/PD-CB/erase');
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({ code: 'PD-CB', name: 'Cán bộ đã xóa 1' });
    for (const needle of [PERSON.name, '345 678', '0912345678', String(TELEGRAM_CHAT), ZALO_CHAT])
      expect(await whereFound(needle), needle).toEqual([]);
    // What the report said stays (a note is the unit's report), without the phone number typed into it.
    const report = await env.db.statusReport.findFirstOrThrow({ where: { official: { code: 'PD-CB' } } });
    expect(report.sourceText).toBeNull();
    expect(report.note).toBeTruthy();
    expect(await env.db.linkCode.count()).toBe(0);
    expect(await env.db.channelAccount.count()).toBe(0);
    expect(await env.db.outboxMessage.count({ where: { state: 'pending' } })).toBe(0);

    // The report stands, by the same official code, under the anonymous name.
    const reports = await api('GET', `/api/campaigns/${campaignId}/reports`);
    expect(reports.body).toMatchObject([{ taskKey: 'NV1', status: 'done', reportedBy: 'PD-CB' }]);
    const trail = await listAudit(env.db, WHOLE_ORGANISATION, { campaignId });
    expect(trail).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'report.create',
          actor: { kind: 'official', code: 'PD-CB', name: 'Cán bộ đã xóa 1' },
        }),
      ]),
    );
    const official = await api('GET', '/api/officials/PD-CB');
    expect(official.body).toMatchObject({
      name: 'Cán bộ đã xóa 1',
      phone: null,
      active: false,
      channels: [],
    });
  });

  it('treats the chat as unlinked afterwards', async () => {
    await telegram(TELEGRAM_CHAT, '/nhiemvu');
    expect(await env.db.channelAccount.count()).toBe(0);
    const [answer] = await env.db.outboxMessage.findMany({
      where: { chatId: String(TELEGRAM_CHAT) },
      orderBy: { seq: 'desc' },
      take: 1,
    });
    expect((answer?.payload as { text?: string }).text).toBe(env.render.text('vi', 'link.unlinked').text);
  });

  it('refuses to write a name back (409) and erases twice as once', async () => {
    const before = await fingerprint(env.db, tables);
    const put = await api('PUT', '/api/officials/PD-CB', PERSON);
    expect(put.status).toBe(409);
    expect(put.body).toMatchObject({ error: { code: 'official_erased' } });
    const again = await api('POST', '/api/officials/PD-CB/erase');
    expect(again.body).toMatchObject({ name: 'Cán bộ đã xóa 1' });
    expect(await fingerprint(env.db, tables)).toEqual(before);
  });

  it('numbers each erased official', async () => {
    await newOfficial('PD-CB2', { ...PERSON, name: 'Lò Văn Hai' });
    expect((await api('POST', '/api/officials/PD-CB2/erase')).body).toMatchObject({
      name: 'Cán bộ đã xóa 2',
    });
  });
});

describe('the retention job', () => {
  const DAY = 24 * 3600_000;
  const job = createJobs('Asia/Ho_Chi_Minh').find((candidate) => candidate.name === 'retention');
  const ctx = (): JobContext => ({
    db: env.db,
    render: env.render,
    timeZone: 'Asia/Ho_Chi_Minh',
    logger: createLogger('silent'),
    retention: { messageDays: 30, inboundTextDays: 90, linkCodeDays: 30 },
  });

  beforeAll(async () => {
    await newOfficial('PD-CB3', { ...PERSON, name: 'Giàng A Ba' });
    await telegram(
      72_003,
      `/start ${(await api('POST', '/api/officials/PD-CB3/link-codes')).body.code as string}`,
    );
    await telegram(72_003, 'đang triển khai 60%');
    await env.db.outboxMessage.updateMany({
      where: { state: 'pending' },
      data: { state: 'sent', sentAt: new Date() },
    });
  });

  it('changes nothing within the periods, and says what it would purge in a dry run', async () => {
    if (!job) throw new Error('no retention job');
    const before = await fingerprint(env.db, tables);
    const now = await job.run(ctx(), { at: new Date(), dryRun: false });
    expect(now.details).toEqual({ messageBodies: 0, inboundTexts: 0, linkCodes: 0, webhookUpdates: 0 });
    const preview = await job.run(ctx(), { at: new Date(Date.now() + 100 * DAY), dryRun: true });
    expect(preview.details).toMatchObject({ inboundTexts: 1, linkCodes: 1 });
    expect((preview.details as { messageBodies: number }).messageBodies).toBeGreaterThan(0);
    expect((preview.details as { webhookUpdates: number }).webhookUpdates).toBe(
      await env.db.webhookInbox.count(),
    );
    expect(await fingerprint(env.db, tables)).toEqual(before);
  });

  it('purges message bodies, typed texts and old codes after their periods; the records stay', async () => {
    if (!job) throw new Error('no retention job');
    const reportsBefore = await api('GET', `/api/campaigns/${campaignId}/reports`);
    const done = await job.run(ctx(), { at: new Date(Date.now() + 100 * DAY), dryRun: false });
    expect(done.details).toMatchObject({ inboundTexts: 1, linkCodes: 1 });
    expect(await env.db.statusReport.count({ where: { sourceText: { not: null } } })).toBe(0);
    expect(await env.db.linkCode.count()).toBe(0);
    // What the chats sent, as the webhooks recorded it, goes with the typed texts.
    expect(await env.db.webhookInbox.count()).toBe(0);
    const sent = await env.db.outboxMessage.findMany({ where: { state: { not: 'pending' } } });
    expect(sent.every((row) => (row.payload as { text?: string }).text === '')).toBe(true);
    // What was reported, by whom and when, is the record: kept.
    expect((await api('GET', `/api/campaigns/${campaignId}/reports`)).body).toEqual(reportsBefore.body);
    expect(await env.db.statusReport.count()).toBe(2);
    // Run twice: nothing more to do.
    const again = await job.run(ctx(), { at: new Date(Date.now() + 100 * DAY), dryRun: false });
    expect(again.details).toEqual({ messageBodies: 0, inboundTexts: 0, linkCodes: 0, webhookUpdates: 0 });
  });
});
