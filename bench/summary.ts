// The supervisors' summary over 10,000 units in 4 levels (a province, 10 districts, 1,000 communes, 8,989
// villages), one campaign of 20 tasks and 3 reports per (unit, task), some undone: p50/p95 of what
// GET /api/campaigns/:id/summary does (the service's roll-up and its math, and the route through fastify
// inject) for the province and for one district, against the same roll-up written as one raw SQL query
// run with pg in the same run (the database does all the counting and returns only the figures), in two
// hand-written forms: over UnitProgress, the table the service reads, and over CurrentStatus, the table it
// read before; the ratio is taken against the faster of the two. Prints figures and ratios; asserts
// nothing. Targets (issue 6): p95 < 100 ms, ≤ 1.5× raw SQL.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDb } from '../src/db/client.ts';
import { applyMigrations, ensureDatabase } from '../src/db/migrate.ts';
import { buildServer } from '../src/http/server.ts';
import { createLogger } from '../src/logger.ts';
import { createMetrics } from '../src/metrics.ts';
import type { ChaseRenderer, NewsRenderer } from '../src/services/ports.ts';
import type { Summary } from '../src/domain/summary.ts';
import { campaignRollUp, summaryFromRollUp } from '../src/services/summaries.ts';

const SERVER = process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432';
const DISTRICTS = 10;
const COMMUNES = 1000;
const VILLAGES = Number(process.env.BENCH_UNITS ?? 10_000) - 1 - DISTRICTS - COMMUNES;
const TASKS = 20;
const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const ZONE = 'Asia/Ho_Chi_Minh';
// Half of the tasks are past due at this instant, so the late lists are long (the expensive case).
const NOW = new Date('2026-09-01T03:00:00Z');
const TOKEN = 'bench-token';
/** A database kept between runs (for working on the query): seeded by the first run, reused by the next; unset: a fresh one, dropped at the end. */
const REUSE = process.env.BENCH_SUMMARY_DB;

