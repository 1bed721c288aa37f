import { matchChoiceReply } from '../../domain/choice-reply.ts';
import { offeredChoices } from '../../services/outbox.ts';
import type { Middleware, TextEvent } from '../router.ts';
import type { Turn } from '../turn.ts';

/**
 * On channels without buttons (their adapters number the choices), a reply "1", "2"… or a choice's words
 * answers the latest choices offered in the chat: the button's route runs as if it had been pressed. A
 * number that was not offered shows the choices again; anything else is read as free text.
 */
export function numberedChoices(deps: {
  channels: ReadonlySet<string>;
  press: (turn: Turn, data: string) => Promise<void>;
}): Middleware<Turn<TextEvent>> {
  return async (turn, next) => {
    if (!deps.channels.has(turn.event.channel)) return next();
    const offered = await offeredChoices(turn.sql, {
      channel: turn.event.channel,
      chatId: turn.event.chatId,
      now: turn.now,
    });
    const match = matchChoiceReply(turn.event.text, offered);
    if (!match) return next();
    if (match.kind === 'choice') return deps.press(turn, match.data);
    turn.reply(
      'choices.unknownNumber',
      { n: match.n, max: offered.length },
      offered.map((choice) => [{ label: choice.label, data: choice.data }]),
    );
  };
}
