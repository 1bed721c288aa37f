import type { RawQueries } from '../db/raw-transactions.ts';
import { Prisma, type Official, type Unit } from '../generated/prisma/client.ts';
import { unitTasksFromRows, unitTasksSql, type UnitTask, type UnitTaskRow } from './reports.ts';

/** The account news goes to: one on the official's preferred channel, else the most recently linked. */
export function preferredAccount<A extends { channel: string }>(
  accounts: A[],
  preferredChannel: string | null | undefined,
): A | undefined {
  return accounts.find((account) => account.channel === preferredChannel) ?? accounts[0];
}

/** A chat's account with its official and their unit, as a dialogue turn needs them. */
export interface ChatAccount {
  id: string;
  active: boolean;
  official: Official & { unit: Unit };
}

interface ChatAccountRow {
  accountId: string;
  active: boolean;
  id: string;
  code: string;
  name: string;
  unitId: string;
  role: Official['role'];
  phone: string | null;
  locale: string;
  preferredChannel: string | null;
  digestWeekday: number | null;
  digestTime: string;
  officialActive: boolean;
  deactivatedAt: Date | null;
  erasedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  unitCode: string;
  unitName: string;
  unitKind: string | null;
  unitParentId: string | null;
  unitPath: string;
  unitBlockCodes: string[];
  unitCreatedAt: Date;
  unitUpdatedAt: Date;
}

/** An official (`o`) and their unit (`u`) as ChatAccountRow's columns. */
const OFFICIAL_COLUMNS = Prisma.sql`o.id, o.code, o.name, o."unitId", o.role::text AS role, o.phone,
  o.locale, o."preferredChannel", o."digestWeekday", o."digestTime", o.active AS "officialActive",
  o."deactivatedAt", o."erasedAt", o."createdAt", o."updatedAt",
  u.code AS "unitCode", u.name AS "unitName", u.kind AS "unitKind", u."parentId" AS "unitParentId",
  u.path AS "unitPath", u."blockCodes" AS "unitBlockCodes", u."createdAt" AS "unitCreatedAt",
  u."updatedAt" AS "unitUpdatedAt"`;

/** What a dialogue turn starts from, read in the statement that records the update. */
export interface OpenedTurn {
  /** False when the update was recorded before (a redelivery): nothing else is read then. */
  fresh: boolean;
  account: ChatAccount | null;
  /** The chat's unfinished exemplar report (PendingReply of kind "exemplar", not expired), if any. */
  exemplarDraft: { id: string; payload: unknown } | null;
  /** The official's unit's tasks (tasksForUnit), when asked for. */
  tasks: UnitTask[] | null;
}

/**
 * Records an update (channel, update id) once and reads what its turn starts from, in one statement
 * (the unit's tasks only for a text, which most often is a status report):
 * every message a person sends begins here, and each round trip to PostgreSQL costs the web role CPU
 * (bench/RESULTS.md, inbound).
 */
export async function openTurn(
  db: RawQueries,
  update: { channel: string; updateId: string; kind: string; chatId: string; now: Date },
  { withTasks = false }: { withTasks?: boolean } = {},
): Promise<OpenedTurn> {
  const [row] = await db.$queryRaw<
    ({
      fresh: boolean;
      draftId: string | null;
      draftPayload: unknown;
      tasks: UnitTaskRow[] | null;
    } & Partial<ChatAccountRow>)[]
  >`
    WITH recorded AS (
      INSERT INTO "InboundUpdate" (channel, "updateId", kind)
      VALUES (${update.channel}, ${update.updateId}, ${update.kind})
      ON CONFLICT DO NOTHING RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM recorded) AS fresh, a.id AS "accountId", a.active, ${OFFICIAL_COLUMNS},
      d.id AS "draftId", d.payload AS "draftPayload",
      CASE WHEN ${withTasks} AND o.id IS NOT NULL
        THEN (SELECT COALESCE(json_agg(k), '[]') FROM (${unitTasksSql(Prisma.sql`o."unitId"`)}) k) END AS tasks
    FROM (SELECT 1) one
    LEFT JOIN ("ChannelAccount" a
      JOIN "Official" o ON o.id = a."officialId"
      JOIN "Unit" u ON u.id = o."unitId")
      ON a.channel = ${update.channel} AND a."chatId" = ${update.chatId}
    LEFT JOIN LATERAL (
      SELECT p.id, p.payload FROM "PendingReply" p
      WHERE p."channelAccountId" = a.id AND p."expiresAt" > ${update.now} AND p.payload->>'kind' = 'exemplar'
      ORDER BY p."createdAt" DESC LIMIT 1
    ) d ON true`;
  if (!row?.fresh) return { fresh: false, account: null, exemplarDraft: null, tasks: null };
  return {
    fresh: true,
    account: row.accountId ? chatAccountOf(row as ChatAccountRow) : null,
    exemplarDraft: row.draftId ? { id: row.draftId, payload: row.draftPayload } : null,
    tasks: row.tasks ? unitTasksFromRows(row.tasks) : null,
  };
}

/** A person writing to us again has unblocked the bot: their chat account is reachable again. */
export async function reactivateAccount(db: RawQueries, accountId: string): Promise<void> {
  await db.$executeRaw`
    UPDATE "ChannelAccount" SET active = true, "inactiveReason" = NULL, "deactivatedAt" = NULL
    WHERE id = ${accountId}::uuid`;
}

/** An official with their unit (a chat just linked to them), or null. */
export async function officialWithUnit(
  db: RawQueries,
  officialId: string,
): Promise<(Official & { unit: Unit }) | null> {
  const [row] = await db.$queryRaw<Omit<ChatAccountRow, 'accountId' | 'active'>[]>`
    SELECT ${OFFICIAL_COLUMNS}
    FROM "Official" o JOIN "Unit" u ON u.id = o."unitId"
    WHERE o.id = ${officialId}::uuid`;
  return row ? officialOf(row) : null;
}

/** The language an official is written to in ("vi", "en"). */
export async function setOfficialLocale(
  db: RawQueries,
  input: { officialId: string; locale: string; now: Date },
): Promise<void> {
  await db.$executeRaw`
    UPDATE "Official" SET locale = ${input.locale}, "updatedAt" = ${input.now}
    WHERE id = ${input.officialId}::uuid`;
}

function chatAccountOf(row: ChatAccountRow): ChatAccount {
  return { id: row.accountId, active: row.active, official: officialOf(row) };
}

function officialOf(row: Omit<ChatAccountRow, 'accountId' | 'active'>): Official & { unit: Unit } {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    unitId: row.unitId,
    role: row.role,
    phone: row.phone,
    locale: row.locale,
    preferredChannel: row.preferredChannel,
    digestWeekday: row.digestWeekday,
    digestTime: row.digestTime,
    active: row.officialActive,
    deactivatedAt: row.deactivatedAt,
    erasedAt: row.erasedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    unit: {
      id: row.unitId,
      code: row.unitCode,
      name: row.unitName,
      kind: row.unitKind,
      parentId: row.unitParentId,
      path: row.unitPath,
      blockCodes: row.unitBlockCodes,
      createdAt: row.unitCreatedAt,
      updatedAt: row.unitUpdatedAt,
      // An official's unit is live: a merge or dissolution moves the unit's officials to its successor.
      retiredAt: null,
      successorId: null,
    },
  };
}
