import type { Word } from './lexicon.ts';
import { foldWord, splitTone } from './text.ts';
import { EMOJI, SYNONYMS } from './vocabulary.ts';

export type TokenKind = 'word' | 'num' | 'punct';

export interface Token {
  readonly kind: TokenKind;
  /** lowercased NFC text */
  readonly raw: string;
  /** folded, shorthand expanded */
  readonly c: string;
  /** `c` came from the shorthand table or a spelling repair, so `raw` has no diacritics to check */
  readonly syn: boolean;
  /** `raw` without its tone mark, and the tone (0: none) */
  readonly shape: string;
  readonly tone: number;
  readonly start: number;
  readonly end: number;
  /** numeric value for numbers, NaN otherwise or when the number has an odd shape */
  readonly value: number;
  readonly int: boolean;
  /** punctuation that closes a clause */
  readonly brk: boolean;
  /** set by the clause stage */
  clause: number;
}

const BREAK_CHARS = new Set([',', ';', '.', '!', '?', '…', '\n']);
const PUNCT_CHARS = new Set(['%', '/', '#', ':', '-', '+', '&', '(', ')', '–', '—']);

// Per code unit: 0 unknown, 1 letter or mark, 2 other. A cache keeps the tokenizer linear and
// cheap on a megabyte of Vietnamese without a Unicode regex per character.
const letterCache = new Uint8Array(65536);
const LETTER = /[\p{L}\p{M}]/u;

function isLetter(code: number, ch: string): boolean {
  if ((code >= 97 && code <= 122) || (code >= 65 && code <= 90)) return true;
  if (code < 128) return false;
  let v = letterCache[code];
  if (v === 0 || v === undefined) {
    v = LETTER.test(ch) ? 1 : 2;
    letterCache[code] = v;
  }
  return v === 1;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isSpace(code: number): boolean {
  return (
    code === 32 ||
    (code >= 9 && code <= 13) ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

function parseNumber(raw: string): { value: number; int: boolean } {
  if (!raw.includes('.') && !raw.includes(',')) return { value: Number(raw), int: true };
  const groups = raw.split(/[.,]/);
  if (groups.length === 1) return { value: Number(raw), int: true };
  const rest = groups.slice(1);
  if (groups.length === 2 && (rest[0]?.length ?? 0) <= 2) {
    return { value: Number(raw.replace(',', '.')), int: false };
  }
  // Vietnamese writes thousands with dots: "1.000".
  if (rest.every((g) => g.length === 3)) return { value: Number(groups.join('')), int: true };
  return { value: Number.NaN, int: false };
}

/** Words, numbers ("62,5", "1.000") and the punctuation that matters, in one linear pass. */
export function tokenize(s: string): Token[] {
  const foldCache = new Map<string, string>();
  const out: Token[] = [];
  const n = s.length;
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number, brk: boolean, text?: string): void => {
    const raw = text ?? s.slice(start, end).toLowerCase();
    let c = raw;
    let syn = false;
    let shape = raw;
    let tone = 0;
    let value = Number.NaN;
    let int = false;
    if (kind === 'word') {
      let f = foldCache.get(raw);
      if (f === undefined) {
        f = foldWord(raw);
        foldCache.set(raw, f);
      }
      const mapped = SYNONYMS.get(f);
      c = mapped ?? f;
      syn = mapped !== undefined;
      if (f !== raw) ({ shape, tone } = splitTone(raw));
    } else if (kind === 'num') {
      ({ value, int } = parseNumber(raw));
    }
    out.push({ kind, raw, c, syn, shape, tone, start, end, value, int, brk, clause: 0 });
  };
  /** An emoji of the status buttons or of agreement stands for its word ("✅" is "xong"). */
  const pushEmoji = (start: number, end: number, meaning: string): void => {
    const c = SYNONYMS.get(meaning) ?? meaning;
    out.push({
      kind: 'word',
      raw: meaning,
      c,
      syn: true,
      shape: meaning,
      tone: 0,
      start,
      end,
      value: Number.NaN,
      int: false,
      brk: false,
      clause: 0,
    });
  };
  while (i < n) {
    const code = s.charCodeAt(i);
    const ch = s[i] ?? '';
    if (isDigit(code)) {
      const start = i;
      while (i < n && isDigit(s.charCodeAt(i))) i++;
      while (i + 1 < n && (s[i] === '.' || s[i] === ',') && isDigit(s.charCodeAt(i + 1))) {
        i++;
        while (i < n && isDigit(s.charCodeAt(i))) i++;
      }
      push('num', start, i, false);
    } else if (isLetter(code, ch)) {
      const start = i;
      while (i < n && isLetter(s.charCodeAt(i), s[i] ?? '')) i++;
      push('word', start, i, false);
    } else if (isSpace(code)) {
      const start = i;
      let newline = false;
      while (i < n && isSpace(s.charCodeAt(i))) {
        if (s[i] === '\n' || s[i] === '\r' || s[i] === '\u2028') newline = true;
        i++;
      }
      // a new line in a chat message ends a statement like a full stop does
      if (newline) push('punct', start, i, true, '\n');
    } else if (code >= 0x2000) {
      const point = s.codePointAt(i) ?? code;
      const width = point > 0xffff ? 2 : 1;
      const meaning = EMOJI.get(point);
      if (meaning !== undefined) pushEmoji(i, i + width, meaning);
      else if (BREAK_CHARS.has(ch)) push('punct', i, i + 1, true);
      else if (PUNCT_CHARS.has(ch)) push('punct', i, i + 1, false);
      i += width;
    } else {
      if (BREAK_CHARS.has(ch)) push('punct', i, i + 1, true);
      else if (PUNCT_CHARS.has(ch)) push('punct', i, i + 1, false);
      i++;
    }
  }
  return out;
}

/**
 * A token typed with diacritics must agree with the word's: its tone, wherever it was placed
 * ("hòan thành"), and every vowel mark it has ("vuớng" is "vướng", "kết" is not "kẹt"). A token
 * typed without them, or without its tone ("đang thưc hiện"), agrees unless the word is strict.
 */
export function tokenMatchesWord(t: Token, w: Word): boolean {
  if (t.kind !== 'word' || t.c !== w.f) return false;
  if (t.syn) return !w.strict;
  if (t.raw === w.acc) return true;
  if (w.strict) return t.shape === w.shape && t.tone === w.tone;
  if (t.tone !== 0 && t.tone !== w.tone) return false;
  if (t.shape.length !== w.shape.length) return t.raw === t.c;
  for (let k = 0; k < t.shape.length; k++) {
    const r = t.shape.charCodeAt(k);
    if (r !== w.shape.charCodeAt(k) && r >= 128) return false;
  }
  return true;
}
