import type { ZodError } from 'zod';
import { readPlanDate } from '../domain/plan-workbook.ts';
import {
  DEFAULT_POLICY,
  policySchema,
  reportScheduleSchema,
  resolvePolicy,
  type ReminderPolicy,
} from '../domain/policy.ts';
import { isValidIsoDate } from '../domain/time.ts';
import type { CampaignInput, CampaignView, TaskInput } from '../services/campaigns.ts';
import type { TreeUnit } from '../services/console-reads.ts';
import type { DomainError } from '../services/errors.ts';

/**
 * The campaign form, both ways: the values a page shows (from a campaign, from defaults, or as posted) and
 * the CampaignInput a posted form means, with every mistake the form itself can see keyed by field id.
 * Whether the campaign may be created is the service's question; its refusals are mapped back onto fields
 * here (formErrorsOf). Task rows move, appear and go by a button that works without JavaScript (the page
 * comes back with the change made, nothing saved); console.js does the same in place.
 */

export interface FormError {
  key: string;
  vars?: Record<string, string | number>;
}
export type FormErrors = Record<string, FormError>;

export interface TaskRow {
  key: string;
  title: string;
  dueOn: string;
}

/** The reminder policy fields as typed (text), in the order the form shows them. */
export const POLICY_FIELDS = [
  'daysBefore',
  'onDueDay',
  'overdueEveryWorkingDays',
  'escalateAfterWorkingDays',
  'sendAt',
  'quietStart',
  'quietEnd',
  'extraDaysOff',
  'makeUpWorkingDays',
  'closingReportDays',
] as const;
type PolicyField = (typeof POLICY_FIELDS)[number];

export interface CampaignFormValues {
  docNumber: string;
  title: string;
  theme: string;
  kind: string;
  issuerUnitCode: string;
  startsOn: string;
  endsOn: string;
  tasks: TaskRow[];
  units: string[];
  subtrees: string[];
  blocks: string[];
  otherUnits: string;
  cadence: string;
  dueDay: string;
  cutoffDay: string;
  policy: Record<PolicyField, string>;
  /** The stored policy and schedule: fields the form does not show are kept as they are. */
  storedPolicy: Record<string, unknown>;
}

/** Rows a new form shows, so that it works without JavaScript for that many tasks (more: "add a task"). */
export const BLANK_TASK_ROWS = 3;
const KINDS = ['regular', 'thematic', 'special'] as const;

/** A posted field's value, trimmed (the last one when it came several times; '' when absent). */
export const formText = (value: unknown): string =>
  (Array.isArray(value) ? String(value.at(-1) ?? '') : typeof value === 'string' ? value : '').trim();
/** A posted field that may come several times (checkboxes, task rows), as a list. */
export const formList = (value: unknown): string[] =>
  Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
const joinDays = (days: string[]) => days.join(', ');

/** A policy as the form shows it. */
export function policyText(policy: ReminderPolicy): Record<PolicyField, string> {
  return {
    daysBefore: policy.daysBefore.join(', '),
    onDueDay: policy.onDueDay ? '1' : '0',
    overdueEveryWorkingDays: String(policy.overdueEveryWorkingDays),
    escalateAfterWorkingDays: String(policy.escalateAfterWorkingDays),
    sendAt: policy.sendAt,
    quietStart: policy.quietHours.start,
    quietEnd: policy.quietHours.end,
    extraDaysOff: joinDays(policy.extraDaysOff),
    makeUpWorkingDays: joinDays(policy.makeUpWorkingDays),
    closingReportDays: String(policy.closingReportDays),
  };
}

/** The defaults each policy field shows beside it (from the domain's DEFAULT_POLICY). */
export const POLICY_DEFAULTS = policyText(DEFAULT_POLICY);

export const blankTask = (key: string): TaskRow => ({ key, title: '', dueOn: '' });

/** A task code not yet used by the rows: NV<n> for the n-th row, else the first NV<k> free. */
export function nextTaskKey(rows: TaskRow[]): string {
  const used = new Set(rows.map((row) => row.key));
  if (!used.has(`NV${rows.length + 1}`)) return `NV${rows.length + 1}`;
  let n = 1;
  while (used.has(`NV${n}`)) n += 1;
  return `NV${n}`;
}

