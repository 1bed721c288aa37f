import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCampaign, launchCampaign } from '../../src/services/campaigns.ts';
import { issueLinkCode, redeemLinkCode, upsertOfficial } from '../../src/services/officials.ts';
import { TEST_LINK_CODE_KEYS, redeemDeps } from '../support/link-codes.ts';
import { upsertUnit } from '../../src/services/units.ts';
import {
  fingerprint,
  heapAfterGc,
  oaHeaders,
  SECRETS,
  startInProcess,
  tableNames,
  type InProcess,
} from './harness.ts';

/**
 * 4,500 generated bodies against the three webhooks (the admin API's 5,500 are in fuzz-admin.test.ts).
 *
 * Every generated request belongs to one of three families, decided when it is generated, never by
 * asking the code under test:
 * - invalid: not an update of the platform's documented shape (not JSON, not an object, an id of the wrong
 *   type, a Telegram `update_id` or chat id that is not a non-negative safe integer, a kind of update we do
 *   not take, a message without the fields we need, a bot's own message, a body too large, a wrong content
 *   type, 10,000 levels of nesting…). Expected: a 2xx/4xx answer and every table byte for byte unchanged.
 * - valid-shaped from a chat nobody linked: recorded once (its update id) and answered with one message
 *   (please link), nothing else written.
 * - valid from a linked official: any text at all (NUL, lone surrogates, invalid UTF-8, 1 MB): never a 5xx,
 *   recorded once.
 * Invalid UTF-8 inside a JSON string is read as U+FFFD (what a platform's text would show), so it lives in
 * the valid families; invalid UTF-8 between the tokens makes the body malformed, so it is invalid.
 */

let env: InProcess;
let tables: string[];
let nextUpdateId = 1_000_000;
let nextChat = 900_000_000;
let linkedTelegramChat = 0;
const linkedZaloChat = 'zalo-linked-4242';
const linkedOaUser = '8765432109876543210';
const ONE_MB = 1_000_000;

beforeAll(async () => {
  env = await startInProcess();
  const { db } = env;
  await upsertUnit(db, 'FZ-ROOT', { name: 'UBND huyện Thử' });
  await upsertUnit(db, 'FZ-XA', { name: 'UBND xã Thử', parentCode: 'FZ-ROOT' });
  await upsertOfficial(db, 'FZ-CB', { name: 'Cán bộ Thử', unitCode: 'FZ-XA', role: 'focal' });
  const campaign = await createCampaign(db, {
    docNumber: '99/KH-FUZZ',
    title: 'Phong trào thử',
    issuerUnitCode: 'FZ-ROOT',
    startsOn: '2026-01-01',
    endsOn: '2027-12-31',
    unitCodes: ['FZ-XA'],
    tasks: [{ key: 'NV1', title: 'Nhiệm vụ một', dueOn: '2027-06-30' }],
  });
  await launchCampaign(db, campaign.id, env.render, new Date());
  linkedTelegramChat = 424242;
  for (const [channel, chatId] of [
    ['telegram', String(linkedTelegramChat)],
    ['zalo', linkedZaloChat],
    ['zalo_oa', linkedOaUser],
  ] as const) {
    const { code } = await issueLinkCode(db, 'FZ-CB', {
      clock: { now: () => new Date() },
      random: { bytes: (n) => randomBytes(n) },
      linkCodeKeys: TEST_LINK_CODE_KEYS,
    });
    const linked = await redeemLinkCode(db, { channel, chatId, code, now: new Date() }, redeemDeps);
    expect(linked.kind).toBe('linked');
  }
  tables = await tableNames(db);
});

afterAll(async () => {
  await env?.close();
});

// ---------- building blocks ----------

