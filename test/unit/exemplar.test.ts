import { describe, expect, it } from 'vitest';
import {
  cleanExemplarText,
  EXEMPLAR_LIMITS,
  exemplarTextProblem,
  isNoPhotoReply,
  splitExemplarText,
} from '../../src/domain/exemplar.ts';
import { parseExemplarRequest } from '../../src/domain/intents.ts';

describe('the one-line exemplar "who – what"', () => {
  it.each([
    ['Nguyễn Văn A – trồng 2 ha rừng phòng hộ', 'Nguyễn Văn A', 'trồng 2 ha rừng phòng hộ'],
    ['Nguyễn Văn A - trồng 2 ha rừng', 'Nguyễn Văn A', 'trồng 2 ha rừng'],
    ['Nguyễn Văn A: hiến 300 m² đất làm đường', 'Nguyễn Văn A', 'hiến 300 m² đất làm đường'],
    ['Bà Lò Thị B — vận động 20 hộ: xây nhà vệ sinh', 'Bà Lò Thị B', 'vận động 20 hộ: xây nhà vệ sinh'],
    // A dash with a space beside it wins over one inside a word: "3-4" stays part of the name.
    ['Tổ dân phố 3-4 – dọn vệ sinh kênh mương', 'Tổ dân phố 3-4', 'dọn vệ sinh kênh mương'],
    // Without any spaced separator the first one splits, as typed in a hurry.
    ['Nguyễn Văn A-trồng rừng', 'Nguyễn Văn A', 'trồng rừng'],
    ['  Hợp tác xã   Bình Lư  –   nuôi cá lồng  ', 'Hợp tác xã Bình Lư', 'nuôi cá lồng'],
  ])('%s', (text, subject, achievement) => {
    expect(splitExemplarText(text)).toEqual({ subject, achievement });
  });

  it('keeps a name alone when nothing separates it, and may leave either side empty', () => {
    expect(splitExemplarText('Nguyễn Văn A')).toEqual({ subject: 'Nguyễn Văn A', achievement: null });
    expect(splitExemplarText('')).toEqual({ subject: '', achievement: null });
    expect(splitExemplarText('– trồng rừng')).toEqual({ subject: '', achievement: 'trồng rừng' });
    expect(splitExemplarText('Nguyễn Văn A –')).toEqual({ subject: 'Nguyễn Văn A', achievement: '' });
  });

  it('splits an answer to "who?" only at a spaced separator', () => {
    expect(splitExemplarText('Tổ dân phố 3-4', { spacedOnly: true })).toEqual({
      subject: 'Tổ dân phố 3-4',
      achievement: null,
    });
    expect(splitExemplarText('Tổ 3-4 - dọn vệ sinh', { spacedOnly: true })).toEqual({
      subject: 'Tổ 3-4',
      achievement: 'dọn vệ sinh',
    });
  });
});

describe('exemplar text limits', () => {
  it('refuses empty and over-long text, counting characters, not UTF-16 units', () => {
    expect(exemplarTextProblem('subject', '')).toEqual({ field: 'subject', reason: 'empty' });
    const long = 'ắ'.repeat(EXEMPLAR_LIMITS.subject + 1);
    expect(exemplarTextProblem('subject', long)).toEqual({
      field: 'subject',
      reason: 'too_long',
      length: EXEMPLAR_LIMITS.subject + 1,
      max: EXEMPLAR_LIMITS.subject,
    });
    expect(exemplarTextProblem('subject', '😀'.repeat(EXEMPLAR_LIMITS.subject))).toBeNull();
    expect(exemplarTextProblem('achievement', 'a'.repeat(EXEMPLAR_LIMITS.achievement))).toBeNull();
  });

  it('stores text composed, without invisible characters or runs of spaces', () => {
    expect(cleanExemplarText(' Nguye\u0302\u0303n\u200b  Văn   A \n\n  trồng rừng ')).toBe(
      'Nguyễn Văn A\ntrồng rừng',
    );
  });
});

describe('typed exemplar requests', () => {
  it.each([
    ['điển hình Nguyễn Văn A – trồng rừng', 'Nguyễn Văn A – trồng rừng'],
    ['Diem hinh: Lò Thị B - nuôi ong', 'Lò Thị B - nuôi ong'],
    ['dien hinh tien tien Nguyễn Văn Ánh', 'Nguyễn Văn Ánh'],
    ['Báo cáo điển hình', ''],
    ['diemhinh Hà Văn C', 'Hà Văn C'],
    ['  Điển\u200b hình   Đỗ Thị Lan – giúp 5 hộ nghèo', 'Đỗ Thị Lan – giúp 5 hộ nghèo'],
  ])('%s', (text, rest) => {
    expect(parseExemplarRequest(text)).toEqual({ rest });
  });

  it.each(['đã xong', 'điển hìnhx', 'có điển hình ở xã', 'tổng hợp', 'dien'])('not "%s"', (text) => {
    expect(parseExemplarRequest(text)).toBeNull();
  });
});

describe('no photo', () => {
  it.each(['không', 'Khong', 'ko', 'bỏ qua', 'Bo qua.', 'không có ảnh', 'không ạ'])('"%s" skips', (text) => {
    expect(isNoPhotoReply(text)).toBe(true);
  });

  it.each(['có', 'để tôi tìm ảnh', 'không biết'])('"%s" does not', (text) => {
    expect(isNoPhotoReply(text)).toBe(false);
  });
});
