/** One thing a person did in a chat, as every channel adapter reports it. */
export type InboundEvent = {
  channel: string;
  /** The platform's id of this update; the same update delivered again carries the same id. */
  updateId: string;
  chatId: string;
} & (
  | { kind: 'command'; command: string; args: string }
  | { kind: 'text'; text: string }
  | { kind: 'choice'; data: string }
  /** Something the bot cannot read (a sticker, a picture, a voice message): `what` names it, for logs. */
  | { kind: 'unsupported'; what: string }
);

export interface HandleResult {
  /** False when the update had been handled before (a redelivery). */
  fresh: boolean;
  /** A short notice for the button that was pressed (Telegram shows it as a toast). */
  notice?: string | undefined;
}
