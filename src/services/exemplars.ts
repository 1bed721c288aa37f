import type { Queryable } from '../db/client.ts';
import {
  cleanExemplarText,
  EXEMPLAR_LIMITS,
  exemplarTextProblem,
  type ExemplarTextProblem,
} from '../domain/exemplar.ts';
import { isUuid, notFound } from './errors.ts';
import { campaignsInReach } from './scope.ts';
import type { ExemplarRow } from './summary-workbook.ts';

/** A campaign an official may report exemplars for. */
export interface ExemplarCampaign {
  id: string;
  docNumber: string;
  title: string;
}

/**
 * Running campaigns in an official's reach, as /tonghop sees them (services/scope.ts): those their subtree
 * issued, and those with a participant in their unit's subtree (their own unit, or units under it when they supervise). A unit
 * with no part in a campaign is not offered it. Latest launched first.
 */
export async function exemplarCampaigns(
  db: Queryable,
  unit: { id: string; path: string },
): Promise<ExemplarCampaign[]> {
  return db.campaign.findMany({
    where: {
      state: 'running',
      ...campaignsInReach({ role: 'member', root: { unitId: unit.id, path: unit.path } }),
    },
    orderBy: [{ launchedAt: 'desc' }, { id: 'asc' }],
    select: { id: true, docNumber: true, title: true },
  });
}

export interface ExemplarInput {
  campaignId: string;
  officialId: string;
  subject: string;
  achievement: string;
  photoRef: string | null;
  channel: string;
  now: Date;
}

export type RecordExemplarResult =
  | { kind: 'recorded'; id: string; docNumber: string; subject: string; achievement: string }
  | { kind: 'invalid'; problems: ExemplarTextProblem[] }
  /** The campaign is not running, or not in the official's reach (see exemplarCampaigns). */
  | { kind: 'not_allowed' };

/**
 * Records one exemplar in the caller's transaction, under the reporting official's unit (which decides who
 * sees it in summaries). Invalid text or a campaign the official may not report for writes nothing.
 */
export async function recordExemplar(tx: Queryable, input: ExemplarInput): Promise<RecordExemplarResult> {
  const subject = cleanExemplarText(input.subject);
  const achievement = cleanExemplarText(input.achievement);
  const problems = [
    exemplarTextProblem('subject', subject),
    exemplarTextProblem('achievement', achievement),
  ].filter((problem): problem is ExemplarTextProblem => problem !== null);
  if (problems.length > 0) return { kind: 'invalid', problems };
  const photoRef =
    input.photoRef && input.photoRef.length <= EXEMPLAR_LIMITS.photoRef ? input.photoRef : null;
  if (!isUuid(input.campaignId) || !isUuid(input.officialId)) return { kind: 'not_allowed' };
  const official = await tx.official.findUnique({
    where: { id: input.officialId },
    select: { id: true, unit: { select: { id: true, path: true } } },
  });
  if (!official) return { kind: 'not_allowed' };
  const allowed = await exemplarCampaigns(tx, official.unit);
  const campaign = allowed.find((candidate) => candidate.id === input.campaignId);
  if (!campaign) return { kind: 'not_allowed' };
  const created = await tx.exemplar.create({
    data: {
      campaignId: campaign.id,
      unitId: official.unit.id,
      officialId: official.id,
      subject,
      achievement,
      photoRef,
      channel: input.channel,
      createdAt: input.now,
    },
    select: { id: true },
  });
  return { kind: 'recorded', id: created.id, docNumber: campaign.docNumber, subject, achievement };
}

export type WithdrawExemplarResult =
  | { kind: 'withdrawn'; subject: string }
  | { kind: 'already_withdrawn'; subject: string }
  | { kind: 'not_allowed' };

/** The reporter takes an exemplar back; the row stays, marked withdrawn, for the audit trail. */
export async function withdrawExemplar(
  tx: Queryable,
  input: { exemplarId: string; officialId: string; now: Date },
): Promise<WithdrawExemplarResult> {
  if (!isUuid(input.exemplarId)) return { kind: 'not_allowed' };
  const exemplar = await tx.exemplar.findFirst({
    where: { id: input.exemplarId, officialId: input.officialId },
    select: { id: true, subject: true },
  });
  if (!exemplar) return { kind: 'not_allowed' };
  const changed = await tx.exemplar.updateMany({
    where: { id: exemplar.id, withdrawnAt: null },
    data: { withdrawnAt: input.now },
  });
  return { kind: changed.count === 0 ? 'already_withdrawn' : 'withdrawn', subject: exemplar.subject };
}

export interface ExemplarScope {
  /** A unit's subtree (default: the whole campaign). */
  unitCode?: string | undefined;
  /** Only exemplars from units of this emulation block. */
  block?: string | undefined;
}

export interface ExemplarView {
  id: string;
  unit: { code: string; name: string };
  reportedBy: { code: string; name: string };
  subject: string;
  achievement: string;
  hasPhoto: boolean;
  channel: string;
  createdAt: Date;
}

/** The filter of a scope; unknown campaign or unit is a 404 to the admin API. */
async function scopeFilter(db: Queryable, campaignId: string, scope: ExemplarScope) {
  if (!isUuid(campaignId)) throw notFound('campaign', campaignId);
  const campaign = await db.campaign.findUnique({ where: { id: campaignId }, select: { id: true } });
  if (!campaign) throw notFound('campaign', campaignId);
  let path: string | undefined;
  if (scope.unitCode !== undefined) {
    const unit = await db.unit.findUnique({ where: { code: scope.unitCode }, select: { path: true } });
    if (!unit) throw notFound('unit', scope.unitCode);
    path = unit.path;
  }
  return {
    campaignId,
    withdrawnAt: null,
    ...(path !== undefined || scope.block !== undefined
      ? {
          unit: {
            ...(path !== undefined ? { path: { startsWith: path } } : {}),
            ...(scope.block !== undefined ? { blockCodes: { has: scope.block } } : {}),
          },
        }
      : {}),
  };
}

/** The exemplars of a campaign (not withdrawn) reported from units within the scope, oldest first. */
export async function listExemplars(
  db: Queryable,
  campaignId: string,
  scope: ExemplarScope = {},
): Promise<ExemplarView[]> {
  const rows = await db.exemplar.findMany({
    where: await scopeFilter(db, campaignId, scope),
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    include: {
      unit: { select: { code: true, name: true } },
      official: { select: { code: true, name: true } },
    },
  });
  return rows.map((row) => ({
    id: row.id,
    unit: row.unit,
    reportedBy: row.official,
    subject: row.subject,
    achievement: row.achievement,
    hasPhoto: row.photoRef !== null,
    channel: row.channel,
    createdAt: row.createdAt,
  }));
}

/** How many exemplars (not withdrawn) were reported from units within the scope. */
export async function countExemplars(
  db: Queryable,
  campaignId: string,
  scope: ExemplarScope = {},
): Promise<number> {
  return db.exemplar.count({ where: await scopeFilter(db, campaignId, scope) });
}

/** The workbook's "Điển hình" sheet rows for a scope. */
export async function exemplarRows(
  db: Queryable,
  campaignId: string,
  scope: ExemplarScope = {},
): Promise<ExemplarRow[]> {
  return (await listExemplars(db, campaignId, scope)).map((exemplar) => ({
    who: exemplar.subject,
    what: exemplar.achievement,
    unitName: exemplar.unit.name,
    reportedBy: `${exemplar.reportedBy.name} (${exemplar.reportedBy.code})`,
    createdAt: exemplar.createdAt,
  }));
}
