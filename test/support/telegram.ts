import emulatorModule from 'telegram-test-api';
import type { TelegramServer as EmulatorServer } from 'telegram-test-api/lib/telegramServer.js';
import { freePort } from './ports.ts';
import { waitFor } from './wait.ts';

const TelegramServer = emulatorModule as unknown as typeof EmulatorServer;

/** A group chat in the emulator: Telegram gives groups, supergroups and channels negative ids. */
export interface TelegramGroup {
  id: number;
  type: 'group' | 'supergroup' | 'channel';
  title: string;
}

export interface BotMessage {
  messageId: number;
  text: string;
  buttons: { text: string; data: string }[];
  parseMode: string | undefined;
}

interface RawBotMessage {
  messageId: number;
  message: {
    text?: string;
    parse_mode?: string;
    reply_markup?: { inline_keyboard?: { text: string; callback_data: string }[][] };
  };
}

export class Emulator {
  private constructor(
    readonly server: EmulatorServer,
    readonly url: string,
  ) {}

  static async start(): Promise<Emulator> {
    const port = await freePort();
    const server = new TelegramServer({ port, host: '127.0.0.1', storeTimeout: 3600 });
    await server.start();
    return new Emulator(server, `http://127.0.0.1:${port}`);
  }

  user(token: string, userId: number, firstName = `User ${userId}`): ChatUser {
    return new ChatUser(this.server, this.url, token, userId, firstName);
  }

  /** A person writing in a group chat with the bot (`type`: group, supergroup or channel; a negative id). */
  groupMember(token: string, userId: number, group: TelegramGroup): ChatUser {
    return new ChatUser(this.server, this.url, token, userId, `User ${userId}`, group);
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }
}

/** A person in a chat with the bot (private unless a group is given), driving it through the emulator's client API. */
export class ChatUser {
  readonly client: ReturnType<EmulatorServer['getClient']>;
  /** Every message the bot sent to this chat, in order. */
  readonly received: BotMessage[] = [];

  constructor(
    server: EmulatorServer,
    private readonly url: string,
    private readonly token: string,
    readonly userId: number,
    firstName: string,
    group?: TelegramGroup,
  ) {
    this.chatId = group?.id ?? userId;
    this.client = server.getClient(token, {
      userId,
      chatId: this.chatId,
      firstName,
      timeout: 5000,
      ...(group ? { type: group.type, chatTitle: group.title } : {}),
    });
  }

  /** The chat the person writes in: their private chat (their own id), or the group's. */
  readonly chatId: number;

  async send(text: string): Promise<void> {
    if (text.startsWith('/')) await this.client.sendCommand(this.client.makeCommand(text));
    else await this.client.sendMessage(this.client.makeMessage(text));
  }

  async press(message: BotMessage, label: string): Promise<void> {
    const button = message.buttons.find((candidate) => candidate.text === label);
    if (!button) throw new Error(`no button "${label}" on: ${message.text}`);
    await this.pressData(message.messageId, button.data);
  }

  async pressData(messageId: number, data: string): Promise<void> {
    await this.client.sendCallback(
      this.client.makeCallbackQuery(data, { message: { message_id: messageId, chat: { id: this.chatId } } }),
    );
  }

  private async fetch(): Promise<void> {
    // The client's own getUpdates waits until something arrives; this asks once and returns.
    const response = await fetch(`${this.url}/getUpdates`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: this.token, chatId: this.chatId }),
    });
    const updates = (await response.json()) as { result: RawBotMessage[] };
    for (const update of updates.result) {
      this.received.push({
        messageId: update.messageId,
        text: update.message.text ?? '',
        parseMode: update.message.parse_mode,
        buttons: (update.message.reply_markup?.inline_keyboard ?? [])
          .flat()
          .map((button) => ({ text: button.text, data: button.callback_data })),
      });
    }
  }

  /** Waits for the first message after `after` (an index into `received`) that matches. */
  async waitFor(
    what: string,
    match: (message: BotMessage) => boolean,
    { after = 0, timeoutMs = 20_000 }: { after?: number; timeoutMs?: number } = {},
  ): Promise<BotMessage> {
    return waitFor(
      `${what} (chat ${this.chatId}); received: ${JSON.stringify(this.received.slice(after).map((m) => m.text.slice(0, 80)))}`,
      async () => {
        await this.fetch();
        return this.received.slice(after).find(match);
      },
      { timeoutMs, everyMs: 50 },
    );
  }

  /** Sends a text and waits for the bot's first answer to it. */
  async ask(text: string, match: (message: BotMessage) => boolean = () => true): Promise<BotMessage> {
    await this.fetch();
    const after = this.received.length;
    await this.send(text);
    return this.waitFor(`an answer to "${text}"`, match, { after });
  }

  /** Presses a button and waits for the bot's answer. */
  async tap(
    message: BotMessage,
    label: string,
    match: (message: BotMessage) => boolean = () => true,
  ): Promise<BotMessage> {
    await this.fetch();
    const after = this.received.length;
    await this.press(message, label);
    return this.waitFor(`an answer to the button "${label}"`, match, { after });
  }

  async drain(): Promise<void> {
    await this.fetch();
  }
}
