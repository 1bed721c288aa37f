import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Db } from '../db/client.ts';
import { issueLinkCode, type LinkCodeKeys } from '../services/officials.ts';
import type { Clock, Random } from '../services/ports.ts';
import { SAMPLE_OFFICIALS, SAMPLE_UNITS } from './sample-data.ts';

/**
 * The demo chat page (demo mode only): `GET /demo` is a static page, and `/demo/api/...` is its small
 * API, which plays a sample official through the in-process Telegram emulator's client API
 * (sendMessage, sendCommand, sendCallback, getUpdatesHistory). Each official has a stable chat id.
 */
export interface DemoPageDeps {
  db: Db;
  clock: Clock;
  random: Random;
  /** The emulator's base URL (its client API lives there too). */
  emulatorUrl: string;
  botToken: string;
  linkCodeKeys: LinkCodeKeys;
  /** False until the sample data is loaded; the page retries meanwhile. */
  ready: () => boolean;
}

/** The chat (and user) id the page uses for the official at `index` in SAMPLE_OFFICIALS. */
export const DEMO_CHAT_BASE = 100_000;
export const demoChatId = (index: number): number => DEMO_CHAT_BASE + index;

const PAGE_DIR = new URL('./page/', import.meta.url);
const readPageFile = (name: string) => readFileSync(fileURLToPath(new URL(name, PAGE_DIR)), 'utf8');

