import { isWithin } from './unit-tree.ts';

/**
 * Who may see or change what, decided once for the bot, the admin API and the console. The organisation is
 * a tree; everyone acts within the subtree of their unit:
 * - an `admin` manages their unit's subtree (units, officials, the campaigns their subtree issued);
 * - a `leader` reads the same subtree (summaries, dashboards, audit) and changes nothing;
 * - `focal` and `member` officials report for their unit and see no summaries;
 * - the break-glass ADMIN_API_TOKEN is an admin of the whole organisation (no root).
 */
export type Role = 'member' | 'focal' | 'leader' | 'admin';

export interface Principal {
  role: Role;
  /** The root of their subtree; null for the whole organisation. */
  root: { unitId: string; path: string } | null;
}

/** How much of a campaign someone sees: all of it, or the part inside their subtree. */
export type CampaignView = { kind: 'whole' } | { kind: 'subtree'; unitId: string; path: string };

/** The campaign as far as scope is concerned: where its issuer sits in the tree. */
export interface ScopedCampaign {
  issuerUnitId: string;
  issuerPath: string;
}

export const isSupervisor = (role: Role): role is 'leader' | 'admin' => role === 'leader' || role === 'admin';

/** True when the unit at `path` lies in the principal's subtree. */
export function covers(principal: Principal, path: string): boolean {
  return principal.root === null || isWithin(path, principal.root.path);
}

/** Leaders and admins read everything in their subtree; nobody else reads summaries or audit. */
export function canRead(principal: Principal, unitPath: string): boolean {
  return isSupervisor(principal.role) && covers(principal, unitPath);
}

/** Only admins change anything, and only inside their subtree. */
export function canManage(principal: Principal, unitPath: string): boolean {
  return principal.role === 'admin' && covers(principal, unitPath);
}

/**
 * What a supervisor sees of a campaign. An admin whose subtree holds the issuing unit sees (and manages)
 * the whole campaign; otherwise a supervisor whose subtree holds the issuer or any participant sees that
 * subtree's part; a campaign that touches nothing of theirs is not theirs to see at all (not even its title).
 */
export function campaignView(
  principal: Principal,
  campaign: ScopedCampaign,
  hasParticipantInSubtree: boolean,
): CampaignView | null {
  if (!isSupervisor(principal.role)) return null;
  const root = principal.root;
  if (root === null) return { kind: 'whole' };
  const holdsIssuer = isWithin(campaign.issuerPath, root.path);
  if (principal.role === 'admin' && holdsIssuer) return { kind: 'whole' };
  if (holdsIssuer || hasParticipantInSubtree)
    return { kind: 'subtree', unitId: root.unitId, path: root.path };
  return null;
}

/** Whether a unit may be looked at (drilled into) within a view of a campaign. */
export function viewIncludes(view: CampaignView, unitPath: string): boolean {
  return view.kind === 'whole' || isWithin(unitPath, view.path);
}

/** Launch, edit and close belong to the admins of the issuer's subtree. */
export function canManageCampaign(principal: Principal, campaign: ScopedCampaign): boolean {
  return canManage(principal, campaign.issuerPath);
}
