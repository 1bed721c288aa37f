import type { Queryable } from '../db/client.ts';
import { foldVietnamese } from '../domain/reply-parser.ts';
import { campaignView, type CampaignView, type Principal } from '../domain/scope.ts';
import { SESSION_IDLE_MS } from '../domain/console-session.ts';
import { campaignsInReach } from './scope.ts';
import { campaignSummary } from './summaries.ts';

/**
 * What the console reads that no other service answers in the shape a page needs: campaigns with their
 * progress in the reader's view, the unit tree with counts, officials with their chats, who cannot be
 * reached. Read-only; every question of who may see what is answered by services/scope.ts first.
 */

export interface CampaignRow {
  id: string;
  docNumber: string;
  title: string;
  state: string;
  startsOn: Date;
  endsOn: Date;
  issuer: string;
  view: CampaignView;
  units: { total: number; reported: number; overdue: number };
  late: number;
  tasks: number;
}

/** At most this many campaigns on the list (newest first); older ones are closed history. */
const CAMPAIGN_LIST_MAX = 100;

/** The campaigns in the principal's reach, running first, each with its progress in their view. */
export async function campaignsWithProgress(
  db: Queryable,
  principal: Principal,
  rootUnitCode: string | undefined,
  options: { now: Date; timeZone: string },
): Promise<CampaignRow[]> {
  const root = principal.root;
  const campaigns = await db.campaign.findMany({
    where: campaignsInReach(principal),
    include: {
      issuerUnit: { select: { name: true, path: true } },
      _count: {
        select: {
          units: root ? { where: { unit: { path: { startsWith: root.path } } } } : true,
        },
      },
    },
    orderBy: { createdAt: 'desc' },
    take: CAMPAIGN_LIST_MAX,
  });
  const rows: CampaignRow[] = [];
  for (const campaign of campaigns) {
    const view = campaignView(
      principal,
      { issuerUnitId: campaign.issuerUnitId, issuerPath: campaign.issuerUnit.path },
      campaign._count.units > 0,
    );
    if (!view) continue;
    const summary = await campaignSummary(db, campaign.id, {
      unitCode: view.kind === 'whole' ? undefined : rootUnitCode,
      now: options.now,
      timeZone: options.timeZone,
    });
    rows.push({
      id: campaign.id,
      docNumber: campaign.docNumber,
      title: campaign.title,
      state: campaign.state,
      startsOn: campaign.startsOn,
      endsOn: campaign.endsOn,
      issuer: campaign.issuerUnit.name,
      view,
      units: { total: summary.units.total, reported: summary.units.reported, overdue: summary.units.overdue },
      late: summary.lateUnits.length,
      tasks: summary.tasks.length,
    });
  }
  const order = { running: 0, draft: 1, closed: 2 } as Record<string, number>;
  return rows.sort((a, b) => (order[a.state] ?? 3) - (order[b.state] ?? 3));
}

export type UnreachableReason = 'blocked' | 'outside_window' | 'gone' | 'never_linked' | 'deactivated';

export interface UnreachableOfficial {
  code: string;
  name: string;
  role: string;
  unitCode: string;
  unitName: string;
  reason: UnreachableReason;
  /** What the platform said, for the blocked and the gone. */
  detail: string | null;
  channel: string | null;
  since: Date | null;
}

/** Why a chat stopped working, from what its platform answered (delivery/ keeps the answer as it came). */
export function unreachableReason(
  detail: string | null,
): Exclude<UnreachableReason, 'never_linked' | 'deactivated'> {
  const text = (detail ?? '').toLowerCase();
  if (/window|-230|-232|-227|inactive for/.test(text)) return 'outside_window';
  if (/block|-217|-213|-244|not follow|unfollow|kicked|deactivated|restricted|forbidden/.test(text))
    return 'blocked';
  return 'gone';
}

/** Why an official has no working chat: deactivated by an operator, never linked, or their last chat's fate. */
export function unreachableBecause(row: {
  active: boolean;
  channel: string | null;
  detail: string | null;
}): UnreachableReason {
  if (!row.active) return 'deactivated';
  return row.channel === null ? 'never_linked' : unreachableReason(row.detail);
}

/**
 * The focal and leader officials of a campaign's participants inside the view (the people launches and
 * reminders go to) that the bot cannot reach: every chat of theirs stopped working, they never linked, or
 * an operator deactivated them.
 */
