import { afterAll, beforeAll, expect, it } from 'vitest';
import { Fanout } from '../support/fanout.ts';
import type { ServiceProcess } from '../support/service.ts';
import { FAULTS } from '../support/telegram-proxy.ts';
import type { ChatUser } from '../support/telegram.ts';
import { waitFor } from '../support/wait.ts';

/**
 * The answer to what someone wrote is sent by the web role itself, right after the update's transaction
 * (src/delivery/direct-replies.ts), and falls back to the worker when that send fails or when other
 * messages still wait for the chat. Four linked chats; the roles run as separate processes, as deployed.
 */
let rig: Fanout;
let web: ServiceProcess;
let worker: ServiceProcess | undefined;
const confirmation = (text: string) => text.startsWith('✅ Đã ghi nhận');

function user(index: number): ChatUser {
  return rig.emulator.user(rig.token, Number(rig.chatIds[index]));
}

async function replyRows(chatId: string): Promise<{ id: string; state: string; enqueued: boolean }[]> {
  const { rows } = await rig.sql.query<{ id: string; state: string; enqueued: boolean }>(
    `SELECT id, state::text AS state, "enqueuedAt" IS NOT NULL AS enqueued FROM "OutboxMessage"
     WHERE "chatId" = $1 AND "dedupeKey" LIKE 'reply:%' ORDER BY seq`,
    [chatId],
  );
  return rows;
}

beforeAll(async () => {
  rig = await Fanout.start({ recipients: 4 });
  web = await rig.start('web');
  await rig.seed(web);
  worker = await rig.start('worker');
  await rig.launch(web);
  await rig.waitDelivered(4);
  await worker.stop();
  worker = undefined;
}, 120_000);

afterAll(async () => {
  await rig?.close();
});

it('answers a status reply from the web role, with no worker running', async () => {
  const focal = user(0);
  await focal.drain();
  const answer = await focal.ask('đang thực hiện 60%', (message) => confirmation(message.text));
  expect(answer.text).toContain('60%');
  // Marked sent with the other answers sent within a few milliseconds of it.
  const row = await waitFor('the answer to be marked sent', async () => {
    const [reply] = await replyRows(rig.chatIds[0] ?? '');
    return reply?.state === 'sent' ? reply : undefined;
  });
  // Nothing went through the queue: no job was made for it.
  expect(await rig.queue.getJob(row?.id ?? '')).toBeUndefined();
  expect(rig.telegram.accepted(rig.chatIds[0] ?? '')).toBe(2);
});

it('hands an answer whose send failed to the worker, which delivers it once', async () => {
  const chatId = rig.chatIds[1] ?? '';
  const leader = user(1);
  await leader.drain();
  rig.telegram.inject(chatId, FAULTS.serverError);
  await leader.send('đã xong');
  const released = await waitFor('the failed answer to be handed back', async () => {
    const [row] = await replyRows(chatId);
    return row && row.state === 'pending' && !row.enqueued ? row : undefined;
  });
  expect(rig.telegram.attempts.filter((a) => a.chatId === chatId && a.status === 502)).toHaveLength(1);

  worker = await rig.start('worker');
  const answer = await leader.waitFor('the answer, sent by the worker', (message) =>
    confirmation(message.text),
  );
  expect(answer.text).toContain('Hoàn thành');
  await waitFor('the row to be sent', async () =>
    (await replyRows(chatId))[0]?.state === 'sent' ? true : undefined,
  );
  expect(await rig.queue.getJob(released.id)).toBeDefined();
  // The launch, then the answer: once each.
  expect(rig.telegram.accepted(chatId)).toBe(2);
});

it('keeps a chat in order: with news still waiting for the chat, the answer queues behind it', async () => {
  await worker?.stop();
  worker = undefined;
  const created = await web.api<{ id: string }>('POST', '/api/campaigns', {
    docNumber: '16/KH-UBND',
    title: 'Phong trào thi đua chuyển đổi số',
    issuerUnitCode: 'TINH',
    startsOn: new Date().toISOString().slice(0, 10),
    endsOn: rig.dueOn,
    unitCodes: (
      await rig.sql.query<{ code: string }>(`SELECT code FROM "Unit" WHERE code LIKE 'XA%' ORDER BY code`)
    ).rows.map((row) => row.code),
    tasks: [{ key: 'CDS', title: 'Triển khai chuyển đổi số', dueOn: rig.dueOn }],
  });
  expect(created.status).toBe(201);
  expect((await web.api('POST', `/api/campaigns/${created.body.id}/launch`)).status).toBe(202);

  const chatId = rig.chatIds[2] ?? '';
  const focal = user(2);
  await focal.drain();
  const before = focal.received.length;
  await focal.send('/nhiemvu');
  const [row] = await waitFor('the answer to be written', async () => {
    const rows = await replyRows(chatId);
    return rows.length > 0 ? rows : undefined;
  });
  // Not held for a direct send: it waits for the relay, behind the launch written before it.
  expect(row?.enqueued).toBe(false);
  expect(rig.telegram.accepted(chatId)).toBe(1);

  worker = await rig.start('worker');
  await focal.waitFor('the task list', (message) => message.text.includes('Triển khai chuyển đổi số'), {
    after: before + 1,
  });
  const texts = focal.received.slice(before).map((message) => message.text);
  expect(texts[0]).toContain('16/KH-UBND');
  expect(texts).toHaveLength(2);
});