/** Strings as chat texts come: any code point (lone surrogates too), NUL, Vietnamese, huge. */
const HUGE_ASCII = 'a'.repeat(ONE_MB);
const HUGE_VIETNAMESE = 'đã xong vướng kinh phí '.repeat(Math.floor(ONE_MB / 30));
const anyText = fc.oneof(
  { weight: 60, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 40, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  {
    weight: 30,
    arbitrary: fc.constantFrom(
      'đã xong',
      'da xong\u0000',
      '\u0000',
      '\ud800 đang triển khai 60%',
      '/start \u0000',
      '/start ABCDEFGHJK',
      '/tonghop \u0000',
      'nv1 vướng\u0000 kinh phí',
      '1',
      '   ',
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(HUGE_ASCII, HUGE_VIETNAMESE, `/start ${HUGE_ASCII}`) },
);

/** Any JSON value at all, for fields that should hold something else. */
const junk = fc.jsonValue({ maxDepth: 3 });
const notAnObject = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.array(junk, { maxLength: 4 }),
);
/** A value that is not a safe integer (Telegram's chat ids; groups' are negative). */
const notAnInteger = fc.oneof(
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(2 ** 53, -(2 ** 53), 1e20, 1e300, -0.5),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
);
/** Not an update id: update ids are non-negative safe integers. */
const notAnUpdateId = fc.oneof(notAnInteger, fc.integer({ max: -1 }));
/** Not an id the Zalo platforms use (non-empty strings; the Bot Platform's numbers are taken too). */
const notAZaloId = fc.oneof(
  fc.constant(''),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string(), { maxKeys: 2 }),
);

const deep = (levels: number, inner = '0') => `${'['.repeat(levels)}${inner}${']'.repeat(levels)}`;
const deepObject = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

/** Bodies that are not JSON, or JSON too deep or too big, as raw bytes. */
const rawGarbage = fc.oneof(
  fc.string({ maxLength: 300 }).map((text) => Buffer.from(`{${text}`)),
  fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  // Invalid UTF-8 between the tokens: the body is not JSON whatever the bytes decode to.
  fc
    .uint8Array({ minLength: 1, maxLength: 20 })
    .map((bytes) =>
      Buffer.concat([Buffer.from('{"update_id":1,'), Buffer.from([0xff, 0xfe, ...bytes]), Buffer.from('}')]),
    ),
  fc.constantFrom(
    Buffer.from(`{"update_id":7,"message":${deep(10_000)}}`),
    Buffer.from(deep(10_000)),
    Buffer.from(deepObject(10_000)),
    Buffer.from(deep(100_000)),
    Buffer.from(`{"update_id":7,"message":{"text":"${'x'.repeat(2_100_000)}"}}`),
    Buffer.from('{"update_id": 12, "message": {'),
    Buffer.from('\ufeff{}'),
    Buffer.alloc(0),
  ),
);

const wrongContentType = fc.constantFrom(
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'image/png',
  'application/json; charset=utf-16',
  '',
);

