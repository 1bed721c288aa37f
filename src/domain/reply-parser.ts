/**
 * Reads the one line an official types back when the bot asks how far a task is
 * ("đã xong", "dang trien khai 70%", "vướng kinh phí", "nv2 chưa") and turns it into a
 * status report. Pure: no I/O, no clock, no imports.
 *
 * The bot never records a guess, so every rule below prefers `status: null` (the bot asks
 * again with buttons) over a plausible but uncertain reading.
 *
 * Decisions on ambiguous wording (each is pinned by a test):
 * - "chưa hoàn thành" / "chưa xong" with nothing else -> in_progress: the unit is telling us
 *   it has not finished, which in these campaigns means it started and is still working.
 * - "không hoàn thành" / "ko xong" with nothing else -> null: it says the work did not or will
 *   not finish, not whether it ever started.
 * - "hoàn thành 80%", "xong 80%" -> in_progress 80: the percent says how much is complete.
 * - an explicit, un-negated completion ("đã xong", "hoàn thành", 100%) beats a difficulty
 *   mentioned alongside it ("đã xong nhưng gặp khó khăn về kinh phí" -> done): the work is
 *   finished, chasing the unit would be wrong, and the difficulty stays in the note.
 *   Otherwise a difficulty wins over every other status, percent kept.
 * - "đã <verb>" for the verbs of a plan (quán triệt, triển khai, tổ chức, ban hành, gửi, nộp,
 *   đăng ký, sơ kết, tổng kết, ...) -> done, unless something says it is partial ("một phần",
 *   a percent below 100, "đang ...", "chưa ..." for another step).
 * - a completion under a future marker ("sẽ xong", "dự kiến hoàn thành") -> in_progress; a start
 *   verb under one ("sẽ triển khai", "dự kiến tổ chức") -> not_started.
 * - a completion followed by a deadline word ("hoàn thành trước 30/10") without "đã"/"rồi" is a
 *   promise or the task text pasted back, not a report -> no status from it.
 * - "chưa" alone (with politeness particles) -> not_started; "rồi" alone -> null.
 * - a percent above 100 is refused (null); "đạt/vượt 120%" still counts as done.
 * - percents and fractions round to the nearest integer but never onto 0 or 100 unless exact:
 *   "99,6%" -> 99 in_progress, not done.
 * - a bare number ("80") is not a percent; a bare fraction ("3/5") is, dates and document
 *   numbers excluded ("30/10/2023", "ngày 3/5", "01/KH-HĐTĐKT", "6/2023").
 * - several different percents ("quán triệt 100%, triển khai 50%") -> in_progress, percent null.
 * - a count of units that have NOT done it ("3/5 xã chưa triển khai", "còn 40%") -> null.
 * - several tasks named in one message ("nv1 xong, nv2 50%") -> everything null: the reply
 *   cannot be filed against one task.
 * - questions ("xong chưa?", "bao giờ xong") and conditionals ("nếu có kinh phí ...") say nothing.
 */

export type Status = 'done' | 'in_progress' | 'blocked' | 'not_started';

export interface ParsedReply {
  status: Status | null;
  percent: number | null;
  note: string | null;
  taskNumber: number | null;
}

// Zalo and some Windows keyboards insert these inside words; they would split "xo\u200bng".
const INVISIBLE = /[\u00AD\u200B-\u200D\u2060\uFEFF]/g;
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

export function parseStatusReply(text: string): ParsedReply {
  // Callers outside TypeScript (webhooks) can hand us anything; a parser that throws would
  // drop the official's message, so any failure degrades to "unclear".
  try {
    return parse(typeof text === 'string' ? text : '');
  } catch {
    return { status: null, percent: null, note: safeNote(text), taskNumber: null };
  }
}

function safeNote(text: unknown): string | null {
  try {
    return typeof text === 'string' ? collapse(text.normalize('NFC').replace(INVISIBLE, '')) : null;
  } catch {
    return null;
  }
}

function collapse(s: string): string | null {
  const out = s.replace(/\s+/g, ' ').trim();
  return out === '' ? null : out;
}

// ---------------------------------------------------------------------------------------------
// Vocabulary. Words are written with their diacritics: a token typed WITH diacritics must agree
// with them ("Đảng" is not "đang", "kết" is not "kẹt", "tác" is not "tắc"), a token typed
// without any is accepted. A leading "=" means the unaccented spelling is too ambiguous to
// accept ("ket" is far more often "kết" than "kẹt").

interface Word {
  readonly f: string;
  readonly acc: string;
  readonly strict: boolean;
}
type Phrase = readonly Word[];

function foldWord(s: string): string {
  return s.normalize('NFD').replace(MARKS, '').replace(/đ/g, 'd');
}

function word(spec: string): Word {
  const strict = spec.startsWith('=');
  const acc = (strict ? spec.slice(1) : spec).normalize('NFC').toLowerCase();
  return { f: foldWord(acc), acc, strict };
}

function phrase(spec: string): Phrase {
  return spec.split(' ').map(word);
}

interface PhraseTable {
  readonly byFirst: ReadonlyMap<string, readonly Phrase[]>;
  readonly byLast: ReadonlyMap<string, readonly Phrase[]>;
}

