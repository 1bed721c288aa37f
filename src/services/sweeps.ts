import type { Db, Queryable } from '../db/client.ts';
import { WorkCalendar, type CalendarData } from '../domain/calendar.ts';
import type { OutboundMessage } from '../domain/message.ts';
import { resolvePolicy, type ReminderPolicy } from '../domain/policy.ts';
import { preferredAccount } from './accounts.ts';
import { writeOutbox, type OutboxItem } from './outbox.ts';
import type { ChaseRenderer } from './ports.ts';

/*
 * What the sweeps (reminders, collection rounds and their digests, the weekly digest) share: their
 * dependencies and result, a campaign's work calendar, who is reachable, and the outbox rows with the
 * sample of them the jobs API shows.
 */

export interface SweepDeps {
  db: Db;
  render: ChaseRenderer;
  timeZone: string;
  calendarData?: CalendarData | undefined;
}

export interface SweepOptions {
  now: Date;
  dryRun?: boolean;
}

/** One message a sweep sent, or would send (dry run), as the jobs API reports it. */
export interface SweepMessage {
  kind: string;
  slot: string;
  docNumber: string;
  taskKey?: string;
  unitCode: string;
  to: string;
  channel: string;
  chatId: string;
  text: string;
  buttons: string[];
}

export interface SweepResult {
  /** Reminders (task, unit, kind, slot) newly keyed, or that would be. */
  reminders: number;
  /** Outbox rows written, or that would be. */
  messages: number;
  /** Reminders whose unit (or parent unit) has nobody reachable. */
  unreachable: number;
  sample: SweepMessage[];
}

/** The most messages a result lists; the counts go on. */
export const SAMPLE_LIMIT = 500;

/** A sweep's transactions write thousands of outbox rows: more time than Prisma's default 5 s. */
export const SWEEP_TRANSACTION = { timeout: 120_000, maxWait: 10_000 };

export function emptySweepResult(): SweepResult {
  return { reminders: 0, messages: 0, unreachable: 0, sample: [] };
}

/** Adds a part's counts and as much of its sample as the limit leaves room for. */
export function addToResult(result: SweepResult, part: SweepResult): void {
  result.reminders += part.reminders;
  result.messages += part.messages;
  result.unreachable += part.unreachable;
  result.sample.push(...part.sample.slice(0, Math.max(0, SAMPLE_LIMIT - result.sample.length)));
}

/** A campaign's reminder policy (as stored, defaults filled in) and its work calendar. */
export function campaignCalendar(
  deps: Pick<SweepDeps, 'timeZone' | 'calendarData'>,
  storedPolicy: unknown,
): { policy: ReminderPolicy; calendar: WorkCalendar } {
  const policy = resolvePolicy(storedPolicy);
  return { policy, calendar: new WorkCalendar(deps.timeZone, deps.calendarData, policy) };
}

export interface Recipient {
  officialId: string;
  code: string;
  locale: string;
  account: { id: string; channel: string; chatId: string };
}

/** An official as a recipient, on the account news goes to (preferredAccount); undefined: none active. */
export function recipientOf(official: {
  id: string;
  code: string;
  locale: string;
  preferredChannel: string | null;
  accounts: Recipient['account'][];
}): Recipient | undefined {
  const account = preferredAccount(official.accounts, official.preferredChannel);
  return account && { officialId: official.id, code: official.code, locale: official.locale, account };
}

/** The active accounts of an official, most recently linked first: what recipientOf chooses from. */
export const activeAccounts = {
  where: { active: true },
  orderBy: { linkedAt: 'desc' },
  select: { id: true, channel: true, chatId: true },
} as const;

/** Officials of some role in some units who can be reached, by unit, in code order. */
export async function reachable(
  db: Queryable,
  unitIds: string[],
  roles: ('focal' | 'leader' | 'admin')[],
): Promise<Map<string, Recipient[]>> {
  if (unitIds.length === 0) return new Map();
  const officials = await db.official.findMany({
    where: { unitId: { in: unitIds }, role: { in: roles } },
    select: {
      id: true,
      code: true,
      unitId: true,
      locale: true,
      preferredChannel: true,
      accounts: activeAccounts,
    },
    orderBy: { code: 'asc' },
  });
  const byUnit = new Map<string, Recipient[]>();
  for (const official of officials) {
    const recipient = recipientOf(official);
    if (!recipient) continue;
    const list = byUnit.get(official.unitId) ?? [];
    list.push(recipient);
    byUnit.set(official.unitId, list);
  }
  return byUnit;
}

/** What the jobs API says of a message besides its text: what it is about and to whom. */
export type SampleMeta = Omit<SweepMessage, 'channel' | 'chatId' | 'text' | 'buttons'>;

/** The outbox rows a sweep builds, with the first SAMPLE_LIMIT of them as the jobs API lists them. */
export class SweepOutbox {
  readonly items: OutboxItem[] = [];
  readonly sample: SweepMessage[] = [];

  add(dedupeKey: string, to: Recipient, message: OutboundMessage, meta: SampleMeta): void {
    const item: OutboxItem = {
      dedupeKey,
      channel: to.account.channel,
      chatId: to.account.chatId,
      channelAccountId: to.account.id,
      officialId: to.officialId,
      message,
    };
    this.items.push(item);
    if (this.sample.length < SAMPLE_LIMIT) {
      this.sample.push({
        ...meta,
        channel: item.channel,
        chatId: item.chatId,
        text: message.text,
        buttons: (message.choices ?? []).flat().map((choice) => choice.label),
      });
    }
  }

  /** Writes the rows in the caller's transaction (none in a dry run); answers how many were, or would be. */
  async write(tx: Queryable, dryRun: boolean): Promise<number> {
    return dryRun ? this.items.length : writeOutboxInChunks(tx, this.items);
  }
}

/** Writes outbox rows in slices (a statement has at most 65,535 parameters). */
export async function writeOutboxInChunks(tx: Queryable, items: OutboxItem[]): Promise<number> {
  let written = 0;
  for (let start = 0; start < items.length; start += 2000) {
    written += await writeOutbox(tx, items.slice(start, start + 2000));
  }
  return written;
}