interface Probe {
  family: 'invalid' | 'unlinked' | 'linked';
  contentType: string;
  /** Serialised at send time, after fresh ids are filled in. */
  body: (ids: { update: number; chat: number }) => Buffer;
  /** Zalo OA: signed over the exact bytes with the body's timestamp. */
  signed?: boolean;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const invalid = (contentType: string, body: Buffer | ((ids: { update: number }) => Buffer)): Probe => ({
  family: 'invalid',
  contentType,
  body: typeof body === 'function' ? body : () => body,
});

// ---------- Telegram ----------

const TELEGRAM_KINDS_WE_IGNORE = [
  'edited_message',
  'channel_post',
  'edited_channel_post',
  'inline_query',
  'chosen_inline_result',
  'shipping_query',
  'pre_checkout_query',
  'poll',
  'poll_answer',
  'my_chat_member',
  'chat_member',
  'chat_join_request',
  'message_reaction',
  'business_message',
  'some_future_kind',
];

const tgMessage = (chat: number, text: unknown) => ({
  message_id: 1,
  date: 1_760_000_000,
  chat: { id: chat, type: 'private', first_name: 'Fuzz' },
  from: { id: chat, is_bot: false, first_name: 'Fuzz' },
  text,
});

const telegramProbe: fc.Arbitrary<Probe> = fc.oneof(
  { weight: 2, arbitrary: notAnObject.map((value) => invalid('application/json', json(value))) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(notAnUpdateId, anyText)
      .map(([id, text]) => invalid('application/json', json({ update_id: id, message: tgMessage(5, text) }))),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...TELEGRAM_KINDS_WE_IGNORE), junk)
      .map(([kind, value]) =>
        invalid('application/json', ({ update }) => json({ update_id: update, [kind]: value })),
      ),
  },
  {
    // A message we cannot read: no text (a sticker, a photo), text of another type, a chat id that is not
    // an integer, no chat at all.
    weight: 3,
    arbitrary: fc
      .oneof(
        junk.filter((value) => typeof value !== 'string').map((text) => tgMessage(6, text)),
        notAnInteger.map((chat) => ({ ...tgMessage(6, 'đã xong'), chat: { id: chat } })),
        fc.constant({ message_id: 3, date: 1, sticker: { file_id: 'x' }, chat: { id: 6 } }),
        fc.constant({ message_id: 3, date: 1, text: 'đã xong' }),
      )
      .map((message) => invalid('application/json', ({ update }) => json({ update_id: update, message }))),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        junk
          .filter((value) => typeof value !== 'string')
          .map((data) => ({ id: 'cb', from: { id: 7 }, data })),
        notAnInteger.map((chat) => ({ id: 'cb', from: { id: chat }, data: 'ack:x' })),
      )
      .map((query) =>
        invalid('application/json', ({ update }) => json({ update_id: update, callback_query: query })),
      ),
  },
  { weight: 2, arbitrary: rawGarbage.map((raw) => invalid('application/json', raw)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(wrongContentType, junk)
      .map(([type, value]) => invalid(type, Buffer.from(JSON.stringify(value) ?? 'x'))),
  },
  {
    weight: 4,
    arbitrary: anyText.map((text): Probe => ({
      family: 'unlinked',
      contentType: 'application/json',
      body: ({ update, chat }) => json({ update_id: update, message: tgMessage(chat, text) }),
    })),
  },
  {
    weight: 1,
    arbitrary: fc.string({ maxLength: 64 }).map((data): Probe => ({
      family: 'unlinked',
      contentType: 'application/json',
      body: ({ update, chat }) =>
        json({
          update_id: update,
          callback_query: {
            id: `cb${update}`,
            from: { id: chat, is_bot: false },
            message: { message_id: 1, chat: { id: chat } },
            data,
          },
        }),
    })),
  },
  {
    // Invalid UTF-8 inside the text of an otherwise good update (bytes >= 0x80 never end the string).
    weight: 1,
    arbitrary: fc.uint8Array({ minLength: 1, maxLength: 30 }).map((bytes): Probe => ({
      family: 'unlinked',
      contentType: 'application/json',
      body: ({ update, chat }) => {
        const [head, tail] = JSON.stringify({ update_id: update, message: tgMessage(chat, '§') }).split('§');
        return Buffer.concat([
          Buffer.from(head ?? ''),
          Buffer.from([0xc3, 0x28, ...bytes.map((byte) => byte | 0x80)]),
          Buffer.from(tail ?? ''),
        ]);
      },
    })),
  },
  {
    weight: 3,
    arbitrary: anyText.map((text): Probe => ({
      family: 'linked',
      contentType: 'application/json',
      body: ({ update }) => json({ update_id: update, message: tgMessage(linkedTelegramChat, text) }),
    })),
  },
);

// ---------- Zalo Bot Platform ----------

const zaloMessage = (chat: unknown, id: unknown, extra: Record<string, unknown>) => ({
  message_id: id,
  date: 1_760_000_000_000,
  from: { id: chat, display_name: 'Fuzz', is_bot: false },
  chat: { id: chat, chat_type: 'PRIVATE' },
  ...extra,
});

