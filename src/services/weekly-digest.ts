import type { Db, Queryable } from '../db/client.ts';
import {
  digestDecision,
  digestFingerprint,
  digestSlot,
  isoWeekOf,
  type DigestDecision,
  type IsoWeek,
} from '../domain/weekly-digest.ts';
import { campaignView } from '../domain/scope.ts';
import { countExemplars } from './exemplars.ts';
import type { DigestRenderer } from './ports.ts';
import {
  SWEEP_TRANSACTION,
  SweepOutbox,
  activeAccounts,
  recipientOf,
  type Recipient,
  type SweepMessage,
  type SweepOptions,
  type SweepResult,
} from './sweeps.ts';
import { officialPrincipal } from './scope.ts';
import { campaignSummary, type CampaignSummary } from './summaries.ts';

export interface WeeklyDigestDeps {
  db: Db;
  render: DigestRenderer;
  timeZone: string;
}

export type WeeklyDigestDetails = {
  /** The ISO week looked at, "2026-W48". */
  week: string;
  /** Digests sent (or that would be): one per (official, campaign). */
  digests: number;
  /** Digests not sent because nothing changed and nothing is late (recorded as looked at). */
  unchanged: number;
};

export interface WeeklyDigestResult extends SweepResult {
  details: WeeklyDigestDetails;
}

interface Pair {
  recipient: Recipient;
  campaign: { id: string; docNumber: string; issuerCode: string };
  /** The unit whose subtree is summarised; undefined: the whole campaign. */
  unitCode: string | undefined;
}

interface Decided extends Pair {
  summary: CampaignSummary;
  exemplars: number;
  fingerprint: string;
  decision: Exclude<DigestDecision, 'skip'>;
}

const pairKey = (officialId: string, campaignId: string) => `${officialId}|${campaignId}`;

/** What the sweep knows of its week: which, and the instant it runs at. */
interface DigestWeek {
  week: IsoWeek;
  now: Date;
}

/**
 * The running campaigns, and the officials who may get a digest of them (leaders, and admins of an
 * issuer) whose slot in this week has come, with it.
 */
async function dueOfficials(deps: WeeklyDigestDeps, { week, now }: DigestWeek) {
  const { db, timeZone } = deps;
  const campaigns = await db.campaign.findMany({
    where: { state: 'running', launchedAt: { not: null } },
    select: {
      id: true,
      docNumber: true,
      issuerUnitId: true,
      launchedAt: true,
      issuerUnit: { select: { code: true, path: true } },
    },
    orderBy: [{ launchedAt: 'asc' }, { id: 'asc' }],
  });
  if (campaigns.length === 0) return { campaigns, officials: [] };
  const officials = await db.official.findMany({
    where: {
      digestWeekday: { not: null },
      OR: [{ role: 'leader' }, { role: 'admin', unitId: { in: campaigns.map((c) => c.issuerUnitId) } }],
      accounts: { some: { active: true } },
    },
    select: {
      id: true,
      code: true,
      role: true,
      unitId: true,
      locale: true,
      preferredChannel: true,
      digestWeekday: true,
      digestTime: true,
      unit: { select: { code: true, path: true } },
      accounts: activeAccounts,
    },
    orderBy: { code: 'asc' },
  });
  const due = officials.flatMap((official) => {
    const schedule = { weekday: official.digestWeekday ?? 1, time: official.digestTime };
    const slot = digestSlot(week, schedule, timeZone);
    return slot.getTime() <= now.getTime() ? [{ ...official, slot }] : [];
  });
  return { campaigns, officials: due };
}

/**
 * Each (official, campaign) due and not decided yet this week, with the scope the official sees: a
 * leader their unit's subtree (campaigns with a participant in it), an issuer's admin the whole campaign.
 */
