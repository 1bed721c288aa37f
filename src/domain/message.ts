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
  /**
   * A picture or file sent with the message (`text` is then its caption, and the whole message where a
   * channel cannot send media). Only a reference is stored: the bytes are made when it is sent.
   */
  attachment?: Attachment;
}

/** What to make at send time: the chart of a scope, or the workbook. */
export interface Attachment {
  kind: 'photo' | 'document';
  ref: AttachmentRef;
  /** Appended to the text where the channel cannot send this kind of media. */
  fallback?: string;
}

export interface AttachmentRef {
  type: 'chart' | 'xlsx';
  campaignId: string;
  unitCode?: string;
  block?: string;
  locale: string;
  /** The instant the request was made: the picture shows the data as of then. */
  at: string;
}

/**
 * Text and labels carry the small HTML subset <b>, <i>, <code> with &lt; &gt; &amp; escapes (Telegram's
 * HTML mode). Where a platform shows text as typed (Zalo; Telegram's button labels), the tags go and the
 * escapes are read back.
 */
export function plainText(html: string): string {
  return html
    .replace(/<\/?(?:b|i|code)>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}
