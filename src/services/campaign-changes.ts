import type { CampaignView } from './campaigns.ts';
import { fieldChanges } from './audit.ts';

/**
 * What the audit rows of a campaign's creation and patches hold: its fields, and a patch field by field
 * (`[before, after]`), the participating units as those added and removed.
 */

/** Units listed in an audit row in full up to this many; beyond, only how many. */
const AUDITED_UNIT_CODES = 200;

const unitList = (codes: string[]) =>
  codes.length <= AUDITED_UNIT_CODES ? { unitCodes: codes } : { unitCount: codes.length };

/** A campaign's fields as the audit row of its creation holds them. */
export function auditedFields(campaign: CampaignView): Record<string, unknown> {
  const { id: _id, state: _state, launchedAt: _launched, closedAt: _closed, unitCodes, ...fields } = campaign;
  return { ...fields, ...unitList(unitCodes) };
}

const PATCHABLE = [
  'title',
  'theme',
  'kind',
  'startsOn',
  'endsOn',
  'tasks',
  'reportSchedule',
  'policy',
] as const;

/** What a patch changed, field by field: `[before, after]`; the units as those added and removed. */
export function patchChanges(before: CampaignView, after: CampaignView): Record<string, unknown> | null {
  const changes: Record<string, unknown> = { ...fieldChanges(before, after, PATCHABLE) };
  const added = after.unitCodes.filter((code) => !before.unitCodes.includes(code));
  const removed = before.unitCodes.filter((code) => !after.unitCodes.includes(code));
  if (added.length > 0 || removed.length > 0)
    changes.units = {
      added: added.length <= AUDITED_UNIT_CODES ? added : added.length,
      removed: removed.length <= AUDITED_UNIT_CODES ? removed : removed.length,
    };
  return Object.keys(changes).length > 0 ? changes : null;
}