/** Bulk seeding in SQL: 600,000 reports from generate_series, not 600,000 creates. */
async function seed(client: pg.Client): Promise<{ campaignId: string }> {
  await client.query(`
    INSERT INTO "Unit" (id, code, name, path, "updatedAt")
    SELECT id, 'TINH', 'UBND tỉnh Lai Châu', '/' || id || '/', now() FROM (SELECT gen_random_uuid() AS id) g`);
  const levels: [string, string, number, string, number][] = [
    ['HUYEN', 'UBND huyện số', DISTRICTS, 'TINH', 1],
    ['XA', 'UBND xã số', COMMUNES, 'HUYEN', DISTRICTS],
    ['THON', 'Thôn bản số', VILLAGES, 'XA', COMMUNES],
  ];
  for (const [prefix, name, count, parentPrefix, parents] of levels) {
    await client.query(
      `INSERT INTO "Unit" (id, code, name, "parentId", path, "blockCodes", "updatedAt")
       SELECT g.id, $1 || '-' || g.i, $2 || ' ' || g.i, p.id, p.path || g.id || '/', ARRAY[$1 || '-KHOI-' || (g.i % 5)], now()
       FROM (SELECT gen_random_uuid() AS id, i FROM generate_series(0, $3::int - 1) i) g
       JOIN "Unit" p ON p.code = CASE WHEN $4 = 'TINH' THEN 'TINH' ELSE $4 || '-' || (g.i % $5::int) END`,
      [prefix, name, count, parentPrefix, parents],
    );
  }
  await client.query(`
    INSERT INTO "Official" (id, code, name, "unitId", role, "updatedAt")
    SELECT gen_random_uuid(), 'CB-' || u.code, 'Cán bộ ' || u.name, u.id, 'focal', now() FROM "Unit" u`);
  const {
    rows: [campaign],
  } = await client.query<{ id: string }>(`
    INSERT INTO "Campaign" (id, "docNumber", title, "issuerUnitId", "startsOn", "endsOn", state, "launchedAt", "updatedAt")
    SELECT gen_random_uuid(), '01/KH-BENCH', 'Phong trào thi đua đo hiệu năng', id, '2026-06-01', '2026-12-31',
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
    `INSERT INTO "CampaignUnit" ("campaignId", "unitId") SELECT $1, id FROM "Unit" WHERE code <> 'TINH'`,
    [campaignId],
  );
  // Most units acknowledged, fewer registered.
  for (const [table, share] of [
    ['Acknowledgement', 9],
    ['Registration', 6],
  ] as const) {
    await client.query(
      `INSERT INTO "${table}" ("campaignId", "unitId", "officialId", channel)
       SELECT $1, cu."unitId", o.id, 'telegram' FROM "CampaignUnit" cu JOIN "Official" o ON o."unitId" = cu."unitId"
       WHERE cu."campaignId" = $1 AND abs(hashtext(cu."unitId"::text)) % 10 < ${share}`,
      [campaignId],
    );
  }
  // 3 reports per (unit, task), a day apart, statuses spread by a hash; the latest is undone for ~1 in 10
  // pairs (the middle one counts) and all three for ~1 in 20 (the pair counts as not reported).
  await client.query(
    `INSERT INTO "StatusReport" (id, "taskId", "unitId", "officialId", status, percent, note, channel, "createdAt", "undoneAt")
     SELECT gen_random_uuid(), t.id, cu."unitId", o.id,
       (ARRAY['done', 'in_progress', 'blocked', 'not_started'])[1 + abs(hashtext(t.id::text || cu."unitId"::text || k)) % 4]::"ReportStatus",
       (abs(hashtext(cu."unitId"::text || k)) % 101), 'Ghi chú ' || k, 'telegram',
       TIMESTAMP '2026-07-01' + (t.position * 7 + k) * INTERVAL '1 day',
       CASE
         WHEN abs(hashtext(t.id::text || cu."unitId"::text)) % 20 = 0 THEN TIMESTAMP '2026-08-30'
         WHEN k = 3 AND abs(hashtext(cu."unitId"::text || t.id::text)) % 10 = 0 THEN TIMESTAMP '2026-08-30'
       END
     FROM "CampaignUnit" cu
     JOIN "Official" o ON o."unitId" = cu."unitId"
     CROSS JOIN "Task" t
     CROSS JOIN generate_series(1, 3) k
     WHERE cu."campaignId" = $1 AND t."campaignId" = $1`,
    [campaignId],
  );
  // The current status of each pair, as the services keep it: seeded in bulk like the migration's backfill.
  await client.query(`
    INSERT INTO "CurrentStatus" ("taskId", "unitId", "reportId", status, percent, "reportedAt")
    SELECT DISTINCT ON (r."taskId", r."unitId") r."taskId", r."unitId", r.id, r.status, r.percent, r."createdAt"
    FROM "StatusReport" r
    WHERE r."undoneAt" IS NULL
    ORDER BY r."taskId", r."unitId", r."createdAt" DESC, r.id DESC`);
  // And each unit's progress row, as the unit_progress migration's backfill lays it out.
  await client.query(`
    INSERT INTO "UnitProgress" ("campaignId", "unitId", statuses, "tasksDigest", acknowledged, registered)
    SELECT p."campaignId", p."unitId",
      COALESCE(string_agg(CASE c.status WHEN 'done' THEN 'D' WHEN 'in_progress' THEN 'I' WHEN 'blocked' THEN 'B'
        WHEN 'not_started' THEN 'N' ELSE '-' END, '' ORDER BY t.position, t.id), ''),
      md5(COALESCE(string_agg(t.id::text, ',' ORDER BY t.position, t.id), '')),
      EXISTS (SELECT 1 FROM "Acknowledgement" a WHERE a."campaignId" = p."campaignId" AND a."unitId" = p."unitId"),
      EXISTS (SELECT 1 FROM "Registration" g WHERE g."campaignId" = p."campaignId" AND g."unitId" = p."unitId")
    FROM (
      SELECT t."campaignId", c."unitId" FROM "CurrentStatus" c JOIN "Task" t ON t.id = c."taskId"
      UNION SELECT "campaignId", "unitId" FROM "Acknowledgement"
      UNION SELECT "campaignId", "unitId" FROM "Registration"
    ) p
    LEFT JOIN "Task" t ON t."campaignId" = p."campaignId"
    LEFT JOIN "CurrentStatus" c ON c."taskId" = t.id AND c."unitId" = p."unitId"
    GROUP BY p."campaignId", p."unitId"`);
  await client.query('VACUUM ANALYZE');
  return { campaignId };
}

/**
 * The roll-up as one query over UnitProgress (one row per unit: a letter per task in task order, whether
 * it acknowledged and registered), as a DBA would write it over the tables the service reads: the scope's
 * rows read once (a row laid out for
 * another task list read from CurrentStatus instead, as the service does), cut into (unit, task) letters
 * by task place, then counted per task, per unit and per child in PostgreSQL, the late and unreported units
 * listed, returned as one small JSON value. The letters are counted in SQL here and in JavaScript by the
 * service: cutting 200,000 letters is where this query spends its time.
 */
const RAW_SUMMARY_PROGRESS = `
WITH tasks AS MATERIALIZED (
  SELECT row_number() OVER (ORDER BY position, id)::int AS place, id, key, "dueOn" < $3::date AS past
  FROM "Task" WHERE "campaignId" = $1
),
scope AS MATERIALIZED (
  SELECT u.id, u.code, u.name, COALESCE(p.acknowledged, false) AS acknowledged,
    COALESCE(p.registered, false) AS registered,
    CASE WHEN u.path = $2 THEN u.id ELSE substr(u.path, length($2) + 1, 36)::uuid END AS child,
    CASE
      WHEN p."tasksDigest" = (SELECT md5(string_agg(id::text, ',' ORDER BY place)) FROM tasks) THEN p.statuses
      WHEN p."unitId" IS NULL THEN ''
      ELSE (SELECT string_agg(CASE cs.status WHEN 'done' THEN 'D' WHEN 'in_progress' THEN 'I'
          WHEN 'blocked' THEN 'B' WHEN 'not_started' THEN 'N' ELSE '-' END, '' ORDER BY t.place)
        FROM tasks t LEFT JOIN "CurrentStatus" cs ON cs."taskId" = t.id AND cs."unitId" = u.id)
    END AS statuses
  FROM "CampaignUnit" cu JOIN "Unit" u ON u.id = cu."unitId"
  LEFT JOIN "UnitProgress" p ON p."campaignId" = cu."campaignId" AND p."unitId" = u.id
  WHERE cu."campaignId" = $1 AND u.path LIKE $2 || '%'
),
items AS MATERIALIZED (
  SELECT s.id AS unit, t.place, substr(s.statuses, t.place, 1) AS letter, t.past FROM scope s CROSS JOIN tasks t
),
per_unit AS MATERIALIZED (
  SELECT s.id AS unit, s.child, s.acknowledged, s.registered, s.statuses ~ '[DIBN]' AS reported,
    length(s.statuses) - length(replace(s.statuses, 'D', '')) AS done,
    (SELECT count(*) FROM tasks t WHERE t.past AND substr(s.statuses, t.place, 1) <> 'D') AS late_items
  FROM scope s
)
SELECT json_build_object(
  'units', (SELECT json_build_object(
      'total', count(*),
      'acknowledged', count(*) FILTER (WHERE acknowledged), 'registered', count(*) FILTER (WHERE registered),
      'reported', count(*) FILTER (WHERE reported), 'overdue', count(*) FILTER (WHERE late_items > 0)) FROM per_unit p),
  'tasks', (SELECT json_agg(x ORDER BY x.place) FROM (
      SELECT t.key, t.place, count(*) FILTER (WHERE i.letter = 'D') AS done,
        count(*) FILTER (WHERE i.letter = 'I') AS "inProgress",
        count(*) FILTER (WHERE i.letter = 'B') AS blocked,
        count(*) FILTER (WHERE i.letter = 'N') AS "notStarted",
        count(*) FILTER (WHERE i.letter IN ('', '-')) AS "noReport",
        count(*) FILTER (WHERE i.past AND i.letter <> 'D') AS overdue
      FROM tasks t JOIN items i ON i.place = t.place GROUP BY t.place, t.key) x),
  'children', (SELECT json_agg(x ORDER BY x.name) FROM (
      SELECT c.code, c.name, sum(p.done) AS done, sum(p.late_items) AS overdue, count(*) AS units,
        count(*) FILTER (WHERE p.late_items > 0) AS "lateUnits"
      FROM per_unit p JOIN "Unit" c ON c.id = p.child GROUP BY c.id, c.code, c.name) x),
  'lateUnits', (SELECT COALESCE(json_agg(json_build_object('code', s.code, 'name', s.name) ORDER BY s.name), '[]')
      FROM per_unit p JOIN scope s ON s.id = p.unit WHERE p.late_items > 0),
  'unreportedUnits', (SELECT COALESCE(json_agg(json_build_object('code', s.code, 'name', s.name) ORDER BY s.name), '[]')
      FROM per_unit p JOIN scope s ON s.id = p.unit WHERE NOT p.reported)
) AS summary`;

/**
 * The same roll-up as one query, as a DBA would write it over CurrentStatus (the service's table before
 * UnitProgress, and the previous baseline): the scope's current statuses
 * joined once (the planner picks a sequential scan and hash join at the root, the (unitId, …) index for a
 * district), then counted per unit, per task and per child with plain counts (no arrays, so nothing
 * spills), the late and unreported units listed, all in PostgreSQL and returned as one small JSON value:
 * no rows to ship, no arithmetic left to do. A pair with no row has no report (or all of them undone).
 */
const RAW_SUMMARY_CURRENT = `
WITH scope AS MATERIALIZED (
  SELECT u.id, u.code, u.name,
    CASE WHEN u.path = $2 THEN u.id ELSE split_part(substr(u.path, length($2) + 1), '/', 1)::uuid END AS child
  FROM "CampaignUnit" cu JOIN "Unit" u ON u.id = cu."unitId"
  WHERE cu."campaignId" = $1 AND u.path LIKE $2 || '%'
),
tasks AS MATERIALIZED (
  SELECT id, key, position, "dueOn" < $3::date AS past FROM "Task" WHERE "campaignId" = $1
),
items AS MATERIALIZED (
  SELECT s.id AS unit, cs."taskId" AS task, cs.status, t.past
  FROM scope s JOIN "CurrentStatus" cs ON cs."unitId" = s.id JOIN tasks t ON t.id = cs."taskId"
),
per_unit AS MATERIALIZED (
  SELECT s.id AS unit, s.child, i.unit IS NOT NULL AS reported, COALESCE(i.done, 0) AS done,
    (SELECT count(*) FROM tasks WHERE past) - COALESCE(i.done_past, 0) AS late_items
  FROM scope s LEFT JOIN (
    SELECT unit, count(*) FILTER (WHERE status = 'done') AS done,
      count(*) FILTER (WHERE status = 'done' AND past) AS done_past
    FROM items GROUP BY unit
  ) i ON i.unit = s.id
)
SELECT json_build_object(
  'units', (SELECT json_build_object(
      'total', count(*),
      'acknowledged', count(*) FILTER (WHERE EXISTS (SELECT 1 FROM "Acknowledgement" a WHERE a."campaignId" = $1 AND a."unitId" = p.unit)),
      'registered', count(*) FILTER (WHERE EXISTS (SELECT 1 FROM "Registration" g WHERE g."campaignId" = $1 AND g."unitId" = p.unit)),
      'reported', count(*) FILTER (WHERE reported), 'overdue', count(*) FILTER (WHERE late_items > 0)) FROM per_unit p),
  'tasks', (SELECT json_agg(x ORDER BY x.position) FROM (
      SELECT t.key, t.position, count(*) FILTER (WHERE i.status = 'done') AS done,
        count(*) FILTER (WHERE i.status = 'in_progress') AS "inProgress",
        count(*) FILTER (WHERE i.status = 'blocked') AS blocked,
        count(*) FILTER (WHERE i.status = 'not_started') AS "notStarted",
        (SELECT count(*) FROM scope) - count(i.status) AS "noReport",
        CASE WHEN t.past THEN (SELECT count(*) FROM scope) - count(*) FILTER (WHERE i.status = 'done') ELSE 0 END
          AS overdue
      FROM tasks t LEFT JOIN items i ON i.task = t.id GROUP BY t.id, t.key, t.position, t.past) x),
  'children', (SELECT json_agg(x ORDER BY x.name) FROM (
      SELECT c.code, c.name, sum(p.done) AS done, sum(p.late_items) AS overdue, count(*) AS units,
        count(*) FILTER (WHERE p.late_items > 0) AS "lateUnits"
      FROM per_unit p JOIN "Unit" c ON c.id = p.child GROUP BY c.id, c.code, c.name) x),
  'lateUnits', (SELECT COALESCE(json_agg(json_build_object('code', s.code, 'name', s.name) ORDER BY s.name), '[]')
      FROM per_unit p JOIN scope s ON s.id = p.unit WHERE p.late_items > 0),
  'unreportedUnits', (SELECT COALESCE(json_agg(json_build_object('code', s.code, 'name', s.name) ORDER BY s.name), '[]')
      FROM per_unit p JOIN scope s ON s.id = p.unit WHERE NOT p.reported)
) AS summary`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function measure(work: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 3; i++) await work(); // warm caches and plans
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await work();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

export async function main(): Promise<void> {
  const name = REUSE ?? `thidua_bench_${randomBytes(4).toString('hex')}`;
  const url = `${SERVER}/${name}`;
  await ensureDatabase(url);
  await applyMigrations(url);
  // The baseline gets the service's setting too (no JIT), so it is the best a hand-written query does.
  const client = new pg.Client({ connectionString: url, options: '-c jit=off' });
  await client.connect();
  const db = createDb(url);
  const app = buildServer({
    db,
    token: TOKEN,
    clock: { now: () => NOW },
    random: { bytes: (n) => randomBytes(n) },
    render: {} as NewsRenderer & ChaseRenderer,
    timeZone: ZONE,
    channels: [],
    logger: createLogger('silent'),
    metrics: createMetrics(),
    readiness: {},
    boardQueues: [],
  });
  try {
    const seedStart = performance.now();
    const seeded = REUSE
      ? (await client.query<{ id: string }>(`SELECT id FROM "Campaign"`)).rows[0]?.id
      : undefined;
    const campaignId = seeded ?? (await seed(client)).campaignId;
    const seedMs = performance.now() - seedStart;
    const counts = await client.query<{ units: string; reports: string }>(
      `SELECT (SELECT count(*) FROM "Unit") AS units, (SELECT count(*) FROM "StatusReport") AS reports`,
    );
    const lines = [
      `seeded ${counts.rows[0]?.units} units (4 levels), ${TASKS} tasks, ${counts.rows[0]?.reports} reports in ${(seedMs / 1000).toFixed(1)} s; ${RUNS} runs each`,
      '',
      '| scope | units | service p50 / p95 (ms) | HTTP p50 / p95 (ms) | raw SQL over UnitProgress p50 / p95 (ms) | raw SQL over CurrentStatus p50 / p95 (ms) | service p95 / faster raw p95 |',
      '|---|---|---|---|---|---|---|',
    ];
    for (const unitCode of [undefined, 'HUYEN-3']) {
      const scopePath = (
        await client.query<{ path: string }>(`SELECT path FROM "Unit" WHERE code = $1`, [unitCode ?? 'TINH'])
      ).rows[0]?.path;
      let served: ReturnType<typeof summaryFromRollUp> | undefined;
      const service = await measure(async () => {
        const rolled = await campaignRollUp(db, campaignId, { unitCode });
        served = summaryFromRollUp(rolled, { now: NOW, timeZone: ZONE });
      });
      const http = await measure(async () => {
        const response = await app.inject({
          method: 'GET',
          url: `/api/campaigns/${campaignId}/summary${unitCode ? `?unit=${unitCode}` : ''}`,
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        if (response.statusCode !== 200) throw new Error(`summary answered ${response.statusCode}`);
      });
      type RawSummary = Pick<Summary, 'units' | 'tasks' | 'lateUnits' | 'unreportedUnits'>;
      const raws: Record<string, RawSummary | undefined> = {};
      const rawSql = async (name: string, query: string) =>
        measure(async () => {
          const result = await client.query<{ summary: RawSummary }>(query, [
            campaignId,
            scopePath,
            '2026-09-01',
          ]);
          raws[name] = result.rows[0]?.summary;
        });
      const overProgress = await rawSql('UnitProgress', RAW_SUMMARY_PROGRESS);
      const overCurrent = await rawSql('CurrentStatus', RAW_SUMMARY_CURRENT);
      const floor = Math.min(overProgress.p95, overCurrent.p95);
      // The two must agree, or the comparison means nothing.
      const figures = (summary: RawSummary | undefined) =>
        JSON.stringify({
          units: summary?.units,
          tasks: summary?.tasks.map(({ done, inProgress, blocked, notStarted, noReport, overdue }) =>
            [done, inProgress, blocked, notStarted, noReport, overdue].map(Number),
          ),
          late: summary?.lateUnits.map((unit) => unit.code).sort(),
          unreported: summary?.unreportedUnits.map((unit) => unit.code).sort(),
        });
      for (const [name, raw] of Object.entries(raws)) {
        if (!served || figures(served) !== figures(raw))
          throw new Error(`service and raw SQL over ${name} disagree:\n${figures(served)}\n${figures(raw)}`);
      }
      if (!served) throw new Error('no summary served');
      lines.push(
        `| ${unitCode ?? 'TINH (root)'} | ${served.units.total} | ${service.p50.toFixed(1)} / ${service.p95.toFixed(1)} | ${http.p50.toFixed(1)} / ${http.p95.toFixed(1)} | ${overProgress.p50.toFixed(1)} / ${overProgress.p95.toFixed(1)} | ${overCurrent.p50.toFixed(1)} / ${overCurrent.p95.toFixed(1)} | ${(service.p95 / floor).toFixed(2)} |`,
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await app.close();
    await db.$disconnect();
    await client.end();
    if (!REUSE) {
      const admin = new pg.Client({ connectionString: `${SERVER}/postgres` });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    }
  }
}