/** `list` is comma-separated phrases, so the vocabulary reads as prose and diffs by word. */
function table(list: string): PhraseTable {
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
    add(byFirst, first.f, p);
    add(byLast, last.f, p);
  }
  // Longest first so "vướng mắc" is preferred over "vướng".
  for (const list of byFirst.values()) list.sort((a, b) => b.length - a.length);
  return { byFirst, byLast };
}

// Chat shorthand. Mapped tokens skip the diacritics check (they have none to check).
const SYNONYMS: ReadonlyMap<string, string> = new Map([
  ['xog', 'xong'],
  ['xg', 'xong'],
  ['ko', 'khong'],
  ['k', 'khong'],
  ['kg', 'khong'],
  ['khg', 'khong'],
  ['hok', 'khong'],
  ['chx', 'chua'],
  ['dc', 'duoc'],
  ['dg', 'dang'],
  ['r', 'roi'],
  ['nvu', 'nv'],
  ['nhiemvu', 'nv'],
]);

const DONE = table('xong, hoàn thành, hoàn tất, done, finished, completed, complete');
const OVERACHIEVED = table('vượt chỉ tiêu, vượt kế hoạch, vượt mức');
const HT = word('ht');

const IP_AFTER_DANG = table(`
  triển khai, thực hiện, làm, tiến hành, tổ chức, xây dựng, hoàn thiện, hoàn thành, hoàn tất,
  quán triệt, tuyên truyền, phổ biến, chuẩn bị, tổng hợp, soạn, dự thảo, rà soát, kiểm tra,
  tiếp tục, đẩy mạnh, đẩy nhanh, xử lý, thu thập, lấy ý kiến, phát động, đăng ký, báo cáo,
  trong quá trình, chạy, học tập, vận động, họp, hướng dẫn, cập nhật, thẩm định, làm dở
`);
const IP_STRONG = table(`
  một phần, bước đầu, tiếp tục, dở dang, =dở, trong quá trình, in progress, ongoing, doing,
  wip
`);
const IP_WEAK = table('đúng tiến độ, đảm bảo tiến độ, kịp tiến độ, theo tiến độ');
const START = table('bắt đầu');
const WEAK_VERBS = table(`
  quán triệt, triển khai, tổ chức, thực hiện, ban hành, phát động, đăng ký, báo cáo, gửi, nộp,
  sơ kết, tổng kết, xây dựng, tuyên truyền, phổ biến, họp, làm, hoàn thiện, tiến hành,
  kiện toàn, rà soát, thông báo, hướng dẫn, tổng hợp
`);
const START_VERBS = table(`
  làm, thực hiện, triển khai, bắt đầu, tổ chức, tiến hành, quán triệt, phát động, đăng ký,
  xây dựng, ban hành, họp, tuyên truyền, phổ biến, động, hướng dẫn
`);
const NS_PHRASES = table('chưa có gì, chưa có kế hoạch, not started, not yet started');
// After "chưa <verb>": the verb happened but not completely ("chưa triển khai hết").
const PARTIAL_FOLLOWERS = table(`
  xong, hết, hoàn thành, ht, đầy đủ, toàn bộ, đồng bộ, hoàn tất, dứt điểm
`);
const FUTURE = table('sẽ, dự kiến, dự tính, phấn đấu, quyết tâm, cố gắng, sắp, will');
const QUESTION_WORDS = table('khi nào, bao giờ, lúc nào, chưa biết, không biết');
const PAST_MARKERS = table('đã, rồi, vừa');
const DEADLINE_AFTER = table('trước, chậm nhất, trong');

const BLOCKERS = table(`
  khó khăn, gặp khó khăn, gặp khó, vướng mắc, vướng, =kẹt, bị kẹt, =tắc, bị tắc, ách tắc,
  tắc nghẽn, bế tắc, ùn tắc, trở ngại, trục trặc, sự cố, bị chậm, chậm do, chậm vì, chậm bởi,
  chậm tiến độ, chậm trễ, blocked, stuck
`);
// Already negative in themselves, so "không" before them is not a neutraliser.
const CANNOT = table('không thể, chưa thể');
const THIEU = table('thiếu, không đủ, chưa đủ');
const LACK_HEADS = table('chưa, không, hết, =chờ, đang chờ');
const WAITING = table('=chờ, đang chờ');
// "chưa"/"không" need a verb before the resource ("chưa CÓ kinh phí"): "chưa hướng dẫn" is an
// action not taken, not a missing resource.
const LACK_HEADS_NEED_MIDDLE = new Set(['chua', 'khong']);
const LACK_MIDDLE = table('có, được, đủ, cấp, bố trí, phân bổ, giao, hỗ trợ, nhận, nguồn');
const RESOURCES = table(`
  kinh phí, ngân sách, vốn, =tiền, nhân lực, nhân sự, người, cán bộ, biên chế, hướng dẫn,
  văn bản, thiết bị, phương tiện, cơ sở vật chất, địa điểm, hội trường, tài liệu, thời gian,
  =máy, xe, chỉ đạo, ý kiến chỉ đạo, nguồn, kp
`);
const APPROVAL = table('phê duyệt, duyệt');
// Words before a difficulty that say there is none, or that it is over ("không có gì vướng
// mắc", "đã khắc phục được khó khăn"); only BLOCK_GAP words may stand between, so that
// "chưa xong còn vướng" stays a difficulty.
const BLOCK_GAP = new Set('co gap gi con bi phai thay he bat ky duoc cac nhung them'.split(' '));
const BLOCK_NEUTRAL_BEFORE = table(`
  không, chưa, chẳng, hết, not, khắc phục, giải quyết, tháo gỡ, =gỡ, vượt qua
`);
const BLOCK_RESOLVED_AFTER = table('khắc phục, giải quyết, tháo gỡ, =gỡ');

