import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAttachment } from '../../src/conversation/attachments.ts';
import type { AttachmentRef } from '../../src/domain/message.ts';
import { fileLinkPath, signFileToken } from '../../src/file-links.ts';
import { FILE_DOWNLOADS_PER_LINK, RedisAddressCounter } from '../../src/http/slow-down.ts';
import { createCampaign } from '../../src/services/campaigns.ts';
import { createRedis } from '../../src/redis.ts';
import { upsertUnit } from '../../src/services/units.ts';
import { REDIS_SERVER_URL } from '../support/env.ts';
import { startInProcess, type InProcess } from './harness.ts';

/**
 * /files/… serves a chart or a workbook a signed link names, made from the database on request: each link's
 * file is made once and kept a while (however often it is fetched), and downloads are limited per link and
 * per address (Redis), so a link cannot be used to keep the service busy.
 */
const SECRET = 'files-url-secret-0123456789';
const PER_ADDRESS = 40;
const redis = createRedis(`${REDIS_SERVER_URL}/0`);
const prefix = `t${randomBytes(6).toString('hex')}`;
let env: InProcess;
let campaignId: string;
const made: string[] = [];

beforeAll(async () => {
  // The harness's own database and Redis prefix are known only once it runs: the file routes are given
  // the real renderer through a holder filled in right after.
  const holder: { env?: InProcess } = {};
  env = await startInProcess({
    server: {
      files: {
        secret: SECRET,
        clock: { now: () => new Date() },
        attachments: async (ref: AttachmentRef) => {
          const ready = holder.env;
          if (!ready) throw new Error('not ready');
          made.push(`${ref.type}:${ref.unitCode ?? '-'}`);
          return makeAttachment({ db: ready.db, render: ready.render, timeZone: 'Asia/Ho_Chi_Minh' }, ref);
        },
        limits: {
          perLink: new RedisAddressCounter(redis, prefix, 'file', FILE_DOWNLOADS_PER_LINK, 60),
          // Lower than the service's, so that the test need not send hundreds of requests.
          perAddress: new RedisAddressCounter(redis, prefix, 'files', PER_ADDRESS, 60),
        },
      },
    },
  });
  holder.env = env;
  await upsertUnit(env.db, 'FL-HUYEN', { name: 'UBND huyện Thử' });
  await upsertUnit(env.db, 'FL-XA', { name: 'UBND xã Thử', parentCode: 'FL-HUYEN' });
  campaignId = (
    await createCampaign(env.db, {
      docNumber: '05/KH-FL',
      title: 'Phong trào thử',
      issuerUnitCode: 'FL-HUYEN',
      startsOn: '2026-01-01',
      endsOn: '2027-12-31',
      unitCodes: ['FL-XA'],
      tasks: [{ key: 'NV1', title: 'Nhiệm vụ', dueOn: '2027-06-30' }],
    })
  ).id;
});

afterAll(async () => {
  await env?.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const link = (ref: Partial<AttachmentRef> = {}) => {
  const full: AttachmentRef = {
    type: 'chart',
    campaignId,
    locale: 'vi',
    at: new Date().toISOString(),
    ...ref,
  };
  return fileLinkPath(full, signFileToken(full, new Date(Date.now() + 3600_000), SECRET));
};

const get = (url: string, from: string) => env.app.inject({ method: 'GET', url, remoteAddress: from });

describe('/files/…', () => {
  it('makes each link’s file once, however often and however concurrently it is fetched', async () => {
    const url = link({ unitCode: 'FL-XA' });
    const answers = await Promise.all(Array.from({ length: 6 }, () => get(url, '198.51.100.50')));
    answers.push(await get(url, '198.51.100.51'));
    expect(answers.map((answer) => answer.statusCode)).toEqual(Array(7).fill(200));
    expect(
      answers.every((answer) => answer.rawPayload.equals(answers[0]?.rawPayload ?? Buffer.alloc(0))),
    ).toBe(true);
    expect(answers[0]?.headers['content-type']).toBe('image/png');
    expect(made.filter((entry) => entry === 'chart:FL-XA')).toHaveLength(1);
    // Another link is another file.
    expect((await get(link({ type: 'xlsx' }), '198.51.100.52')).statusCode).toBe(200);
    expect(made).toContain('xlsx:-');
  });

  it(`answers 429 to the ${FILE_DOWNLOADS_PER_LINK + 1}th download of one link within a minute`, async () => {
    const url = link({ unitCode: 'FL-HUYEN' });
    for (let i = 0; i < FILE_DOWNLOADS_PER_LINK; i += 1)
      expect((await get(url, `198.51.100.${100 + (i % 20)}`)).statusCode).toBe(200);
    const refused = await get(url, '198.51.100.200');
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('limits one address however many links it tries, forged ones included', async () => {
    const from = '203.0.113.99';
    for (let i = 0; i < PER_ADDRESS; i += 1)
      expect((await get(`/files/forged${i}.png`, from)).statusCode).toBe(404);
    expect((await get(link(), from)).statusCode).toBe(429);
    expect((await get(link(), '203.0.113.100')).statusCode).toBe(200);
  });
});
