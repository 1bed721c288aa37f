import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseStatusReply, parseTaskReplies, type Status } from '../../src/domain/reply-parser.ts';

type Reading = readonly [task: number | 'all', status: Status | null, percent: number | null];

function readings(text: string): Reading[] | null {
  return (
    parseTaskReplies(text)?.map(({ task, reply }) => [task, reply.status, reply.percent] as const) ?? null
  );
}

describe('parseTaskReplies: one reading per task', () => {
  it.each([
    [
      'NV1 xong, NV2 được 50%, NV3 vướng kinh phí',
      [
        [1, 'done', null],
        [2, 'in_progress', 50],
        [3, 'blocked', null],
      ],
    ],
    [
      'nv1 xong nv2 dang lam 60% nv3 chua lam',
      [
        [1, 'done', null],
        [2, 'in_progress', 60],
        [3, 'not_started', null],
      ],
    ],
    [
      '1. xong\n2. đang làm 60%',
      [
        [1, 'done', null],
        [2, 'in_progress', 60],
      ],
    ],
    [
      '1) Đã quán triệt xong\n2) Đang triển khai, đạt 3/5 xã\n3) Chưa thực hiện',
      [
        [1, 'done', null],
        [2, 'in_progress', 60],
        [3, 'not_started', null],
      ],
    ],
    [
      'NV1: đã xong\nNV2: vướng kinh phí',
      [
        [1, 'done', null],
        [2, 'blocked', null],
      ],
    ],
    [
      'nhiệm vụ 2 và 3 đã xong',
      [
        [2, 'done', null],
        [3, 'done', null],
      ],
    ],
    [
      'nhiệm vụ 1, 2 đã xong',
      [
        [1, 'done', null],
        [2, 'done', null],
      ],
    ],
    [
      'nv1, nv3 xong',
      [
        [1, 'done', null],
        [3, 'done', null],
      ],
    ],
    [
      'nv 1 và 2 xong, nv3 đang làm',
      [
        [1, 'done', null],
        [2, 'done', null],
        [3, 'in_progress', null],
      ],
    ],
    [
      'xong nv1, nv2 đang làm',
      [
        [1, 'done', null],
        [2, 'in_progress', null],
      ],
    ],
    [
      'nv1 100% nv3 50%',
      [
        [1, 'done', 100],
        [3, 'in_progress', 50],
      ],
    ],
  ] as const)('%j', (text, expected) => {
    expect(readings(text)).toEqual(expected);
  });

  it.each(['xong hết', 'đã hoàn thành tất cả', 'Xong hết rồi ạ', 'tất cả đều xong', 'cả 3 nhiệm vụ đã xong'])(
    '%j speaks of every open task',
    (text) => {
      expect(readings(text)).toEqual([['all', 'done', null]]);
    },
  );

  it('gives a part it cannot read no status, so the bot asks about that task alone', () => {
    const replies = parseTaskReplies('nv1 xong, nv2 thì để em hỏi lại');
    expect(replies?.map(({ task, reply }) => [task, reply.status])).toEqual([
      [1, 'done'],
      [2, null],
    ]);
    expect(replies?.[1]?.reply.note).toBe('thì để em hỏi lại');
  });

  it('keeps each task its own note, number and reason of a difficulty', () => {
    const replies = parseTaskReplies('NV1 xong, NV3 vướng kinh phí');
    expect(replies?.map(({ reply }) => [reply.taskNumber, reply.note])).toEqual([
      [1, 'xong'],
      [3, 'kinh phí'],
    ]);
  });

  it('asks about a task named twice with different readings', () => {
    expect(readings('nv1 xong, nv2 đang làm, nv1 chưa làm')).toEqual([
      [1, null, null],
      [2, 'in_progress', null],
    ]);
  });

  it.each([
    'nv2 xong',
    'đã xong',
    'xong',
    'chưa triển khai hết các thôn bản',
    'Hoàn thành 4/5 chỉ tiêu, còn 1 chỉ tiêu đang thực hiện',
    'đã hoàn thành tất cả các nội dung của kế hoạch',
    '3. Đã họp 2 lần',
    'đang làm hết sức',
    '',
  ])('leaves %j, which speaks of one task, to parseStatusReply', (text) => {
    expect(parseTaskReplies(text)).toBeNull();
  });

  it('reads any text without throwing, and each part as parseStatusReply reads it alone', () => {
    const pieces = [
      'nv1',
      'NV2',
      'nhiệm vụ 3',
      '1.',
      '2)',
      'xong',
      'đang làm',
      '60%',
      'vướng',
      'và',
      ',',
      '\n',
      'hết',
      '👍',
    ];
    const text = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 60 }),
      fc.array(fc.constantFrom(...pieces), { maxLength: 12 }).map((words) => words.join(' ')),
    );
    fc.assert(
      fc.property(text, (input) => {
        const replies = parseTaskReplies(input);
        if (replies === null) return;
        expect(replies.length).toBeGreaterThan(0);
        for (const { task, reply } of replies) {
          // (a difficulty's note is its reason, not the part's text)
          if (reply.status !== null && reply.status !== 'blocked' && reply.note !== null) {
            expect(parseStatusReply(reply.note).status).toBe(reply.status);
          }
          expect(task === 'all' || reply.taskNumber === task).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on input that is not a string', () => {
    for (const bad of [undefined, null, 42, {}] as unknown[])
      expect(parseTaskReplies(bad as string)).toBeNull();
  });
});
