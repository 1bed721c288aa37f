import type pg from 'pg';

/** The code of the n-th commune `seedCommunes` makes (from 1). */
export const communeCode = (n: number): string => `XA${String(n).padStart(5, '0')}`;

/**
 * A province (code TINH) and under it one commune per two officials, each commune with a focal and a
 * leader official (the last commune may have only its focal), written with SQL in bulk: thousands of
 * officials in a few statements, where the admin API would take one request each. Linking them to chats
 * is left to the caller (the channel differs). Returns the communes' codes.
 */
export async function seedCommunes(
  sql: pg.Client,
  { provinceName, officials }: { provinceName: string; officials: number },
): Promise<string[]> {
  const communes = Math.ceil(officials / 2);
  await sql.query(
    `INSERT INTO "Unit" (id, code, name, path, "updatedAt")
     SELECT id, 'TINH', $1, '/' || id || '/', now() FROM (SELECT gen_random_uuid() AS id) v`,
    [provinceName],
  );
  await sql.query(
    `INSERT INTO "Unit" (id, code, name, "parentId", path, "updatedAt")
     SELECT v.id, 'XA' || lpad(v.n::text, 5, '0'), 'UBND xã số ' || v.n, r.id, r.path || v.id || '/', now()
     FROM (SELECT gen_random_uuid() AS id, n FROM generate_series(1, $1::int) n) v,
          (SELECT id, path FROM "Unit" WHERE code = 'TINH') r`,
    [communes],
  );
  await sql.query(
    `INSERT INTO "Official" (id, code, name, "unitId", role, "updatedAt")
     SELECT gen_random_uuid(), u.code || '-' || r.role, 'Cán bộ ' || r.role || ' ' || u.name, u.id, r.role::"Role", now()
     FROM "Unit" u, (VALUES ('focal'), ('leader')) r(role)
     WHERE u.code LIKE 'XA%'
     ORDER BY u.code, r.role
     LIMIT $1`,
    [officials],
  );
  return Array.from({ length: communes }, (_, i) => communeCode(i + 1));
}

/** Task titles of a province's plan, as long as real ones (seed documents): what a summary must fit. */
const PLAN_TASKS = [
  'Quán triệt, triển khai kế hoạch tổ chức phong trào thi đua đến cán bộ, công chức, viên chức',
  'Tuyên truyền về các sự kiện lịch sử và những tấm gương điển hình tiên tiến trên các phương tiện',
  'Đăng ký thi đua, ký kết giao ước thi đua giữa các cụm, khối thi đua',
  'Thực hiện chuyển đổi số trong giải quyết thủ tục hành chính, dịch vụ công trực tuyến toàn trình',
  'Phát triển kinh tế - xã hội, hoàn thành các chỉ tiêu kế hoạch năm được giao',
  'Xây dựng nông thôn mới nâng cao, nông thôn mới kiểu mẫu',
  'Bảo đảm quốc phòng, an ninh, trật tự an toàn xã hội trên địa bàn',
  'Cải cách hành chính, nâng cao chỉ số hài lòng của người dân, doanh nghiệp',
  'Phát hiện, bồi dưỡng, nhân rộng điển hình tiên tiến',
  'Sơ kết giữa kỳ, đánh giá kết quả thực hiện phong trào',
  'Đề xuất khen thưởng tập thể, cá nhân có thành tích xuất sắc',
  'Tổng kết phong trào, báo cáo kết quả về cơ quan thường trực',
];

/**
 * A province (seedCommunes: TINH and one commune per two officials directly under it, as after the 2025
 * reform) and one running campaign issued by it to every commune: `tasks` tasks (the first half due on
 * `pastDue`, the rest a year later), every other commune acknowledged, and about one commune in ten having
 * reported every task (done or in progress). CurrentStatus and UnitProgress are laid out as the services
 * keep them. All in a few bulk statements. Returns the campaign's id and the communes' codes.
 */
