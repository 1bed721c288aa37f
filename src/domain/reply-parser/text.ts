// Text helpers shared by every stage: folding Vietnamese and tidying what goes into a note.

// Zalo and some Windows keyboards insert these inside words; they would split "xo\u200bng".
export const INVISIBLE = /[\u00AD\u200B-\u200D\u2060\uFEFF]/g;
const MARKS = /\p{M}/gu;

export function foldVietnamese(text: string): string {
  if (typeof text !== 'string') return '';
  return text
    .normalize('NFC')
    .replace(INVISIBLE, '')
    .toLowerCase()
    .normalize('NFD')
    .replace(MARKS, '')
    .replace(/đ/g, 'd')
    .replace(/\s+/g, ' ')
    .trim();
}

/** One lowercased word without its diacritics ("vướng" -> "vuong"). */
export function foldWord(s: string): string {
  return s.normalize('NFD').replace(MARKS, '').replace(/đ/g, 'd');
}

export function collapse(s: string): string | null {
  const out = s.replace(/\s+/g, ' ').trim();
  return out === '' ? null : out;
}

/** The text as the note keeps it: NFC, invisible characters gone, whitespace collapsed. */
export function safeNote(text: unknown): string | null {
  try {
    return typeof text === 'string' ? collapse(text.normalize('NFC').replace(INVISIBLE, '')) : null;
  } catch {
    return null;
  }
}

// The five tone marks of Vietnamese. The other marks (circumflex, breve, horn) change the vowel
// itself, so they stay in a word's shape; the tone is compared on its own, wherever it was typed
// ("hòan" and "hoàn" are the same word, the old and the new placement).
const TONE_MARKS: ReadonlyMap<number, number> = new Map([
  [0x300, 1],
  [0x301, 2],
  [0x303, 3],
  [0x309, 4],
  [0x323, 5],
]);

/** A lowercased NFC word split into its shape (letters and vowel marks, NFC) and its tone (0: none). */
export function splitTone(s: string): { shape: string; tone: number } {
  let tone = 0;
  let shape = '';
  for (const ch of s.normalize('NFD')) {
    const mark = TONE_MARKS.get(ch.charCodeAt(0));
    if (mark === undefined) shape += ch;
    else if (tone === 0) tone = mark;
  }
  return { shape: shape.normalize('NFC'), tone };
}
