import { describe, expect, it } from 'vitest';
import { Renderer } from '../../src/conversation/render.ts';
import { dateFromIso } from '../../src/domain/time.ts';
import { createTranslator } from '../../src/i18n.ts';

const render = new Renderer(createTranslator(), 'Asia/Ho_Chi_Minh');
const news = {
  campaignId: '0190f0f0-0000-7000-8000-000000000001',
  docNumber: '01/KH-HĐTĐKT',
  title: 'Thực hiện Chương trình chuyển đổi số quốc gia',
  theme: 'Đổi mới <sáng tạo> & "bứt phá"',
  tasks: [{ title: 'Quán triệt <b>kế hoạch</b>', dueOn: dateFromIso('2023-10-30') }],
};

describe('Renderer', () => {
  it('renders a launch with the document number, dd/MM/yyyy dates and the two buttons', () => {
    const message = render.launch('vi', news);
    expect(message.text).toContain('01/KH-HĐTĐKT');
    expect(message.text).toContain('hạn 30/10/2023');
    expect(message.choices?.[0]?.map((choice) => choice.label)).toEqual(['👍 Đã nhận', '📝 Đăng ký thi đua']);
    expect(message.choices?.flat().every((choice) => Buffer.byteLength(choice.data) <= 64)).toBe(true);
  });

  it('escapes what people typed so it cannot become markup', () => {
    const message = render.launch('vi', news);
    expect(message.text).toContain('Đổi mới &lt;sáng tạo&gt; &amp; "bứt phá"');
    expect(message.text).toContain('Quán triệt &lt;b&gt;kế hoạch&lt;/b&gt;');
    expect(message.text).not.toContain('<sáng tạo>');
  });

  it('speaks English to officials who chose it', () => {
    const message = render.launch('en', news);
    expect(message.text).toContain('due 30/10/2023');
    expect(message.choices?.[0]?.map((choice) => choice.label)).toEqual(['👍 Received', '📝 Register']);
  });

  it('offers the four status buttons with short callback data', () => {
    const choices = render.statusChoices('vi', news.campaignId).flat();
    expect(choices.map((choice) => choice.label)).toEqual([
      '✅ Hoàn thành',
      '⏳ Đang thực hiện',
      '⚠️ Vướng mắc',
      '❌ Chưa thực hiện',
    ]);
    expect(choices.every((choice) => Buffer.byteLength(choice.data) <= 64)).toBe(true);
  });

  it('has every Vietnamese key in English too', async () => {
    const { readFile } = await import('node:fs/promises');
    const keys = (value: unknown, prefix = ''): string[] =>
      typeof value === 'object' && value !== null
        ? Object.entries(value).flatMap(([key, inner]) => keys(inner, `${prefix}${key}.`))
        : [prefix];
    const vi = JSON.parse(await readFile('locales/vi/translation.json', 'utf8')) as unknown;
    const en = JSON.parse(await readFile('locales/en/translation.json', 'utf8')) as unknown;
    expect(keys(en).sort()).toEqual(keys(vi).sort());
  });
});