export async function unreachableOfficials(
  db: Queryable,
  campaignId: string,
  scopePath: string | null,
): Promise<UnreachableOfficial[]> {
  const rows = await db.$queryRaw<
    {
      code: string;
      name: string;
      role: string;
      unitCode: string;
      unitName: string;
      channel: string | null;
      detail: string | null;
      since: Date | null;
      active: boolean;
      deactivatedAt: Date | null;
    }[]
  >`
    SELECT o.code, o.name, o.role::text AS role, u.code AS "unitCode", u.name AS "unitName",
      last.channel, last."inactiveReason" AS detail, last."deactivatedAt" AS since, o.active,
      o."deactivatedAt"
    FROM "CampaignUnit" cu
    JOIN "Unit" u ON u.id = cu."unitId"
    JOIN "Official" o ON o."unitId" = u.id AND o.role IN ('focal', 'leader')
    LEFT JOIN LATERAL (
      SELECT a.channel, a."inactiveReason", a."deactivatedAt" FROM "ChannelAccount" a
      WHERE a."officialId" = o.id ORDER BY a."deactivatedAt" DESC NULLS LAST LIMIT 1
    ) last ON true
    WHERE cu."campaignId" = ${campaignId}::uuid
      AND (${scopePath}::text IS NULL OR u.path LIKE ${scopePath}::text || '%')
      AND NOT EXISTS (SELECT 1 FROM "ChannelAccount" a WHERE a."officialId" = o.id AND a.active)
    ORDER BY u.name, o.name
    LIMIT 1000`;
  return rows.map(({ active, deactivatedAt, ...row }) => ({
    ...row,
    ...(active ? {} : { channel: null, detail: null, since: deactivatedAt }),
    reason: unreachableBecause({ active, ...row }),
  }));
}

export interface TreeUnit {
  id: string;
  code: string;
  name: string;
  kind: string | null;
  parentId: string | null;
  path: string;
  /** The emulation blocks (khối thi đua) the unit belongs to. */
  blockCodes: string[];
  depth: number;
  /** The unit's own officials and their active chats. */
  officials: number;
  linked: number;
  /** The same over the unit's whole subtree (itself included). */
  subtree: { units: number; officials: number; linked: number };
  children: TreeUnit[];
}

/**
 * The live units of a subtree (the whole organisation for null; units merged away or dissolved are history)
 * as a tree, with counts of officials and active chats per unit and per subtree: one query, the sums made
 * walking each unit's path.
 */
export async function unitTree(db: Queryable, rootPath: string | null): Promise<TreeUnit[]> {
  const rows = await db.$queryRaw<Omit<TreeUnit, 'depth' | 'subtree' | 'children'>[]>`
    SELECT u.id, u.code, u.name, u.kind, u."parentId", u.path, u."blockCodes",
      COALESCE(o.officials, 0)::int AS officials, COALESCE(o.linked, 0)::int AS linked
    FROM "Unit" u
    LEFT JOIN (
      SELECT f."unitId", count(DISTINCT f.id) AS officials, count(a.id) AS linked
      FROM "Official" f LEFT JOIN "ChannelAccount" a ON a."officialId" = f.id AND a.active
      GROUP BY f."unitId"
    ) o ON o."unitId" = u.id
    WHERE u."retiredAt" IS NULL AND (${rootPath}::text IS NULL OR u.path LIKE ${rootPath}::text || '%')
    ORDER BY u.path`;
  const byId = new Map<string, TreeUnit>();
  for (const row of rows) {
    byId.set(row.id, {
      ...row,
      depth: row.path.split('/').length - 3,
      subtree: { units: 0, officials: 0, linked: 0 },
      children: [],
    });
  }
  const roots: TreeUnit[] = [];
  const collator = new Intl.Collator('vi');
  for (const unit of byId.values()) {
    const parent = unit.parentId ? byId.get(unit.parentId) : undefined;
    if (parent) parent.children.push(unit);
    else roots.push(unit);
    for (const ancestorId of unit.path.split('/').filter(Boolean)) {
      const ancestor = byId.get(ancestorId);
      if (!ancestor) continue;
      ancestor.subtree.units += 1;
      ancestor.subtree.officials += unit.officials;
      ancestor.subtree.linked += unit.linked;
    }
  }
  for (const unit of byId.values()) unit.children.sort((a, b) => collator.compare(a.name, b.name));
  return roots.sort((a, b) => collator.compare(a.name, b.name));
}

/** Units of a tree whose name or code holds the words typed (with or without diacritics), in tree order. */
export function searchUnits(roots: TreeUnit[], query: string, limit = 50): TreeUnit[] {
  const words = foldVietnamese(query).split(' ').filter(Boolean);
  if (words.length === 0) return [];
  const found: TreeUnit[] = [];
  const visit = (unit: TreeUnit) => {
    if (found.length >= limit) return;
    const haystack = `${foldVietnamese(unit.name)} ${foldVietnamese(unit.code)}`;
    if (words.every((word) => haystack.includes(word))) found.push(unit);
    unit.children.forEach(visit);
  };
  roots.forEach(visit);
  return found;
}

