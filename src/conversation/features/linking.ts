import { normaliseLinkCode } from '../../domain/link-code.ts';
import { officialWithUnit } from '../../services/accounts.ts';
import { sendMissedLaunches } from '../../services/campaigns.ts';
import { redeemLinkCode, type LinkCodeKeys } from '../../services/officials.ts';
import type { Throttle } from '../../services/ports.ts';
import type { CommandEvent, Middleware, TextEvent } from '../router.ts';
import type { Turn } from '../turn.ts';

const THROTTLE_MINUTES = 15;
/** The key under which the guard counts wrong link codes from every chat together. */
const ALL_CHATS_LINK_KEY = 'link:all-chats';

export interface LinkingDeps {
  /** Wrong link codes counted per chat. */
  throttle: Throttle;
  /**
   * Wrong link codes counted across all chats: a guess spread over many chats (one try each) slips past
   * the per-chat throttle. Over its limit, every chat's code waits (told so, not checked) until the window ends.
   */
  linkGuard?: Throttle | undefined;
  /** The server-side keys link codes are hashed with. */
  linkCodeKeys: LinkCodeKeys;
}

/** Text that has the shape of a link code (an unlinked chat pasting the code it was given). */
export const isLinkCode = (text: string): boolean => normaliseLinkCode(text) !== null;

/**
 * Linking a chat to an official with a one-time code (`/start CODE`, or the code alone), open to anyone,
 * and slowed down after wrong codes: per chat, and for all chats together.
 */
export function linking(deps: LinkingDeps) {
  const chatKey = (turn: Turn) => `link:${turn.event.channel}:${turn.event.chatId}`;

  /** Redeems a code; a wrong one counts against the chat (and all chats) once the turn has committed. */
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
      turn.afterCommit.push(async () => {
        await deps.throttle.fail(chatKey(turn));
        await deps.linkGuard?.fail(ALL_CHATS_LINK_KEY);
      });
      return;
    }
    const official = await officialWithUnit(turn.sql, result.officialId);
    if (!official) throw new Error(`official ${result.officialId} vanished while being linked`);
    turn.member = official;
    turn.accountId = result.accountId;
    turn.locale = official.locale;
    turn.reply('link.linked', { name: official.name, unit: official.unit.name });
    await sendMissedLaunches(turn.prisma('missed launches'), official.id, turn.render);
  };

  /** A code waits unchecked, and the chat is told why, while its chat or all chats are over the limit. */
  const throttled: Middleware<Turn> = async (turn, next) => {
    const wait = (await deps.throttle.isBlocked(chatKey(turn)))
      ? 'link.throttled'
      : (await deps.linkGuard?.isBlocked(ALL_CHATS_LINK_KEY))
        ? 'link.paused'
        : null;
    if (wait) turn.reply(wait, { minutes: THROTTLE_MINUTES });
    else await next();
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