describe('a summary at a province’s scale', () => {
  const units = Array.from({ length: 1500 }, (_, i) => ({
    code: `XA${String(i + 1).padStart(5, '0')}`,
    name: `UBND xã Thí Điểm Số ${i + 1} thuộc huyện Biên Giới, tỉnh Lai Châu`,
  }));
  const children = Array.from({ length: 30 }, (_, i) => ({
    code: `H${i + 1}`,
    name: `UBND huyện số ${i + 1}`,
    units: 50,
    done: i,
    inProgress: 10,
    blocked: 5,
    notStarted: 5,
    noReport: 980 - i,
    overdue: 40 + i,
    lateUnits: 20 + i,
  }));
  const summary = {
    campaign: { id: news.campaignId, docNumber: '125/KH-UBND', title: 'Phong trào thi đua '.repeat(20) },
    scope: null,
    block: null,
    units: { total: 1500, acknowledged: 700, registered: 600, reported: 300, overdue: 1200 },
    tasks: Array.from({ length: 20 }, (_, i) => ({
      key: `NV${i + 1}`,
      title: `Nhiệm vụ số ${i + 1}: ${'tuyên truyền, vận động, triển khai '.repeat(6)}`,
      dueOn: '2026-07-15',
      done: 100,
      inProgress: 200,
      blocked: 50,
      notStarted: 150,
      noReport: 1000,
      overdue: 1400,
    })),
    lateUnits: units.slice(0, 1200),
    unreportedUnits: units.slice(300),
    children,
  };
  const at = new Date('2026-08-01T02:00:00Z');

  it('stays under 6,000 characters with the chart, names at most 20 units, and counts the rest', () => {
    const [text, chart] = render.summaryWithChart('vi', summary, {
      now: at,
      unit: '-',
      chartUnitCode: undefined,
    });
    const all = `${text?.text ?? ''}${chart?.text ?? ''}`;
    expect(all.length).toBeLessThanOrEqual(6000);
    const named = units.filter((unit) => text?.text.includes(unit.name.slice(0, 24) + ' ') ?? false);
    expect(named.length).toBeLessThanOrEqual(20);
    expect(text?.text).toContain('… và 1190 đơn vị khác');
    expect(text?.text).toContain('… và 1190 đơn vị khác');
    expect(text?.text).toContain('<b>Chưa báo cáo (1200):</b>');
    expect(text?.text).toContain('<b>Quá hạn (1200):</b>');
    expect(text?.text).toContain('tệp Excel');
    // The worst child units first, the rest counted.
    expect(text?.text).toContain('• UBND huyện số 30:');
    expect(text?.text).not.toContain('• UBND huyện số 1:');
    expect(chart?.choices?.flat().map((choice) => choice.label)).toEqual(
      expect.arrayContaining(['⏰ Chỉ đơn vị chậm', '📥 Tệp Excel']),
    );
  });

  it('keeps the late-only answer to 20 units, with their late tasks and the Excel button', () => {
    const late = units.slice(0, 1200).map((unit) => ({
      name: unit.name,
      tasks: summary.tasks.map((task) => task.title),
    }));
    const excel = [[{ label: '📥 Tệp Excel', data: 'sx:x:-' }]];
    const message = render.lateUnits('vi', summary, late, excel);
    expect(message.text.length).toBeLessThanOrEqual(4096);
    expect(message.text.split('\n').filter((line) => line.startsWith('• '))).toHaveLength(20);
    expect(message.text).toContain('(+17 nhiệm vụ khác)');
    expect(message.text).toContain('… và 1180 đơn vị khác');
    expect(message.choices).toEqual(excel);
  });
});

