// The inbound baseline (the ceiling): a bare telegraf webhook bot that answers every text with a fixed
// reply, no database, no queue. Run as its own process: `tsx bench/lib/bare-bot.ts`, configured by
// BOT_TOKEN, API_ROOT, SECRET and PORT.
import { createServer } from 'node:http';
import { Telegraf } from 'telegraf';

const bot = new Telegraf(process.env.BOT_TOKEN ?? '', {
  // Answers go to the Bot API as calls (not in the webhook's response), as the service's do.
  telegram: { apiRoot: process.env.API_ROOT ?? 'http://127.0.0.1:1', webhookReply: false },
});
bot.on('text', (ctx) => ctx.reply('✅ Đã ghi nhận.'));
bot.catch((error) => {
  process.stderr.write(`bare bot: ${String(error)}\n`);
});
const callback = bot.webhookCallback('/webhooks/telegram', { secretToken: process.env.SECRET ?? '' });
createServer((request, response) => void callback(request, response)).listen(
  Number(process.env.PORT),
  '127.0.0.1',
  () => process.stdout.write('listening\n'),
);
