import { normaliseLinkCode } from '../../domain/link-code.ts';
import { officialWithUnit } from '../../services/accounts.ts';
import { sendMissedLaunches } from '../../services/campaigns.ts';
import { redeemLinkCode, type LinkCodeKeys } from '../../services/officials.ts';
import type { LinkAttempts } from '../../services/ports.ts';
import type { CommandEvent, Middleware, TextEvent } from '../router.ts';
import type { Turn } from '../turn.ts';

export interface LinkingDeps {
  /**
   * Attempts counted before their code is checked: per chat and per person, and across all chats (a guess
   * spread over many chats, one try each, slips past the per-chat count; over that guard every chat is
   * slowed down, and the admins are told).
   */
  linkAttempts: LinkAttempts;
  /** Tells the admins that linking was slowed down by many wrong codes (once per window). */
  alertLinkGuessing?: ((now: Date) => Promise<void>) | undefined;
  /** The server-side keys link codes are hashed with. */
  linkCodeKeys: LinkCodeKeys;
}

/** Text that has the shape of a link code (an unlinked chat pasting the code it was given). */
export const isLinkCode = (text: string): boolean => normaliseLinkCode(text) !== null;

/**
 * Linking a chat to an official with a one-time code (`/start CODE`, or the code alone), open to anyone;
 * every attempt is counted before its code is checked (per chat, per person, and all chats together).
 */
export function linking(deps: LinkingDeps) {
  /** Redeems a code (its attempt already counted). */
  const redeem = async (turn: Turn, code: string): Promise<void> => {
    const result = await redeemLinkCode(
      turn.prisma('link code'),
      {
        channel: turn.event.channel,
        chatId: turn.event.chatId,
        code: code.trim(),
        now: turn.now,
      },
      { linkCodeKeys: deps.linkCodeKeys, render: turn.render, timeZone: turn.timeZone },
    );
    if (result.kind !== 'linked') {
      turn.reply(`link.${result.kind}`);
      return;
    }
    // Best effort: a count left too high only errs towards slowing down.
    turn.afterCommit.push(() => deps.linkAttempts.linked().catch(() => undefined));
    const official = await officialWithUnit(turn.sql, result.officialId);
    if (!official) throw new Error(`official ${result.officialId} vanished while being linked`);
    turn.member = official;
    turn.accountId = result.accountId;
    turn.locale = official.locale;
    turn.reply('link.linked', { name: official.name, unit: official.unit.name });
    await sendMissedLaunches(turn.prisma('missed launches'), official.id, turn.render);
  };

  /**
   * Counts the attempt, then checks its code only if the counts allow: over the chat's (or person's) limit
   * the code waits unchecked until the window ends, even a right one (else guessing would go on); over the
   * guard of all chats, each chat waits for its next slot. Either way the chat is told how long.
   */
  const throttled: Middleware<Turn> = async (turn, next) => {
    // A chat already linked sends codes only by mistake (or texts that look like one): nothing to count.
    if (turn.member && turn.event.kind === 'text') return next();
    const { channel, chatId, senderId } = turn.event;
    const decision = await deps.linkAttempts.attempt(channel, chatId, senderId);
    if (decision.kind === 'check') {
      if (decision.alertAdmins && deps.alertLinkGuessing) {
        const alert = deps.alertLinkGuessing;
        turn.afterCommit.push(() => alert(turn.now));
      }
      return next();
    }
    const minutes = Math.ceil(decision.retryAfterMs / 60_000);
    if (decision.kind === 'throttled') turn.reply('link.throttled', { minutes });
    else turn.reply('link.slowed', { seconds: Math.ceil(decision.retryAfterMs / 1000) });
  };

  /** `/start CODE`. */
  const redeemCommand: Middleware<Turn<CommandEvent>> = (turn) => redeem(turn, turn.event.args);

  /** A code sent on its own by a chat nobody is linked to; a linked chat's text goes on to be read. */
  const redeemText: Middleware<Turn<TextEvent>> = (turn, next) =>
    turn.member ? next() : redeem(turn, turn.event.text);

  /** `/start` without a code. */
  const welcome: Middleware<Turn> = (turn) => {
    if (turn.member) turn.reply('link.already', { name: turn.member.name, unit: turn.member.unit.name });
    else turn.reply('link.welcome');
  };

  return { throttled, redeemCommand, redeemText, welcome };
}
