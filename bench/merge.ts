// Merging 100 communes into 30 (issue 17) in a province of 3,000 units (a province, 300 communes, 2,699
// villages) running one campaign of 20 tasks over the communes, with a report per (commune, task), two
// officials per commune with chats: the 30 merges as POST /api/units/merge makes them (mergeUnits: the
// path rewrite under the tree lock, officials, participation, statuses, progress rows, reminders' keys,
// history, audit, notices), against one hand-written SQL statement doing the same path rewrite (the 30 new
// communes inserted, the 100 communes' villages re-parented and their paths rewritten, the 100 marked
// retired), each on its own copy of the same seeded database. Prints figures and the ratio; asserts nothing.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Renderer } from '../src/conversation/render.ts';
import { createDb } from '../src/db/client.ts';
import { applyMigrations, ensureDatabase } from '../src/db/migrate.ts';
import { createTranslator } from '../src/i18n.ts';
import { mergeUnits } from '../src/services/reorganise.ts';

const SERVER = process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432';
const COMMUNES = 300;
const UNITS = 3000;
const TASKS = 20;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ZONE = 'Asia/Ho_Chi_Minh';
const NOW = new Date('2026-07-20T03:00:00Z');

/** The 30 groups: ten of four communes and twenty of three, the first 100 communes in order. */
function groups(): { into: string; from: string[] }[] {
  const result: { into: string; from: string[] }[] = [];
  let next = 1;
  for (let g = 1; g <= 30; g += 1) {
    const size = g <= 10 ? 4 : 3;
    result.push({ into: `XAMOI-${g}`, from: Array.from({ length: size }, () => `XA-${next++}`) });
  }
  return result;
}

