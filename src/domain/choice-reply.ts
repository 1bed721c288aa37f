import { foldVietnamese } from './reply-parser.ts';

/** A choice as it was offered in a chat: its number, its words and the data it answers with. */
export interface NumberedChoice {
  n: number;
  label: string;
  data: string;
}

export type ChoiceReply =
  | { kind: 'choice'; data: string }
  /** A bare number that is none of the offered ones: show the choices again. */
  | { kind: 'unknown_number'; n: number };

/** The words of a label or a reply, folded: no diacritics, no emoji or punctuation, lower case. */
export function choiceWords(text: string): string {
  return foldVietnamese(text)
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/**
 * Reads a reply to numbered choices (channels without buttons): "2", "2.", "#2", or exactly the words of
 * one label ("da nhan" for "👍 Đã nhận"). Words shared by several labels answer nothing (the caller
 * then reads the text as free text). Null when the text is not an answer to these choices.
 */
export function matchChoiceReply(text: string, offered: readonly NumberedChoice[]): ChoiceReply | null {
  if (typeof text !== 'string' || text.length > 200 || offered.length === 0) return null;
  const number = /^\s*#?(\d{1,3})\s*[.)]?\s*$/.exec(text);
  if (number) {
    const n = Number(number[1]);
    const found = offered.find((choice) => choice.n === n);
    return found ? { kind: 'choice', data: found.data } : { kind: 'unknown_number', n };
  }
  const words = choiceWords(text);
  if (words === '') return null;
  const matches = offered.filter((choice) => choiceWords(choice.label) === words);
  return matches.length === 1 && matches[0] ? { kind: 'choice', data: matches[0].data } : null;
}
