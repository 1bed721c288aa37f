import type { Channel, OutboundFile } from '../channels/channel.ts';
import { splitText } from '../domain/intents.ts';
import type { AttachmentRef, OutboundMessage } from '../domain/message.ts';

/** How a worker makes and offers attachments (app.ts builds them; absent where a deployment cannot). */
export interface AttachmentMakers {
  /** Makes an attachment's bytes from its reference, at send time. */
  attachments?: (ref: AttachmentRef) => Promise<OutboundFile>;
  /**
   * A signed public link to an attachment and the line that offers it in text (present with PUBLIC_URL),
   * for channels that cannot upload: a picture by link, a workbook as a link in the text.
   */
  attachmentLink?: (ref: AttachmentRef) => { url: string; line: string };
}

/**
 * What one run of a job sends. `message` is the message as this channel carries it (an attachment it
 * cannot carry turned into a line of text): what an official's other account receives if this one fails.
 */
export type SendPlan =
  | {
      kind: 'upload';
      message: OutboundMessage;
      ref: AttachmentRef;
      makeFile: (ref: AttachmentRef) => Promise<OutboundFile>;
      upload: (chatId: string, file: OutboundFile, message: OutboundMessage) => Promise<void>;
    }
  | {
      kind: 'photo_link';
      message: OutboundMessage;
      url: string;
      sendLink: (chatId: string, url: string, message: OutboundMessage) => Promise<void>;
    }
  /** One part of the text (`index` of `count`); the choices go with the last. */
  | { kind: 'text'; message: OutboundMessage; part: OutboundMessage; index: number; count: number };

/**
 * Decides how a row's message goes out on this channel: the attachment uploaded, by a signed link, or as
 * a line of text; the text split to the channel's length, and which part is due, `partsSent` being sent.
 */
export function prepareSend(
  message: OutboundMessage,
  partsSent: number,
  channel: Channel,
  makers: AttachmentMakers,
): SendPlan {
  const attachment = message.attachment;
  const makeFile = makers.attachments;
  if (attachment && makeFile) {
    const upload =
      attachment.kind === 'photo' ? channel.sendPhoto?.bind(channel) : channel.sendDocument?.bind(channel);
    if (upload) return { kind: 'upload', message, ref: attachment.ref, makeFile, upload };
  }
  let text = message;
  if (attachment) {
    const link = makers.attachmentLink?.(attachment.ref);
    const sendLink = attachment.kind === 'photo' ? channel.sendPhotoLink?.bind(channel) : undefined;
    if (link && sendLink) return { kind: 'photo_link', message, url: link.url, sendLink };
    // The channel cannot carry it: the text goes with a link to it, or with the fallback line.
    const { attachment: _dropped, ...rest } = message;
    text = { ...rest, text: [message.text, link?.line ?? attachment.fallback].filter(Boolean).join('\n') };
  }
  const parts = splitText(text.text, channel.maxTextLength);
  // One part per run: a long message's parts keep the per-chat gap like separate messages.
  const index = Math.min(partsSent, parts.length - 1);
  const last = index === parts.length - 1;
  const part = { text: parts[index] ?? '', ...(last ? { choices: text.choices } : {}) };
  return { kind: 'text', message: text, part, index, count: parts.length };
}
