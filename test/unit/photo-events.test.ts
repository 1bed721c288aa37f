import { describe, expect, it } from 'vitest';
import { eventFromUpdate } from '../../src/channels/telegram/telegram.ts';
import { eventFromZaloUpdate } from '../../src/channels/zalo/bot-api.ts';
import { eventFromOaWebhook } from '../../src/channels/zalo/oa.ts';

describe('pictures as channel-neutral events', () => {
  it('Telegram: the largest size, with its caption', () => {
    const update = {
      update_id: 41,
      message: {
        message_id: 7,
        chat: { id: 5004, type: 'private' },
        photo: [
          { file_id: 'big', width: 1280, height: 960 },
          { file_id: 'small', width: 90, height: 68 },
          { file_id: 'mid', width: 320, height: 240 },
        ],
        caption: '  Bà Lò Thị B – nuôi ong  ',
      },
    };
    expect(eventFromUpdate(update)).toEqual({
      channel: 'telegram',
      updateId: '41',
      chatId: '5004',
      chatKind: 'private',
      kind: 'photo',
      ref: 'big',
      caption: 'Bà Lò Thị B – nuôi ong',
    });
    const bare = { ...update, message: { ...update.message, caption: undefined, photo: [{ file_id: 'x' }] } };
    expect(eventFromUpdate(bare)).toEqual({
      channel: 'telegram',
      updateId: '41',
      chatId: '5004',
      chatKind: 'private',
      kind: 'photo',
      ref: 'x',
    });
    expect(eventFromUpdate({ ...update, message: { ...update.message, photo: [{ width: 1 }] } })).toBeNull();
  });

  it('Zalo Bot Platform: photo_url or photo, with its caption; none usable is still "unsupported"', () => {
    const message = {
      message_id: 'm-9',
      date: 1_750_000_000_000,
      from: { id: 'u1', display_name: 'A', is_bot: false },
      chat: { id: 'u1', chat_type: 'PRIVATE' },
    };
    const image = (fields: object) => ({
      event_name: 'message.image.received',
      message: { ...message, ...fields },
    });
    expect(eventFromZaloUpdate(image({ photo_url: 'https://zalo.example/a.jpg', caption: 'HTX' }))).toEqual({
      channel: 'zalo',
      updateId: 'm-9',
      chatId: 'u1',
      chatKind: 'private',
      senderId: 'u1',
      kind: 'photo',
      ref: 'https://zalo.example/a.jpg',
      caption: 'HTX',
    });
    expect(
      eventFromZaloUpdate({ ok: true, result: image({ photo: 'https://zalo.example/b.jpg' }) }),
    ).toMatchObject({ kind: 'photo', ref: 'https://zalo.example/b.jpg' });
    expect(
      eventFromZaloUpdate(
        image({ photo: [{ url: 'https://zalo.example/s.jpg' }, { url: 'https://zalo.example/l.jpg' }] }),
      ),
    ).toMatchObject({ kind: 'photo', ref: 'https://zalo.example/l.jpg' });
    expect(eventFromZaloUpdate(image({ photo: 'not a url' }))).toMatchObject({
      kind: 'unsupported',
      what: 'image',
    });
  });

  it('Zalo OA: the first image attachment URL, the message text as caption', () => {
    const event = {
      app_id: '4321',
      event_name: 'user_send_image',
      sender: { id: '2512523625412515125' },
      recipient: { id: '579745863508352884' },
      message: {
        msg_id: 'm-4',
        text: 'Tổ dân phố 3',
        attachments: [
          { type: 'image', payload: { thumbnail: 'x', url: 'https://photo-stal.zadn.vn/a.jpg' } },
        ],
      },
      timestamp: '1750000000000',
    };
    expect(eventFromOaWebhook(event)).toEqual({
      channel: 'zalo_oa',
      updateId: 'm-4',
      chatId: '2512523625412515125',
      chatKind: 'private',
      senderId: '2512523625412515125',
      kind: 'photo',
      ref: 'https://photo-stal.zadn.vn/a.jpg',
      caption: 'Tổ dân phố 3',
    });
    expect(eventFromOaWebhook({ ...event, message: { msg_id: 'm-5', attachments: [] } })).toMatchObject({
      kind: 'unsupported',
      what: 'image',
    });
  });
});