const NEG_CHUA = table('chưa, not yet');
const NEG_KHONG = table('không, chẳng, not');
const NEAR = table('sắp, gần, gần như, đang');
const NEGATED_REACH = table('chưa, không, dưới');
const TARGET_BEFORE = table(`
  chỉ tiêu, mục tiêu, phấn đấu, dự kiến, dự tính, sẽ, kế hoạch giao, giao
`);
const CHANGE_BEFORE = table('tăng, giảm, chiếm, tăng trưởng, lãi, lỗ');
const OVER_DONE_BEFORE = table('đạt, vượt, hoàn thành');
const REMAINING = table('còn, còn lại');
// Subjects that name only some of the units: "còn 2 xã", "một số đơn vị" chưa triển khai.
const PARTIAL_SUBJECT = table('còn, còn lại, một số, vài, một vài');
const PERCENT_WORDS = table('phần trăm, percent');
const HALF = table('một nửa');
const FRACTION_WORDS = table('trên, trong tổng số, trong số, trong');
const FRACTION_BEFORE = table(`
  đạt, được, xong, hoàn thành, ht, làm, triển khai, thực hiện, quán triệt, tổ chức, có,
  hoàn tất, đã
`);
const COUNTED_NOUNS = table(`
  chỉ tiêu, nhiệm vụ, nội dung, đơn vị, xã, phường, thị trấn, cơ quan, phòng, ban, ngành,
  trường, lớp, buổi, hội nghị, hạng mục, đầu việc, việc, mục, tiêu chí, phần, công việc, khối,
  tổ, thôn, bản, huyện, sở, chi bộ, đoàn thể, hộ, người, cán bộ, công chức, đảng viên,
  hội viên, đoàn viên, cuộc, đợt, kế hoạch, báo cáo, văn bản, tổ dân phố, doanh nghiệp
`);
const DATE_OR_DOC_BEFORE = table(`
  ngày, hôm, tháng, năm, trước, sau, đến, từ, tới, lúc, vào, hạn, số, qđ, kh, cv, nđ, tt, ct,
  tb, bc, quyết định, công văn, kế hoạch số
`);
const MEASURE_AFTER = table(`
  điểm, giờ, h, phút, ngày, tháng, năm, lần, triệu, tỷ, nghìn, ngàn, đồng, km, m
`);

const TASK_HEADS = table('nv, nhiệm vụ, task');
const TASK_HEADS_NEED_ORDINAL = table('chỉ tiêu, việc');
const TASK_ORDINAL = table('số, thứ, no');

const FILLERS = table(`
  ạ, a, dạ, vâng, anh, chị, em, ơi, nhé, nha, nhe, ak, ah, vẫn, hiện, hiện tại, sếp, thưa
`);
const CLAUSE_BREAK_WORDS = table('nhưng, nên, tuy nhiên');
const WINDOW_STOPS = table('vì, do, bởi, mà, nhưng, nên');
const CONDITIONAL = table('nếu');
const CHUA = word('chưa');
const DANG = word('đang');
const ROI = word('rồi');
const MAC = word('mắc');
const VUOT = word('vượt');
const REACH_GAP = new Set('dat duoc toi den qua'.split(' '));

// ---------------------------------------------------------------------------------------------
// Tokens

type Kind = 'word' | 'num' | 'punct';

