import type { RawQueries } from '../db/raw-transactions.ts';

/**
 * Claims the one notice a group chat gets (the bot works in private chats): true only for the turn that
 * inserted the row, so two instances, two messages at once or a redelivery never tell a group twice.
 */
export async function claimGroupNotice(
  db: RawQueries,
  input: { channel: string; chatId: string; now: Date },
): Promise<boolean> {
  const rows = await db.$queryRaw<{ claimed: number }[]>`
    INSERT INTO "GroupChatNotice" (channel, "chatId", "notifiedAt")
    VALUES (${input.channel}, ${input.chatId}, ${input.now})
    ON CONFLICT DO NOTHING RETURNING 1 AS claimed`;
  return rows.length > 0;
}
