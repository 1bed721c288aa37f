import { randomBytes } from 'node:crypto';
import { Renderer } from '../../src/conversation/render.ts';
import { createTranslator } from '../../src/i18n.ts';
import type { LinkCodeKeys, RedeemDeps } from '../../src/services/officials.ts';

/** The server-side key link codes are hashed with in tests (the service derives its own from its config). */
export const TEST_LINK_CODE_KEYS: LinkCodeKeys = { current: randomBytes(32), previous: [] };

/** What redeemLinkCode takes besides the code: the keys, and what the notice to other chats is made with. */
export const redeemDeps: RedeemDeps = {
  linkCodeKeys: TEST_LINK_CODE_KEYS,
  render: new Renderer(createTranslator(), 'Asia/Ho_Chi_Minh'),
  timeZone: 'Asia/Ho_Chi_Minh',
};
