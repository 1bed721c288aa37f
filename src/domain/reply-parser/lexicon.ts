import { foldWord, splitTone } from './text.ts';

// How the vocabulary is written down. Words are written with their diacritics: a token typed WITH
// diacritics must agree with them ("Đảng" is not "đang", "kết" is not "kẹt", "tác" is not "tắc"), a
// token typed without any is accepted. A leading "=" means the unaccented spelling is too ambiguous
// to accept ("ket" is far more often "kết" than "kẹt").

export interface Word {
  /** folded: no diacritics */
  readonly f: string;
  /** lowercased NFC, with diacritics */
  readonly acc: string;
  readonly strict: boolean;
  /** `acc` without its tone mark, and the tone (0: none) */
  readonly shape: string;
  readonly tone: number;
}
export type Phrase = readonly Word[];

export function word(spec: string): Word {
  const strict = spec.startsWith('=');
  const acc = (strict ? spec.slice(1) : spec).normalize('NFC').toLowerCase();
  return { f: foldWord(acc), acc, strict, ...splitTone(acc) };
}

function phrase(spec: string): Phrase {
  return spec.split(' ').map(word);
}

export interface PhraseTable {
  readonly byFirst: ReadonlyMap<string, readonly Phrase[]>;
  readonly byLast: ReadonlyMap<string, readonly Phrase[]>;
}

/** Every phrase of every table, for the spelling stage (which words and phrases exist at all). */
export const ALL_PHRASES: Phrase[] = [];

/** `list` is comma-separated phrases, so the vocabulary reads as prose and diffs by word. */
export function table(list: string): PhraseTable {
  const specs = list
    .split(',')
    .map((x) => x.trim().replace(/\s+/g, ' '))
    .filter((x) => x !== '');
  const byFirst = new Map<string, Phrase[]>();
  const byLast = new Map<string, Phrase[]>();
  const add = (map: Map<string, Phrase[]>, key: string, p: Phrase): void => {
    const list = map.get(key);
    if (list) list.push(p);
    else map.set(key, [p]);
  };
  for (const spec of specs) {
    const p = phrase(spec);
    const first = p[0];
    const last = p[p.length - 1];
    if (!first || !last) continue;
    ALL_PHRASES.push(p);
    add(byFirst, first.f, p);
    add(byLast, last.f, p);
  }
  // Longest first so "vướng mắc" is preferred over "vướng".
  for (const list of byFirst.values()) list.sort((a, b) => b.length - a.length);
  return { byFirst, byLast };
}

/** A set of folded words written as one space-separated string. */
export function foldedSet(list: string): ReadonlySet<string> {
  return new Set(list.split(/\s+/).filter((x) => x !== ''));
}