/** A unit that left the tree (merged into another, or dissolved into its parent), and what stands for it. */
export interface RetiredUnit {
  code: string;
  name: string;
  kind: 'merged' | 'dissolved';
  retiredAt: Date;
  successor: { code: string; name: string } | null;
}

/**
 * The units of a subtree that left the tree whose name or code holds the words typed (with or without
 * diacritics), newest first: an old code stays findable and says where it went. A retired unit keeps its
 * path in place, so it is found under its former ancestors.
 */
export async function searchRetiredUnits(
  db: Queryable,
  rootPath: string | null,
  query: string,
  limit = 50,
): Promise<RetiredUnit[]> {
  const words = foldVietnamese(query).split(' ').filter(Boolean);
  if (words.length === 0) return [];
  const rows = await db.$queryRaw<
    (Omit<RetiredUnit, 'successor'> & { successorCode: string | null; successorName: string | null })[]
  >`
    SELECT u.code, u.name, u."retiredAt", s.code AS "successorCode", s.name AS "successorName",
      COALESCE((SELECT e.kind::text FROM "UnitEvent" e
                WHERE e."unitId" = u.id AND e.kind IN ('merged', 'dissolved') ORDER BY e.seq DESC LIMIT 1),
               'merged') AS kind
    FROM "Unit" u LEFT JOIN "Unit" s ON s.id = u."successorId"
    WHERE u."retiredAt" IS NOT NULL AND (${rootPath}::text IS NULL OR u.path LIKE ${rootPath}::text || '%')
    ORDER BY u."retiredAt" DESC, u.code`;
  return rows
    .filter((row) => {
      const haystack = `${foldVietnamese(row.name)} ${foldVietnamese(row.code)}`;
      return words.every((word) => haystack.includes(word));
    })
    .slice(0, limit)
    .map(({ successorCode, successorName, ...row }) => ({
      ...row,
      successor: successorCode && successorName ? { code: successorCode, name: successorName } : null,
    }));
}

export interface OfficialRow {
  id: string;
  code: string;
  name: string;
  role: string;
  unitCode: string;
  unitName: string;
  unitPath: string;
  accounts: { channel: string; active: boolean; reason: string | null; linkedAt: string }[];
  lastContact: Date | null;
  /** Console sessions still open (admins and leaders). */
  sessions: number;
  /** false: deactivated by an operator (their chats unlinked); erasedAt: their personal data erased. */
  active: boolean;
  erasedAt: Date | null;
}

/** At most this many officials on one page; a larger subtree is read unit by unit. */
export const OFFICIALS_PAGE_MAX = 500;

/**
 * The officials of a subtree with the state of each of their chats, when they were last heard from in
 * chat (the latest of their links and of what the audit trail records them doing outside the console) and
 * how many console sessions they have open.
 */
export async function officialsOf(db: Queryable, unitPath: string, now: Date): Promise<OfficialRow[]> {
  const idleSince = new Date(now.getTime() - SESSION_IDLE_MS);
  return db.$queryRaw<OfficialRow[]>`
    SELECT o.id, o.code, o.name, o.role::text AS role, u.code AS "unitCode", u.name AS "unitName",
      u.path AS "unitPath", o.active, o."erasedAt",
      COALESCE((SELECT json_agg(json_build_object('channel', a.channel, 'active', a.active,
                  'reason', a."inactiveReason", 'linkedAt', a."linkedAt") ORDER BY a.channel, a."linkedAt" DESC)
                FROM "ChannelAccount" a WHERE a."officialId" = o.id), '[]'::json) AS accounts,
      GREATEST(
        (SELECT max(a."linkedAt") FROM "ChannelAccount" a WHERE a."officialId" = o.id),
        (SELECT max(e.at) FROM "AuditEvent" e
         WHERE e."actorKind" = 'official' AND e."actorId" = o.id AND e.action NOT LIKE 'console.%')
      ) AS "lastContact",
      (SELECT count(*) FROM "ConsoleSession" s
       WHERE s."officialId" = o.id AND s."endedAt" IS NULL AND s."expiresAt" > ${now}
         AND s."lastSeenAt" > ${idleSince})::int AS sessions
    FROM "Official" o JOIN "Unit" u ON u.id = o."unitId"
    WHERE u.path LIKE ${unitPath}::text || '%'
    ORDER BY u.path, o.name
    LIMIT ${OFFICIALS_PAGE_MAX}`;
}
