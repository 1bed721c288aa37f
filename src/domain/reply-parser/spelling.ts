import type { ParseContext } from './context.ts';
import { ALL_PHRASES, type Phrase, type Word } from './lexicon.ts';
import { foldWord } from './text.ts';
import { tokenMatchesWord, type Token } from './tokens.ts';
import { SYNONYMS } from './vocabulary.ts';

/**
 * Stage 0: spelling. A word that is no word of the vocabulary is read as the vocabulary word it was
 * meant to be, when the evidence is good enough:
 * - Telex leftovers on a keyboard whose Vietnamese input was off ("xongf", "ddax", "chuwa lamf",
 *   "vuowngs"): the Telex letters taken out, when that leaves a vocabulary word and the token was no
 *   Vietnamese syllable at all.
 * - one edit away (a letter wrong, missing, extra, two letters swapped, a wrong tone or vowel mark):
 *   - inside a phrase of the vocabulary whose other words are there ("hoàn thàng", "trien khia",
 *     "khó khắn"): read as the one word that completes a phrase there. A syllable typed with its
 *     marks keeps its vowels: only its tone or a consonant may be the slip ("tốt" is not "tất"). "thàng" is one edit from
 *     "thành" and from "tháng" alike; only "thành" makes a phrase after "hoàn".
 *   - on its own, only when the token is no Vietnamese syllable nor foreign ("xonh", "xnog", not
 *     "when") and exactly one
 *     vocabulary word is one edit away. A real syllable ("song", "xông", "tháng") is never changed:
 *     it is a word in its own right, and reading it as "xong" would record a guess.
 * A repaired token keeps no diacritics to check, so strict words ("=kẹt") never come from a repair.
 */
export function repairSpelling(ctx: ParseContext): void {
  for (let i = 0; i < ctx.n; i++) {
    const t = ctx.at(i);
    if (!t || t.kind !== 'word' || t.syn || isKnown(t)) continue;
    const meant = telexMeaning(t) ?? oneEditMeaning(ctx, i, t);
    if (meant !== null) ctx.toks[i] = { ...t, c: SYNONYMS.get(meant) ?? meant, syn: true };
  }
}

// ---- the vocabulary, indexed for spelling --------------------------------------------------------

const WORDS = new Map<string, Word[]>();
/** every folded word and every string one deletion away from one, to the folded words */
const NEAR_WORDS = new Map<string, Set<string>>();
/** multi-word phrases by each folded word in them, with its position */
const PHRASES_WITH = new Map<string, { phrase: Phrase; at: number }[]>();
const ENGLISH = new Set<string>();

function indexVocabulary(): void {
  const addNear = (key: string, f: string): void => {
    const set = NEAR_WORDS.get(key);
    if (set) set.add(f);
    else NEAR_WORDS.set(key, new Set([f]));
  };
  for (const phrase of ALL_PHRASES) {
    phrase.forEach((w, at) => {
      const list = WORDS.get(w.f);
      if (!list) WORDS.set(w.f, [w]);
      else if (!list.some((x) => x.acc === w.acc && x.strict === w.strict)) list.push(w);
      if (phrase.length > 1) {
        const uses = PHRASES_WITH.get(w.f) ?? [];
        uses.push({ phrase, at });
        PHRASES_WITH.set(w.f, uses);
      }
    });
  }
  // English words of the vocabulary ("not", "in" of "not yet", "in progress") are no targets:
  // "note" is not a misspelt "not"
  for (const phrase of ALL_PHRASES) {
    if (phrase.some((w) => !isSyllable(w.f)) && phrase.every((w) => ASCII_WORD.test(w.acc))) {
      for (const w of phrase) ENGLISH.add(w.f);
    }
  }
  for (const f of WORDS.keys()) {
    addNear(f, f);
    for (const d of deletions(f)) addNear(d, f);
  }
}

function deletions(s: string): string[] {
  const out: string[] = [];
  for (let k = 0; k < s.length; k++) out.push(s.slice(0, k) + s.slice(k + 1));
  return out;
}

function isKnown(t: Token): boolean {
  return WORDS.get(t.c)?.some((w) => tokenMatchesWord(t, w)) ?? false;
}

// ---- Telex -------------------------------------------------------------------------------------

const ASCII_WORD = /^[a-z]+$/;
const TONE_LETTERS = new Set(['s', 'f', 'r', 'x', 'j']);

/** "ddax" -> "da", "chuwa" -> "chua", "trieenr" -> "trien", "xongf" -> "xong" */
function telexMeaning(t: Token): string | null {
  if (!ASCII_WORD.test(t.raw) || isSyllable(t.raw)) return null;
  let s = t.raw
    .replace(/dd/g, 'd')
    .replace(/([aeo])\1/g, '$1')
    // "w" after a, o or u makes ă, ơ, ư; a "w" elsewhere ("when") is no Telex
    .replace(/([aou])w/g, '$1');
  const last = s[s.length - 1];
  if (s.length > 1 && last !== undefined && TONE_LETTERS.has(last)) s = s.slice(0, -1);
  return s !== t.raw && WORDS.has(s) ? s : null;
}

