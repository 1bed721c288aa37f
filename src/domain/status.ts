export const STATUSES = ['done', 'in_progress', 'blocked', 'not_started'] as const;
export type Status = (typeof STATUSES)[number];

/** One-letter codes keep button callback data short (Telegram allows 64 bytes). */
const CODES: Record<Status, string> = { done: 'd', in_progress: 'p', blocked: 'b', not_started: 'n' };

export function statusCode(status: Status): string {
  return CODES[status];
}

export function statusFromCode(code: string): Status | undefined {
  return STATUSES.find((status) => CODES[status] === code);
}

/** A report's percent follows its status where the status implies one. */
export function normalisePercent(status: Status, percent: number | null): number | null {
  if (status === 'done') return 100;
  if (status === 'not_started') return percent === null ? null : 0;
  return percent;
}
