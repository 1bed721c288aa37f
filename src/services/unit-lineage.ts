import type { Queryable } from '../db/client.ts';
import type { UnitRef } from '../domain/summary.ts';
import type { UnitEventKind } from './unit-history.ts';

/*
 * What the read side shows of the organisation's changes during a campaign: the units a participant was
 * formed from ("(trước đây: …)" beside its name in summaries, exports and the chat), and the workbook's
 * sheet of changes. Both read UnitEvent, whose merged and dissolved rows name the campaigns whose
 * participation passed to the successor.
 */

/**
 * For each of `codes` (participants of the campaign) formed by a merge during it, the units that went into
 * it having taken part in the campaign, through every step (A into B, then B into C: C was A and B), in the
 * order they went. Participants formed by no merge are left out.
 */
export async function formerUnits(
  db: Queryable,
  campaignId: string,
  codes: readonly string[],
): Promise<Record<string, UnitRef[]>> {
  if (codes.length === 0) return {};
  const events = await db.$queryRaw<{ code: string; name: string; successor: string }[]>`
    SELECT u.code, u.name, s.code AS successor
    FROM "UnitEvent" e JOIN "Unit" u ON u.id = e."unitId" JOIN "Unit" s ON s.id = e."relatedUnitId"
    WHERE e."campaignIds" @> ARRAY[${campaignId}::uuid] AND e.kind IN ('merged', 'dissolved')
    ORDER BY e.seq`;
  if (events.length === 0) return {};
  const into = new Map<string, UnitRef[]>();
  for (const { code, name, successor } of events)
    into.set(successor, [...(into.get(successor) ?? []), { code, name }]);
  const formerly: Record<string, UnitRef[]> = {};
  for (const code of codes) {
    const found: UnitRef[] = [];
    const seen = new Set<string>([code]);
    const visit = (successor: string) => {
      for (const unit of into.get(successor) ?? []) {
        if (seen.has(unit.code)) continue;
        seen.add(unit.code);
        found.push(unit);
        visit(unit.code);
      }
    };
    visit(code);
    if (found.length > 0) formerly[code] = found;
  }
  return formerly;
}

/** One change of the organisation during a campaign, as the workbook lists it. */
export interface OrganisationChange {
  at: Date;
  effectiveOn: Date | null;
  kind: UnitEventKind;
  unitCode: string;
  unitName: string;
  from: string | null;
  to: string | null;
  actor: string;
}

/**
 * The changes of the organisation during a campaign that concern `codes` (its participants in the scope
 * asked) and the units they were formed from: each merge or dissolution that passed a participation of the
 * campaign on, and each rename and move of those units since the campaign started. Oldest first.
 */
export async function organisationChanges(
  db: Queryable,
  campaign: { id: string; startsOn: Date },
  codes: readonly string[],
): Promise<OrganisationChange[]> {
  if (codes.length === 0) return [];
  return db.$queryRaw<OrganisationChange[]>`
    WITH RECURSIVE lineage AS (
      SELECT id FROM "Unit" WHERE code = ANY(${codes}::text[])
      UNION
      SELECT u.id FROM lineage l JOIN "Unit" u ON u."successorId" = l.id
    )
    SELECT e.at, e."effectiveOn", e.kind::text AS kind, u.code AS "unitCode", u.name AS "unitName",
      e."fromValue" AS from, e."toValue" AS to,
      COALESCE(o.name || ' (' || o.code || ')', e."actorLabel", '') AS actor
    FROM "UnitEvent" e
    JOIN "Unit" u ON u.id = e."unitId"
    LEFT JOIN "Official" o ON e."actorKind" = 'official' AND o.id = e."actorId"
    WHERE e."unitId" IN (SELECT id FROM lineage)
      AND ((e.kind IN ('merged', 'dissolved') AND e."campaignIds" @> ARRAY[${campaign.id}::uuid])
        OR (e.kind IN ('renamed', 'moved') AND COALESCE(e."effectiveOn", e.at::date) >= ${campaign.startsOn}::date))
    ORDER BY e.seq`;
}
