import type { Tx } from '../db/client.ts';
import type { RawQueries } from '../db/raw-transactions.ts';
import type { Choice, OutboundMessage } from '../domain/message.ts';
import type { Role } from '../domain/scope.ts';
import type { Official, Unit } from '../generated/prisma/client.ts';
import type { ChatAccount, OpenedTurn } from '../services/accounts.ts';
import type { Button, ButtonKind, DecodedButton } from './buttons.ts';
import type { TurnTransaction } from './engine.ts';
import type { InboundEvent } from './events.ts';
import type { Renderer } from './render.ts';
import { compose, type Middleware } from './router.ts';

/** The official a chat is linked to, with their unit. */
export type Member = Official & { unit: Unit };

/**
 * One event being handled: what it is, who sent it, the transaction it runs in, and what the bot answers.
 * Every route's steps share this one object (grammY's context), so a step may change what later ones see
 * (a language chosen, a chat just linked).
 */
export class Turn<E extends InboundEvent = InboundEvent> {
  locale: string;
  member: Member | null;
  accountId: string | null;
  /** A short notice for the button that was pressed (Telegram shows it as a toast). */
  notice: string | undefined;
  readonly replies: OutboundMessage[] = [];
  /** Run once the turn has committed, in order (never for a turn rolled back or run again). */
  readonly afterCommit: (() => Promise<void>)[] = [];
  /** The button this turn answers (set by the router: pressed, or chosen by number). */
  button: DecodedButton | undefined;

  constructor(
    private readonly tx: TurnTransaction,
    readonly event: E,
    readonly now: Date,
    account: ChatAccount | null,
    /** What was read with the update's record (services/accounts.ts openTurn). */
    readonly opening: Pick<OpenedTurn, 'exemplarDraft' | 'tasks'>,
    /** Every message text is assembled by the renderer, from the catalogues in locales/. */
    readonly render: Renderer,
    /** TZ_DEFAULT: deadlines and "as of" times are read in it. */
    readonly timeZone: string,
  ) {
    this.member = account?.official ?? null;
    this.accountId = account?.id ?? null;
    this.locale = account?.official.locale ?? 'vi';
  }

  /** The engine the turn's transaction runs on. */
  get engine(): TurnTransaction['engine'] {
    return this.tx.engine;
  }

  /** Raw SQL in the turn's transaction, on either engine. */
  get sql(): RawQueries {
    return this.tx.sql;
  }

  /**
   * Prisma's model queries in the turn's transaction. On a raw route this is a miss: the turn is rolled back
   * and runs again through Prisma (TurnEngine). `why` names the need in logs.
   */
  prisma(why: string): Tx {
    return this.tx.prisma(why);
  }

  /** Answers with a message from the catalogues, in the chat's language. */
  reply(key: string, vars?: Record<string, unknown>, choices?: Choice[][]): void {
    this.replies.push(this.render.text(this.locale, key, vars, choices));
  }

  /** A catalogue text in the chat's language (a label, a line of a longer message). */
  text(key: string, vars?: Record<string, unknown>): string {
    return this.render.text(this.locale, key, vars).text;
  }
}

/** A turn from a linked chat (after requireLinked). */
export type LinkedTurn<C extends Turn = Turn> = C & { member: Member; accountId: string };

/** A turn answering a button of the given kinds (callback routes). */
export type ButtonTurn<K extends ButtonKind | 'stale' = ButtonKind> = Turn & {
  button: Extract<Button | { kind: 'stale' }, { kind: K }>;
};

const isLinked = <C extends Turn>(turn: C): turn is LinkedTurn<C> =>
  turn.member !== null && turn.accountId !== null;

/** Runs the steps for a linked chat; anyone else is told how to link. */
export function requireLinked<C extends Turn>(...steps: Middleware<LinkedTurn<C>>[]): Middleware<C> {
  const chain = compose(steps);
  return (turn, next) => (isLinked(turn) ? chain(turn, next) : turn.reply('link.unlinked'));
}

/** Runs the steps for the roles allowed; anyone else gets the refusal (a catalogue key). */
export function requireRole<C extends LinkedTurn>(
  allowed: (role: Role) => boolean,
  refusal: string,
  ...steps: Middleware<C>[]
): Middleware<C> {
  const chain = compose(steps);
  return (turn, next) => (allowed(turn.member.role) ? chain(turn, next) : turn.reply(refusal));
}
