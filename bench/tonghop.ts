import { randomBytes } from 'node:crypto';
// /tonghop in chat at the root of a province of 1,500 communes (issue 16): how many messages and characters
// the answer takes on Telegram and on the Zalo bot, and the time to its first message as far as the
// dialogue goes: its turn for the command (read the roll-up, render, write the outbox rows, commit). The hop
// after it (relay, queue, a worker's send: two messages are no direct reply) is not timed. p50/p95 over
// BENCH_RUNS turns, in process against a scratch database seeded in bulk. Prints figures; asserts nothing.
import { numberedParts } from '../src/channels/zalo/text.ts';
import { Dialogue } from '../src/conversation/dialogue.ts';
import { Renderer } from '../src/conversation/render.ts';
import { createDb } from '../src/db/client.ts';
import { splitText } from '../src/domain/intents.ts';
import type { OutboundMessage } from '../src/domain/message.ts';
import { createTranslator } from '../src/i18n.ts';
import { createLogger } from '../src/logger.ts';
import { upsertOfficial } from '../src/services/officials.ts';
import { messageFromPayload } from '../src/services/outbox.ts';
import { LINK_ATTEMPT_LIMITS } from '../src/throttle.ts';
import { seedProvinceCampaign } from '../test/support/bulk-seed.ts';
import { percentile, scratchDatabase } from './lib/harness.ts';

const COMMUNES = Number(process.env.BENCH_UNITS ?? 1500);
const TASKS = 12;
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const ZONE = 'Asia/Ho_Chi_Minh';
const NOW = new Date('2026-08-01T02:00:00Z');

export async function main(): Promise<void> {
  const scratch = await scratchDatabase();
  const db = createDb(scratch.url);
  try {
    const seedStart = performance.now();
    await seedProvinceCampaign(scratch.sql, { communes: COMMUNES, tasks: TASKS, pastDue: '2026-07-15' });
    const seedMs = performance.now() - seedStart;
    for (const [code, channel, chatId] of [
      ['LD-TG', 'telegram', 'tg-1'],
      ['LD-ZL', 'zalo', 'zl-1'],
    ] as const) {
      await upsertOfficial(db, code, { name: `Lãnh đạo ${code}`, unitCode: 'TINH', role: 'leader' });
      const official = await db.official.findUniqueOrThrow({ where: { code } });
      await db.channelAccount.create({ data: { officialId: official.id, channel, chatId } });
    }
    const dialogue = new Dialogue({
      db,
      render: new Renderer(createTranslator(), ZONE),
      // Linking is not exercised here: nothing is ever throttled.
      linkAttempts: {
        attempt: () => Promise.resolve({ kind: 'check', alertAdmins: false }),
        linked: () => Promise.resolve(),
        limits: LINK_ATTEMPT_LIMITS,
      },
      linkCodeKeys: { current: randomBytes(32), previous: [] },
      clock: { now: () => NOW },
      timeZone: ZONE,
      logger: createLogger('silent'),
      numberedChoiceChannels: new Set(['zalo']),
    });
    let update = 0;
    const ask = async (
      channel: string,
      chatId: string,
    ): Promise<{ ms: number; answer: OutboundMessage[] }> => {
      const updateId = `b${(update += 1)}`;
      const start = performance.now();
      await dialogue.handle({ channel, updateId, chatId, kind: 'command', command: 'tonghop', args: '' });
      const ms = performance.now() - start;
      const rows = await db.outboxMessage.findMany({
        where: { dedupeKey: { startsWith: `reply:${channel}:${updateId}:` } },
        orderBy: { seq: 'asc' },
      });
      return { ms, answer: rows.map((row) => messageFromPayload(row.payload)) };
    };
    await ask('telegram', 'tg-1'); // warm-up: connections, plans, the collator
    const times: number[] = [];
    let answer: OutboundMessage[] = [];
    for (let i = 0; i < RUNS; i += 1) {
      const run = await ask('telegram', 'tg-1');
      times.push(run.ms);
      answer = run.answer;
    }
    times.sort((a, b) => a - b);
    const telegram = answer.reduce(
      (sum, message) => sum + (message.attachment ? 1 : splitText(message.text, 4096).length),
      0,
    );
    const characters = answer.reduce((sum, message) => sum + message.text.length, 0);
    const zalo = (await ask('zalo', 'zl-1')).answer.flatMap((message) =>
      numberedParts(
        { ...message, text: [message.text, message.attachment?.fallback].filter(Boolean).join('\n') },
        2000,
      ),
    );
    process.stdout.write(
      [
        `seeded ${COMMUNES} communes under one province, ${TASKS} tasks, in ${(seedMs / 1000).toFixed(1)} s; ${RUNS} runs`,
        '',
        '| units | Telegram messages | characters | Zalo bot messages (longest) | time to the first message p50 / p95 (ms) |',
        '|---|---|---|---|---|',
        `| ${COMMUNES} | ${telegram} | ${characters} | ${zalo.length} (${Math.max(...zalo.map((part) => part.length))}) | ${percentile(times, 50).toFixed(0)} / ${percentile(times, 95).toFixed(0)} |`,
        '',
      ].join('\n'),
    );
  } finally {
    await db.$disconnect();
    await scratch.drop();
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) await main();