export function newCampaignValues(issuerUnitCode: string, today: string): CampaignFormValues {
  const tasks: TaskRow[] = [];
  for (let i = 0; i < BLANK_TASK_ROWS; i++) tasks.push(blankTask(nextTaskKey(tasks)));
  return {
    docNumber: '',
    title: '',
    theme: '',
    kind: 'regular',
    issuerUnitCode,
    startsOn: today,
    endsOn: '',
    tasks,
    units: [],
    subtrees: [],
    blocks: [],
    otherUnits: '',
    cadence: '',
    dueDay: '',
    cutoffDay: '',
    policy: { ...POLICY_DEFAULTS },
    storedPolicy: {},
  };
}

/** A campaign as its edit form shows it; participants outside the picker's tree are listed as codes. */
export function campaignValues(campaign: CampaignView, treeCodes: Set<string>): CampaignFormValues {
  const schedule = (campaign.reportSchedule ?? {}) as Record<string, unknown>;
  const number = (value: unknown) => (typeof value === 'number' ? String(value) : '');
  return {
    docNumber: campaign.docNumber,
    title: campaign.title,
    theme: campaign.theme ?? '',
    kind: campaign.kind,
    issuerUnitCode: campaign.issuerUnitCode,
    startsOn: campaign.startsOn,
    endsOn: campaign.endsOn,
    tasks: campaign.tasks.map((task) => ({ ...task })),
    units: campaign.unitCodes.filter((code) => treeCodes.has(code)),
    subtrees: [],
    blocks: [],
    otherUnits: campaign.unitCodes.filter((code) => !treeCodes.has(code)).join(', '),
    cadence: typeof schedule.cadence === 'string' ? schedule.cadence : '',
    dueDay: number(schedule.dueDay),
    cutoffDay: number(schedule.cutoffDay),
    policy: policyText(resolvePolicy(campaign.policy)),
    storedPolicy:
      campaign.policy && typeof campaign.policy === 'object'
        ? (campaign.policy as Record<string, unknown>)
        : {},
  };
}

/** The form as posted, every value kept as typed (a page shown again shows exactly what was sent). */
export function postedValues(body: Record<string, unknown>, stored: CampaignFormValues): CampaignFormValues {
  const keys = formList(body.taskKey);
  const titles = formList(body.taskTitle);
  const dues = formList(body.taskDue);
  const tasks = keys.map((key, i) => ({
    key: key.trim(),
    title: (titles[i] ?? '').trim(),
    dueOn: (dues[i] ?? '').trim(),
  }));
  // The checkbox comes after a hidden "0": a box that is ticked sends both; a form without the section, neither.
  const onDueDay = formList(body.onDueDay);
  const policy = { ...stored.policy };
  for (const field of POLICY_FIELDS)
    if (field === 'onDueDay')
      policy.onDueDay = onDueDay.length === 0 ? policy.onDueDay : formText(body.onDueDay);
    else if (body[field] !== undefined) policy[field] = formText(body[field]);
  return {
    ...stored,
    docNumber: stored.docNumber && body.docNumber === undefined ? stored.docNumber : formText(body.docNumber),
    title: formText(body.title),
    theme: formText(body.theme),
    kind: formText(body.kind) || 'regular',
    issuerUnitCode: formText(body.issuerUnitCode) || stored.issuerUnitCode,
    startsOn: formText(body.startsOn),
    endsOn: formText(body.endsOn),
    tasks,
    units: formList(body.units),
    subtrees: formList(body.subtrees),
    blocks: formList(body.blocks),
    otherUnits: formText(body.otherUnits),
    cadence: formText(body.cadence),
    dueDay: formText(body.dueDay),
    cutoffDay: formText(body.cutoffDay),
    policy,
  };
}

/**
 * A row button's work ("add", "up:2", "down:0", "remove:1"): the rows after it, or undefined for an
 * operation that is not one.
 */
export function applyTaskOperation(rows: TaskRow[], op: string): TaskRow[] | undefined {
  if (op === 'add') return [...rows, blankTask(nextTaskKey(rows))];
  const match = /^(up|down|remove):(\d{1,3})$/.exec(op);
  if (!match) return undefined;
  const index = Number(match[2]);
  if (index >= rows.length) return rows;
  const next = [...rows];
  const [row] = next.splice(index, 1);
  if (!row || match[1] === 'remove') return next;
  const to = match[1] === 'up' ? Math.max(0, index - 1) : Math.min(rows.length - 1, index + 1);
  next.splice(to, 0, row);
  return next;
}

const CODE = /^[\p{L}\p{N}_.\-/]+$/u;
const isBlankRow = (row: TaskRow) => row.title === '' && row.dueOn === '';

