import type { Db } from '../db/client.ts';
import type { RawTransactions } from '../db/raw-transactions.ts';
import type { OutboundMessage } from '../domain/message.ts';
import type { Logger } from '../logger.ts';
import { openTurn, reactivateAccount, type OpenedTurn } from '../services/accounts.ts';
import { writeOutboxReturning } from '../services/outbox.ts';
import type { LinkCodeKeys } from '../services/officials.ts';
import { alertAdmins } from '../services/alerts.ts';
import type { Clock, LinkAttempts } from '../services/ports.ts';
import { TurnEngine, type TurnTransaction } from './engine.ts';
import { storableEvent, type HandleResult, type InboundEvent } from './events.ts';
import type { Renderer } from './render.ts';
import type { MatchedRoute, Router } from './router.ts';
import { dialogueRoutes } from './routes.ts';
import { Turn } from './turn.ts';

export interface DialogueDeps {
  db: Db;
  render: Renderer;
  /**
   * Link-code attempts, counted before a code is checked: per chat and per person, and across all chats
   * (over that guard every chat is slowed down and the admins are alerted once per window).
   */
  linkAttempts: LinkAttempts;
  clock: Clock;
  timeZone: string;
  logger: Logger;
  /** The server-side keys link codes are hashed with (config.linkCodeKeys). */
  linkCodeKeys: LinkCodeKeys;
  /**
   * Channels without buttons (their adapters number the choices): there a reply "1", "2"… or a choice's
   * words answers the latest choices offered in the chat.
   */
  numberedChoiceChannels?: ReadonlySet<string>;
  /**
   * Answers this process can send itself right after the commit (src/delivery/direct-replies.ts); they are
   * written held and returned in the result. Absent: every answer goes through relay, queue and worker.
   */
  directReplies?: { accepts(channel: string, messages: readonly OutboundMessage[]): boolean };
  /** The raw engine for routes that are raw SQL only (src/db/raw-transactions.ts); absent: Prisma only. */
  raw?: Pick<RawTransactions, 'run'>;
  /** Counts raw turns that ran again through Prisma, by route (thidua_dialogue_engine_fallbacks_total). */
  engineFallbacks?: { inc(labels: { route: string }): void };
  /** The route table (routes.ts by default). */
  routes?: Router;
}

const NOTHING_OPENED: OpenedTurn = { fresh: true, account: null, exemplarDraft: null, tasks: null };

/**
 * Turns chat events into service calls. The route table (routes.ts) picks the route for an event, and with
 * it the engine; the event is then handled in one transaction together with its (channel, update id)
 * record and the replies it produces, so a redelivered update is a no-op and a failed one leaves nothing
 * behind for the platform's retry to trip over.
 */
export class Dialogue {
  private readonly routes: Router;
  private readonly engine: TurnEngine;

  constructor(private readonly deps: DialogueDeps) {
    this.routes =
      deps.routes ??
      dialogueRoutes({
        linkAttempts: deps.linkAttempts,
        alertLinkGuessing: (now) => this.alertLinkGuessing(now),
        linkCodeKeys: deps.linkCodeKeys,
        numberedChoiceChannels: deps.numberedChoiceChannels ?? new Set(),
      });
    this.engine = new TurnEngine({
      db: deps.db,
      raw: deps.raw,
      fallbacks: deps.engineFallbacks,
      logger: deps.logger,
    });
  }

  /** Many wrong link codes: every admin is told, once per window (the window's marker is in Redis). */
  private async alertLinkGuessing(now: Date): Promise<void> {
    const { limits } = this.deps.linkAttempts;
    await alertAdmins(this.deps.db, {
      dedupeKey: `alert:link-guessing:${now.toISOString()}`,
      message: (locale) =>
        this.deps.render.text(locale, 'admin.linkGuessing', {
          count: limits.allChats,
          minutes: Math.round(limits.windowSeconds / 60),
          seconds: limits.slowSeconds,
        }),
    }).catch((error: unknown) => this.deps.logger.error({ err: error }, 'could not alert the admins'));
  }

  async handle(received: InboundEvent): Promise<HandleResult> {
    const event = storableEvent(received);
    const route = this.routes.match(event);
    const { result, afterCommit } = await this.engine.run(route, (tx) => this.turn(tx, event, route));
    for (const effect of afterCommit) await effect();
    return result;
  }

  /** One attempt at the turn, in the transaction given: record the update, run the route, queue the replies. */
  private async turn(
    tx: TurnTransaction,
    event: InboundEvent,
    route: MatchedRoute,
  ): Promise<{ result: HandleResult; afterCommit: Turn['afterCommit'] }> {
    const now = this.deps.clock.now();
    // Nothing of a group chat is recorded, not even its update id: its one notice is keyed by the chat.
    const opened =
      event.chatKind === 'group'
        ? NOTHING_OPENED
        : await openTurn(tx.sql, { ...event, now }, { withTasks: event.kind === 'text' });
    if (!opened.fresh) return { result: { fresh: false }, afterCommit: [] };
    const account = opened.account;
    // A person writing to us again has unblocked the bot: reach them here again.
    if (account && !account.active) await reactivateAccount(tx.sql, account.id);
    const turn = new Turn(tx, event, now, account, opened, this.deps.render, this.deps.timeZone);
    await route.run(turn);
    // Sent directly only when nothing else waits for the chat: a chat reads its messages in order.
    const direct = this.deps.directReplies?.accepts(event.channel, turn.replies) === true;
    const written = await writeOutboxReturning(
      tx.sql,
      turn.replies.map((message, index) => ({
        dedupeKey: `reply:${event.channel}:${event.updateId}:${index}`,
        channel: event.channel,
        chatId: event.chatId,
        channelAccountId: turn.accountId,
        officialId: turn.member?.id ?? null,
        message,
      })),
      { hold: direct && 'if-chat-idle' },
    );
    return {
      result: { fresh: true, notice: turn.notice, held: written.filter((row) => row.held) },
      afterCommit: turn.afterCommit,
    };
  }
}