interface Token {
  readonly kind: Kind;
  /** lowercased NFC text */
  readonly raw: string;
  /** folded, shorthand expanded */
  readonly c: string;
  readonly syn: boolean;
  readonly start: number;
  readonly end: number;
  /** numeric value for numbers, NaN otherwise or when the number has an odd shape */
  readonly value: number;
  readonly int: boolean;
  /** punctuation that closes a clause */
  readonly brk: boolean;
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

/**
 * Nearest integer, except that only a true 0 or 100 may become 0 or 100: "99,6%" and
 * "199/200" are not finished, "0,4%" has started.
 */
function roundPercent(x: number): number {
  if (x <= 0) return 0;
  if (x >= 100) return 100;
  return Math.min(99, Math.max(1, Math.round(x)));
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

function tokenize(s: string, foldCache: Map<string, string>): Token[] {
  const out: Token[] = [];
  const n = s.length;
  let i = 0;
  const push = (kind: Kind, start: number, end: number, brk: boolean, text?: string): void => {
    const raw = text ?? s.slice(start, end).toLowerCase();
    let c = raw;
    let syn = false;
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
    } else if (kind === 'num') {
      ({ value, int } = parseNumber(raw));
    }
    out.push({ kind, raw, c, syn, start, end, value, int, brk, clause: 0 });
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
    } else {
      if (BREAK_CHARS.has(ch)) push('punct', i, i + 1, true);
      else if (PUNCT_CHARS.has(ch)) push('punct', i, i + 1, false);
      i++;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parsing. Every scan below is either a single pass or looks at a bounded number of neighbours,
// so a pasted megabyte costs linear time.

type CueKind = 'lack' | 'cannot' | 'plain';

interface Cue {
  readonly start: number;
  readonly end: number;
  readonly kind: CueKind;
}

interface PercentHit {
  readonly index: number;
  readonly value: number;
}

function parse(text: string): ParsedReply {
  const nfc = text.normalize('NFC').replace(INVISIBLE, '');
  const fullNote = collapse(nfc);
  const toks = tokenize(nfc, new Map());
  const n = toks.length;
  const at = (i: number): Token | undefined => (i >= 0 && i < n ? toks[i] : undefined);

  const wordMatches = (t: Token | undefined, w: Word): boolean => {
    if (!t || t.kind !== 'word' || t.c !== w.f) return false;
    if (t.syn) return !w.strict;
    if (t.raw === w.acc) return true;
    if (w.strict) return false;
    if (t.raw.length !== w.acc.length) return t.raw === t.c;
    for (let k = 0; k < t.raw.length; k++) {
      const r = t.raw.charCodeAt(k);
      if (r !== w.acc.charCodeAt(k) && r >= 128) return false;
    }
    return true;
  };

  /** End index (exclusive) of `p` matched at `i`, or -1. */
  const matchPhrase = (i: number, p: Phrase): number => {
    for (let k = 0; k < p.length; k++) {
      const w = p[k];
      if (!w || !wordMatches(at(i + k), w)) return -1;
    }
    return i + p.length;
  };

  /** End index of the longest phrase of `tbl` starting at `i`, or -1. */
  const matchTable = (i: number, tbl: PhraseTable): number => {
    const t = at(i);
    if (!t || t.kind !== 'word') return -1;
    const list = tbl.byFirst.get(t.c);
    if (!list) return -1;
    for (const p of list) {
      const e = matchPhrase(i, p);
      if (e !== -1) return e;
    }
    return -1;
  };

  /** Whether a phrase of `tbl` ends exactly at index `j`. */
  const endsAt = (j: number, tbl: PhraseTable): boolean => {
    const t = at(j);
    if (!t || t.kind !== 'word') return false;
    const list = tbl.byLast.get(t.c);
    if (!list) return false;
    for (const p of list) {
      if (matchPhrase(j - p.length + 1, p) === j + 1) return true;
    }
    return false;
  };

  // Clauses: punctuation, new lines and "nhưng"/"nên" separate statements; negation, future
  // markers and questions only reach within one.
  let clause = 0;
  for (let i = 0; i < n; i++) {
    const t = toks[i];
    if (!t) continue;
    if (t.kind === 'word' && matchTable(i, CLAUSE_BREAK_WORDS) !== -1) clause++;
    t.clause = clause;
    if (t.brk) clause++;
  }
  const clauseCount = clause + 1;
  const question = new Uint8Array(clauseCount);
  const conditional = new Uint8Array(clauseCount);
  const hasPast = new Uint8Array(clauseCount);
  const filler = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const t = toks[i];
    if (!t) continue;
    if (t.kind === 'punct' && t.raw === '?') question[t.clause] = 1;
    if (matchTable(i, CONDITIONAL) !== -1) conditional[t.clause] = 1;
    if (matchTable(i, PAST_MARKERS) !== -1) hasPast[t.clause] = 1;
    const f = matchTable(i, FILLERS);
    for (let k = i; k < f; k++) filler[k] = 1;
  }
  const clauseOf = (i: number): number => at(i)?.clause ?? -1;
  const silent = (i: number): boolean => {
    const k = clauseOf(i);
    return question[k] === 1 || conditional[k] === 1;
  };

  /** Does `test` hold for one of the `max` tokens before `i`, inside the clause? */
  const before = (i: number, max: number, test: (j: number) => boolean): boolean => {
    const k = clauseOf(i);
    for (let j = i - 1; j >= 0 && j >= i - max; j--) {
      const t = at(j);
      if (!t || t.clause !== k || t.brk) return false;
      if (test(j)) return true;
      if (matchTable(j, WINDOW_STOPS) !== -1) return false;
    }
    return false;
  };
  const after = (e: number, max: number, test: (j: number) => boolean): boolean => {
    const k = clauseOf(e - 1);
    for (let j = e; j < n && j < e + max; j++) {
      const t = at(j);
      if (!t || t.clause !== k || t.brk) return false;
      if (test(j)) return true;
    }
    return false;
  };

  // ---- task number -------------------------------------------------------------------------
  const consumed = new Uint8Array(n);
  const taskNumbers = new Set<number>();
  let taskUnclear = false;
  const looksLikePercentOrFraction = (j: number): boolean => {
    const next = at(j + 1);
    if (next?.kind === 'punct' && (next.raw === '%' || next.raw === '/')) return true;
    return matchTable(j + 1, PERCENT_WORDS) !== -1 || matchTable(j + 1, FRACTION_WORDS) !== -1;
  };
  for (let i = 0; i < n; i++) {
    const t = at(i);
    if (!t || consumed[i]) continue;
    let e: number;
    let needOrdinal = false;
    if (t.kind === 'punct' && t.raw === '#') e = i + 1;
    else {
      e = matchTable(i, TASK_HEADS);
      if (e === -1) {
        e = matchTable(i, TASK_HEADS_NEED_ORDINAL);
        needOrdinal = e !== -1;
      }
    }
    if (e === -1) continue;
    let j = e;
    let sawOrdinal = false;
    for (let skip = 0; skip < 2; skip++) {
      const s = at(j);
      const ord = matchTable(j, TASK_ORDINAL);
      if (s?.kind === 'punct' && (s.raw === '.' || s.raw === ':' || s.raw === '-' || s.raw === '#')) j++;
      else if (ord !== -1) {
        j = ord;
        sawOrdinal = true;
      }
    }
    if (needOrdinal && !sawOrdinal) continue;
    const num = at(j);
    if (!num || num.kind !== 'num' || looksLikePercentOrFraction(j)) continue;
    if (!num.int || num.value < 1 || num.value > 999) {
      // "nhiệm vụ 1.2", "nv 1,2": a sub-item or a list; either way not one task.
      taskUnclear = true;
      continue;
    }
    taskNumbers.add(num.value);
    for (let k = i; k <= j; k++) consumed[k] = 1;
    // "nhiệm vụ 1, 2 đã xong", "nv 1 và 3": a list of tasks.
    const sep = at(j + 1);
    const isSep =
      sep !== undefined &&
      ((sep.kind === 'punct' && [',', '&', '+', '-', '/'].includes(sep.raw)) || sep.c === 'va');
    const other = at(j + 2);
    if (isSep && other?.kind === 'num' && !looksLikePercentOrFraction(j + 2)) taskUnclear = true;
    i = j;
  }
  const multiTask = taskUnclear || taskNumbers.size > 1;
  const taskNumber = !multiTask && taskNumbers.size === 1 ? ([...taskNumbers][0] ?? null) : null;

  // Tokens that carry nothing (particles, the task reference, plain punctuation), counted per
  // clause so "is this clause just '3/5'" is answered without rescanning it.
  const ignorable = new Uint8Array(n);
  const contentPerClause = new Uint32Array(clauseCount);
  for (let i = 0; i < n; i++) {
    const t = toks[i];
    if (!t) continue;
    const ign =
      consumed[i] === 1 ||
      (t.kind === 'punct' && t.raw !== '/' && t.raw !== '%') ||
      (t.kind === 'word' && filler[i] === 1);
    ignorable[i] = ign ? 1 : 0;
    if (!ign) contentPerClause[t.clause] = (contentPerClause[t.clause] ?? 0) + 1;
  }
  /** Is everything in the clause outside [from, to) ignorable? */
  const isBareClause = (from: number, to: number): boolean => {
    const k = clauseOf(from);
    let inside = 0;
    for (let j = from; j < to; j++) if (!ignorable[j]) inside++;
    return (contentPerClause[k] ?? 0) === inside;
  };

  // ---- future scope (one pass) -------------------------------------------------------------
  const future = new Uint8Array(n);
  {
    let active = false;
    let k = -1;
    for (let i = 0; i < n; i++) {
      const t = toks[i];
      if (!t) continue;
      if (t.clause !== k) {
        active = false;
        k = t.clause;
      }
      if (active) future[i] = 1;
      if (matchTable(i, FUTURE) !== -1) active = true;
    }
  }

  // ---- cues ----------------------------------------------------------------------------------
  const blockers: Cue[] = [];
  let strongDone = false;
  let weakDone = false;
  let ipStrong = false;
  let ipWeak = false;
  const notStarted: number[] = [];
  let negChua = false;
  let negKhong = false;
  let lastNeutralisedEnd = -2;

  const neutralisedBefore = (start: number): boolean => {
    const k = clauseOf(start);
    let j = start - 1;
    for (let hops = 0; hops < 3; hops++) {
      const t = at(j);
      if (!t || t.kind !== 'word' || t.clause !== k || !BLOCK_GAP.has(t.c)) break;
      j--;
    }
    return clauseOf(j) === k && endsAt(j, BLOCK_NEUTRAL_BEFORE);
  };

  // "không có khó khăn, vướng mắc": the negation covers the whole list.
  const coordinatedWithNeutralised = (start: number): boolean => {
    let j = start - 1;
    for (let hops = 0; hops < 2 && j >= lastNeutralisedEnd; hops++) {
      const t = at(j);
      if (!t) return false;
      const joiner =
        (t.kind === 'punct' && [',', '/', '-', '&'].includes(t.raw)) ||
        t.c === 'va' ||
        t.c === 'hoac' ||
        t.c === 'hay';
      if (!joiner) break;
      j--;
    }
    return j === lastNeutralisedEnd - 1;
  };

  // "khó khăn đã được tháo gỡ"
  const resolvedAfter = (e: number): boolean => {
    for (let j = e; j < n && j < e + 5; j++) {
      const t = at(j);
      if (!t || t.brk) return false;
      if (matchTable(j, NEG_CHUA) !== -1 || matchTable(j, NEG_KHONG) !== -1) return false;
      const prev = at(j - 1);
      if (matchTable(j, BLOCK_RESOLVED_AFTER) !== -1 && (prev?.c === 'da' || prev?.c === 'duoc')) return true;
    }
    return false;
  };

  const addBlocker = (start: number, end: number, kind: CueKind, negatable: boolean): void => {
    if (silent(start)) return;
    if (negatable && (neutralisedBefore(start) || coordinatedWithNeutralised(start) || resolvedAfter(end))) {
      lastNeutralisedEnd = end;
      return;
    }
    blockers.push({ start, end, kind });
  };

  const matchLack = (i: number): number => {
    const h = matchTable(i, LACK_HEADS);
    if (h === -1) return -1;
    let j = h;
    const needMiddle = LACK_HEADS_NEED_MIDDLE.has(at(i)?.c ?? '') && h === i + 1;
    for (let mid = 0; mid <= 3; mid++) {
      if (mid > 0 || !needMiddle) {
        const r = matchTable(j, RESOURCES);
        if (r !== -1) return r;
        const a = matchTable(j, APPROVAL);
        if (a !== -1) return a;
      }
      const m = matchTable(j, LACK_MIDDLE);
      if (m === -1) break;
      j = m;
    }
    // "đang chờ UBND huyện phê duyệt": whoever is named, waiting on approval holds the work up
    if (matchTable(i, WAITING) !== -1) {
      for (let k = h; k < h + 4; k++) {
        if (clauseOf(k) !== clauseOf(i)) break;
        const a = matchTable(k, APPROVAL);
        if (a !== -1) return a;
      }
    }
    return -1;
  };

  const classifyDone = (i: number, end: number): void => {
    const k = clauseOf(i);
    const next = at(end);
    const nextInClause = next !== undefined && next.clause === k;
    if (before(i, 4, (j) => endsAt(j, QUESTION_WORDS))) return;
    if (nextInClause && next.c === 'chua') return; // "xong chưa" asks
    if (nextInClause && next.c === 'khong' && restIsIgnorable(end + 1, 4)) return; // "xong không ạ"
    if (before(i, 2, (j) => endsAt(j, CANNOT))) return; // the difficulty speaks for it
    if (before(i, 4, (j) => endsAt(j, NEG_CHUA))) {
      negChua = true;
      return;
    }
    if (before(i, 4, (j) => endsAt(j, NEG_KHONG))) {
      negKhong = true;
      return;
    }
    if (before(i, 3, (j) => endsAt(j, NEAR)) || future[i]) {
      ipStrong = true;
      return;
    }
    if (matchTable(end, DEADLINE_AFTER) !== -1 && !hasPast[k]) return;
    strongDone = true;
  };

  /** Up to `max` tokens from `from` to the end of the clause are all ignorable. */
  function restIsIgnorable(from: number, max: number): boolean {
    const k = clauseOf(from - 1);
    for (let j = from; j < from + max; j++) {
      const t = at(j);
      if (!t || t.clause !== k) return true;
      if (!ignorable[j]) return false;
    }
    const t = at(from + max);
    return !t || t.clause !== k;
  }

  for (let i = 0; i < n; i++) {
    const t = at(i);
    if (!t || t.kind !== 'word' || consumed[i]) continue;

    // difficulties
    const lackEnd = matchLack(i);
    if (lackEnd !== -1) addBlocker(i, lackEnd, 'lack', false);
    const thieu = matchTable(i, THIEU);
    if (thieu !== -1) {
      const r = matchTable(thieu, RESOURCES);
      if (r !== -1) addBlocker(i, r, 'lack', true);
    }
    const cannot = matchTable(i, CANNOT);
    if (cannot !== -1) addBlocker(i, cannot, 'cannot', false);
    const b = matchTable(i, BLOCKERS);
    if (b !== -1) addBlocker(i, wordMatches(at(b), MAC) ? b + 1 : b, 'plain', true);

    if (silent(i)) continue;

    // completion words
    let doneEnd = matchTable(i, DONE);
    if (doneEnd === -1 && wordMatches(t, HT)) {
      // "ht" is also "hệ thống", "hiệu trưởng": only read as "hoàn thành" where the shape says so
      const prev = at(i - 1);
      const next = at(i + 1);
      const plausible =
        (prev !== undefined &&
          prev.clause === t.clause &&
          ['da', 'chua', 'khong', 'vua', 'moi', 'sap', 'gan', 'dang', 'duoc'].includes(prev.c)) ||
        (next !== undefined && (next.c === 'roi' || next.kind === 'num' || next.raw === '%')) ||
        isBareClause(i, i + 1);
      if (plausible) doneEnd = i + 1;
    }
    if (doneEnd !== -1) classifyDone(i, doneEnd);
    if (
      matchTable(i, OVERACHIEVED) !== -1 &&
      !before(i, 3, (j) => endsAt(j, NEG_KHONG) || endsAt(j, NEG_CHUA))
    ) {
      strongDone = true;
    }

    // "đang <verb>", "một phần", "tiếp tục", ...
    if (wordMatches(t, DANG) && matchTable(i + 1, IP_AFTER_DANG) !== -1) ipStrong = true;
    if (matchTable(i, IP_STRONG) !== -1 && !before(i, 2, (j) => endsAt(j, NEG_CHUA))) ipStrong = true;
    if (matchTable(i, IP_WEAK) !== -1) ipWeak = true;

    // "bắt đầu": started, unless not yet or only planned
    if (matchTable(i, START) !== -1) {
      if (before(i, 2, (j) => endsAt(j, NEG_CHUA)) || future[i]) notStarted.push(i);
      else ipStrong = true;
    }

    // "chưa <verb>"; "chưa <verb> hết/xong" means part of it is done
    if (matchTable(i, NEG_CHUA) !== -1) {
      const j = at(i + 1)?.c === 'duoc' ? i + 2 : i + 1;
      const v = matchTable(j, START_VERBS);
      if (v !== -1 && matchTable(j, START) === -1) {
        if (after(v, 4, (k) => matchTable(k, PARTIAL_FOLLOWERS) !== -1)) negChua = true;
        else notStarted.push(i);
      }
    }
    if (matchTable(i, NS_PHRASES) !== -1) notStarted.push(i);

    // "đã <verb>", "vừa <verb>", "<verb> rồi"; a start verb under "sẽ" is not started yet
    const verbEnd = matchTable(i, WEAK_VERBS);
    const isStartVerb = matchTable(i, START_VERBS) !== -1;
    if (verbEnd !== -1) {
      const prev = at(i - 1);
      const prev2 = at(i - 2);
      const afterPast =
        (prev !== undefined &&
          prev.clause === t.clause &&
          prev.c !== 'roi' &&
          matchTable(i - 1, PAST_MARKERS) !== -1) ||
        (prev?.c === 'duoc' &&
          prev2 !== undefined &&
          prev2.clause === t.clause &&
          (prev2.c === 'da' || prev2.c === 'vua'));
      const thenRoi = after(verbEnd, 4, (k) => wordMatches(at(k), ROI));
      const negatedOrOngoing = before(
        i,
        2,
        (j) => endsAt(j, NEG_CHUA) || endsAt(j, NEG_KHONG) || wordMatches(at(j), DANG),
      );
      if (future[i]) {
        if (!negatedOrOngoing && isStartVerb) notStarted.push(i);
      } else if ((afterPast || thenRoi) && !negatedOrOngoing) weakDone = true;
    } else if (future[i] && isStartVerb) {
      notStarted.push(i);
    }
  }

  // ---- percents and fractions ----------------------------------------------------------------
  const hits: PercentHit[] = [];
  let ambiguous = false;
  let overDone = false;
  const remainingBefore = (i: number): boolean => before(i, 3, (j) => endsAt(j, REMAINING));

  // "3/5 tổ" counts teams, "tháng 11 tổ chức" does not: a longer verb at the same spot wins.
  const countedNounAt = (k: number): boolean => {
    const noun = matchTable(k, COUNTED_NOUNS);
    return noun !== -1 && Math.max(matchTable(k, WEAK_VERBS), matchTable(k, START_VERBS)) <= noun;
  };

  const readFraction = (i: number): { value: number; end: number } | null => {
    const a = at(i);
    if (!a || !a.int || consumed[i]) return null;
    const slash = at(i + 1);
    let bIndex = -1;
    let explicitWords = false;
    if (slash?.kind === 'punct' && slash.raw === '/') bIndex = i + 2;
    else {
      const w = matchTable(i + 1, FRACTION_WORDS);
      if (w !== -1) {
        bIndex = w;
        explicitWords = true;
      }
    }
    const b = at(bIndex);
    if (!b || b.kind !== 'num' || !b.int || consumed[bIndex]) return null;
    if (a.value > b.value || b.value < 1 || b.value >= 1000) return null;
    if (!explicitWords) {
      // dates "30/10/2023", "03/5", document numbers "01/KH-HĐTĐKT"
      if ((a.raw.length > 1 && a.raw.startsWith('0')) || (b.raw.length > 1 && b.raw.startsWith('0')))
        return null;
      const prev = at(i - 1);
      if (prev?.kind === 'punct' && (prev.raw === '/' || prev.raw === '-')) return null;
      const nb = at(bIndex + 1);
      if (nb?.kind === 'punct' && (nb.raw === '/' || nb.raw === '-')) return null;
    }
    if (matchTable(bIndex + 1, MEASURE_AFTER) !== -1) return null;
    const counted = countedNounAt(bIndex + 1);
    // "ngày 3/5", "số 12/15" – but "đến 7/10 xã" counts communes
    if (!counted && before(i, 1, (j) => endsAt(j, DATE_OR_DOC_BEFORE))) return null;
    const contextual =
      explicitWords ||
      counted ||
      before(i, 2, (j) => endsAt(j, FRACTION_BEFORE)) ||
      isBareClause(i, bIndex + 1);
    if (!contextual) return null;
    return { value: roundPercent((a.value * 100) / b.value), end: bIndex + 1 };
  };

  for (let i = 0; i < n; i++) {
    const t = at(i);
    if (!t || consumed[i] || silent(i)) continue;
    if (t.kind === 'word') {
      if (matchTable(i, HALF) !== -1) {
        if (remainingBefore(i)) ambiguous = true;
        else hits.push({ index: i, value: 50 });
      }
      continue;
    }
    if (t.kind !== 'num' || !Number.isFinite(t.value)) continue;
    const next = at(i + 1);
    const isPct = (next?.kind === 'punct' && next.raw === '%') || matchTable(i + 1, PERCENT_WORDS) !== -1;
    if (isPct) {
      if (before(i, 3, (j) => endsAt(j, TARGET_BEFORE)) || future[i]) continue;
      if (before(i, 2, (j) => endsAt(j, CHANGE_BEFORE))) continue;
      if (t.value > 100) {
        if (before(i, 2, (j) => endsAt(j, OVER_DONE_BEFORE))) overDone = true;
        continue;
      }
      if (before(i, 2, (j) => wordMatches(at(j), VUOT))) {
        overDone = true;
        continue;
      }
      if (remainingBefore(i)) {
        ambiguous = true;
        continue;
      }
      const p1 = at(i - 1);
      const reachNegated =
        (p1?.clause === t.clause && endsAt(i - 1, NEGATED_REACH)) ||
        (p1 !== undefined &&
          p1.clause === t.clause &&
          REACH_GAP.has(p1.c) &&
          at(i - 2)?.clause === t.clause &&
          endsAt(i - 2, NEGATED_REACH));
      if (reachNegated) {
        // "chưa đạt 50%", "dưới 30%": started, but no exact figure
        ipStrong = true;
        continue;
      }
      const value = roundPercent(t.value);
      if (value === 100 && before(i, 2, (j) => endsAt(j, NEAR))) {
        ipStrong = true;
        continue;
      }
      hits.push({ index: i, value });
      // "60-70%": a range, recorded as two different figures
      const low = at(i - 2);
      if (
        p1?.kind === 'punct' &&
        p1.raw === '-' &&
        low?.kind === 'num' &&
        Number.isFinite(low.value) &&
        low.value <= 100 &&
        !consumed[i - 2]
      ) {
        hits.push({ index: i - 2, value: roundPercent(low.value) });
      }
      continue;
    }
    const frac = readFraction(i);
    if (frac) {
      if (remainingBefore(i)) ambiguous = true;
      else hits.push({ index: i, value: frac.value });
      i = frac.end - 1;
    }
  }

  // A figure followed by "chưa <verb>" counts the units that have NOT done it.
  const lastNotStarted = new Int32Array(clauseCount).fill(-1);
  for (const idx of notStarted) {
    const k = clauseOf(idx);
    if (k >= 0 && idx > (lastNotStarted[k] ?? -1)) lastNotStarted[k] = idx;
  }
  for (const h of hits) {
    if (h.value !== 0 && (lastNotStarted[clauseOf(h.index)] ?? -1) > h.index) ambiguous = true;
  }
  // Likewise a count or a part as the subject: "còn 2 xã chưa triển khai", "một số xã chưa làm".
  for (const idx of notStarted) {
    const partial = before(idx, 4, (j) => {
      const t = at(j);
      return (
        endsAt(j, PARTIAL_SUBJECT) ||
        (t?.kind === 'num' && !consumed[j] && countedNounAt(j + 1) && !endsAt(j - 1, DATE_OR_DOC_BEFORE))
      );
    });
    if (partial) ambiguous = true;
  }

  // "chưa" on its own, or with particles only
  let bareChua = false;
  {
    let sawChua = false;
    let other = false;
    for (let i = 0; i < n && !other; i++) {
      const t = at(i);
      if (!t || ignorable[i]) continue;
      if (!silent(i) && wordMatches(t, CHUA)) sawChua = true;
      else if (!silent(i) && t.c === 'not' && at(i + 1)?.c === 'yet') {
        sawChua = true;
        i++;
      } else other = true;
    }
    bareChua = sawChua && !other;
  }

  // ---- decision ------------------------------------------------------------------------------
  if (multiTask) return { status: null, percent: null, note: fullNote, taskNumber: null };

  const values = new Set(hits.map((h) => h.value));
  const mixed = values.size > 1;
  const percent: number | null = ambiguous || values.size !== 1 ? null : ([...values][0] ?? null);
  const done = strongDone || overDone;
  const blocked = blockers.length > 0;
  const hasNotStarted = notStarted.length > 0;

  const decide = (): Status | null => {
    if (ambiguous && !blocked) return null;
    const cleanDone =
      (done || percent === 100) &&
      !negChua &&
      !negKhong &&
      !ipStrong &&
      !hasNotStarted &&
      !mixed &&
      (percent === null || percent === 100);
    if (cleanDone) return 'done';
    if (blocked) return 'blocked';
    if (mixed) return 'in_progress';
    if (percent === 100) return null; // 100% next to "chưa"/"đang": contradicts itself
    if (percent !== null && percent > 0) return 'in_progress';
    if (percent === 0) return 'not_started';
    if (negChua || ipStrong) return 'in_progress';
    if (hasNotStarted) return weakDone || done ? 'in_progress' : 'not_started';
    if (negKhong || done) return null;
    if (ipWeak) return 'in_progress';
    if (weakDone) return 'done';
    if (bareChua) return 'not_started';
    return null;
  };
  const status = decide();
  const note = status === 'blocked' ? (blockReason() ?? fullNote) : fullNote;
  return { status, percent, note, taskNumber };

  /** The words after the difficulty, or the missing resource: "kinh phí", "thiếu nhân lực". */
  function blockReason(): string | null {
    const cue = blockers.find((c) => c.kind === 'lack') ?? blockers[0];
    if (!cue || cue.kind === 'cannot') return null;
    const k = clauseOf(cue.start);
    let from = cue.kind === 'lack' ? cue.start : cue.end;
    let to = from;
    while (to < n && at(to)?.clause === k && !at(to)?.brk) to++;
    while (from < to) {
      const t = at(from);
      if (t && (t.kind === 'punct' || (t.kind === 'word' && !t.syn && REASON_LEAD.has(t.c)))) from++;
      else break;
    }
    while (to > from && ignorable[to - 1]) to--;
    const a = at(from);
    const z = at(to - 1);
    if (from >= to || !a || !z) return null;
    return collapse(nfc.slice(a.start, z.end));
  }
}

// Connectives between a difficulty and its object: "vướng mắc VỀ kinh phí", "bị tắc Ở KHÂU phê duyệt".
const REASON_LEAD = new Set('ve do vi la boi o trong viec khau phan tai voi mac cua'.split(' '));
