import type { Db } from '../db/client.ts';
import type { OutboundMessage } from '../domain/message.ts';
import { writeOutbox } from './outbox.ts';
import { preferredAccount } from './accounts.ts';

/**
 * Tells every admin official something went wrong with the service itself (a channel's credentials),
 * once per dedupe key, on their most recently linked active account outside the channels named in
 * `avoidChannels` (a broken channel cannot carry news about itself).
 */
export async function alertAdmins(
  db: Db,
  input: { dedupeKey: string; message: (locale: string) => OutboundMessage; avoidChannels?: string[] },
): Promise<number> {
  const admins = await db.official.findMany({
    where: { role: 'admin' },
    include: {
      accounts: {
        where: { active: true, channel: { notIn: input.avoidChannels ?? [] } },
        orderBy: { linkedAt: 'desc' },
      },
    },
  });
  return db.$transaction((tx) =>
    writeOutbox(
      tx,
      admins.flatMap((admin) => {
        const account = preferredAccount(admin.accounts, admin.preferredChannel);
        if (!account) return [];
        return [
          {
            dedupeKey: `${input.dedupeKey}:${admin.id}`,
            channel: account.channel,
            chatId: account.chatId,
            channelAccountId: account.id,
            officialId: admin.id,
            message: input.message(admin.locale),
          },
        ];
      }),
    ),
  );
}
