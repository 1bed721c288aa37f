import type { DeliveryProblems } from './delivery-health.ts';
import type { OutboundMessage } from '../domain/message.ts';
import type { CampaignSummary } from './summaries.ts';

/** Time is injected so that sweeps and deadlines can be tested at any instant. */
export interface Clock {
  now(): Date;
}

export interface Random {
  bytes(length: number): Uint8Array;
}

export const systemClock: Clock = { now: () => new Date() };

/** What a link-code attempt may do, decided when it was counted. */
export type LinkAttemptDecision =
  /** Check the code; `alertAdmins` is true for the one attempt per window that must tell the admins. */
  | { kind: 'check'; alertAdmins: boolean }
  /** This chat (or its person) used up its attempts: wait until the window ends. */
  | { kind: 'throttled'; retryAfterMs: number }
  /** All chats together are over the guard: this chat waits until its next slot. */
  | { kind: 'slowed'; retryAfterMs: number };

export interface LinkAttemptLimits {
  /** Attempts per chat, and per person (platform user), in one window. */
  perChat: number;
  windowSeconds: number;
  /** Checked codes from all chats together in one window before linking slows down. */
  allChats: number;
  /** Over the guard, each chat may make one attempt per this many seconds. */
  slowSeconds: number;
}

/**
 * Attempts at link codes (guessing), counted before a code is checked: per chat, per person where the
 * platform names the sender, and across all chats. Backed by Redis in production.
 */
export interface LinkAttempts {
  /** Counts an attempt from this chat (sent by `senderId`, when known) and says what it may do. */
  attempt(channel: string, chatId: string, senderId?: string): Promise<LinkAttemptDecision>;
  /** The attempt's code linked a chat: it was no guess. */
  linked(): Promise<void>;
  readonly limits: LinkAttemptLimits;
}

export interface CampaignNews {
  campaignId: string;
  docNumber: string;
  title: string;
  theme: string | null;
  tasks: { title: string; dueOn: Date }[];
}

/** A unit that went into another (merged, or dissolved into its parent), told to its officials. */
export interface UnitChangeNews {
  kind: 'merged' | 'dissolved';
  /** The name of the unit the official belonged to. */
  from: string;
  /** The name of the unit they belong to now. */
  into: string;
  /** YYYY-MM-DD. */
  effectiveOn: string;
  /** The open tasks they now follow there. */
  tasks: { title: string; docNumber: string; dueOn: Date }[];
}

/** Renders the news services send; implemented next to the dialogue (i18n), injected here. */
export interface NewsRenderer {
  launch(locale: string, news: CampaignNews): OutboundMessage;
  unitChanged(locale: string, news: UnitChangeNews): OutboundMessage;
}

/** A unit's latest status on a task, as reminders show it. */
export interface CurrentStatus {
  status: 'done' | 'in_progress' | 'blocked' | 'not_started';
  percent: number | null;
}

export interface ReminderNews {
  kind: 'before' | 'due' | 'overdue';
  taskId: string;
  title: string;
  docNumber: string;
  dueOn: Date;
  /** Days before the due day, or working days overdue. */
  days: number;
  current: CurrentStatus | null;
}

export interface EscalationNews {
  unitName: string;
  title: string;
  docNumber: string;
  dueOn: Date;
  days: number;
  current: CurrentStatus | null;
}

export interface RoundNews {
  kind: 'periodic' | 'closing';
  periodKey: string;
  startsOn: Date;
  endsOn: Date;
  dueOn: Date;
  docNumber: string;
  campaignTitle: string;
}

export interface RoundDigestNews extends RoundNews {
  total: number;
  answered: number;
  byStatus: Record<CurrentStatus['status'], number>;
  missing: string[];
  /** Who could not be reached and what waits for a channel's quota, when anything did. */
  delivery?: DeliveryProblems;
}

/** A task a round asks a unit about: `number` is its place in the unit's list (what "NV2" names). */
export interface RoundTask {
  taskId: string;
  number: number;
  title: string;
  current: CurrentStatus | null;
}

/** Renders reminders, escalations and collection rounds (implemented with the dialogue's i18n). */
export interface ChaseRenderer {
  reminder(locale: string, news: ReminderNews): OutboundMessage;
  escalation(locale: string, news: EscalationNews): OutboundMessage;
  /** The round's question to a unit: one message for all the tasks it is asked about. */
  roundAsk(locale: string, round: RoundNews, tasks: RoundTask[]): OutboundMessage;
  /** The reminder to a unit that has not answered: one message for all its tasks. */
  roundReminder(locale: string, round: RoundNews, tasks: RoundTask[]): OutboundMessage;
  roundDigest(locale: string, digest: RoundDigestNews): OutboundMessage;
}

/** The week a weekly digest covers and the instant its figures are taken. */
export interface WeeklyDigestNews {
  monday: Date;
  sunday: Date;
  now: Date;
  /** Exemplars recorded in the scope, as /tonghop shows them. */
  exemplars?: number;
}

/** Renders the weekly summary digest: the /tonghop answer under a heading naming the week. */
export interface DigestRenderer {
  weeklyDigest(locale: string, summary: CampaignSummary, week: WeeklyDigestNews): OutboundMessage[];
}
