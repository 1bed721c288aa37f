import type { Queryable } from '../db/client.ts';
import { campaignDateProblems, type CampaignDateProblem } from '../domain/campaign-rules.ts';
import { covers, type Principal } from '../domain/scope.ts';
import { SYSTEM_CALLER, type Caller } from './audit.ts';
import type { CampaignInput, TaskInput } from './campaigns.ts';
import { DomainError } from './errors.ts';
import { requireAdmin, unitInScope } from './scope.ts';

/**
 * The checks a campaign passes before it is created or changed: its dates and tasks (the rules of
 * domain/campaign-rules.ts), its issuer and participants (known to the caller), its document number (unused).
 * createCampaign and updateCampaign refuse the first problem; campaignProblems lists them all for the
 * console's form and plan workbook.
 */

const DATE_PROBLEM_MESSAGES: Record<CampaignDateProblem['code'], string> = {
  invalid_dates: 'startsOn must not be after endsOn',
  task_due_outside_campaign: 'tasks must be due within the campaign',
  duplicate_task_key: 'task keys must be unique',
};

function dateProblemErrors(startsOn: string, endsOn: string, tasks: TaskInput[]): DomainError[] {
  return campaignDateProblems(startsOn, endsOn, tasks).map(
    ({ code, ...details }) => new DomainError(code, DATE_PROBLEM_MESSAGES[code], details),
  );
}

export function checkDates(startsOn: string, endsOn: string, tasks: TaskInput[]): void {
  const [problem] = dateProblemErrors(startsOn, endsOn, tasks);
  if (problem) throw problem;
}

/** The units of the codes that the principal may name (and current participants); the rest are unknown. */
async function unitsByCode(
  db: Queryable,
  codes: string[],
  principal: Principal,
  participants: string[] = [],
): Promise<{ ids: string[]; unknown: string[] }> {
  const unique = [...new Set(codes)];
  const units = (
    await db.unit.findMany({
      // A unit that left the tree (merged or dissolved) takes no part: its successor does.
      where: { code: { in: unique }, retiredAt: null },
      select: { id: true, code: true, path: true },
    })
  ).filter((unit) => covers(principal, unit.path) || participants.includes(unit.code));
  const known = new Set(units.map((unit) => unit.code));
  return { ids: units.map((unit) => unit.id), unknown: unique.filter((code) => !known.has(code)) };
}

const unknownUnits = (codes: string[]) =>
  new DomainError('unknown_units', `unknown unit codes: ${codes.join(', ')}`, { unitCodes: codes });

/**
 * The ids of units by code; codes unknown, of units that left the tree (merged or dissolved: their successor
 * takes part instead), or outside the caller's subtree (unless already participants), are refused together.
 */
export async function unitIdsFor(
  db: Queryable,
  codes: string[],
  principal: Principal,
  participants: string[] = [],
): Promise<string[]> {
  const units = await unitsByCode(db, codes, principal, participants);
  if (units.unknown.length > 0) throw unknownUnits(units.unknown);
  return units.ids;
}

/** What a new campaign names that the caller may not name: its issuer, its participants, a number in use. */
export interface CampaignReferences {
  docNumber?: string | undefined;
  issuerUnitCode?: string | undefined;
  unitCodes: string[];
}

async function referenceProblems(db: Queryable, refs: CampaignReferences, caller: Caller) {
  const problems: DomainError[] = [];
  const issuer =
    refs.issuerUnitCode === undefined ? null : await unitInScope(db, caller.principal, refs.issuerUnitCode);
  if (refs.issuerUnitCode !== undefined && !issuer)
    problems.push(
      new DomainError('unknown_issuer', `issuer unit ${refs.issuerUnitCode} does not exist`, {
        issuerUnitCode: refs.issuerUnitCode,
      }),
    );
  const units = await unitsByCode(db, refs.unitCodes, caller.principal);
  if (units.unknown.length > 0) problems.push(unknownUnits(units.unknown));
  const existing =
    refs.docNumber === undefined
      ? null
      : await db.campaign.findUnique({ where: { docNumber: refs.docNumber } });
  if (existing)
    problems.push(
      new DomainError(
        'duplicate_doc_number',
        `campaign ${refs.docNumber ?? ''} already exists`,
        { id: existing.id },
        'conflict',
      ),
    );
  return { problems, issuer, unitIds: units.ids };
}

/** Everything wrong with creating `input` as `caller`, and what it resolves to when nothing is. */
export async function vetCampaign(db: Queryable, input: CampaignInput, caller: Caller) {
  requireAdmin(caller.principal);
  const dates = dateProblemErrors(input.startsOn, input.endsOn, input.tasks);
  const references = await referenceProblems(db, input, caller);
  return { ...references, problems: [...dates, ...references.problems] };
}

/**
 * Every reason createCampaign would refuse `input` from `caller` (dates, issuer, units, document number, in
 * that order; createCampaign throws the first), so a form or a plan workbook can show them all at once.
 * Empty when it would be created. A caller who may not create campaigns at all is refused (403).
 */
export async function campaignProblems(
  db: Queryable,
  input: CampaignInput,
  caller: Caller = SYSTEM_CALLER,
): Promise<DomainError[]> {
  return (await vetCampaign(db, input, caller)).problems;
}

/**
 * The problems of what a campaign names (issuer, participants, number), for one whose other fields are not
 * yet right: a plan workbook with mistakes still hears about every unit it names that does not exist.
 */
export async function campaignReferenceProblems(
  db: Queryable,
  refs: CampaignReferences,
  caller: Caller = SYSTEM_CALLER,
): Promise<DomainError[]> {
  requireAdmin(caller.principal);
  return (await referenceProblems(db, refs, caller)).problems;
}
