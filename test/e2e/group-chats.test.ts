import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/db/client.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startService, type ServiceProcess } from '../support/service.ts';
import { Emulator, type BotMessage } from '../support/telegram.ts';

/**
 * The whole service, polling the Telegram emulator, put in a group: the group hears once that the bot works
 * in private chats, whoever writes and whatever they write; the link code typed there still links the
 * member's private chat afterwards, and the group left nothing in the database but its notice.
 */
const TOKEN = '400000002:E2E-groups';
const GROUP = { id: -4_242, type: 'group', title: 'Tổ thi đua xã' } as const;

let emulator: Emulator;
let database: TestDatabase;
let db: Db;
let service: ServiceProcess;

beforeAll(async () => {
  emulator = await Emulator.start();
  database = await createTestDatabase();
  db = createDb(database.url);
  service = await startService({
    DATABASE_URL: database.url,
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: emulator.url,
  });
  await service.api('PUT', '/api/units/GR-XA', { name: 'UBND xã Bình Lư' });
  await service.api('PUT', '/api/officials/GR1', { name: 'Lò Văn Pình', unitCode: 'GR-XA', role: 'focal' });
});

afterAll(async () => {
  await service?.stop();
  await db?.$disconnect();
  await emulator?.stop();
  await database?.drop();
});

const says = (words: string) => (message: BotMessage) => message.text.includes(words);

describe('the bot in a Telegram group', () => {
  it('says once that it works in private chats; the code typed there links in private afterwards', async () => {
    const issued = await service.api<{ code: string }>('POST', '/api/officials/GR1/link-codes');
    const code = issued.body.code;
    const member = emulator.groupMember(TOKEN, 7001, GROUP);
    const other = emulator.groupMember(TOKEN, 7002, GROUP);

    const notice = await member.ask(`/start ${code}`, says('cuộc trò chuyện riêng'));
    expect(notice.text).toBe(
      'Xin chào! Trợ lý thi đua chỉ làm việc trong cuộc trò chuyện riêng. Vui lòng nhắn tin trực tiếp cho trợ lý (không qua nhóm).',
    );
    await other.send('đã xong 100%');
    await member.send(code);
    await member.send('/baocao');

    // Updates are handled in order: once a private chat's later message is answered, the group's were too.
    const stranger = emulator.user(TOKEN, 7003);
    await stranger.ask('/start', says('Xin chào'));
    await member.drain();
    expect(member.received.map((message) => message.text)).toEqual([notice.text]);
    expect(await db.outboxMessage.count({ where: { chatId: String(GROUP.id) } })).toBe(1);

    const linked = await emulator.user(TOKEN, 7001).ask(`/start ${code}`, says('Đã liên kết'));
    expect(linked.text).toContain('Lò Văn Pình');

    const accounts = await db.channelAccount.findMany({ select: { channel: true, chatId: true } });
    expect(accounts).toEqual([{ channel: 'telegram', chatId: '7001' }]);
    expect(await db.groupChatNotice.findMany({ select: { channel: true, chatId: true } })).toEqual([
      { channel: 'telegram', chatId: String(GROUP.id) },
    ]);
    // Only the two private chats' updates were recorded; the group's four were not.
    expect(await db.inboundUpdate.count()).toBe(2);
    expect(await db.statusReport.count()).toBe(0);
  }, 60_000);
});