async function onServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The province in bulk SQL: 3,000 units, 600 officials with chats, a campaign of 20 tasks with reports. */
async function seed(client: pg.Client): Promise<void> {
  await client.query(`
    INSERT INTO "Unit" (id, code, name, kind, path, "updatedAt")
    SELECT id, 'TINH', 'UBND tỉnh', 'province', '/' || id || '/', now() FROM (SELECT gen_random_uuid() AS id) g`);
  await client.query(
    `INSERT INTO "Unit" (id, code, name, kind, "parentId", path, "blockCodes", "updatedAt")
     SELECT g.id, 'XA-' || g.i, 'UBND xã số ' || g.i, 'commune', p.id, p.path || g.id || '/',
       ARRAY['CUM-' || (g.i % 10)], now()
     FROM (SELECT gen_random_uuid() AS id, i FROM generate_series(1, $1::int) i) g, "Unit" p WHERE p.code = 'TINH'`,
    [COMMUNES],
  );
  await client.query(
    `INSERT INTO "Unit" (id, code, name, kind, "parentId", path, "updatedAt")
     SELECT g.id, 'THON-' || g.i, 'Thôn số ' || g.i, 'village', p.id, p.path || g.id || '/', now()
     FROM (SELECT gen_random_uuid() AS id, i FROM generate_series(1, $1::int) i) g
     JOIN "Unit" p ON p.code = 'XA-' || (1 + g.i % $2::int)`,
    [UNITS - 1 - COMMUNES, COMMUNES],
  );
  await client.query(`
    INSERT INTO "UnitEvent" (id, "unitId", kind, at, "actorKind", "actorLabel", "toValue", "relatedUnitId")
    SELECT gen_random_uuid(), id, 'created', now(), 'system', 'bench', name, "parentId" FROM "Unit" ORDER BY path`);
  await client.query(`
    INSERT INTO "Official" (id, code, name, "unitId", role, "updatedAt")
    SELECT gen_random_uuid(), u.code || '-' || r.role, 'Cán bộ ' || r.role || ' ' || u.name, u.id, r.role::"Role", now()
    FROM "Unit" u, (VALUES ('focal'), ('leader')) r(role) WHERE u.code LIKE 'XA-%'`);
  await client.query(`
    INSERT INTO "ChannelAccount" (id, "officialId", channel, "chatId")
    SELECT gen_random_uuid(), o.id, 'telegram', (100000 + row_number() OVER (ORDER BY o.code))::text FROM "Official" o`);
  const {
    rows: [campaign],
  } = await client.query<{ id: string }>(`
    INSERT INTO "Campaign" (id, "docNumber", title, "issuerUnitId", "startsOn", "endsOn", state, "launchedAt", "updatedAt")
    SELECT gen_random_uuid(), '17/KH-BENCH', 'Phong trào thi đua đo hiệu năng', id, '2026-06-01', '2026-12-31',
      'running', '2026-06-01T02:00:00Z', now()
    FROM "Unit" WHERE code = 'TINH' RETURNING id`);
  const campaignId = campaign?.id ?? '';
  await client.query(
    `INSERT INTO "Task" (id, "campaignId", key, title, "dueOn", position)
     SELECT gen_random_uuid(), $1, 'NV' || i, 'Nhiệm vụ số ' || i, DATE '2026-07-01' + i * 7, i
     FROM generate_series(1, ${TASKS}) i`,
    [campaignId],
  );
  await client.query(
    `INSERT INTO "CampaignUnit" ("campaignId", "unitId") SELECT $1, id FROM "Unit" WHERE code LIKE 'XA-%'`,
    [campaignId],
  );
  await client.query(
    `INSERT INTO "Acknowledgement" ("campaignId", "unitId", "officialId", channel)
     SELECT $1, o."unitId", o.id, 'telegram' FROM "Official" o WHERE o.role = 'focal'`,
    [campaignId],
  );
  await client.query(
    `INSERT INTO "StatusReport" (id, "taskId", "unitId", "officialId", status, percent, channel, "createdAt")
     SELECT gen_random_uuid(), t.id, o."unitId", o.id,
       (ARRAY['done', 'in_progress', 'blocked', 'not_started'])[1 + abs(hashtext(t.id::text || o."unitId"::text)) % 4]::"ReportStatus",
       abs(hashtext(o."unitId"::text)) % 101, 'telegram', TIMESTAMP '2026-07-01' + t.position * INTERVAL '1 day'
     FROM "Official" o CROSS JOIN "Task" t WHERE o.role = 'focal' AND t."campaignId" = $1`,
    [campaignId],
  );
  await client.query(`
    INSERT INTO "CurrentStatus" ("taskId", "unitId", "reportId", status, percent, "reportedAt")
    SELECT "taskId", "unitId", id, status, percent, "createdAt" FROM "StatusReport"`);
  await client.query(`
    INSERT INTO "UnitProgress" ("campaignId", "unitId", statuses, "tasksDigest", acknowledged, registered)
    SELECT cu."campaignId", cu."unitId",
      string_agg(CASE c.status WHEN 'done' THEN 'D' WHEN 'in_progress' THEN 'I' WHEN 'blocked' THEN 'B'
        WHEN 'not_started' THEN 'N' ELSE '-' END, '' ORDER BY t.position, t.id),
      md5(string_agg(t.id::text, ',' ORDER BY t.position, t.id)), true, false
    FROM "CampaignUnit" cu JOIN "Task" t ON t."campaignId" = cu."campaignId"
    LEFT JOIN "CurrentStatus" c ON c."taskId" = t.id AND c."unitId" = cu."unitId"
    GROUP BY cu."campaignId", cu."unitId"`);
  await client.query('VACUUM ANALYZE');
}

/** The same path rewrite by hand, in one statement: the successors, the villages moved, the communes retired. */
const BASELINE = `
WITH mapping AS (
  SELECT m.old_code, m.new_code FROM jsonb_to_recordset($1::jsonb) AS m(old_code text, new_code text)
), successors AS (
  SELECT DISTINCT ON (new_code) new_code, gen_random_uuid() AS id FROM mapping
), placed AS (
  SELECT s.id, s.new_code, p.id AS parent_id, p.path || s.id || '/' AS path
  FROM successors s, "Unit" p WHERE p.code = 'TINH'
), inserted AS (
  INSERT INTO "Unit" (id, code, name, kind, "parentId", path, "updatedAt")
  SELECT id, new_code, 'UBND ' || new_code, 'commune', parent_id, path, now() FROM placed
), old AS (
  SELECT u.id, u.path, pl.id AS new_id, pl.path AS new_path
  FROM mapping m JOIN "Unit" u ON u.code = m.old_code JOIN placed pl ON pl.new_code = m.new_code
), moved AS (
  UPDATE "Unit" v SET "parentId" = CASE WHEN v."parentId" = o.id THEN o.new_id ELSE v."parentId" END,
    path = o.new_path || substring(v.path FROM length(o.path) + 1), "updatedAt" = now()
  FROM old o WHERE v.path LIKE o.path || '%' AND v.id <> o.id
)
UPDATE "Unit" u SET "retiredAt" = now(), "successorId" = o.new_id FROM old o WHERE u.id = o.id`;