async function undecidedPairs(deps: WeeklyDigestDeps, at: DigestWeek): Promise<Pair[]> {
  const { db } = deps;
  const { campaigns, officials: due } = await dueOfficials(deps, at);
  if (due.length === 0) return [];
  const campaignIds = campaigns.map((campaign) => campaign.id);
  const decided = await db.weeklyDigestSent.findMany({
    where: {
      week: at.week.key,
      officialId: { in: due.map((official) => official.id) },
      campaignId: { in: campaignIds },
    },
    select: { officialId: true, campaignId: true },
  });
  const already = new Set(decided.map((row) => pairKey(row.officialId, row.campaignId)));

  // The campaigns with at least one participant in each leader's subtree, in one query.
  const leaderIds = due.filter((official) => official.role === 'leader').map((official) => official.id);
  const inSubtree =
    leaderIds.length === 0
      ? []
      : await db.$queryRaw<{ officialId: string; campaignId: string }[]>`
          SELECT o.id AS "officialId", c.id AS "campaignId"
          FROM "Official" o
          JOIN "Unit" ou ON ou.id = o."unitId"
          CROSS JOIN unnest(${campaignIds}::uuid[]) AS c(id)
          WHERE o.id = ANY(${leaderIds}::uuid[])
            AND EXISTS (
              SELECT 1 FROM "CampaignUnit" cu JOIN "Unit" u ON u.id = cu."unitId"
              WHERE cu."campaignId" = c.id AND u.path LIKE ou.path || '%')`;
  const leads = new Set(inSubtree.map((row) => pairKey(row.officialId, row.campaignId)));

  const pairs: Pair[] = [];
  for (const official of due) {
    const recipient = recipientOf(official);
    if (!recipient) continue;
    for (const campaign of campaigns) {
      const key = pairKey(official.id, campaign.id);
      if (already.has(key)) continue;
      // A week whose slot came before the launch has nothing to add to the launch itself.
      if (!campaign.launchedAt || official.slot.getTime() < campaign.launchedAt.getTime()) continue;
      const view = campaignView(
        officialPrincipal(official),
        { issuerUnitId: campaign.issuerUnitId, issuerPath: campaign.issuerUnit.path },
        leads.has(key),
      );
      if (!view) continue;
      pairs.push({
        recipient,
        campaign: { id: campaign.id, docNumber: campaign.docNumber, issuerCode: campaign.issuerUnit.code },
        unitCode: view.kind === 'whole' ? undefined : official.unit.code,
      });
    }
  }
  return pairs;
}

/**
 * The decision for each pair: send, or record as looked at (nothing changed since the last digest sent
 * and nothing late); skipped pairs are left out. One roll-up per scope, however many supervisors share it.
 */
async function decide(deps: WeeklyDigestDeps, { week, now }: DigestWeek, pairs: Pair[]): Promise<Decided[]> {
  const { db, timeZone } = deps;
  const lastSent = await db.$queryRaw<{ officialId: string; campaignId: string; fingerprint: string }[]>`
    SELECT DISTINCT ON ("officialId", "campaignId") "officialId", "campaignId", fingerprint
    FROM "WeeklyDigestSent"
    WHERE sent AND week < ${week.key}
      AND "officialId" = ANY(${[...new Set(pairs.map((p) => p.recipient.officialId))]}::uuid[])
      AND "campaignId" = ANY(${[...new Set(pairs.map((p) => p.campaign.id))]}::uuid[])
    ORDER BY "officialId", "campaignId", week DESC`;
  const lastFingerprint = new Map(
    lastSent.map((row) => [pairKey(row.officialId, row.campaignId), row.fingerprint]),
  );

  const scopes = new Map<string, { summary: CampaignSummary; exemplars: number }>();
  const scopeOf = async (pair: Pair) => {
    const key = `${pair.campaign.id}|${pair.unitCode ?? ''}`;
    let scope = scopes.get(key);
    if (!scope) {
      const summary = await campaignSummary(db, pair.campaign.id, { unitCode: pair.unitCode, now, timeZone });
      const exemplars = await countExemplars(db, pair.campaign.id, { unitCode: pair.unitCode });
      scope = { summary, exemplars };
      scopes.set(key, scope);
    }
    return scope;
  };
  const decisions: Decided[] = [];
  for (const pair of pairs) {
    const { summary, exemplars } = await scopeOf(pair);
    const fingerprint = digestFingerprint(summary);
    const decision = digestDecision({
      summary,
      fingerprint,
      lastSentFingerprint: lastFingerprint.get(pairKey(pair.recipient.officialId, pair.campaign.id)) ?? null,
    });
    if (decision !== 'skip') decisions.push({ ...pair, summary, exemplars, fingerprint, decision });
  }
  return decisions;
}