describe('a collection round', () => {
  const round = {
    kind: 'periodic' as const,
    periodKey: '2026-07',
    startsOn: dateFromIso('2026-06-15'),
    endsOn: dateFromIso('2026-07-14'),
    dueOn: dateFromIso('2026-07-19'),
    docNumber: '01/KH-UBND',
    campaignTitle: 'Thi đua',
  };
  const task = (n: number) => ({
    taskId: `0190f0f0-0000-7000-8000-${String(n).padStart(12, '0')}`,
    number: n,
    title: `Nhiệm vụ <${n}>`,
    current: n === 3 ? { status: 'in_progress' as const, percent: 40 } : null,
  });

  it('asks a unit about all its tasks in one message, a row of four numbered buttons per task', () => {
    const message = render.roundAsk('vi', round, [task(3), task(4), task(5)]);
    expect(message.text).toContain('3 nhiệm vụ');
    expect(message.text).toContain('NV3. <b>Nhiệm vụ &lt;3&gt;</b> — hiện tại: Đang thực hiện (40%)');
    expect(message.text).toContain('NV5. <b>Nhiệm vụ &lt;5&gt;</b> — hiện tại: Chưa báo cáo');
    expect(message.text).toContain('"NV3 xong, NV4 được 50%"');
    expect(message.choices?.map((row) => row.map((choice) => choice.label))).toEqual([
      ['✅ NV3', '⏳ NV3', '⚠️ NV3', '❌ NV3'],
      ['✅ NV4', '⏳ NV4', '⚠️ NV4', '❌ NV4'],
      ['✅ NV5', '⏳ NV5', '⚠️ NV5', '❌ NV5'],
    ]);
    expect(message.choices?.flat().every((choice) => Buffer.byteLength(choice.data) <= 64)).toBe(true);
  });

  it('keeps the one-task wording for a unit asked about one task', () => {
    const message = render.roundAsk('vi', round, [task(2)]);
    expect(message.text).toContain('nhiệm vụ: <b>Nhiệm vụ &lt;2&gt;</b>');
    expect(message.choices?.flat().map((choice) => choice.label)).toEqual([
      '✅ Hoàn thành',
      '⏳ Đang thực hiện',
      '⚠️ Vướng mắc',
      '❌ Chưa thực hiện',
    ]);
  });

  it('gives buttons to the first 20 tasks only, and says to answer the others in words', () => {
    const message = render.roundReminder(
      'vi',
      round,
      Array.from({ length: 24 }, (_, i) => task(i + 1)),
    );
    expect(message.choices).toHaveLength(20);
    expect(message.choices?.flat()).toHaveLength(80);
    expect(message.text).toContain('NV24.');
    expect(message.text).toContain('trả lời bằng tin nhắn');
  });
});

describe('a confirmation of several tasks', () => {
  it('lists each task with its status and percent, and offers one undo for them all', () => {
    const message = render.recordedGroup('vi', {
      groupId: news.campaignId,
      recorded: [
        { n: 1, title: 'Quán triệt', docNumber: '01/KH', status: 'done', percent: 100, note: 'xong' },
        { n: 2, title: 'Tuyên <truyền>', docNumber: '01/KH', status: 'in_progress', percent: 50, note: null },
        {
          n: 3,
          title: 'Khen thưởng',
          docNumber: '01/KH',
          status: 'blocked',
          percent: null,
          note: 'kinh phí',
        },
      ],
      refused: [],
    });
    expect(message.text.split('\n')).toEqual([
      '✅ Đã ghi nhận báo cáo 3 nhiệm vụ:',
      '• NV1. <b>Quán triệt</b> (01/KH): Hoàn thành, 100%',
      '• NV2. <b>Tuyên &lt;truyền&gt;</b> (01/KH): Đang thực hiện, 50%',
      '• NV3. <b>Khen thưởng</b> (01/KH): Vướng mắc',
      '   Ghi chú: kinh phí',
    ]);
    expect(message.choices).toEqual([[{ label: '↩️ Hoàn tác cả 3 báo cáo', data: `ug:${news.campaignId}` }]]);
  });
});

describe('a closing round', () => {
  it('asks a unit for the closing report of all its tasks in one message', () => {
    const message = render.roundAsk(
      'vi',
      {
        kind: 'closing',
        periodKey: 'closing',
        startsOn: dateFromIso('2026-06-15'),
        endsOn: dateFromIso('2026-12-01'),
        dueOn: dateFromIso('2026-12-08'),
        docNumber: '01/KH-UBND',
        campaignTitle: 'Thi đua',
      },
      [1, 2].map((n) => ({
        taskId: `0190f0f0-0000-7000-8000-00000000000${n}`,
        number: n,
        title: `Nhiệm vụ ${n}`,
        current: null,
      })),
    );
    expect(message.text).toContain('🏁 <b>Báo cáo tổng kết</b> kế hoạch 01/KH-UBND, hạn gửi 08/12/2026');
    expect(message.text).toContain('kết quả cuối cùng của 2 nhiệm vụ');
    expect(message.choices).toHaveLength(2);
  });
});
