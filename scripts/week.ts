// Prints eight days (Monday to Monday) of the sample campaign (seed 004, Tam Đường) as the bot would send it: the jobs run each
// morning against a scratch database, as of that morning. Usage: npx tsx scripts/week.ts [YYYY-MM-DD]
import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import pg from 'pg';
import { createJobs } from '../jobs/index.ts';
import { Renderer } from '../src/conversation/render.ts';
import { createDb } from '../src/db/client.ts';
import { applyMigrations, ensureDatabase } from '../src/db/migrate.ts';
import { SAMPLE_OFFICIALS, SAMPLE_UNITS, sampleCampaign } from '../src/demo/sample-data.ts';
import { addDays } from '../src/domain/calendar.ts';
import { createTranslator } from '../src/i18n.ts';
import { createLogger } from '../src/logger.ts';
import { createCampaign, launchCampaign } from '../src/services/campaigns.ts';
import { upsertOfficial } from '../src/services/officials.ts';
import { recordStatus } from '../src/services/reports.ts';
import { upsertUnit } from '../src/services/units.ts';

const SERVER = process.env.PG_URL ?? 'postgresql://postgres@127.0.0.1:5432';
const ZONE = 'Asia/Ho_Chi_Minh';
const START = process.argv[2] ?? '2026-07-01';
const local = (text: string) => DateTime.fromISO(text, { zone: ZONE }).toJSDate();

const name = `thidua_week_${randomBytes(4).toString('hex')}`;
await ensureDatabase(`${SERVER}/${name}`);
await applyMigrations(`${SERVER}/${name}`);
const db = createDb(`${SERVER}/${name}`);
try {
  const render = new Renderer(createTranslator(), ZONE);
  for (const { code, ...unit } of SAMPLE_UNITS) await upsertUnit(db, code, unit);
  let chat = 9000;
  for (const { code, ...official } of SAMPLE_OFFICIALS) {
    await upsertOfficial(db, code, official);
    const { id } = await db.official.findUniqueOrThrow({ where: { code } });
    await db.channelAccount.create({
      data: { officialId: id, channel: 'telegram', chatId: String((chat += 1)) },
    });
  }
  const campaign = await createCampaign(db, {
    ...sampleCampaign(START),
    reportSchedule: { cadence: 'monthly' },
  });
  await launchCampaign(db, campaign.id, render, local(`${START}T09:00`));
  const firstDue = campaign.tasks[0]?.dueOn ?? START;
  const task = await db.task.findFirstOrThrow({ where: { campaignId: campaign.id, position: 0 } });
  const report = async (
    officialCode: string,
    status: 'done' | 'in_progress',
    percent: number | null,
    at: string,
  ) => {
    const official = await db.official.findUniqueOrThrow({ where: { code: officialCode } });
    await recordStatus(db, {
      ...{ officialId: official.id, unitId: official.unitId, taskId: task.id, status, percent },
      ...{ note: null, sourceText: null, channel: 'telegram', now: local(at) },
    });
    process.stdout.write(
      `   (${at.replace('T', ' ')} ${officialCode} reports "${task.title}": ${status}${percent ? ` ${percent}%` : ''})\n`,
    );
  };
  const ctx = { db, render, timeZone: ZONE, logger: createLogger('silent') };
  const jobs = createJobs(ZONE).filter((job) => ['reminders', 'collection', 'digest'].includes(job.name));
  const from = addDays(firstDue, -2);
  for (let i = 0; i < 8; i += 1) {
    const day = addDays(from, i);
    const weekday = DateTime.fromISO(day, { zone: ZONE }).setLocale('vi').toFormat('cccc dd/MM/yyyy');
    process.stdout.write(`\n=== ${weekday} ===\n`);
    for (const time of ['07:30', '22:00']) {
      for (const job of jobs) {
        const outcome = await job.run(ctx, { at: local(`${day}T${time}`), dryRun: false });
        for (const message of outcome.sample) {
          process.stdout.write(
            `-- ${time} [${job.name}/${message.kind}] → ${message.to}${message.unitCode ? ` (${message.unitCode})` : ''}\n${message.text}\n${message.buttons.length > 0 ? `   [${message.buttons.join('] [')}]\n` : ''}`,
          );
        }
      }
      if (time !== '07:30') continue;
      if (i === 1) await report('CB-BINHLU', 'done', null, `${day}T10:15`);
      if (i === 2) await report('CB-VHTT', 'in_progress', 60, `${day}T14:00`);
    }
  }
} finally {
  await db.$disconnect();
  const client = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await client.end();
}
