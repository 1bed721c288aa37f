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