/** The page with its Vietnamese labels (page/vi.json) inlined, safe inside a <script> element. */
export function demoPageHtml(): string {
  const strings = JSON.stringify(JSON.parse(readPageFile('vi.json')) as unknown)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026');
  return readPageFile('index.html').replace(/(['"])__DEMO_STRINGS__\1/, () => strings);
}

interface HistoryItem {
  updateId: number;
  messageId: number;
  time: number;
  /** A bot message: chat_id, text, parse_mode, reply_markup. */
  message?: {
    chat_id?: number | string;
    chat?: { id?: number | string };
    text?: string;
    parse_mode?: string;
    reply_markup?: { inline_keyboard?: { text: string; callback_data?: string; url?: string }[][] };
  };
  callbackQuery?: { data?: string; message?: { message_id?: number; chat?: { id?: number | string } } };
}

export interface DemoChatMessage {
  id: string;
  from: 'bot' | 'user';
  messageId: number;
  text: string;
  html: boolean;
  buttons: { text: string; data?: string; url?: string }[][];
  /** For a pressed button: the label pressed. */
  pressed?: string;
}

const chatParams = z.object({ chatId: z.coerce.number().int() });
const sendBody = z.object({ text: z.string().trim().min(1).max(4000) });
const pressBody = z.object({ messageId: z.number().int().nonnegative(), data: z.string().min(1).max(64) });

export function registerDemoPage(app: FastifyInstance, deps: DemoPageDeps): void {
  const html = demoPageHtml();
  const emulator = async (path: string, body: unknown): Promise<unknown> => {
    const response = await fetch(`${deps.emulatorUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`the emulator answered ${response.status} to ${path}`);
    return response.json();
  };
  const official = (chatId: number) => {
    const index = chatId - DEMO_CHAT_BASE;
    const found = SAMPLE_OFFICIALS[index];
    if (!found)
      throw Object.assign(new Error(`no demo chat ${chatId}`), { statusCode: 404, code: 'not_found' });
    return found;
  };
  const person = (chatId: number) => {
    const { name } = official(chatId);
    return {
      from: { id: chatId, first_name: name, is_bot: false },
      chat: { id: chatId, first_name: name, type: 'private' },
    };
  };

  app.get('/demo', async (_request, reply) =>
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .header(
        'content-security-policy',
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      )
      .send(html),
  );

  app.get('/demo/api/officials', async (_request, reply) => {
    if (!deps.ready())
      return reply
        .code(503)
        .send({ error: { code: 'not_ready', message: 'sample data loading', details: null } });
    const units = new Map(SAMPLE_UNITS.map((unit) => [unit.code, unit.name]));
    const officials = [];
    for (const [index, sample] of SAMPLE_OFFICIALS.entries()) {
      const chatId = demoChatId(index);
      const linked =
        (await deps.db.channelAccount.count({
          where: {
            channel: 'telegram',
            chatId: String(chatId),
            active: true,
            official: { code: sample.code },
          },
        })) > 0;
      officials.push({
        chatId,
        code: sample.code,
        name: sample.name,
        unit: units.get(sample.unitCode) ?? sample.unitCode,
        role: sample.role,
        linked,
        linkCode: linked ? null : (await issueLinkCode(deps.db, sample.code, deps)).code,
      });
    }
    return { officials };
  });

  app.post('/demo/api/chats/:chatId/send', async (request) => {
    const { chatId } = chatParams.parse(request.params);
    const { text } = sendBody.parse(request.body);
    const message = { botToken: deps.botToken, date: Math.floor(Date.now() / 1000), ...person(chatId), text };
    if (text.startsWith('/')) {
      const length = text.includes(' ') ? text.indexOf(' ') : text.length;
      await emulator('/sendCommand', { ...message, entities: [{ offset: 0, length, type: 'bot_command' }] });
    } else {
      await emulator('/sendMessage', message);
    }
    return { ok: true };
  });

  app.post('/demo/api/chats/:chatId/press', async (request) => {
    const { chatId } = chatParams.parse(request.params);
    const { messageId, data } = pressBody.parse(request.body);
    const { from, chat } = person(chatId);
    await emulator('/sendCallback', {
      botToken: deps.botToken,
      date: Math.floor(Date.now() / 1000),
      from,
      message: { from, chat, message_id: messageId },
      data,
    });
    return { ok: true };
  });

  app.get('/demo/api/chats/:chatId/messages', async (request) => {
    const { chatId } = chatParams.parse(request.params);
    official(chatId);
    const history = (await emulator('/getUpdatesHistory', { token: deps.botToken })) as {
      result?: HistoryItem[];
    };
    return { messages: chatMessages(history.result ?? [], chatId) };
  });
}

/** The conversation of one chat from the emulator's history: bot messages (as edited) and what the user sent. */
export function chatMessages(history: HistoryItem[], chatId: number): DemoChatMessage[] {
  const ordered = [...history].sort((a, b) => a.updateId - b.updateId);
  const id = String(chatId);
  const botMessages = new Map<number, HistoryItem>();
  for (const item of ordered)
    if (item.message?.chat_id !== undefined && String(item.message.chat_id) === id)
      botMessages.set(item.messageId, item);
  const messages: DemoChatMessage[] = [];
  for (const item of ordered) {
    if (item.message?.chat_id !== undefined) {
      if (String(item.message.chat_id) !== id) continue;
      messages.push({
        id: `b${item.messageId}`,
        from: 'bot',
        messageId: item.messageId,
        text: item.message.text ?? '',
        html: item.message.parse_mode?.toUpperCase() === 'HTML',
        buttons: (item.message.reply_markup?.inline_keyboard ?? []).map((row) =>
          row.map((button) => ({
            text: button.text,
            ...(button.callback_data !== undefined ? { data: button.callback_data } : {}),
            ...(button.url !== undefined ? { url: button.url } : {}),
          })),
        ),
      });
    } else if (item.message && String(item.message.chat?.id) === id) {
      messages.push({
        id: `u${item.updateId}`,
        from: 'user',
        messageId: item.messageId,
        text: item.message.text ?? '',
        html: false,
        buttons: [],
      });
    } else if (item.callbackQuery && String(item.callbackQuery.message?.chat?.id) === id) {
      const source = botMessages.get(item.callbackQuery.message?.message_id ?? -1);
      const label = source?.message?.reply_markup?.inline_keyboard
        ?.flat()
        .find((button) => button.callback_data === item.callbackQuery?.data)?.text;
      messages.push({
        id: `c${item.updateId}`,
        from: 'user',
        messageId: item.messageId,
        text: '',
        html: false,
        buttons: [],
        pressed: label ?? '',
      });
    }
  }
  return messages;
}
