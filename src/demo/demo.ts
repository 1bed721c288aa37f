import emulatorModule from 'telegram-test-api';
import type { TelegramServer as EmulatorServer } from 'telegram-test-api/lib/telegramServer.js';

// The package is CommonJS whose module.exports is the class; its typings describe an ES default export.
const TelegramServer = emulatorModule as unknown as typeof EmulatorServer;
import pg from 'pg';
import { ConfigError } from '../config.ts';
import type { Db } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import { createCampaign, launchCampaign } from '../services/campaigns.ts';
import { issueLinkCode, upsertOfficial, type LinkCodeKeys } from '../services/officials.ts';
import type { Clock, NewsRenderer, Random } from '../services/ports.ts';
import { upsertUnit } from '../services/units.ts';
import { localDate, isoDate } from '../domain/time.ts';
import {
  REFORM_CAMPAIGN_DOC_NUMBER,
  reformCampaign,
  SAMPLE_CAMPAIGN_DOC_NUMBER,
  SAMPLE_OFFICIALS,
  SAMPLE_UNITS,
  sampleCampaign,
} from './sample-data.ts';

/**
 * The local Telegram Bot API emulator demo mode talks to. Its client API lets anyone play any user, so it
 * listens on the loopback interface only (the demo page relays to it from the same process).
 */
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
  linkCodeKeys: LinkCodeKeys;
}

/** The ServiceSetting row that marks a database as the demo's own. */
const DEMO_MARK = 'demo';

const tableExists = async (client: pg.Client, table: string) =>
  (await client.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [`"${table}"`])).rows[0]
    ?.found != null;

/**
 * What in the database is not the demo's: nothing when the demo marked it as its own, else every unit,
 * official or campaign that is not sample data (same code and name) and any platform token. Read before
 * anything is migrated or written, with plain SQL (the schema may be an older one).
 */
export async function foreignData(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    if (
      (await tableExists(client, 'ServiceSetting')) &&
      (await client.query('SELECT 1 FROM "ServiceSetting" WHERE key = $1', [DEMO_MARK])).rowCount
    )
      return [];
    const found: string[] = [];
    const sample = (rows: { code: string; name: string }[]) =>
      new Map(rows.map((row) => [row.code, row.name]));
    const check = async (table: string, what: string, allowed: Map<string, string>, sql: string) => {
      if (!(await tableExists(client, table))) return;
      const { rows } = await client.query<{ code: string; name: string }>(sql);
      const foreign = rows.filter((row) => allowed.get(row.code) !== row.name).length;
      if (foreign > 0) found.push(`${foreign} ${what}`);
    };
    await check('Unit', 'units', sample(SAMPLE_UNITS), 'SELECT code, name FROM "Unit"');
    await check('Official', 'officials', sample(SAMPLE_OFFICIALS), 'SELECT code, name FROM "Official"');
    await check(
      'Campaign',
      'campaigns',
      new Map([SAMPLE_CAMPAIGN_DOC_NUMBER, REFORM_CAMPAIGN_DOC_NUMBER].map((doc) => [doc, doc])),
      'SELECT "docNumber" AS code, "docNumber" AS name FROM "Campaign"',
    );
    if (
      (await tableExists(client, 'ZaloOaToken')) &&
      (await client.query('SELECT 1 FROM "ZaloOaToken"')).rowCount
    )
      found.push('Zalo OA tokens');
    return found;
  } finally {
    await client.end();
  }
}

/**
 * Demo mode never touches a database that holds anything but its own sample data: start-up stops with one
 * line saying which variable to set. Checked before migrating.
 */
export async function refuseForeignDatabase(databaseUrl: string, fromEnvironment: boolean): Promise<void> {
  const found = await foreignData(databaseUrl);
  if (found.length === 0) return;
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  throw new ConfigError(
    `Demo mode refuses database "${name}": it holds data that is not the demo's (${found.join(', ')}). ` +
      `Set TELEGRAM_BOT_TOKEN (or ZALO_BOT_TOKEN, ZALO_OA_APP_ID) to run the service on it` +
      (fromEnvironment ? ', or unset DATABASE_URL to run the demo in its own database.' : '.'),
  );
}

/** Loads the sample organisation and campaign (idempotently) and returns fresh codes for unlinked officials. */
export async function seedDemo(
  deps: DemoDeps,
): Promise<{ code: string; name: string; role: string; linkCode: string }[]> {
  // From now on the database is the demo's own: what is added through the demo counts as demo data.
  await deps.db.serviceSetting.upsert({
    where: { key: DEMO_MARK },
    create: { key: DEMO_MARK, value: deps.clock.now().toISOString() },
    update: {},
  });
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
