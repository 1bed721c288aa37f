import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { UpdatePoller } from '../../src/channels/polling.ts';
import { createLogger } from '../../src/logger.ts';
import { waitFor } from '../support/wait.ts';

const logger = createLogger('silent');

/** A poller over a platform where nothing ever comes, counting its fetches and the signal's listeners. */
function idlePoller(idleMs: number) {
  const seen = { fetches: 0, mostListeners: 0 };
  const poller = new UpdatePoller<number>({
    fetch: (signal) => {
      seen.fetches += 1;
      seen.mostListeners = Math.max(seen.mostListeners, getEventListeners(signal, 'abort').length);
      return Promise.resolve([]);
    },
    process: () => Promise.resolve(),
    idleMs,
    logger,
  });
  return { poller, seen };
}

describe('the polling loop', () => {
  it('leaves nothing listening on its abort signal between idle polls', async () => {
    const { poller, seen } = idlePoller(1);
    poller.start();
    try {
      // Node warns past 10 listeners on one signal: well past that many pauses, there must still be none.
      await waitFor('40 idle polls', () => (seen.fetches >= 40 ? true : undefined));
    } finally {
      await poller.stop();
    }
    expect(seen.mostListeners).toBe(0);
  });

  it('stops at once in the middle of a long pause', async () => {
    const { poller, seen } = idlePoller(60_000);
    poller.start();
    await waitFor('the first poll', () => (seen.fetches >= 1 ? true : undefined));
    const startedAt = Date.now();
    await poller.stop();
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    expect(seen.fetches).toBe(1);
  });
});
