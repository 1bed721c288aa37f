import type { Phrase, PhraseTable, Word } from './lexicon.ts';
import { collapse } from './text.ts';
import { tokenize, tokenMatchesWord, type Token } from './tokens.ts';
import { WINDOW_STOPS } from './vocabulary.ts';

/**
 * What every stage reads and what the earlier stages leave for the later ones: the tokens, which
 * clause each belongs to, and the neighbourhood questions ("does a phrase of this table end just
 * before this token, inside its clause?").
 *
 * Every look at a token goes through `at`, which counts it in `steps`: each stage is a single pass
 * or looks at a bounded number of neighbours, and the count lets a test prove it stays that way.
 */
export class ParseContext {
  readonly nfc: string;
  /** the whole text as a note: NFC, whitespace collapsed */
  readonly fullNote: string | null;
  /** the tokens; the spelling stage replaces a misspelt one with what it means */
  readonly toks: Token[];
  readonly n: number;
  /** token looks so far: linear in the length of the text */
  steps = 0;

  // set by the clause stage
  clauseCount = 1;
  /** per clause: it asks ("?") or sets a condition ("nếu"), so it reports nothing */
  question = new Uint8Array(1);
  conditional = new Uint8Array(1);
  /** per clause: "đã", "rồi" or "vừa" occurs in it */
  hasPast = new Uint8Array(1);
  /** per token: a politeness particle or other filler */
  filler: Uint8Array;
  /** per token: after "sẽ", "dự kiến", ... in its clause */
  future: Uint8Array;

  // set by the task-reference stage
  /** per token: part of a task reference ("nhiệm vụ số 2"), read by no later stage */
  consumed: Uint8Array;
  /** per token: carries nothing (particles, the task reference, plain punctuation) */
  ignorable: Uint8Array;
  contentPerClause = new Uint32Array(1);

  constructor(nfc: string) {
    this.nfc = nfc;
    this.fullNote = collapse(nfc);
    this.toks = tokenize(nfc);
    this.n = this.toks.length;
    this.filler = new Uint8Array(this.n);
    this.future = new Uint8Array(this.n);
    this.consumed = new Uint8Array(this.n);
    this.ignorable = new Uint8Array(this.n);
  }

  at(i: number): Token | undefined {
    this.steps++;
    return i >= 0 && i < this.n ? this.toks[i] : undefined;
  }

  clauseOf(i: number): number {
    return this.at(i)?.clause ?? -1;
  }

  /** The clause of `i` asks or sets a condition: nothing in it is a report. */
  silent(i: number): boolean {
    const k = this.clauseOf(i);
    return this.question[k] === 1 || this.conditional[k] === 1;
  }

  wordMatches(t: Token | undefined, w: Word): boolean {
    return t !== undefined && tokenMatchesWord(t, w);
  }

  /** End index (exclusive) of `p` matched at `i`, or -1. */
  matchPhrase(i: number, p: Phrase): number {
    for (let k = 0; k < p.length; k++) {
      const w = p[k];
      if (!w || !this.wordMatches(this.at(i + k), w)) return -1;
    }
    return i + p.length;
  }

  /** End index of the longest phrase of `tbl` starting at `i`, or -1. */
  matchTable(i: number, tbl: PhraseTable): number {
    const t = this.at(i);
    if (!t || t.kind !== 'word') return -1;
    const list = tbl.byFirst.get(t.c);
    if (!list) return -1;
    for (const p of list) {
      const e = this.matchPhrase(i, p);
      if (e !== -1) return e;
    }
    return -1;
  }

  /** Whether a phrase of `tbl` ends exactly at index `j`. */
  endsAt(j: number, tbl: PhraseTable): boolean {
    const t = this.at(j);
    if (!t || t.kind !== 'word') return false;
    const list = tbl.byLast.get(t.c);
    if (!list) return false;
    for (const p of list) {
      if (this.matchPhrase(j - p.length + 1, p) === j + 1) return true;
    }
    return false;
  }

  /** Does `test` hold for one of the `max` tokens before `i`, inside the clause, before a "vì"/"nhưng"? */
  before(i: number, max: number, test: (j: number) => boolean): boolean {
    const k = this.clauseOf(i);
    for (let j = i - 1; j >= 0 && j >= i - max; j--) {
      const t = this.at(j);
      if (!t || t.clause !== k || t.brk) return false;
      if (test(j)) return true;
      if (this.matchTable(j, WINDOW_STOPS) !== -1) return false;
    }
    return false;
  }

  /** Does `test` hold for one of the `max` tokens from `e` on, inside the clause of `e - 1`? */
  after(e: number, max: number, test: (j: number) => boolean): boolean {
    const k = this.clauseOf(e - 1);
    for (let j = e; j < this.n && j < e + max; j++) {
      const t = this.at(j);
      if (!t || t.clause !== k || t.brk) return false;
      if (test(j)) return true;
    }
    return false;
  }

  /** Is everything in the clause outside [from, to) ignorable? */
  isBareClause(from: number, to: number): boolean {
    const k = this.clauseOf(from);
    let inside = 0;
    for (let j = from; j < to; j++) {
      this.steps++;
      if (!this.ignorable[j]) inside++;
    }
    return (this.contentPerClause[k] ?? 0) === inside;
  }

  /** Up to `max` tokens from `from` to the end of the clause are all ignorable. */
  restIsIgnorable(from: number, max: number): boolean {
    const k = this.clauseOf(from - 1);
    for (let j = from; j < from + max; j++) {
      const t = this.at(j);
      if (!t || t.clause !== k) return true;
      if (!this.ignorable[j]) return false;
    }
    const t = this.at(from + max);
    return !t || t.clause !== k;
  }
}
