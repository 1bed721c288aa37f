import type { Middleware } from '../router.ts';
import type { Turn } from '../turn.ts';

/** Answers that need nothing but the catalogue: help, and the polite answers to what the bot cannot use. */

/** /huongdan (/help). */
export const help: Middleware<Turn> = (turn) => turn.reply('help.text');

/** A command the bot does not know. */
export const unknownCommand: Middleware<Turn> = (turn) => turn.reply('unknownCommand');

/** A sticker, a voice message, a picture the platform gave no usable reference for. */
export const unsupported: Middleware<Turn> = (turn) => turn.reply('unsupported');

/** A button that is no longer (or never was) one of ours. */
export const staleButton: Middleware<Turn> = (turn) => turn.reply('stale');