export async function seedProvinceCampaign(
  sql: pg.Client,
  input: { communes: number; tasks: number; pastDue: string; provinceName?: string },
): Promise<{ campaignId: string; communes: string[] }> {
  const communes = await seedCommunes(sql, {
    provinceName: input.provinceName ?? 'UBND tỉnh Lai Châu',
    officials: input.communes * 2,
  });
  const {
    rows: [campaign],
  } = await sql.query<{ id: string }>(`
    INSERT INTO "Campaign" (id, "docNumber", title, "issuerUnitId", "startsOn", "endsOn", state, "launchedAt", "updatedAt")
    SELECT gen_random_uuid(), '125/KH-UBND', 'Phát động phong trào thi đua đặc biệt lập thành tích chào mừng kỷ niệm các sự kiện lịch sử của tỉnh',
      id, '2026-01-01', '2027-12-31', 'running', '2026-01-05T02:00:00Z', now()
    FROM "Unit" WHERE code = 'TINH' RETURNING id`);
  const campaignId = campaign?.id ?? '';
  await sql.query(
    `INSERT INTO "Task" (id, "campaignId", key, title, "dueOn", position)
     SELECT gen_random_uuid(), $1, 'NV' || i, ($2::text[])[1 + (i - 1) % array_length($2::text[], 1)],
       CASE WHEN i <= $3::int / 2 THEN $4::date ELSE $4::date + 365 END, i
     FROM generate_series(1, $3::int) i`,
    [campaignId, PLAN_TASKS, input.tasks, input.pastDue],
  );
  await sql.query(
    `INSERT INTO "CampaignUnit" ("campaignId", "unitId") SELECT $1, id FROM "Unit" WHERE code LIKE 'XA%'`,
    [campaignId],
  );
  await sql.query(
    `INSERT INTO "Acknowledgement" ("campaignId", "unitId", "officialId", channel)
     SELECT $1, u.id, o.id, 'telegram' FROM "Unit" u JOIN "Official" o ON o."unitId" = u.id AND o.role = 'focal'
     WHERE u.code LIKE 'XA%' AND substr(u.code, 3)::int % 2 = 0`,
    [campaignId],
  );
  await sql.query(
    `INSERT INTO "StatusReport" (id, "taskId", "unitId", "officialId", status, percent, channel, "createdAt")
     SELECT gen_random_uuid(), t.id, u.id, o.id,
       (CASE WHEN substr(u.code, 3)::int % 20 = 0 THEN 'done' ELSE 'in_progress' END)::"ReportStatus",
       CASE WHEN substr(u.code, 3)::int % 20 = 0 THEN 100 ELSE 50 END, 'telegram', TIMESTAMP '2026-02-01'
     FROM "Unit" u JOIN "Official" o ON o."unitId" = u.id AND o.role = 'focal'
     CROSS JOIN "Task" t
     WHERE u.code LIKE 'XA%' AND substr(u.code, 3)::int % 10 = 0 AND t."campaignId" = $1`,
    [campaignId],
  );
  await sql.query(`
    INSERT INTO "CurrentStatus" ("taskId", "unitId", "reportId", status, percent, "reportedAt")
    SELECT r."taskId", r."unitId", r.id, r.status, r.percent, r."createdAt" FROM "StatusReport" r`);
  await sql.query(
    `INSERT INTO "UnitProgress" ("campaignId", "unitId", statuses, "tasksDigest", acknowledged, registered)
     SELECT $1, cu."unitId",
       COALESCE(string_agg(CASE c.status WHEN 'done' THEN 'D' WHEN 'in_progress' THEN 'I' WHEN 'blocked' THEN 'B'
         WHEN 'not_started' THEN 'N' ELSE '-' END, '' ORDER BY t.position, t.id), ''),
       md5(COALESCE(string_agg(t.id::text, ',' ORDER BY t.position, t.id), '')),
       EXISTS (SELECT 1 FROM "Acknowledgement" a WHERE a."campaignId" = $1 AND a."unitId" = cu."unitId"), false
     FROM "CampaignUnit" cu
     JOIN "Task" t ON t."campaignId" = cu."campaignId"
     LEFT JOIN "CurrentStatus" c ON c."taskId" = t.id AND c."unitId" = cu."unitId"
     WHERE cu."campaignId" = $1
     GROUP BY cu."unitId"`,
    [campaignId],
  );
  await sql.query('ANALYZE');
  return { campaignId, communes };
}