/** The messages of the digests decided 'send'. */
function digestMessages(deps: WeeklyDigestDeps, { week, now }: DigestWeek, chosen: Decided[]): SweepOutbox {
  const outbox = new SweepOutbox();
  for (const digest of chosen) {
    if (digest.decision !== 'send') continue;
    const messages = deps.render.weeklyDigest(digest.recipient.locale, digest.summary, {
      monday: week.monday,
      sunday: week.sunday,
      now,
      exemplars: digest.exemplars,
    });
    messages.forEach((message, index) => {
      outbox.add(
        `weekly-digest:${week.key}:${digest.campaign.id}:${digest.recipient.officialId}:${index}`,
        digest.recipient,
        message,
        {
          kind: 'weekly-digest',
          slot: week.key,
          docNumber: digest.campaign.docNumber,
          unitCode: digest.unitCode ?? digest.campaign.issuerCode,
          to: digest.recipient.code,
        },
      );
    });
  }
  return outbox;
}

/** The claim: only the (official, campaign, week) rows this transaction inserts are its to send. */
async function claim(tx: Queryable, { week, now }: DigestWeek, decisions: Decided[]): Promise<Decided[]> {
  const claimedRows = await tx.$queryRaw<{ officialId: string; campaignId: string }[]>`
    INSERT INTO "WeeklyDigestSent" ("officialId", "campaignId", week, fingerprint, sent, at)
    SELECT c."officialId", c."campaignId", ${week.key}, c.fingerprint, c.sent, ${now}
    FROM unnest(${decisions.map((d) => d.recipient.officialId)}::uuid[],
                ${decisions.map((d) => d.campaign.id)}::uuid[],
                ${decisions.map((d) => d.fingerprint)}::text[],
                ${decisions.map((d) => d.decision === 'send')}::boolean[])
      AS c("officialId", "campaignId", fingerprint, sent)
    ON CONFLICT DO NOTHING
    RETURNING "officialId", "campaignId"`;
  const claimed = new Set(claimedRows.map((row) => pairKey(row.officialId, row.campaignId)));
  return decisions.filter((d) => claimed.has(pairKey(d.recipient.officialId, d.campaign.id)));
}

function tally(
  week: IsoWeek,
  chosen: Decided[],
  outbox: { messages: number; sample: SweepMessage[] },
): WeeklyDigestResult {
  const digests = chosen.filter((digest) => digest.decision === 'send').length;
  return {
    reminders: digests,
    messages: outbox.messages,
    unreachable: 0,
    sample: outbox.sample,
    details: { week: week.key, digests, unchanged: chosen.length - digests },
  };
}

/**
 * The weekly summary digest. Each official's slot is their weekday and time in the current ISO week
 * (TZ_DEFAULT); once it has come, every running campaign they supervise gets one decision for the week,
 * keyed by (official, campaign, week) in WeeklyDigestSent and claimed in the same transaction as the
 * outbox rows, so reruns, two workers or a catch-up after downtime send it once. Leaders get their unit's
 * subtree (campaigns with a participant in it), admins of the issuer the whole campaign; the wider scope
 * wins. Unchanged figures with nothing late are recorded as looked at (sent = false) and not sent.
 */
export async function sweepWeeklyDigests(
  deps: WeeklyDigestDeps,
  options: SweepOptions,
): Promise<WeeklyDigestResult> {
  const at: DigestWeek = { week: isoWeekOf(options.now, deps.timeZone), now: options.now };
  const pairs = await undecidedPairs(deps, at);
  if (pairs.length === 0) return tally(at.week, [], { messages: 0, sample: [] });
  const decisions = await decide(deps, at, pairs);
  if (options.dryRun) {
    const outbox = digestMessages(deps, at, decisions);
    return tally(at.week, decisions, { messages: outbox.items.length, sample: outbox.sample });
  }
  return deps.db.$transaction(async (tx) => {
    const mine = await claim(tx, at, decisions);
    const outbox = digestMessages(deps, at, mine);
    return tally(at.week, mine, { messages: await outbox.write(tx, false), sample: outbox.sample });
  }, SWEEP_TRANSACTION);
}
