import { foldVietnamese } from './reply-parser.ts';

/**
 * What a supervisor asked for: a campaign by its document number (folded: no diacritics, lower case;
 * match it against folded numbers) or null for "the running one", and optionally an emulation block.
 * `block` is absent when none was asked for, and '' when the word "khối"/"cụm" came without a code.
 */
export interface SummaryRequest {
  docQuery: string | null;
  block?: string;
}

/**
 * "khối CUM1", "khoi thi dua so 3", "cụm thi đua Biên giới-1", "block CUM1": the block keyword with an optional
 * "thi đua" and "số", then one code (codes have no spaces). Only read inside a summary request: on its
 * own "khởi công…" folds to "khoi cong…", which is a status reply.
 */
const BLOCK =
  /(?:^|\s)(?:khoi|cum|block)(?:\s+thi\s+dua)?(?:\s+so)?(?:(?:\s*[:.-]\s*|\s+)([^\s,;:]+))?(?=$|[\s,;])/;

/** The arguments of /tonghop (or what follows "tổng hợp"): a document number and/or a block. */
export function parseSummaryArgs(args: string): SummaryRequest {
  let rest = foldVietnamese(args);
  let block: string | undefined;
  const match = BLOCK.exec(rest);
  if (match) {
    block = match[1] ?? '';
    rest = `${rest.slice(0, match.index)} ${rest.slice(match.index + match[0].length)}`;
  }
  rest = rest.replace(/^[\s:,.-]+|[\s:,.-]+$/g, '').trim();
  return { docQuery: rest === '' ? null : rest, ...(block !== undefined ? { block } : {}) };
}

/**
 * "tổng hợp", "tong hop 01/KH-HĐTĐKT", "tình hình", "báo cáo tổng hợp", "tổng hợp khối CUM1 01/KH-UBND":
 * a supervisor asking for a summary.
 */
export function parseSummaryRequest(text: string): SummaryRequest | null {
  if (text.length > 300) return null;
  const folded = foldVietnamese(text).trim();
  const match = /^\/?(?:bao cao tong hop|tong hop|tinh hinh|summary)(?=$|[\s:,.-])/.exec(folded);
  if (!match) return null;
  return parseSummaryArgs(folded.slice(match[0].length));
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

const EXEMPLAR_PREFIX = /^\/?(?:bao cao |bao )?(?:dien|diem) ?hinh(?: tien tien)?(?=$|[\s:,.–—-])/;

/**
 * "điển hình Nguyễn Văn A – trồng rừng", "diem hinh", "báo cáo điển hình tiên tiến: …": an official
 * reporting an exemplar. The rest comes back as typed (diacritics kept: it names a person).
 */
export function parseExemplarRequest(text: string): { rest: string } | null {
  if (typeof text !== 'string' || text.length > 2000) return null;
  const folded = foldVietnamese(text);
  const match = EXEMPLAR_PREFIX.exec(folded);
  if (!match) return null;
  // Folding changes lengths (invisible characters, spaces): find the shortest original prefix that folds
  // to the matched words, and cut the original there.
  const original = text.normalize('NFC').trimStart();
  let cut = 0;
  while (cut < original.length && foldVietnamese(original.slice(0, cut)) !== match[0]) cut += 1;
  if (foldVietnamese(original.slice(0, cut)) !== match[0]) return null;
  const rest = original
    .slice(cut)
    .replace(/^[\s:,.–—-]+/u, '')
    .trim();
  return { rest };
}