// Vietnamese syllables, folded: an onset, then a rhyme; "nh" and "ch" end only some vowels. Wider
// than the language (a few impossible rhymes pass), which only makes the repair more careful.
const SYLLABLE =
  /^(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?(?:(?:[aeiouy]|ai|ao|au|ay|eo|eu|ia|ie|iu|oa|oe|oi|oo|ua|ue|ui|uo|uu|uy|ye|ieu|yeu|oai|oay|oao|oeo|uoi|uou|uya|uye|uyu|uay|uau|uai)(?:c|m|n|ng|p|t)?|(?:a|e|i|y|oa|ue|uy)(?:nh|ch))$/;

function isSyllable(folded: string): boolean {
  return SYLLABLE.test(folded);
}

// ---- one edit ----------------------------------------------------------------------------------

/** At most one substitution, insertion, deletion or swap of neighbours turns `a` into `b`. */
function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > 1) return false;
  let k = 0;
  while (k < la && k < lb && a[k] === b[k]) k++;
  if (la === lb) {
    if (a.slice(k + 1) === b.slice(k + 1)) return true;
    return a[k] === b[k + 1] && a[k + 1] === b[k] && a.slice(k + 2) === b.slice(k + 2);
  }
  return la > lb ? a.slice(k + 1) === b.slice(k) : a.slice(k) === b.slice(k + 1);
}

/** The vocabulary words one edit from the token: folded when it has no diacritics, else as typed. */
function oneEditCandidates(t: Token): Word[] {
  const folded = foldWord(t.raw);
  if (folded.length < 3 || folded.length > 12) return [];
  const plain = folded === t.raw;
  const seen = new Set<string>();
  for (const key of [folded, ...deletions(folded)]) for (const f of NEAR_WORDS.get(key) ?? []) seen.add(f);
  const out: Word[] = [];
  for (const f of seen) {
    // only towards Vietnamese words: "none" and "one" are not a misspelt "done"
    if (f.length < 3 || !isSyllable(f) || ENGLISH.has(f) || !withinOneEdit(folded, f)) continue;
    for (const w of WORDS.get(f) ?? []) {
      const slip = plain ? !w.strict && f !== folded : withinOneEdit(t.raw, w.acc);
      if (slip && plausibleSlip(t, w)) out.push(w);
    }
  }
  return out;
}

const VOWELS = /[aăâeêioôơuưy]/g;

/**
 * A token that looks like a real syllable is taken for a slip only if it keeps its first letter
 * ("coi" is not "rồi", "đại" is not "tại"), and, typed with its marks, its vowels: the slip is a
 * wrong tone ("triễn" for "triển") or consonant ("thàng" for "thành"), not another vowel ("tốt"
 * is not "tất").
 */
function plausibleSlip(t: Token, w: Word): boolean {
  const folded = foldWord(t.raw);
  if (!isSyllable(folded)) return true;
  // a real-looking word with another first letter is another word ("coi" is not "rồi")
  if (folded[0] !== w.f[0]) return false;
  if (t.raw === folded || t.shape === w.shape) return true;
  return t.tone === w.tone && t.shape.match(VOWELS)?.join('') === w.shape.match(VOWELS)?.join('');
}

/** Letters no Vietnamese word has: a word with one ("when") is foreign, or Telex (read above). */
const FOREIGN_LETTERS = /[fjwz]/;

function oneEditMeaning(ctx: ParseContext, i: number, t: Token): string | null {
  const candidates = oneEditCandidates(t);
  if (candidates.length === 0) return null;
  const fitting = new Set(candidates.filter((w) => completesPhrase(ctx, i, w)).map((w) => w.f));
  if (fitting.size === 1) return [...fitting][0] ?? null;
  if (fitting.size > 1) return null;
  const all = new Set(candidates.map((w) => w.f));
  if (all.size === 1 && t.raw.length >= 4 && !FOREIGN_LETTERS.test(t.raw) && !isSyllable(foldWord(t.raw)))
    return [...all][0] ?? null;
  return null;
}

/** Read as `w`, the token at `i` would complete a phrase whose other words are there as typed. */
function completesPhrase(ctx: ParseContext, i: number, w: Word): boolean {
  for (const { phrase, at } of PHRASES_WITH.get(w.f) ?? []) {
    if (phrase[at]?.acc !== w.acc) continue;
    const start = i - at;
    const fits = phrase.every((pw, k) => {
      if (k === at) return true;
      const other = ctx.at(start + k);
      return other !== undefined && tokenMatchesWord(other, pw);
    });
    if (fits) return true;
  }
  return false;
}

indexVocabulary();
