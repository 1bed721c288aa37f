import emulatorModule from 'telegram-test-api';
import type { TelegramServer as EmulatorServer } from 'telegram-test-api/lib/telegramServer.js';

// The package is CommonJS whose module.exports is the class; its typings describe an ES default export.
const TelegramServer = emulatorModule as unknown as typeof EmulatorServer;
import type { Db } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import { createCampaign, launchCampaign } from '../services/campaigns.ts';
import { issueLinkCode, upsertOfficial } from '../services/officials.ts';
import type { Clock, NewsRenderer, Random } from '../services/ports.ts';
import { upsertUnit } from '../services/units.ts';
import { localDate, isoDate } from '../domain/time.ts';
import { reformCampaign, SAMPLE_OFFICIALS, SAMPLE_UNITS, sampleCampaign } from './sample-data.ts';

/** The local Telegram Bot API emulator demo mode talks to. */
export async function startEmulator(port: number): Promise<{ url: string; stop: () => Promise<void> }> {
  const server = new TelegramServer({ port, host: '127.0.0.1', storeTimeout: 24 * 3600 });
  await server.start();
  return { url: `http://127.0.0.1:${port}`, stop: () => server.stop().then(() => undefined) };
}

export interface DemoDeps {
  db: Db;
  clock: Clock;
  random: Random;
  render: NewsRenderer;
  timeZone: string;
  logger: Logger;
}

/** Loads the sample organisation and campaign (idempotently) and returns fresh codes for unlinked officials. */
export async function seedDemo(
  deps: DemoDeps,
): Promise<{ code: string; name: string; role: string; linkCode: string }[]> {
  // Units merged away (or dissolved) since an earlier run stay history; their officials moved with them.
  const retired = new Set(
    (await deps.db.unit.findMany({ where: { retiredAt: { not: null } }, select: { code: true } })).map(
      (unit) => unit.code,
    ),
  );
  for (const { code, ...unit } of SAMPLE_UNITS) if (!retired.has(code)) await upsertUnit(deps.db, code, unit);
  for (const { code, ...official } of SAMPLE_OFFICIALS)
    if (!retired.has(official.unitCode)) await upsertOfficial(deps.db, code, official);
  const today = isoDate(localDate(deps.clock.now(), deps.timeZone));
  for (const input of [sampleCampaign(today), reformCampaign(today)]) {
    const existing = await deps.db.campaign.findUnique({ where: { docNumber: input.docNumber } });
    const campaign = existing ?? (await createCampaign(deps.db, input));
    await launchCampaign(deps.db, campaign.id, deps.render, deps.clock.now());
  }
  const codes = [];
  for (const official of SAMPLE_OFFICIALS) {
    const linked = await deps.db.channelAccount.count({
      where: { official: { code: official.code }, active: true },
    });
    if (linked > 0) continue;
    const issued = await issueLinkCode(deps.db, official.code, deps);
    codes.push({ code: official.code, name: official.name, role: official.role, linkCode: issued.code });
  }
  return codes;
}
