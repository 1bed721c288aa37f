import { foldedSet, table, word } from './lexicon.ts';

// The words the parser knows, as data. Each table says which stage reads it; the rules that read
// them, and the decisions on ambiguous wording, are beside those stages.

// ---- tokens: chat shorthand. Mapped tokens skip the diacritics check (they have none to check).
export const SYNONYMS: ReadonlyMap<string, string> = new Map([
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

// The emoji of the status buttons (✅ Hoàn thành, ⏳ Đang thực hiện, ⚠️ Vướng mắc, ❌ Chưa thực
// hiện) mean those statuses; 👍, 👌 and 🆗 agree, like "ok".
export const EMOJI: ReadonlyMap<number, string> = new Map([
  [0x2705, 'xong'],
  [0x2714, 'xong'],
  [0x2611, 'xong'],
  [0x23f3, 'wip'],
  [0x231b, 'wip'],
  [0x26a0, 'vuong'],
  [0x274c, 'chua'],
  [0x1f44d, 'ok'],
  [0x1f44c, 'ok'],
  [0x1f197, 'ok'],
]);

// ---- clauses
export const CLAUSE_BREAK_WORDS = table('nhưng, nên, tuy nhiên');
export const CONDITIONAL = table('nếu');
export const PAST_MARKERS = table('đã, rồi, vừa');
export const FUTURE = table('sẽ, dự kiến, dự tính, phấn đấu, quyết tâm, cố gắng, sắp, will');
/** A time ahead, or a promise: the whole clause speaks of later unless it has "đã"/"rồi"/"vừa". */
export const FUTURE_TIME = table(`
  mai, ngày mai, mai mốt, sáng mai, chiều mai, tối mai, tuần sau, tuần tới, tháng sau, tháng tới,
  năm sau, năm tới, quý sau, quý tới, sang tuần, sang tháng, sang năm, cuối tuần, cuối tháng,
  cuối năm, cuối quý, chiều nay, tối nay, hẹn, để sau, lát nữa, tí nữa, chút nữa, sắp tới
`);
/** "thứ 6 NÀY", "2 hôm NỮA": after a weekday or a count of days, a time ahead. */
export const WEEKDAY = word('thứ');
export const AHEAD_AFTER_WEEKDAY = table('này, tới, sau');
export const DAYS = table('hôm, ngày, tuần, bữa');
export const NUA = word('nữa');
export const FILLERS = table(`
  ạ, a, dạ, vâng, anh, chị, em, ơi, nhé, nha, nhe, ak, ah, vẫn, hiện, hiện tại, sếp, thưa
`);
/** Where a look-back for a modifier ("chưa", "đạt", ...) stops: a new reason or contrast. */
export const WINDOW_STOPS = table('vì, do, bởi, mà, nhưng, nên');

// ---- acknowledgements: "ok", "👍", "đã nhận" say the message arrived, not how far the work is
export const ACKNOWLEDGEMENTS = table(`
  ok, oke, okie, oki, okay, okê, ô kê, nhận, đã nhận, nhận được, được rồi, ừ, vâng, rõ, đã rõ
`);

// ---- task references
export const TASK_HEADS = table('nv, nhiệm vụ, task');
export const TASK_HEADS_NEED_ORDINAL = table('chỉ tiêu, việc');
export const TASK_ORDINAL = table('số, thứ, no');
export const TASK_LIST_JOINERS = table('và, với, cùng, and');
/** "xong HẾT", "TẤT CẢ đều xong": every open task, when what follows is no other noun */
export const ALL_OF = table('hết, tất cả, toàn bộ, cả, all');
export const ALL_TAIL = table(`
  nhiệm vụ, các nhiệm vụ, việc, các việc, đều, rồi, ạ, a, nhé, nha, luôn, anh, chị, em, tasks
`);

// ---- cues: completion
export const DONE = table('xong, hoàn thành, hoàn tất, done, finished, completed, complete');
export const HT = word('ht');
/** Words before "ht" that make it "hoàn thành" rather than "hệ thống" or "hiệu trưởng". */
export const HT_LEADS = foldedSet('da chua khong vua moi sap gan dang duoc');
export const OVERACHIEVED = table('vượt chỉ tiêu, vượt kế hoạch, vượt mức');
export const QUESTION_WORDS = table('khi nào, bao giờ, lúc nào, chưa biết, không biết');
export const DEADLINE_AFTER = table('trước, chậm nhất, trong');
// Already negative in themselves, so "không" before them is not a neutraliser.
export const CANNOT = table('không thể, chưa thể');
export const NEG_CHUA = table('chưa, not yet');
export const NEG_KHONG = table('không, chẳng, not');
// Rhetorical negation: "ĐÂU đã xong", "LÀM GÌ đã xong", "đã xong ĐÂU" (not yet), "hoàn thành SAO
// ĐƯỢC", "KHÓ MÀ xong" (will not). Before a word, "đâu" must be typed as such ("đầu tháng đã xong").
export const NOT_YET_BEFORE = table('=đâu, làm gì, =đâu có');
export const NOT_YET_AFTER = table('đâu');
export const WILL_NOT_BEFORE = table('khó mà, khó có thể, làm sao mà');
export const WILL_NOT_AFTER = table('sao được, thế nào được, làm sao được, sao kịp, không kịp');
/** "THÁNG 12 xong" with no "đã": a date before a completion is a deadline, not a report */
export const TIME_NOUNS = table('ngày, tháng, thứ, tuần, quý, năm, hôm');
export const NEAR = table('sắp, gần, gần như, đang');
/** A completion right after these is about the difficulty: "đã tháo gỡ XONG khó khăn". */
export const RESOLVE_VERBS = table('khắc phục, giải quyết, tháo gỡ, =gỡ, xử lý');

// ---- cues: work under way, or not begun
export const DANG = word('đang');
export const IP_AFTER_DANG = table(`
  triển khai, thực hiện, làm, tiến hành, tổ chức, xây dựng, hoàn thiện, hoàn thành, hoàn tất,
  quán triệt, tuyên truyền, phổ biến, chuẩn bị, tổng hợp, soạn, dự thảo, rà soát, kiểm tra,
  tiếp tục, đẩy mạnh, đẩy nhanh, xử lý, thu thập, lấy ý kiến, phát động, đăng ký, báo cáo,
  trong quá trình, chạy, học tập, vận động, họp, hướng dẫn, cập nhật, thẩm định, làm dở
`);
export const IP_STRONG = table(`
  một phần, bước đầu, tiếp tục, dở dang, =dở, trong quá trình, in progress, ongoing, doing,
  wip, khởi động, bắt tay, bắt tay vào
`);
/** Only part of the work: "CƠ BẢN hoàn thành", "PHẦN LỚN đã xong", "xong GẦN HẾT". */
export const PARTLY = table(`
  cơ bản, về cơ bản, phần lớn, đa số, đa phần, hầu hết, gần hết, phần chính, chủ yếu, phần nào,
  phần việc chính, việc chính, nội dung chính
`);
/** "VÀI phần", "MẤY phần": some of the parts */
export const FEW = table('vài, mấy, một vài, hai, ba, bốn');
/** "còn ..." names work still to do, unless negated: "KHÔNG còn vướng" is no longer. */
export const STILL_TO_DO = table('còn, chỉ còn, vẫn còn');
export const NO_LONGER_BEFORE = table('không, chẳng, hết');
/** "vừa"/"mới" before a verb that begins the work: just started ("vừa triển khai"). */
export const JUST = table('vừa, mới, vừa mới');
export const BEGIN_VERBS = table(`
  triển khai, thực hiện, làm, tiến hành, phát động, khởi động, bắt đầu, bắt tay
`);
export const IP_WEAK = table('đúng tiến độ, đảm bảo tiến độ, kịp tiến độ, theo tiến độ');
export const START = table('bắt đầu');
export const WEAK_VERBS = table(`
  quán triệt, triển khai, tổ chức, thực hiện, ban hành, phát động, đăng ký, báo cáo, gửi, nộp,
  sơ kết, tổng kết, xây dựng, tuyên truyền, phổ biến, họp, làm, hoàn thiện, tiến hành,
  kiện toàn, rà soát, thông báo, hướng dẫn, tổng hợp
`);
export const START_VERBS = table(`
  làm, thực hiện, triển khai, bắt đầu, tổ chức, tiến hành, quán triệt, phát động, đăng ký,
  xây dựng, ban hành, họp, tuyên truyền, phổ biến, động, hướng dẫn
`);
export const NS_PHRASES = table('chưa có gì, chưa có kế hoạch, not started, not yet started');
// After "chưa <verb>": the verb happened but not completely ("chưa triển khai hết").
export const PARTIAL_FOLLOWERS = table(`
  xong, hết, hoàn thành, ht, đầy đủ, toàn bộ, đồng bộ, hoàn tất, dứt điểm
`);
export const CHUA = word('chưa');
export const ROI = word('rồi');

// ---- cues: difficulties
export const BLOCKERS = table(`
  khó khăn, gặp khó khăn, gặp khó, vướng mắc, vướng, =kẹt, bị kẹt, =tắc, bị tắc, ách tắc,
  tắc nghẽn, bế tắc, ùn tắc, trở ngại, trục trặc, sự cố, bị chậm, chậm do, chậm vì, chậm bởi,
  chậm tiến độ, chậm trễ, blocked, stuck,
  tạm hoãn, bị hoãn, =hoãn, hoãn lại, tạm dừng, bị dừng, =dừng, =dừng lại, tạm ngưng, bị ngưng, =ngưng,
  ngưng lại, =ngừng, ngừng lại, bị ngừng, đình trệ, trì trệ, =chững lại, bị chững, đình lại, đình hoãn,
  không tiến triển, paused, on hold
`);
export const MAC = word('mắc');
export const THIEU = table('thiếu, không đủ, chưa đủ');
export const LACK_HEADS = table('chưa, không, hết, =chờ, đang chờ, còn chờ, =đợi, đang đợi, chờ đợi');
export const WAITING = table('=chờ, đang chờ, còn chờ, =đợi, đang đợi, chờ đợi');
// "chưa"/"không" need a verb before the resource ("chưa CÓ kinh phí"): "chưa hướng dẫn" is an
// action not taken, not a missing resource.
export const LACK_HEADS_NEED_MIDDLE = foldedSet('chua khong');
export const LACK_MIDDLE = table('có, được, đủ, cấp, bố trí, phân bổ, giao, hỗ trợ, nhận, nguồn');
export const RESOURCES = table(`
  kinh phí, ngân sách, vốn, =tiền, nhân lực, nhân sự, người, cán bộ, biên chế, hướng dẫn,
  văn bản, thiết bị, phương tiện, cơ sở vật chất, địa điểm, hội trường, tài liệu, thời gian,
  =máy, xe, chỉ đạo, ý kiến chỉ đạo, nguồn, kp, ý kiến
`);
/** A decision someone else must take: waiting on one holds the work up. */
export const APPROVAL = table('phê duyệt, duyệt, thẩm định, chỉ đạo, ý kiến, cho phép, đồng ý, quyết định');
// Words before a difficulty that say there is none, or that it is over ("không có gì vướng
// mắc", "đã khắc phục được khó khăn"); only BLOCK_GAP words may stand between, so that
// "chưa xong còn vướng" stays a difficulty.
export const BLOCK_GAP = foldedSet('co gap gi con bi phai thay he bat ky duoc cac nhung them');
export const BLOCK_NEUTRAL_BEFORE = table(`
  không, chưa, chẳng, hết, not, khắc phục, giải quyết, tháo gỡ, =gỡ, vượt qua
`);
export const BLOCK_RESOLVED_AFTER = table('khắc phục, giải quyết, tháo gỡ, =gỡ');
/** Neutralisers that say a difficulty was there and is over, not that there never was one. */
export const BLOCK_OVER_BEFORE = table('hết, khắc phục, giải quyết, tháo gỡ, =gỡ, vượt qua');
/** Words that join a list of difficulties: "không có khó khăn, vướng mắc". */
export const LIST_JOINERS = foldedSet('va hoac hay');
// Connectives between a difficulty and its object: "vướng mắc VỀ kinh phí", "bị tắc Ở KHÂU phê duyệt".
export const REASON_LEAD = foldedSet('ve do vi la boi o trong viec khau phan tai voi mac cua');

// ---- figures
export const NEGATED_REACH = table('chưa, không, dưới');
export const REACH_GAP = foldedSet('dat duoc toi den qua');
export const TARGET_BEFORE = table(`
  chỉ tiêu, mục tiêu, phấn đấu, dự kiến, dự tính, sẽ, kế hoạch giao, giao
`);
export const CHANGE_BEFORE = table('tăng, giảm, chiếm, tăng trưởng, lãi, lỗ');
export const OVER_DONE_BEFORE = table('đạt, vượt, hoàn thành');
export const VUOT = word('vượt');
export const REMAINING = table('còn, còn lại');
// Subjects that name only some of the units: "còn 2 xã", "một số đơn vị" chưa triển khai.
export const PARTIAL_SUBJECT = table('còn, còn lại, một số, vài, một vài');
export const PERCENT_WORDS = table('phần trăm, percent');
export const HALF = table('một nửa');
// Number words: "bảy mươi lăm phần trăm", "hai phần ba".
export const DIGIT_WORDS: readonly (readonly [ReturnType<typeof word>, number])[] = [
  [word('một'), 1],
  [word('mốt'), 1],
  [word('hai'), 2],
  [word('ba'), 3],
  [word('bốn'), 4],
  [word('tư'), 4],
  [word('năm'), 5],
  [word('lăm'), 5],
  [word('nhăm'), 5],
  [word('sáu'), 6],
  [word('bảy'), 7],
  [word('bẩy'), 7],
  [word('tám'), 8],
  [word('chín'), 9],
];
export const TEN = word('mười');
export const TENS = table('mươi, chục');
export const HUNDRED = word('trăm');
export const PART = word('phần');
export const FRACTION_WORDS = table('trên, trong tổng số, trong số, trong');
export const FRACTION_BEFORE = table(`
  đạt, được, xong, hoàn thành, ht, làm, triển khai, thực hiện, quán triệt, tổ chức, có,
  hoàn tất, đã
`);
export const COUNTED_NOUNS = table(`
  chỉ tiêu, nhiệm vụ, nội dung, đơn vị, xã, phường, thị trấn, cơ quan, phòng, ban, ngành,
  trường, lớp, buổi, hội nghị, hạng mục, đầu việc, việc, mục, tiêu chí, phần, công việc, khối,
  tổ, thôn, bản, huyện, sở, chi bộ, đoàn thể, hộ, người, cán bộ, công chức, đảng viên,
  hội viên, đoàn viên, cuộc, đợt, kế hoạch, báo cáo, văn bản, tổ dân phố, doanh nghiệp
`);
export const DATE_OR_DOC_BEFORE = table(`
  ngày, hôm, tháng, năm, trước, sau, đến, từ, tới, lúc, vào, hạn, số, qđ, kh, cv, nđ, tt, ct,
  tb, bc, quyết định, công văn, kế hoạch số
`);
export const MEASURE_AFTER = table(`
  điểm, giờ, h, phút, ngày, tháng, năm, lần, triệu, tỷ, nghìn, ngàn, đồng, km, m
`);
