/**
 * What makes a campaign's dates and tasks acceptable, as a list of every problem found (not only the
 * first): the service refuses a campaign with any of them, and the console's form and plan workbook show
 * each one beside its field or row.
 */

export interface DatedTask {
  key: string;
  dueOn: string;
}

export type CampaignDateProblem =
  | { code: 'invalid_dates'; startsOn: string; endsOn: string }
  | { code: 'task_due_outside_campaign'; taskKeys: string[]; startsOn: string; endsOn: string }
  | { code: 'duplicate_task_key'; taskKeys: string[] };

/**
 * Dates are `YYYY-MM-DD` (they compare as text). A campaign must not end before it starts; every task is
 * due within the campaign (checked only when the campaign's own dates make sense); task keys are unique.
 */
export function campaignDateProblems(
  startsOn: string,
  endsOn: string,
  tasks: readonly DatedTask[],
): CampaignDateProblem[] {
  const problems: CampaignDateProblem[] = [];
  if (startsOn > endsOn) {
    problems.push({ code: 'invalid_dates', startsOn, endsOn });
  } else {
    const outside = tasks.filter((task) => task.dueOn < startsOn || task.dueOn > endsOn).map((t) => t.key);
    if (outside.length > 0)
      problems.push({ code: 'task_due_outside_campaign', taskKeys: outside, startsOn, endsOn });
  }
  const keys = tasks.map((task) => task.key);
  const duplicates = keys.filter((key, index) => keys.indexOf(key) !== index);
  if (duplicates.length > 0)
    problems.push({ code: 'duplicate_task_key', taskKeys: [...new Set(duplicates)] });
  return problems;
}
