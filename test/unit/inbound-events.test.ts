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

describe('private chats and groups as the adapters read them', () => {
  const message = (chat: { id: number; type: string }, text = 'xin chào') => ({
    message_id: 1,
    date: 1,
    chat,
    from: { id: 501, is_bot: false, first_name: 'Mai' },
    text,
  });
  const bot = { id: 500000001, is_bot: true, first_name: 'bot' };

  it('Telegram: a private chat names its person; groups, supergroups and channels are groups', () => {
    expect(eventFromUpdate({ update_id: 1, message: message({ id: 501, type: 'private' }) })).toMatchObject({
      chatId: '501',
      chatKind: 'private',
      senderId: '501',
      kind: 'text',
    });
    for (const type of ['group', 'supergroup'])
      expect(
        eventFromUpdate({ update_id: 2, message: message({ id: -42, type }, '/start ABCD') }),
      ).toMatchObject({
        chatId: '-42',
        chatKind: 'group',
        senderId: '501',
        kind: 'command',
      });
    expect(
      eventFromUpdate({ update_id: 3, channel_post: message({ id: -100, type: 'channel' }) }),
    ).toMatchObject({ chatId: '-100', chatKind: 'group' });
    expect(
      eventFromUpdate({ update_id: 4, edited_message: message({ id: -42, type: 'supergroup' }) }),
    ).toMatchObject({ chatKind: 'group' });
    // An edit in a private chat is no new message: ignored, as before.
    expect(
      eventFromUpdate({ update_id: 5, edited_message: message({ id: 501, type: 'private' }) }),
    ).toBeNull();
  });

  it('Telegram: the bot added to a group is heard there; leaving, or a private chat blocking it, is not', () => {
    const change = (chat: { id: number; type: string }, status: string) => ({
      update_id: 6,
      my_chat_member: {
        chat,
        from: { id: 501, is_bot: false, first_name: 'Mai' },
        date: 1,
        old_chat_member: { user: bot, status: 'left' },
        new_chat_member: { user: bot, status },
      },
    });
    expect(eventFromUpdate(change({ id: -42, type: 'group' }, 'member'))).toMatchObject({
      chatId: '-42',
      chatKind: 'group',
      kind: 'unsupported',
    });
    expect(eventFromUpdate(change({ id: -42, type: 'supergroup' }, 'administrator'))).toMatchObject({
      chatKind: 'group',
    });
    expect(eventFromUpdate(change({ id: -42, type: 'group' }, 'left'))).toBeNull();
    expect(eventFromUpdate(change({ id: 501, type: 'private' }, 'kicked'))).toBeNull();
  });
});
