import { describe, expect, it } from 'vitest';
import {
  applyTaskOperation,
  campaignInputFrom,
  formErrorsOf,
  newCampaignValues,
  nextTaskKey,
  pickedUnits,
  postedValues,
  type TaskRow,
} from '../../src/console/campaign-form.ts';
import type { TreeUnit } from '../../src/services/console-reads.ts';
import { DomainError } from '../../src/services/errors.ts';

/** The campaign form's own logic: task rows moved by their buttons, units picked, the policy stored. */

const row = (key: string): TaskRow => ({ key, title: `Việc ${key}`, dueOn: '2027-03-01' });
const rows = ['A', 'B', 'C'].map(row);
const keys = (list: TaskRow[] | undefined) => list?.map((task) => task.key);

function unit(code: string, children: TreeUnit[] = [], blockCodes: string[] = []): TreeUnit {
  return {
    id: code,
    code,
    name: code,
    kind: null,
    parentId: null,
    path: `/${code}/`,
    blockCodes,
    depth: 0,
    officials: 0,
    linked: 0,
    subtree: { units: 1, officials: 0, linked: 0 },
    children,
  };
}
const tree = [
  unit('HUYEN', [unit('XA-1', [unit('THON-1')], ['KHOI-XA']), unit('XA-2', [], ['KHOI-XA']), unit('PHONG')]),
];

describe('task rows', () => {
  it.each<[string, string[] | undefined]>([
    ['up:1', ['B', 'A', 'C']],
    ['up:0', ['A', 'B', 'C']],
    ['down:0', ['B', 'A', 'C']],
    ['down:2', ['A', 'B', 'C']],
    ['remove:1', ['A', 'C']],
    ['remove:7', ['A', 'B', 'C']],
    ['add', ['A', 'B', 'C', 'NV4']],
    ['edit', undefined],
    ['up:-1', undefined],
    ['up:1; drop', undefined],
  ])('%s', (op, expected) => {
    expect(keys(applyTaskOperation(rows, op))).toEqual(expected);
  });

  it('names a new row NV<n>, or the first NV<k> not taken', () => {
    expect(nextTaskKey([row('QT'), row('DK')])).toBe('NV3');
    expect(nextTaskKey([row('NV1'), row('NV2')])).toBe('NV3');
    expect(nextTaskKey([row('NV2'), row('NV1')])).toBe('NV3');
    expect(nextTaskKey([row('NV2')])).toBe('NV1');
  });
});

describe('the units a form picks', () => {
  const values = (picked: {
    units?: string[];
    subtrees?: string[];
    blocks?: string[];
    otherUnits?: string;
  }) => ({
    ...newCampaignValues('HUYEN', '2027-01-01'),
    ...picked,
  });
  it.each<[string, Parameters<typeof values>[0], string[]]>([
    ['ticked one by one', { units: ['XA-2', 'PHONG'] }, ['XA-2', 'PHONG']],
    [
      'every unit below a subtree, not the unit itself',
      { subtrees: ['HUYEN'] },
      ['XA-1', 'THON-1', 'XA-2', 'PHONG'],
    ],
    ['a subtree deeper down', { subtrees: ['XA-1'] }, ['THON-1']],
    ['an emulation block', { blocks: ['KHOI-XA'] }, ['XA-1', 'XA-2']],
    [
      'codes typed, with commas, spaces or semicolons',
      { otherUnits: 'XA-9, XA-10;XA-11 XA-12' },
      ['XA-9', 'XA-10', 'XA-11', 'XA-12'],
    ],
    [
      'each once however often picked',
      { units: ['XA-1'], blocks: ['KHOI-XA'], otherUnits: 'XA-1' },
      ['XA-1', 'XA-2'],
    ],
  ])('%s', (_name, picked, expected) => {
    expect(pickedUnits(values(picked), tree).sort()).toEqual([...expected].sort());
  });
});

