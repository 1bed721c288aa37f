import { foldVietnamese } from './reply-parser.ts';

/**
 * Exemplars (điển hình tiên tiến): who did what, as an official reports it. The limits keep a row
 * readable in the workbook and in one chat message; they are generous for a name and a short account.
 */
export const EXEMPLAR_LIMITS = { subject: 200, achievement: 1000, photoRef: 2048 } as const;

export type ExemplarField = 'subject' | 'achievement';

export type ExemplarTextProblem =
  | { field: ExemplarField; reason: 'empty' }
  | { field: ExemplarField; reason: 'too_long'; length: number; max: number };

/** Text as it is stored: NFC, invisible characters gone, runs of spaces folded, trimmed. */
export function cleanExemplarText(text: string): string {
  return text
    .normalize('NFC')
    .replace(/[\u00AD\u200B-\u200D\u2060\uFEFF]/g, '')
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ *\n[\s]*/g, '\n')
    .trim();
}

/** Null when the (cleaned) text may be stored as this field. */
export function exemplarTextProblem(field: ExemplarField, text: string): ExemplarTextProblem | null {
  if (text === '') return { field, reason: 'empty' };
  const max = EXEMPLAR_LIMITS[field];
  const length = [...text].length;
  return length > max ? { field, reason: 'too_long', length, max } : null;
}

/** A separator with a space on at least one side: "A – B", "A - B", "A: B", "A -B". */
const SPACED_SEPARATOR = /\s[–—-]|[–—-]\s|:\s|\s:/u;
const ANY_SEPARATOR = /[–—:-]/u;

/**
 * "Nguyễn Văn A – trồng 2 ha rừng phòng hộ" → who and what, split at the first dash or colon.
 * A separator with a space beside it wins over one inside a word, so "Tổ 3-4 – dọn vệ sinh" keeps
 * "Tổ 3-4" whole; `spacedOnly` refuses in-word separators altogether (the "who?" answer of a
 * step-by-step report, where "Tổ 3-4" is a name, not "who – what"). Either side may come back empty.
 */
export function splitExemplarText(
  text: string,
  { spacedOnly = false }: { spacedOnly?: boolean } = {},
): { subject: string; achievement: string | null } {
  const cleaned = cleanExemplarText(text);
  const spaced = SPACED_SEPARATOR.exec(cleaned);
  let at = -1;
  if (spaced) {
    // The match may start with the space: the separator itself is the dash or colon inside it.
    const offset = spaced[0].search(/[–—:-]/u);
    at = spaced.index + offset;
  } else if (!spacedOnly) {
    at = cleaned.search(ANY_SEPARATOR);
  }
  if (at < 0) return { subject: cleaned, achievement: null };
  return {
    subject: cleaned.slice(0, at).trim(),
    achievement: cleaned.slice(at + 1).trim(),
  };
}

/** "không", "khong", "ko", "bỏ qua", "bo qua", "không có ảnh": no photo for this exemplar. */
export function isNoPhotoReply(text: string): boolean {
  const folded = foldVietnamese(text)
    .replace(/[^\p{L}\p{N} ]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return /^(?:khong|ko|k|no|skip|bo qua|thoi|khong co|khong co anh|khong can|khong gui anh)(?: a| nhe| a nhe)?$/.test(
    folded,
  );
}