const zaloProbe: fc.Arbitrary<Probe> = fc.oneof(
  { weight: 2, arbitrary: notAnObject.map((value) => invalid('application/json', json(value))) },
  {
    weight: 3,
    arbitrary: fc.tuple(notAZaloId, fc.boolean(), anyText, fc.boolean()).map(([bad, inId, text, wrapped]) =>
      invalid('application/json', () => {
        const message = inId ? zaloMessage('z1', bad, { text }) : zaloMessage(bad, 'm1', { text });
        const update = { event_name: 'message.text.received', message };
        return json(wrapped ? { ok: true, result: update } : update);
      }),
    ),
  },
  {
    // No message, or a message that is not an object, or the bot's own message, or a reaction.
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.record({ event_name: fc.string(), message: notAnObject }),
        fc.record({ event_name: junk }),
        fc.constant({
          event_name: 'message.text.received',
          message: { ...zaloMessage('z2', 'm2', { text: 'xin chào' }), from: { id: 'z2', is_bot: true } },
        }),
        fc.constant({ event_name: 'message.reaction.received', message: zaloMessage('z3', 'm3', {}) }),
        fc.constant({ event_name: 'message.unsupported.received' }),
        fc.string().map((name) => ({ event_name: `x${name}`, message: zaloMessage('z4', 'm4', {}) })),
      )
      .map((body) => invalid('application/json', json(body))),
  },
  { weight: 2, arbitrary: rawGarbage.map((raw) => invalid('application/json', raw)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(wrongContentType, junk)
      .map(([type, value]) => invalid(type, Buffer.from(JSON.stringify(value) ?? 'x'))),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        anyText.filter((text) => text.trim() !== ''),
        fc.boolean(),
      )
      .map(([text, wrapped]): Probe => ({
        family: 'unlinked',
        contentType: 'application/json',
        body: ({ update, chat }) => {
          const body = {
            event_name: 'message.text.received',
            message: zaloMessage(`zc${chat}`, `zm${update}`, { text }),
          };
          return json(wrapped ? { ok: true, result: body } : body);
        },
      })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('image', 'sticker', 'voice', 'unsupported').map((what): Probe => ({
      family: 'unlinked',
      contentType: 'application/json',
      body: ({ update, chat }) =>
        json({
          event_name: `message.${what}.received`,
          message: zaloMessage(`zc${chat}`, `zm${update}`, { photo_url: 'https://x/y.jpg' }),
        }),
    })),
  },
  {
    weight: 3,
    arbitrary: anyText
      .filter((text) => text.trim() !== '')
      .map((text): Probe => ({
        family: 'linked',
        contentType: 'application/json',
        body: ({ update }) =>
          json({
            event_name: 'message.text.received',
            message: zaloMessage(linkedZaloChat, `zm${update}`, { text }),
          }),
      })),
  },
);

// ---------- Zalo Official Account (every body signed correctly) ----------

const oaBody = (event: string, sender: unknown, msgId: unknown, message: Record<string, unknown>) => ({
  app_id: SECRETS.oaAppId,
  event_name: event,
  sender: { id: sender },
  recipient: { id: '1111' },
  message: { msg_id: msgId, ...message },
  // Signed now: events older than 24 h (or ahead by more than 5 min) are refused as replays.
  timestamp: String(Date.now()),
  user_id_by_app: '2222',
});

const signedProbe = (family: Probe['family'], make: (ids: { update: number; chat: number }) => unknown) => ({
  family,
  contentType: 'application/json',
  signed: true,
  body: (ids: { update: number; chat: number }) => json(make(ids)),
});