describe('campaignInputFrom', () => {
  const posted = (fields: Record<string, unknown>) =>
    postedValues(
      {
        docNumber: '01/KH',
        title: 'Phong trào',
        issuerUnitCode: 'HUYEN',
        startsOn: '2027-01-01',
        endsOn: '2027-12-31',
        taskKey: ['QT', 'NV2'],
        taskTitle: ['Quán triệt', ''],
        taskDue: ['2027-02-01', ''],
        units: ['XA-1'],
        ...fields,
      },
      newCampaignValues('HUYEN', '2027-01-01'),
    );

  it('leaves out empty task rows and stores no policy when every field keeps its default', () => {
    const { input, errors } = campaignInputFrom(posted({}), tree);
    expect(errors).toEqual({});
    expect(input.tasks).toEqual([{ key: 'QT', title: 'Quán triệt', dueOn: '2027-02-01' }]);
    expect(input.policy).toBeNull();
    expect(input.reportSchedule).toBeNull();
  });

  it('stores only the policy fields that differ from the defaults', () => {
    const { input, errors } = campaignInputFrom(
      posted({
        daysBefore: '1, 5, 5',
        onDueDay: ['0'],
        quietStart: '20:00',
        extraDaysOff: '02/01/2027, 2027-04-30',
        cadence: 'monthly',
        dueDay: '3',
      }),
      tree,
    );
    expect(errors).toEqual({});
    expect(input.policy).toEqual({
      daysBefore: [5, 1],
      onDueDay: false,
      quietHours: { start: '20:00', end: '07:00' },
      extraDaysOff: ['2027-01-02', '2027-04-30'],
    });
    expect(input.reportSchedule).toEqual({ cadence: 'monthly', dueDay: 3 });
  });

  it.each<[string, Record<string, unknown>, Record<string, string>]>([
    ['a required field', { title: '' }, { title: 'form.errors.required' }],
    ['a date', { startsOn: '2027-02-30' }, { startsOn: 'form.errors.date' }],
    ['a task code with a space', { taskKey: ['Q T', 'NV2'] }, { 'task-0-key': 'form.errors.taskKey' }],
    ['a task with a title and no date', { taskDue: ['', ''] }, { 'task-0-due': 'form.errors.required' }],
    ['no unit', { units: [] }, { units: 'form.errors.noUnits' }],
    ['a typed code that is no code', { otherUnits: 'XA-1, XA#2' }, { otherUnits: 'form.errors.unitCodes' }],
    [
      'a number of days',
      { overdueEveryWorkingDays: 'hai' },
      { overdueEveryWorkingDays: 'form.errors.wholeNumber' },
    ],
    [
      'quiet hours that leave no time',
      { quietStart: '07:00', quietEnd: '07:00' },
      { quietStart: 'form.errors.policy.quietHours' },
    ],
    [
      'a report due after the next period',
      { cadence: 'monthly', dueDay: '40' },
      { dueDay: 'form.errors.schedule.dueDay' },
    ],
    ['a day off that is no date', { extraDaysOff: '30/02/2027' }, { extraDaysOff: 'form.errors.dateList' }],
  ])('keys the mistake of %s by its field', (_name, fields, expected) => {
    const { errors } = campaignInputFrom(posted(fields), tree);
    expect(Object.fromEntries(Object.entries(errors).map(([id, error]) => [id, error.key]))).toEqual(
      expected,
    );
  });
});

describe('formErrorsOf', () => {
  const values = postedValues(
    {
      taskKey: ['QT', 'SK', 'NV3'],
      taskTitle: ['a', 'b', ''],
      taskDue: ['2027-01-01', '2028-01-01', ''],
      otherUnits: 'XA-9',
    },
    newCampaignValues('HUYEN', '2027-01-01'),
  );
  it.each<[string, DomainError, Record<string, string>]>([
    [
      'a due date outside, on its row',
      new DomainError('task_due_outside_campaign', '', { taskKeys: ['SK'] }),
      { 'task-1-due': 'form.errors.dueOutside' },
    ],
    [
      'a repeated task code, on each row',
      new DomainError('duplicate_task_key', '', { taskKeys: ['QT'] }),
      { 'task-0-key': 'form.errors.duplicateTaskKey' },
    ],
    [
      'unknown units, beside the codes typed',
      new DomainError('unknown_units', '', { unitCodes: ['XA-9'] }),
      { otherUnits: 'form.errors.unknownUnits' },
    ],
    [
      'a number in use',
      new DomainError('duplicate_doc_number', '', {}, 'conflict'),
      { docNumber: 'form.errors.duplicateDocNumber' },
    ],
    [
      'dates in the wrong order',
      new DomainError('invalid_dates', '', {}),
      { endsOn: 'form.errors.endsBeforeStart' },
    ],
    [
      'anything else, for the whole form',
      new DomainError('campaign_closed', 'closed', {}, 'conflict'),
      { form: 'form.errors.refused' },
    ],
  ])('puts %s', (_name, error, expected) => {
    const found = formErrorsOf(error, values);
    expect(Object.fromEntries(Object.entries(found).map(([id, e]) => [id, e.key]))).toEqual(expected);
  });
});
