/** The account news goes to: one on the official's preferred channel, else the most recently linked. */
export function preferredAccount<A extends { channel: string }>(
  accounts: A[],
  preferredChannel: string | null | undefined,
): A | undefined {
  return accounts.find((account) => account.channel === preferredChannel) ?? accounts[0];
}
