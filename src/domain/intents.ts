import { foldVietnamese } from './reply-parser.ts';

/**
 * "tổng hợp", "tong hop 01/KH-HĐTĐKT", "tình hình", "báo cáo tổng hợp": a supervisor asking for a summary.
 * The document number comes back folded (no diacritics, lower case): match it against folded numbers.
 */
export function parseSummaryRequest(text: string): { docQuery: string | null } | null {
  if (text.length > 300) return null;
  const folded = foldVietnamese(text).trim();
  const match = /^\/?(?:bao cao tong hop|tong hop|tinh hinh|summary)(?=$|[\s:,.-])/.exec(folded);
  if (!match) return null;
  const rest = folded
    .slice(match[0].length)
    .replace(/^[\s:,.-]+/, '')
    .trim();
  return { docQuery: rest === '' ? null : rest };
}

/** Splits a long text at line breaks (then spaces) so that no part exceeds `limit` characters. */
export function splitText(text: string, limit: number): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    let cut = rest.lastIndexOf('\n', limit);
    if (cut < limit / 2) cut = rest.lastIndexOf(' ', limit);
    if (cut < limit / 2) cut = limit;
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).replace(/^\s+/, '');
  }
  if (rest.length > 0 || parts.length === 0) parts.push(rest);
  return parts;
}