/** Typed dates (yyyy-mm-dd or dd/mm/yyyy) as YYYY-MM-DD, or the first one that is not a date. */
function typedDates(value: string): { days: string[] } | { bad: string } {
  const days: string[] = [];
  for (const part of value.split(/[\s,;]+/).filter(Boolean)) {
    const read = readPlanDate({ kind: 'text', value: part });
    if (!('value' in read) || read.value === null) return { bad: part };
    days.push(read.value);
  }
  return { days };
}

/** The units a form picks: ticked, every unit below a ticked subtree, every unit of a ticked block, typed. */
export function pickedUnits(values: CampaignFormValues, roots: TreeUnit[]): string[] {
  const picked = new Set(values.units);
  const subtrees = new Set(values.subtrees);
  const blocks = new Set(values.blocks);
  const visit = (unit: TreeUnit, below: boolean) => {
    if (below) picked.add(unit.code);
    if (unit.blockCodes.some((block) => blocks.has(block))) picked.add(unit.code);
    for (const child of unit.children) visit(child, below || subtrees.has(unit.code));
  };
  roots.forEach((root) => visit(root, false));
  for (const code of values.otherUnits.split(/[\s,;]+/).filter(Boolean)) picked.add(code);
  return [...picked];
}

function policyFrom(values: CampaignFormValues, errors: FormErrors): Record<string, unknown> {
  const typed = values.policy;
  const whole = (field: PolicyField): number | undefined => {
    if (/^\d{1,3}$/.test(typed[field])) return Number(typed[field]);
    errors[field] = { key: 'form.errors.wholeNumber' };
    return undefined;
  };
  const days = (field: 'extraDaysOff' | 'makeUpWorkingDays') => {
    const read = typedDates(typed[field]);
    if ('days' in read) return read.days;
    errors[field] = { key: 'form.errors.dateList', vars: { value: read.bad } };
    return [];
  };
  const offsets = typed.daysBefore.split(/[\s,;]+/).filter(Boolean);
  const offsetsRead = offsets.every((part) => /^\d{1,3}$/.test(part));
  if (!offsetsRead) errors.daysBefore = { key: 'form.errors.numberList' };
  const full: Record<string, unknown> = {
    daysBefore: offsetsRead ? [...new Set(offsets.map(Number))].sort((a, b) => b - a) : undefined,
    onDueDay: typed.onDueDay === '1',
    overdueEveryWorkingDays: whole('overdueEveryWorkingDays'),
    escalateAfterWorkingDays: whole('escalateAfterWorkingDays'),
    sendAt: typed.sendAt,
    quietHours: { start: typed.quietStart, end: typed.quietEnd },
    extraDaysOff: days('extraDaysOff'),
    makeUpWorkingDays: days('makeUpWorkingDays'),
    closingReportDays: whole('closingReportDays'),
  };
  // A campaign stores only what differs from the defaults, beside what this form does not show.
  const policy: Record<string, unknown> = { ...values.storedPolicy };
  for (const [field, value] of Object.entries(full)) {
    // A field the form could not read is left out, so the policy's own checks still look at the others.
    if (value === undefined) continue;
    const fallback = (DEFAULT_POLICY as unknown as Record<string, unknown>)[field];
    if (JSON.stringify(value) === JSON.stringify(fallback)) delete policy[field];
    else policy[field] = value;
  }
  return policy;
}

/** zod's issue paths in the policy and the schedule, as the form's fields. */
const ISSUE_FIELDS: Record<string, string> = {
  quietHours: 'quietStart',
  dueDay: 'dueDay',
  cutoffDay: 'cutoffDay',
  cadence: 'cadence',
};

function zodErrors(error: ZodError, errors: FormErrors, section: 'policy' | 'schedule'): void {
  for (const issue of error.issues) {
    const head = String(issue.path[0] ?? '');
    const field = ISSUE_FIELDS[head] ?? head;
    errors[field] ??= { key: `form.errors.${section}.${head}`, vars: { message: issue.message } };
  }
}

/**
 * What a posted form asks for, or the mistakes it has (keyed by field id: "title", "task-2-due", "units",
 * "sendAt"…). A row with neither task nor date is an empty row and is left out.
 */