/** Checks a merged copy: 100 communes gone, 30 new, every path its parent's path and its own id. */
async function check(client: pg.Client): Promise<string> {
  const {
    rows: [row],
  } = await client.query<{ retired: number; live: number; bad: number }>(`
    SELECT count(*) FILTER (WHERE u."retiredAt" IS NOT NULL AND u.code LIKE 'XA-%')::int AS retired,
      count(*) FILTER (WHERE u."retiredAt" IS NULL AND u.code LIKE 'XA%')::int AS live,
      count(*) FILTER (WHERE u.path <> COALESCE(p.path, '/') || u.id || '/')::int AS bad
    FROM "Unit" u LEFT JOIN "Unit" p ON p.id = u."parentId"`);
  return `retired ${row?.retired ?? '?'}, live communes ${row?.live ?? '?'}, inconsistent paths ${row?.bad ?? '?'}`;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

export async function main(): Promise<void> {
  const suffix = randomBytes(4).toString('hex');
  const template = `thidua_bench_merge_${suffix}`;
  const copies: string[] = [];
  await ensureDatabase(`${SERVER}/${template}`);
  await applyMigrations(`${SERVER}/${template}`);
  const seeding = new pg.Client({ connectionString: `${SERVER}/${template}` });
  await seeding.connect();
  const seedStart = performance.now();
  await seed(seeding);
  await seeding.end();
  process.stdout.write(
    `seeded ${UNITS} units, ${COMMUNES * TASKS} reports in ${(performance.now() - seedStart).toFixed(0)} ms\n`,
  );
  const copy = async () => {
    const name = `${template}_${copies.length}`;
    copies.push(name);
    await onServer((client) => client.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
    return `${SERVER}/${name}`;
  };
  const render = new Renderer(createTranslator(), ZONE);
  const plan = groups();
  const serviceRuns: number[] = [];
  const perMerge: number[] = [];
  const baselineRuns: number[] = [];
  try {
    for (let run = 0; run < RUNS; run += 1) {
      const url = await copy();
      const db = createDb(url);
      try {
        await db.$queryRaw`SELECT 1`;
        const start = performance.now();
        for (const group of plan) {
          const one = performance.now();
          await mergeUnits(
            { db, render, now: NOW, timeZone: ZONE },
            { from: group.from, into: { code: group.into, name: `UBND xã mới ${group.into}` } },
          );
          perMerge.push(performance.now() - one);
        }
        serviceRuns.push(performance.now() - start);
      } finally {
        await db.$disconnect();
      }
      const checker = new pg.Client({ connectionString: url });
      await checker.connect();
      if (run === 0) process.stdout.write(`service result: ${await check(checker)}\n`);
      await checker.end();

      const baselineUrl = await copy();
      const client = new pg.Client({ connectionString: baselineUrl });
      await client.connect();
      const mapping = plan.flatMap((group) =>
        group.from.map((code) => ({ old_code: code, new_code: group.into })),
      );
      const start = performance.now();
      await client.query(BASELINE, [JSON.stringify(mapping)]);
      baselineRuns.push(performance.now() - start);
      if (run === 0) process.stdout.write(`baseline result: ${await check(client)}\n`);
      await client.end();
    }
    const service = median(serviceRuns);
    const baseline = median(baselineRuns);
    const lines = [
      `runs: ${RUNS} (each on a fresh copy of the seeded database)`,
      `service, 30 merges of 100 communes (with ~900 villages): median ${service.toFixed(0)} ms (runs ${serviceRuns.map((ms) => ms.toFixed(0)).join(', ')})`,
      `  one merge: p50 ${median(perMerge).toFixed(0)} ms, max ${Math.max(...perMerge).toFixed(0)} ms`,
      `baseline, one SQL statement: median ${baseline.toFixed(0)} ms (runs ${baselineRuns.map((ms) => ms.toFixed(0)).join(', ')})`,
      `ratio service / baseline: ${(service / baseline).toFixed(1)}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await onServer(async (client) => {
      for (const name of [...copies, template])
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    });
  }
}