const oaProbe: fc.Arbitrary<Probe> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('follow', 'unfollow', 'user_received_message', 'user_seen_message', 'oa_send_text'),
        anyText,
      )
      .map(([event, text]) =>
        signedProbe('invalid', ({ update, chat }) => oaBody(event, `oa${chat}`, `om${update}`, { text })),
      ),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.oneof(notAZaloId, fc.integer()), fc.boolean(), anyText)
      .map(([bad, inSender, text]) =>
        signedProbe('invalid', ({ update }) =>
          inSender
            ? oaBody('user_send_text', bad, `om${update}`, { text })
            : oaBody('user_send_text', 'oa1', bad, { text }),
        ),
      ),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ event_name: junk, timestamp: fc.constant(String(Date.now())) })
      .filter((body) => typeof body.event_name !== 'string' || !body.event_name.startsWith('user_send_'))
      .map((body) => signedProbe('invalid', () => body)),
  },
  { weight: 1, arbitrary: notAnObject.map((value) => invalid('application/json', json(value))) },
  { weight: 1, arbitrary: rawGarbage.map((raw) => invalid('application/json', raw)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(wrongContentType, junk)
      .map(([type, value]) => invalid(type, Buffer.from(JSON.stringify(value) ?? 'x'))),
  },
  {
    weight: 4,
    arbitrary: anyText
      .filter((text) => text.trim() !== '' && !text.startsWith('#c:'))
      .map((text) =>
        signedProbe('unlinked', ({ update, chat }) =>
          oaBody('user_send_text', `oa${chat}`, `om${update}`, { text }),
        ),
      ),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('user_send_image', 'user_send_sticker', 'user_send_file', 'user_send_gif')
      .map((event) =>
        signedProbe('unlinked', ({ update, chat }) => oaBody(event, `oa${chat}`, `om${update}`, {})),
      ),
  },
  {
    weight: 3,
    arbitrary: anyText
      .filter((text) => text.trim() !== '')
      .map((text) =>
        signedProbe('linked', ({ update }) =>
          oaBody('user_send_text', linkedOaUser, `om${update}`, { text }),
        ),
      ),
  },
);

// ---------- the properties ----------

const HEADERS: Record<string, Record<string, string>> = {
  '/webhooks/telegram': { 'x-telegram-bot-api-secret-token': SECRETS.telegram },
  '/webhooks/zalo': { 'x-bot-api-secret-token': SECRETS.zalo },
  '/webhooks/zalo-oa': {},
};
/** Rows only ever added by a chat turn: counted. Every other table is also hashed row by row. */
const APPEND_ONLY = new Set([
  'InboundUpdate',
  'OutboxMessage',
  'StatusReport',
  'PendingReply',
  'WebhookInbox',
]);
const BATCH = 20;

const counts = { invalid: 0, unlinked: 0, linked: 0, status: new Map<number, number>() };

/** Sends one probe; asserts what holds for every request: no 5xx, and a valid update is taken (200). */
async function send(path: string, probe: Probe): Promise<void> {
  const ids = { update: ++nextUpdateId, chat: ++nextChat };
  const body = probe.body(ids);
  const headers: Record<string, string> = { ...HEADERS[path] };
  if (probe.signed) {
    const parsed = JSON.parse(body.toString('utf8')) as { timestamp?: unknown };
    Object.assign(headers, oaHeaders(body, typeof parsed.timestamp === 'string' ? parsed.timestamp : ''));
  }
  if (probe.contentType !== '') headers['content-type'] = probe.contentType;
  const response = await env.app.inject({ method: 'POST', url: path, headers, payload: body });
  counts[probe.family] += 1;
  counts.status.set(response.statusCode, (counts.status.get(response.statusCode) ?? 0) + 1);
  const what = `${path} ${probe.family} ${JSON.stringify(
    body.length > 400
      ? `${body.subarray(0, 200).toString('utf8')}…${body.subarray(-200).toString('utf8')}`
      : body.toString('utf8'),
  )} -> ${response.statusCode} ${response.payload.slice(0, 200)}`;
  expect(response.statusCode, what).toBeLessThan(500);
  if (probe.family !== 'invalid') expect(response.statusCode, what).toBe(200);
}

/**
 * A batch of invalid and unlinked probes: afterwards exactly one update row and one answer per unlinked
 * probe exist, and every other table is unchanged row for row (a failing batch shrinks to the culprit).
 */