export function campaignInputFrom(
  values: CampaignFormValues,
  roots: TreeUnit[],
): { input: CampaignInput; errors: FormErrors } {
  const errors: FormErrors = {};
  const required = (field: 'docNumber' | 'title' | 'issuerUnitCode', max: number) => {
    if (values[field] === '') errors[field] = { key: 'form.errors.required' };
    else if (values[field].length > max) errors[field] = { key: 'form.errors.tooLong', vars: { max } };
  };
  required('docNumber', 100);
  required('title', 500);
  required('issuerUnitCode', 64);
  if (values.theme.length > 1000) errors.theme = { key: 'form.errors.tooLong', vars: { max: 1000 } };
  for (const field of ['startsOn', 'endsOn'] as const)
    if (!isValidIsoDate(values[field]))
      errors[field] = { key: values[field] ? 'form.errors.date' : 'form.errors.required' };
  const tasks: TaskInput[] = [];
  values.tasks.forEach((row, i) => {
    if (isBlankRow(row)) return;
    if (!CODE.test(row.key) || row.key.length > 64) errors[`task-${i}-key`] = { key: 'form.errors.taskKey' };
    if (row.title === '') errors[`task-${i}-title`] = { key: 'form.errors.required' };
    else if (row.title.length > 1000)
      errors[`task-${i}-title`] = { key: 'form.errors.tooLong', vars: { max: 1000 } };
    if (!isValidIsoDate(row.dueOn))
      errors[`task-${i}-due`] = { key: row.dueOn ? 'form.errors.date' : 'form.errors.required' };
    tasks.push({ key: row.key, title: row.title, dueOn: row.dueOn });
  });
  const unitCodes = pickedUnits(values, roots);
  const badCodes = unitCodes.filter((code) => !CODE.test(code) || code.length > 64);
  if (badCodes.length > 0)
    errors.otherUnits = { key: 'form.errors.unitCodes', vars: { codes: badCodes.join(', ') } };
  else if (unitCodes.length === 0) errors.units = { key: 'form.errors.noUnits' };
  let reportSchedule: Record<string, unknown> | null = null;
  if (values.cadence !== '') {
    // The schedule's schema says which cadences there are.
    const schedule: Record<string, unknown> = { cadence: values.cadence };
    for (const field of ['dueDay', 'cutoffDay'] as const) {
      if (values[field] === '') continue;
      if (/^\d{1,3}$/.test(values[field])) schedule[field] = Number(values[field]);
      else errors[field] = { key: 'form.errors.wholeNumber' };
    }
    const parsed = reportScheduleSchema.safeParse(schedule);
    if (parsed.success) reportSchedule = schedule;
    else zodErrors(parsed.error, errors, 'schedule');
  }
  const policy = policyFrom(values, errors);
  const checked = policySchema.safeParse(policy);
  if (!checked.success) zodErrors(checked.error, errors, 'policy');
  return {
    input: {
      docNumber: values.docNumber,
      title: values.title,
      theme: values.theme === '' ? null : values.theme,
      kind: (KINDS as readonly string[]).includes(values.kind)
        ? (values.kind as (typeof KINDS)[number])
        : 'regular',
      issuerUnitCode: values.issuerUnitCode,
      startsOn: values.startsOn,
      endsOn: values.endsOn,
      unitCodes,
      tasks,
      reportSchedule,
      policy: Object.keys(policy).length > 0 ? policy : null,
    },
    errors,
  };
}

/** Where the service's refusal of a form belongs: beside the field or row it names. */
export function formErrorsOf(error: DomainError, values: CampaignFormValues): FormErrors {
  const details = (error.details ?? {}) as { taskKeys?: string[]; unitCodes?: string[] };
  const rows = (keys: string[] | undefined, field: 'key' | 'due', key: string): FormErrors =>
    Object.fromEntries(
      values.tasks.flatMap((row, i) =>
        keys?.includes(row.key) && !isBlankRow(row) ? [[`task-${i}-${field}`, { key }]] : [],
      ),
    );
  switch (error.code) {
    case 'invalid_dates':
      return { endsOn: { key: 'form.errors.endsBeforeStart' } };
    case 'task_due_outside_campaign':
      return rows(details.taskKeys, 'due', 'form.errors.dueOutside');
    case 'duplicate_task_key':
      return rows(details.taskKeys, 'key', 'form.errors.duplicateTaskKey');
    case 'task_has_reports':
      return {
        tasks: { key: 'form.errors.taskHasReports', vars: { keys: (details.taskKeys ?? []).join(', ') } },
      };
    case 'unknown_issuer':
      return { issuerUnitCode: { key: 'form.errors.unknownIssuer' } };
    case 'unknown_units': {
      const codes = (details.unitCodes ?? []).join(', ');
      return {
        [values.otherUnits ? 'otherUnits' : 'units']: { key: 'form.errors.unknownUnits', vars: { codes } },
      };
    }
    case 'duplicate_doc_number':
      return { docNumber: { key: 'form.errors.duplicateDocNumber' } };
    default:
      return { form: { key: 'form.errors.refused', vars: { message: error.message } } };
  }
}
