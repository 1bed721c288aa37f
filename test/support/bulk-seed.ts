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
