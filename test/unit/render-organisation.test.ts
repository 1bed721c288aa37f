import { describe, expect, it } from 'vitest';
import { Renderer } from '../../src/conversation/render.ts';
import { dateFromIso } from '../../src/domain/time.ts';
import { createTranslator } from '../../src/i18n.ts';
import type { CampaignSummary } from '../../src/services/summaries.ts';

const render = new Renderer(createTranslator(), 'Asia/Ho_Chi_Minh');

describe('the notice of a merge', () => {
  it('says where the unit went and lists the tasks now followed, escaping what people typed', () => {
    const message = render.unitChanged('vi', {
      kind: 'merged',
      from: 'UBND xã <Bản Giang>',
      into: 'UBND xã Bình Lư & Bản Giang',
      effectiveOn: '2025-07-01',
      tasks: [{ title: 'Quán triệt <b>kế hoạch</b>', docNumber: '01/KH', dueOn: dateFromIso('2026-07-15') }],
    });
    expect(message.text.split('\n')).toEqual([
      '🏛 Đơn vị của anh/chị đã được sáp nhập vào UBND xã Bình Lư &amp; Bản Giang; các nhiệm vụ đang theo dõi:',
      '1. <b>Quán triệt &lt;b&gt;kế hoạch&lt;/b&gt;</b> (01/KH), hạn 15/07/2026',
      '',
      'Đơn vị trước đây: UBND xã &lt;Bản Giang&gt;. Hiệu lực từ ngày 01/07/2025.',
    ]);
    expect(message.choices ?? []).toEqual([]);
  });

  it('says so when nothing is open, after a dissolution, and in English', () => {
    const dissolved = render.unitChanged('vi', {
      kind: 'dissolved',
      from: 'UBND huyện Tam Đường',
      into: 'UBND tỉnh Lai Châu',
      effectiveOn: '2025-07-01',
      tasks: [],
    });
    expect(dissolved.text).toContain('Đơn vị của anh/chị đã giải thể, anh/chị nay thuộc UBND tỉnh Lai Châu');
    expect(dissolved.text).toContain('(không có nhiệm vụ nào chưa hoàn thành)');
    const english = render.unitChanged('en', {
      kind: 'merged',
      from: 'A',
      into: 'B',
      effectiveOn: '2025-07-01',
      tasks: [],
    });
    expect(english.text).toContain('Your unit has been merged into B');
  });
});

describe('a unit formed by a merge in a summary', () => {
  it('is named with the units it was formed from, escaped once', () => {
    const summary = {
      formerly: {
        S: [
          { code: 'A', name: 'UBND xã <A>' },
          { code: 'B', name: 'UBND xã B & C' },
        ],
      },
    } as unknown as CampaignSummary;
    expect(render.unitName('vi', summary, { code: 'S', name: 'UBND xã S' })).toBe(
      'UBND xã S (trước đây: UBND xã <A>, UBND xã B & C)',
    );
    expect(render.unitName('en', summary, { code: 'S', name: 'S' })).toBe(
      'S (formerly: UBND xã <A>, UBND xã B & C)',
    );
    expect(render.unitName('vi', summary, { code: 'T', name: 'T' })).toBe('T');
  });
});
