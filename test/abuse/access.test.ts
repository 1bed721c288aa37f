import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundMessage } from '../../src/domain/message.ts';
import { createCampaign, launchCampaign } from '../../src/services/campaigns.ts';
import { fingerprint, SECRETS, startInProcess, tableNames, type InProcess } from './harness.ts';

/**
 * Access that can be taken back: an operator deactivates an official (every chat unlinked, nothing more
 * sent, old codes void), the official's chats are told of every new link, and a chat the platform reported
 * blocked comes back by writing, while one an operator unlinked does not.
 */
let env: InProcess;
let nextUpdate = 1;
let tables: string[];
/** The tables an answered update leaves untouched (its record and its answer aside). */
let quiet: string[];

const OFFICIAL = { name: 'Tẩn Văn Chiến', unitCode: 'AC-XA', role: 'focal' } as const;
const TELEGRAM_CHAT = 71_001;
const ZALO_CHAT = 'z-71002';

const api = async (method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown) => {
  const response = await env.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${SECRETS.admin}` },
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
  return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
};

const issueCode = async (code = 'AC-CB') => {
  const issued = await api('POST', `/api/officials/${code}/link-codes`);
  expect(issued.status).toBe(201);
  return issued.body.code as string;
};

/** A Telegram message from `chat`; the answers written for it. */
async function telegram(chat: number, text: string): Promise<OutboundMessage[]> {
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
        from: { id: chat, is_bot: false, first_name: 'Chiến' },
        text,
      },
    },
  });
  expect(response.statusCode).toBe(200);
  const rows = await env.db.outboxMessage.findMany({
    where: { dedupeKey: { startsWith: `reply:telegram:${id}:` } },
    orderBy: { seq: 'asc' },
  });
  return rows.map((row) => row.payload as unknown as OutboundMessage);
}

async function zalo(chat: string, text: string): Promise<void> {
  const id = `zm${nextUpdate++}`;
  const response = await env.app.inject({
    method: 'POST',
    url: '/webhooks/zalo',
    headers: { 'content-type': 'application/json', 'x-bot-api-secret-token': SECRETS.zalo },
    payload: {
      event_name: 'message.text.received',
      message: {
        message_id: id,
        date: Date.now(),
        text,
        from: { id: chat, display_name: 'Chiến', is_bot: false },
        chat: { id: chat, chat_type: 'PRIVATE' },
      },
    },
  });
  expect(response.statusCode).toBe(200);
}

const accounts = () => env.db.channelAccount.findMany({ where: { official: { code: 'AC-CB' } } });
const text = (key: string, vars?: Record<string, unknown>) => env.render.text('vi', key, vars).text;

beforeAll(async () => {
  env = await startInProcess();
  expect((await api('PUT', '/api/units/AC-HUYEN', { name: 'UBND huyện Thử' })).status).toBe(200);
  expect((await api('PUT', '/api/units/AC-XA', { name: 'UBND xã Thử', parentCode: 'AC-HUYEN' })).status).toBe(
    200,
  );
  expect((await api('PUT', '/api/officials/AC-CB', OFFICIAL)).status).toBe(200);
  tables = await tableNames(env.db);
  quiet = tables.filter(
    (table) => !['InboundUpdate', 'WebhookInbox', 'OutboxMessage', 'OfferedChoice'].includes(table),
  );
});

afterAll(async () => {
  await env?.close();
});

describe('linking a second chat', () => {
  it('tells the chats already linked, through the outbox, as the link is made', async () => {
    const [linked] = await telegram(TELEGRAM_CHAT, `/start ${await issueCode()}`);
    expect(linked?.text).toContain('Tẩn Văn Chiến');
    // The first link has nobody to tell.
    expect(await env.db.outboxMessage.count({ where: { dedupeKey: { startsWith: 'link-notice:' } } })).toBe(
      0,
    );

    await zalo(ZALO_CHAT, `/start ${await issueCode()}`);
    const notices = await env.db.outboxMessage.findMany({
      where: { dedupeKey: { startsWith: 'link-notice:' } },
    });
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({
      channel: 'telegram',
      chatId: String(TELEGRAM_CHAT),
      state: 'pending',
    });
    const notice = (notices[0]?.payload as unknown as OutboundMessage).text;
    expect(notice).toMatch(
      /^🔐 Tài khoản của bạn vừa được liên kết thêm với một cuộc trò chuyện Zalo lúc \d\d:\d\d \d\d\/\d\d\/\d{4}\./,
    );
    // The chat that was just linked is not told about itself, and the notice names no chat id.
    expect(notice).not.toContain(ZALO_CHAT);
  });

  it('tells nobody when the code is refused (nothing is linked)', async () => {
    const before = await fingerprint(env.db, quiet);
    const notices = await env.db.outboxMessage.count({
      where: { dedupeKey: { startsWith: 'link-notice:' } },
    });
    await zalo('z-stranger', '/start 23456789AB');
    expect(await env.db.outboxMessage.count({ where: { dedupeKey: { startsWith: 'link-notice:' } } })).toBe(
      notices,
    );
    expect(await fingerprint(env.db, quiet)).toEqual(before);
  });
});

describe('deactivating an official (PUT … "active": false)', () => {
  let campaignId: string;
  let unusedCode: string;

  beforeAll(async () => {
    campaignId = (
      await createCampaign(env.db, {
        docNumber: '09/KH-AC',
        title: 'Phong trào thử',
        issuerUnitCode: 'AC-HUYEN',
        startsOn: '2026-01-01',
        endsOn: '2027-12-31',
        unitCodes: ['AC-XA'],
        tasks: [{ key: 'NV1', title: 'Nhiệm vụ', dueOn: '2027-06-30' }],
      })
    ).id;
    // News waiting to be sent to them (no worker runs here): the launch.
    await launchCampaign(env.db, campaignId, env.render, new Date());
    unusedCode = await issueCode();
  });

  it('unlinks every chat, fails what waits to be sent to them and voids their codes', async () => {
    const mine = await accounts();
    expect(mine).toHaveLength(2);
    const waiting = await env.db.outboxMessage.findMany({
      where: { state: 'pending', channelAccountId: { in: mine.map((account) => account.id) } },
    });
    expect(waiting.length).toBeGreaterThan(0);

    const answer = await api('PUT', '/api/officials/AC-CB', { ...OFFICIAL, active: false });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ code: 'AC-CB', active: false, channels: [] });
    expect(await accounts()).toHaveLength(0);
    for (const row of waiting) {
      expect(await env.db.outboxMessage.findUniqueOrThrow({ where: { id: row.id } })).toMatchObject({
        state: 'failed',
        lastError: 'official deactivated',
      });
    }
    expect(
      await env.db.outboxMessage.count({
        where: { state: 'pending', chatId: { in: [String(TELEGRAM_CHAT), ZALO_CHAT] } },
      }),
    ).toBe(0);
    expect(await env.db.linkCode.count({ where: { official: { code: 'AC-CB' }, usedAt: null } })).toBe(0);
  });

  it('treats their chats as unlinked: writing again links nothing and reactivates nothing', async () => {
    const before = await fingerprint(env.db, quiet);
    const answers = await telegram(TELEGRAM_CHAT, 'đã xong');
    expect(answers.map((answer) => answer.text)).toEqual([text('link.unlinked')]);
    // A code handed out before the deactivation is void.
    const refused = await telegram(TELEGRAM_CHAT, `/start ${unusedCode}`);
    expect(refused.map((answer) => answer.text)).toEqual([text('link.invalid')]);
    expect(await accounts()).toHaveLength(0);
    expect(await env.db.statusReport.count()).toBe(0);
    expect(await fingerprint(env.db, quiet)).toEqual(before);
  });

  it('issues no code while deactivated, and sends nothing on a relaunch', async () => {
    const before = await fingerprint(env.db, tables);
    const refused = await api('POST', '/api/officials/AC-CB/link-codes');
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { code: 'official_inactive' } });
    const sheet = await env.app.inject({
      method: 'POST',
      url: '/api/units/AC-XA/link-codes',
      headers: { authorization: `Bearer ${SECRETS.admin}` },
    });
    expect(sheet.statusCode).toBe(400);
    expect(await fingerprint(env.db, tables)).toEqual(before);
  });

  it('lets them link again with a new code once "active": true', async () => {
    const answer = await api('PUT', '/api/officials/AC-CB', { ...OFFICIAL, active: true });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ active: true, channels: [] });
    // The old code stays void; a new one links.
    expect((await telegram(TELEGRAM_CHAT, `/start ${unusedCode}`)).map((a) => a.text)).toEqual([
      text('link.invalid'),
    ]);
    const [linked] = await telegram(TELEGRAM_CHAT, `/start ${await issueCode()}`);
    expect(linked?.text).toContain('Tẩn Văn Chiến');
    expect(await accounts()).toMatchObject([{ channel: 'telegram', active: true }]);
  });
});

describe('an account the platform reported blocked', () => {
  it('is reachable again as soon as its person writes', async () => {
    await env.db.channelAccount.updateMany({
      where: { chatId: String(TELEGRAM_CHAT) },
      data: { active: false, inactiveReason: '403: bot was blocked by the user', deactivatedAt: new Date() },
    });
    const answers = await telegram(TELEGRAM_CHAT, '/huongdan');
    expect(answers.map((answer) => answer.text)).toEqual([text('help.text')]);
    expect(await accounts()).toMatchObject([{ channel: 'telegram', active: true, inactiveReason: null }]);
  });
});
