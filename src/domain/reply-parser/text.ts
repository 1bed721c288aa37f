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
