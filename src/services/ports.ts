import type { OutboundMessage } from '../domain/message.ts';

/** Time is injected so that sweeps and deadlines can be tested at any instant. */
export interface Clock {
  now(): Date;
}

export interface Random {
  bytes(length: number): Uint8Array;
}

export const systemClock: Clock = { now: () => new Date() };

/** Counts failures per key in a window (link-code guessing); backed by Redis in production. */
export interface Throttle {
  /** True when the key is over its limit; does not count. */
  isBlocked(key: string): Promise<boolean>;
  /** Counts one failure. */
  fail(key: string): Promise<void>;
}

export interface CampaignNews {
  campaignId: string;
  docNumber: string;
  title: string;
  theme: string | null;
  tasks: { title: string; dueOn: Date }[];
}

/** Renders the news services send; implemented next to the dialogue (i18n), injected here. */
export interface NewsRenderer {
  launch(locale: string, news: CampaignNews): OutboundMessage;
}
