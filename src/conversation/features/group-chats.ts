import { claimGroupNotice } from '../../services/group-chats.ts';
import type { Middleware } from '../router.ts';
import type { Turn } from '../turn.ts';

/**
 * Anything from a group chat: the group is told once that the bot works in private chats, and nothing
 * else happens (no link, no report, nothing of what was said kept). A button pressed there gets the short
 * notice on the button only.
 */
export const groupChat: Middleware<Turn> = async (turn) => {
  if (turn.event.kind === 'choice') {
    turn.notice = turn.text('link.groupOnlyShort');
    return;
  }
  const { channel, chatId } = turn.event;
  if (await claimGroupNotice(turn.sql, { channel, chatId, now: turn.now })) turn.reply('link.groupOnly');
};