async function foreignBatch(path: string, probes: Probe[]): Promise<void> {
  const before = await fingerprint(env.db, tables, APPEND_ONLY);
  for (const probe of probes) await send(path, probe);
  const after = await fingerprint(env.db, tables, APPEND_ONLY);
  const valid = probes.filter((probe) => probe.family === 'unlinked').length;
  const bodies = `${path}: ${probes.map((probe) => probe.family).join(',')}`;
  expect(Number(after.InboundUpdate) - Number(before.InboundUpdate), bodies).toBe(valid);
  expect(Number(after.OutboxMessage) - Number(before.OutboxMessage), bodies).toBe(valid);
  // An invalid update is never recorded; a valid one only when its turn was slow or failed, then once.
  expect(Number(after.WebhookInbox) - Number(before.WebhookInbox), bodies).toBeLessThanOrEqual(valid);
  expect(await unhandled(), bodies).toBe(0);
  expect({ ...after, InboundUpdate: '', OutboxMessage: '', WebhookInbox: '' }, bodies).toEqual({
    ...before,
    InboundUpdate: '',
    OutboxMessage: '',
    WebhookInbox: '',
  });
}

/** Recorded updates whose turn failed (the webhook answered 200 before it ran). */
const unhandled = () => env.db.webhookInbox.count({ where: { processedAt: null } });

/** A linked official's texts may record reports (they are valid): each update is recorded once. */
async function linkedBatch(path: string, probes: Probe[]): Promise<void> {
  const before = await env.db.inboundUpdate.count();
  for (const probe of probes) await send(path, probe);
  expect(await env.db.inboundUpdate.count()).toBe(before + probes.length);
  expect(await unhandled()).toBe(0);
}

const batches = (probe: fc.Arbitrary<Probe>, linked: boolean) =>
  fc.array(
    probe.filter((candidate) => (candidate.family === 'linked') === linked),
    { minLength: BATCH, maxLength: BATCH },
  );

const CASES = [
  { name: 'Telegram', path: '/webhooks/telegram', probe: telegramProbe, foreign: 85, linked: 15 },
  { name: 'the Zalo Bot Platform', path: '/webhooks/zalo', probe: zaloProbe, foreign: 55, linked: 10 },
  { name: 'Zalo OA', path: '/webhooks/zalo-oa', probe: oaProbe, foreign: 45, linked: 10 },
];

describe('fuzzing the webhooks', () => {
  let heapAtStart = 0;

  it('warms up', async () => {
    await fc.assert(
      fc.asyncProperty(batches(telegramProbe, false), (probes) => foreignBatch('/webhooks/telegram', probes)),
      { numRuns: 5, seed: 1 },
    );
    heapAtStart = heapAfterGc();
  });

  for (const { name, path, probe, foreign, linked } of CASES) {
    it(`${name}: ${(foreign + linked) * BATCH} bodies, no 5xx, nothing written for an invalid one`, async () => {
      await fc.assert(
        fc.asyncProperty(batches(probe, false), (probes) => foreignBatch(path, probes)),
        { numRuns: foreign },
      );
      await fc.assert(
        fc.asyncProperty(batches(probe, true), (probes) => linkedBatch(path, probes)),
        { numRuns: linked },
      );
    }, 120_000);
  }

  it('keeps memory flat and saw every family', () => {
    const heapAtEnd = heapAfterGc();
    const grewMb = (heapAtEnd - heapAtStart) / 1024 / 1024;
    const total = counts.invalid + counts.unlinked + counts.linked;
    process.stdout.write(
      `webhook fuzz: ${total} requests ${JSON.stringify({ ...counts, status: Object.fromEntries(counts.status) })}; heap after GC ${(heapAtStart / 1048576).toFixed(1)} -> ${(heapAtEnd / 1048576).toFixed(1)} MB\n`,
    );
    expect(total).toBeGreaterThanOrEqual(4_500);
    expect(counts.invalid).toBeGreaterThan(1_500);
    expect(counts.unlinked).toBeGreaterThan(800);
    expect(counts.linked).toBeGreaterThanOrEqual(700);
    expect(grewMb).toBeLessThan(24);
  });
});
