import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundMessage } from '../../src/domain/message.ts';
import { createCampaign, launchCampaign } from '../../src/services/campaigns.ts';
import { issueLinkCode, redeemLinkCode, upsertOfficial } from '../../src/services/officials.ts';
import { TEST_LINK_CODE_KEYS, redeemDeps } from '../support/link-codes.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { fingerprint, SECRETS, startInProcess, tableNames, type InProcess } from './harness.ts';

/**
 * Button data is not a credential: whoever presses decides nothing about whose data it touches. A
 * member's buttons replayed from another linked chat or from an unlinked one, and forged drill-downs
 * into another subtree or another campaign, are refused politely and change no row.
 *
 *   TINH (issuer of 01/KH)            campaign 01/KH: X1, X2, X3;  02/KH (issued by H2): X3 only
 *   ├── H1 (leader L1)  ── X1 (focal M1), X2 (focal F2)
 *   ├── H2 (leader L2)  ── X3 (focal F3)
 *   └── X9 (focal F9, in no campaign)
 */
let env: InProcess;
let tables: string[];
let nextUpdate = 1;
const CHAT = { M1: 5001, F2: 5002, F9: 5009, L1: 5011, L2: 5012, stranger: 5999 } as const;
let c1 = '';
let c2 = '';
let task1 = '';
/** Strangers' rows: the update (as received and as handled) and the answer. Everything else must stay as it was. */
const ANSWERS = new Set(['InboundUpdate', 'WebhookInbox', 'OutboxMessage']);

beforeAll(async () => {
  env = await startInProcess();
  const { db } = env;
  await upsertUnit(db, 'TINH', { name: 'UBND tỉnh Thử' });
  await upsertUnit(db, 'H1', { name: 'UBND huyện Một', parentCode: 'TINH' });
  await upsertUnit(db, 'H2', { name: 'UBND huyện Hai', parentCode: 'TINH' });
  await upsertUnit(db, 'X1', { name: 'UBND xã Một', parentCode: 'H1' });
  await upsertUnit(db, 'X2', { name: 'UBND xã Hai', parentCode: 'H1' });
  await upsertUnit(db, 'X3', { name: 'UBND xã Ba Bí Mật', parentCode: 'H2' });
  await upsertUnit(db, 'X9', { name: 'UBND xã Chín', parentCode: 'TINH' });
  const people = [
    ['M1', 'X1', 'focal'],
    ['F2', 'X2', 'focal'],
    ['F3', 'X3', 'focal'],
    ['F9', 'X9', 'focal'],
    ['L1', 'H1', 'leader'],
    ['L2', 'H2', 'leader'],
  ] as const;
  for (const [code, unitCode, role] of people)
    await upsertOfficial(db, code, { name: `Cán bộ ${code}`, unitCode, role });
  const deps = {
    clock: { now: () => new Date() },
    random: { bytes: (n: number) => randomBytes(n) },
    linkCodeKeys: TEST_LINK_CODE_KEYS,
  };
  for (const [code, chat] of Object.entries(CHAT)) {
    if (code === 'stranger') continue;
    const { code: linkCode } = await issueLinkCode(db, code, deps);
    const linked = await redeemLinkCode(
      db,
      { channel: 'telegram', chatId: String(chat), code: linkCode, now: new Date() },
      redeemDeps,
    );
    expect(linked.kind).toBe('linked');
  }
  c1 = (
    await createCampaign(db, {
      docNumber: '01/KH-TINH',
      title: 'Phong trào của tỉnh',
      issuerUnitCode: 'TINH',
      startsOn: '2026-01-01',
      endsOn: '2027-12-31',
      unitCodes: ['X1', 'X2', 'X3'],
      tasks: [
        { key: 'NV1', title: 'Nhiệm vụ một', dueOn: '2027-06-30' },
        { key: 'NV2', title: 'Nhiệm vụ hai', dueOn: '2027-09-30' },
      ],
    })
  ).id;
  c2 = (
    await createCampaign(db, {
      docNumber: '02/KH-HUYENHAI',
      title: 'Kế hoạch riêng của huyện Hai',
      issuerUnitCode: 'H2',
      startsOn: '2026-01-01',
      endsOn: '2027-12-31',
      unitCodes: ['X3'],
      tasks: [{ key: 'NV1', title: 'Việc riêng', dueOn: '2027-06-30' }],
    })
  ).id;
  await launchCampaign(db, c1, env.render, new Date());
  await launchCampaign(db, c2, env.render, new Date());
  task1 = (await db.task.findFirstOrThrow({ where: { campaignId: c1, key: 'NV1' } })).id;
  tables = await tableNames(db);
});

afterAll(async () => {
  await env?.close();
});

const text = (key: string) => env.render.text('vi', key).text;

async function update(chat: number, body: Record<string, unknown>): Promise<OutboundMessage[]> {
  const id = nextUpdate++;
  const response = await env.app.inject({
    method: 'POST',
    url: '/webhooks/telegram',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRETS.telegram },
    payload: { update_id: id, ...body },
  });
  expect(response.statusCode).toBe(200);
  const rows = await env.db.outboxMessage.findMany({
    where: { dedupeKey: { startsWith: `reply:telegram:${id}:` } },
    orderBy: { seq: 'asc' },
  });
  return rows.map((row) => row.payload as unknown as OutboundMessage);
}

const press = (chat: number, data: string) =>
  update(chat, {
    callback_query: {
      id: `cb${nextUpdate}`,
      from: { id: chat, is_bot: false, first_name: 'Ai đó' },
      message: { message_id: 1, chat: { id: chat, type: 'private' } },
      data,
    },
  });
