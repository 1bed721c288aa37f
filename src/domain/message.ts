/** A choice offered with a message: a button on Telegram, a numbered line where a channel has no buttons. */
export interface Choice {
  label: string;
  /** Short opaque data routed back to the conversation (Telegram allows 64 bytes). */
  data: string;
  /**
   * Its number in the list offered by one turn (set when queued), so that where a channel has no buttons
   * the reply "1", "2"… answers it.
   */
  n?: number;
}

/**
 * What the bot says, independent of any channel. `text` may carry the small HTML subset
 * <b>, <i>, <code>; everything a user typed has been escaped before it got here.
 */
export interface OutboundMessage {
  text: string;
  choices?: Choice[][];
}
