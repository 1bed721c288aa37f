import { describe, expect, it } from 'vitest';
import { eventFromUpdate } from '../../src/channels/telegram/telegram.ts';
import { storableEvent } from '../../src/conversation/events.ts';

describe('storableEvent', () => {
  it('drops NUL and turns lone surrogates into U+FFFD, keeping everything else', () => {
    const event = storableEvent({
      channel: 'telegram',
      updateId: '1',
      chatId: '2',
      kind: 'text',
      text: 'đã\u0000 xong \ud800 60% 👍 \udc00',
    });
    expect(event).toEqual({
      channel: 'telegram',
      updateId: '1',
      chatId: '2',
      kind: 'text',
      text: 'đã xong \ufffd 60% 👍 \ufffd',
    });
    expect(
      storableEvent({ channel: 'zalo', updateId: '3', chatId: '4', kind: 'choice', data: 'st:\u0000x' }),
    ).toEqual({ channel: 'zalo', updateId: '3', chatId: '4', kind: 'choice', data: 'st:x' });
  });
});

describe('eventFromUpdate and Telegram ids', () => {
  const update = (updateId: unknown, chatId: unknown) => ({
    update_id: updateId,
    message: { message_id: 1, date: 1, chat: { id: chatId }, text: 'xin chào' },
  });

  it('takes non-negative integer update ids and integer chat ids (groups are negative)', () => {
    expect(eventFromUpdate(update(0, 5))?.chatId).toBe('5');
    expect(eventFromUpdate(update(7, -1001234567890))?.chatId).toBe('-1001234567890');
  });

  it('ignores ids that are not integers Telegram could send', () => {
    for (const id of [-1, 1.5, 2 ** 53, 1e300, '7', null])
      expect(eventFromUpdate(update(id, 5)), String(id)).toBeNull();
    for (const chat of [1.5, 2 ** 53, '5', null])
      expect(eventFromUpdate(update(1, chat)), String(chat)).toBeNull();
  });
});
