import { afterAll, beforeAll, expect, it } from 'vitest';
import { DELIVERY_CONCURRENCY } from '../../src/delivery/worker.ts';
import { ZaloFanout } from '../support/zalo-fanout.ts';

/**
 * A launch over both Zalo channels at once, and while it is in flight: kill -9 of the worker and a new
 * one, the OA's access token expiring (-216, one refresh), a burst of Bot Platform 429s (quota), and
 * gateway 5xx on both; among the recipients users the platforms call unreachable (Bot 404, OA -230).
 *
 * Sized by the service's own pace, which no setting changes: the Bot Platform channel keeps to
 * 10 messages/s and reads a 429 as "quota exceeded", pausing its queue for 60 s. So the 429s come right
 * after the restart, and the killed worker's jobs (back once their 30 s locks lapse) wait out the same
 * pause; 150 Bot recipients (15 s at the cap) next to 1,000 OA recipients (25 s at its 40/s, inside
 * the pause) keep the file near 80 s. 1,000 Bot recipients would add 85 s at the cap and prove nothing more.
 */
const BOT = 150;
const OA = 1000;
const QUOTA_429S = 3;
const BOT_5XX = 3;
const OA_5XX = 5;
const OUTSIDE_WINDOW = 'User has not interacted with the OA in the past 7 days';
let rig: ZaloFanout;

beforeAll(async () => {
  rig = await ZaloFanout.start({ botRecipients: BOT, oaRecipients: OA });
});

afterAll(async () => {
  await rig?.close();
});

it('loses nothing, repeats at most what was in flight and tries the unreachable once', async () => {
  const botUnreachable = new Set(rig.botChats.slice(40, 48));
  const oaUnreachable = new Set(rig.oaUsers.slice(60, 68));
  for (const chatId of botUnreachable) rig.bot.inject(chatId, { error_code: 404, description: 'Not Found' });
  for (const userId of oaUnreachable) rig.oa.inject(userId, { error: -230, message: OUTSIDE_WINDOW });

  const web = await rig.start('web');
  await rig.seed(web);
  const worker = await rig.start('worker');
  const t0 = Date.now();
  await rig.launch(web);

  await rig.waitDelivered('zalo_oa', OA / 4);
  const tKill = Date.now() - t0;
  expect(await worker.stop('SIGKILL')).toBe(null);
  const atKill = { zalo: rig.delivered('zalo'), zalo_oa: rig.delivered('zalo_oa') };
  // The kill came mid-launch on both channels.
  expect(atKill.zalo).toBeLessThan(BOT);
  expect(atKill.zalo_oa).toBeLessThan(OA);
  // The killed worker's jobs come back once their locks lapse (BullMQ's stalled check).
  await rig.start('worker');
  const tStarted = Date.now() - t0;
  const refreshesBeforeExpiry = rig.oa.refreshes.length;
  rig.oa.expireAccessTokens();
  rig.oa.injectNextHttp(OA_5XX, 502);
  const tQuota = Date.now() - t0;
  const atQuota = rig.delivered('zalo');
  rig.bot.injectNext(QUOTA_429S, { error_code: 429, description: 'Quota exceeded' });
  rig.bot.injectNext(BOT_5XX, { httpStatus: 502 });

  await rig.waitSettled(150_000);
  const tDone = Date.now() - t0;
  // Every Bot send after the 429s came after the quota pause; and the most that arrived within a second.
  const botSends = rig.bot.sent.map((message) => message.at).sort((a, b) => a - b);
  const resumed = botSends.filter((at) => at > t0 + tQuota + 1000);
  let maxInAnySecond = 0;
  for (let first = 0, last = 0; last < botSends.length; last += 1) {
    while ((botSends[last] ?? 0) - (botSends[first] ?? 0) >= 1000) first += 1;
    maxInAnySecond = Math.max(maxInAnySecond, last - first + 1);
  }

  const bot = rig.tally('zalo', 'zalo bot kill -9, 429 quota, 5xx', botUnreachable, {
    atKill: atKill.zalo,
    atQuota,
    quotaPauseSeconds: resumed.length > 0 ? Math.round((Math.min(...resumed) - t0 - tQuota) / 100) / 10 : 0,
    maxInAnySecond,
    tKill,
    tStarted,
    tQuota,
    tDone,
  });
  const oa = rig.tally('zalo_oa', 'zalo oa kill -9, -216 expiry, 5xx', oaUnreachable, {
    atKill: atKill.zalo_oa,
    expired: rig.oa.expiredAnswers,
    refreshes: rig.oa.refreshes.length,
    tDone,
  });
  expect(bot).toMatchObject({ sent: BOT - botUnreachable.size, lost: 0 });
  expect(bot.duplicated).toBeLessThanOrEqual(DELIVERY_CONCURRENCY);
  expect(oa).toMatchObject({ sent: OA - oaUnreachable.size, lost: 0 });
  expect(oa.duplicated).toBeLessThanOrEqual(DELIVERY_CONCURRENCY);
  // The faults did happen mid-launch: every injected answer was given, the expiry hit sends in flight.
  expect(rig.bot.burstAnswered).toBe(QUOTA_429S + BOT_5XX);
  expect(rig.oa.expiredAnswers).toBeGreaterThan(0);
  expect(rig.oa.burstAnswered).toBe(OA_5XX);
  // The token from the environment is refreshed at first use (its age is unknown); the expiry costs one
  // more refresh however many sends met it, and no refresh token is ever spent twice (the fake refuses it).
  expect(rig.oa.refreshes[0]).toEqual({ refreshToken: rig.oaEnv.ZALO_OA_REFRESH_TOKEN, ok: true });
  expect(rig.oa.refreshes).toHaveLength(refreshesBeforeExpiry + 1);
  expect(rig.oa.refreshes.every((refresh) => refresh.ok)).toBe(true);

  for (const chatId of botUnreachable) expect(rig.bot.tries(chatId)).toBe(1);
  for (const userId of oaUnreachable) expect(rig.oa.tries(userId)).toBe(1);
  const { rows } = await rig.sql.query<{ chatId: string; active: boolean; reason: string; state: string }>(
    `SELECT a."chatId", a.active, a."inactiveReason" AS reason, o.state
     FROM "ChannelAccount" a JOIN "OutboxMessage" o ON o."channelAccountId" = a.id
     WHERE a.active = false OR o.state <> 'sent'
     ORDER BY a."chatId"`,
  );
  expect(rows).toEqual(
    [...botUnreachable, ...oaUnreachable].sort().map((chatId) => ({
      chatId,
      active: false,
      reason: botUnreachable.has(chatId)
        ? '404 Not Found'
        : `outside the customer-service window (no interaction within 7 days) (-230 ${OUTSIDE_WINDOW})`,
      state: 'failed',
    })),
  );
  expect(await rig.outboxStates()).toEqual({
    zalo: { sent: BOT - botUnreachable.size, failed: botUnreachable.size },
    zalo_oa: { sent: OA - oaUnreachable.size, failed: oaUnreachable.size },
  });
  expect([...rig.bot.violations, ...rig.oa.violations]).toEqual([]);
}, 200_000);