const say = (chat: number, words: string) =>
  update(chat, {
    message: {
      message_id: nextUpdate,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chat, type: 'private' },
      from: { id: chat, is_bot: false, first_name: 'Ai đó' },
      text: words,
    },
  });

/** Presses `data` from `chat`: the answers must be exactly `expected`, and no row other than them changes. */
async function refused(chat: number, data: string, expected: string): Promise<void> {
  const before = await fingerprint(env.db, tables, ANSWERS);
  const answers = await press(chat, data);
  expect(
    answers.map((answer) => answer.text),
    `${chat} pressing ${data}`,
  ).toEqual([expected]);
  const after = await fingerprint(env.db, tables, ANSWERS);
  expect({ ...after, InboundUpdate: '', WebhookInbox: '', OutboxMessage: '' }).toEqual({
    ...before,
    InboundUpdate: '',
    WebhookInbox: '',
    OutboxMessage: '',
  });
}

describe("a member's buttons pressed by someone else", () => {
  let undo = '';
  let pending = '';

  beforeAll(async () => {
    // M1 says "vướng" without naming a task: asked which of the two (the second button is NV2).
    const asked = await say(CHAT.M1, 'vướng kinh phí');
    pending =
      asked
        .flatMap((answer) => answer.choices?.flat() ?? [])
        .find((choice) => choice.data.startsWith('pr:') && choice.data.endsWith(':1'))?.data ?? '';
    expect(pending).toMatch(/^pr:/);
    // M1 reports NV1 done with its button and gets an undo button.
    const [recorded] = await press(CHAT.M1, `st:${task1}:d`);
    undo = recorded?.choices?.flat().find((choice) => choice.data.startsWith('undo:'))?.data ?? '';
    expect(undo).toMatch(/^undo:/);
  });

  it('from a chat nobody linked: asked to link, nothing recorded', async () => {
    for (const data of [`st:${task1}:n`, undo, `ack:${c1}`, `reg:${c1}`, pending, `sd:${c1}:X1`, `sum:${c1}`])
      await refused(CHAT.stranger, data, text('link.unlinked'));
  });

  it('from an official of a unit outside the campaign: refused, nothing recorded', async () => {
    await refused(CHAT.F9, `st:${task1}:n`, text('report.notAllowed'));
    await refused(CHAT.F9, undo, text('stale'));
    await refused(CHAT.F9, `ack:${c1}`, text('stale'));
    await refused(CHAT.F9, `reg:${c1}`, text('stale'));
    await refused(CHAT.F9, pending, text('report.expired'));
  });

  it("from an official of another participating unit: M1's report and question stay M1's", async () => {
    await refused(CHAT.F2, undo, text('stale'));
    await refused(CHAT.F2, pending, text('report.expired'));
    await refused(CHAT.F2, `sd:${c1}:X1`, text('summary.refused'));
    // M1 can still use both.
    expect((await press(CHAT.M1, pending)).map((answer) => answer.text).join('\n')).toContain('Nhiệm vụ hai');
    expect((await press(CHAT.M1, undo)).map((answer) => answer.text).join('\n')).toContain('Nhiệm vụ một');
  });
});

describe("drill-downs into another leader's subtree", () => {
  const secretName = 'Ba Bí Mật';

  it('a forged unit code is refused with no data', async () => {
    for (const action of ['sd', 'sl', 'sx'])
      await refused(CHAT.L1, `${action}:${c1}:X3`, text('summary.outOfScope'));
    await refused(CHAT.L1, `sd:${c1}:TINH`, text('summary.outOfScope'));
    await refused(CHAT.L1, `sd:${c1}:NO-SUCH-UNIT`, text('summary.outOfScope'));
  });

  it("another campaign's id, of which the leader's subtree has no part, shows nothing of it", async () => {
    const answers = await press(CHAT.L1, `sum:${c2}`);
    const shown = answers.map((answer) => answer.text).join('\n');
    expect(shown).not.toContain('02/KH-HUYENHAI');
    expect(shown).not.toContain('Kế hoạch riêng');
    expect(shown).not.toContain(secretName);
    // The same campaign asked for by its number.
    const typed = (await say(CHAT.L1, '/tonghop 02/KH-HUYENHAI')).map((answer) => answer.text).join('\n');
    expect(typed).not.toContain('Kế hoạch riêng');
    expect(typed).not.toContain(secretName);
    for (const action of ['sd', 'sl', 'sx']) {
      const forged = (await press(CHAT.L1, `${action}:${c2}:H1`)).map((answer) => answer.text).join('\n');
      expect(forged).not.toContain('02/KH-HUYENHAI');
    }
  });

  it('the leader of that subtree does see it (the refusals were about scope)', async () => {
    const answers = await press(CHAT.L2, `sd:${c1}:X3`);
    expect(answers.map((answer) => answer.text).join('\n')).toContain(secretName);
  });

  it('no public address takes ?unit=: the summary and the workbook need the admin token', async () => {
    for (const url of [
      `/api/campaigns/${c1}/summary?unit=X3`,
      `/api/campaigns/${c1}/export.xlsx?unit=X3`,
      `/api/campaigns/${c1}/reports`,
    ]) {
      const response = await env.app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(401);
      expect(response.payload).not.toContain(secretName);
    }
    expect((await env.app.inject({ method: 'GET', url: `/demo/api/officials?unit=X3` })).statusCode).toBe(
      404,
    );
  });
});
