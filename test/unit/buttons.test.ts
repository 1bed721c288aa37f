import { describe, expect, it } from 'vitest';
import {
  BUTTON_DATA_MAX_BYTES,
  decodeButton,
  encodeButton,
  fitsInButton,
  type Button,
} from '../../src/conversation/buttons.ts';

/**
 * The button codec: every button the bot sends is encoded here and read back here. The wire format is
 * fixed (buttons already sent sit in officials' chats, Zalo's numbered choices store it), so each kind is
 * pinned to its literal data.
 */
const CAMPAIGN = '0190f0f0-1234-7abc-8def-0123456789ab';
const COMPACT = 'AZDw8BI0eryN7wEjRWeJqw';
const OTHER = '01234567-89ab-4def-8123-456789abcdef';

const CASES: [Button, string][] = [
  [{ kind: 'acknowledge', campaignId: CAMPAIGN }, `ack:${CAMPAIGN}`],
  [{ kind: 'register', campaignId: CAMPAIGN }, `reg:${CAMPAIGN}`],
  [{ kind: 'status', taskId: OTHER, status: 'done' }, `st:${OTHER}:d`],
  [{ kind: 'status', taskId: OTHER, status: 'in_progress' }, `st:${OTHER}:p`],
  [{ kind: 'status', taskId: OTHER, status: 'blocked' }, `st:${OTHER}:b`],
  [{ kind: 'status', taskId: OTHER, status: 'not_started' }, `st:${OTHER}:n`],
  [{ kind: 'undo', reportId: OTHER }, `undo:${OTHER}`],
  [{ kind: 'undoGroup', groupId: OTHER }, `ug:${OTHER}`],
  [{ kind: 'whichTask', pendingId: OTHER, index: 2 }, `pr:${OTHER}:2`],
  [{ kind: 'allTasks', pendingId: OTHER }, `pa:${OTHER}`],
  [{ kind: 'language', locale: 'vi' }, 'lang:vi'],
  [{ kind: 'language', locale: 'en' }, 'lang:en'],
  [{ kind: 'summary', campaignId: CAMPAIGN }, `sum:${CAMPAIGN}`],
  [{ kind: 'drill', campaignId: CAMPAIGN, unitCode: 'TD-1' }, `sd:${CAMPAIGN}:TD-1`],
  [{ kind: 'lateUnits', campaignId: CAMPAIGN }, `sl:${CAMPAIGN}:-`],
  [{ kind: 'lateUnits', campaignId: CAMPAIGN, unitCode: 'TD' }, `sl:${CAMPAIGN}:TD`],
  [{ kind: 'workbook', campaignId: CAMPAIGN }, `sx:${CAMPAIGN}:-`],
  [{ kind: 'workbook', campaignId: CAMPAIGN, unitCode: 'TD' }, `sx:${CAMPAIGN}:TD`],
  [{ kind: 'summary', campaignId: CAMPAIGN, block: 'CUM1' }, `bs:${COMPACT}:-:CUM1`],
  [{ kind: 'summary', campaignId: CAMPAIGN, block: '' }, `bs:${COMPACT}:-:`],
  [{ kind: 'drill', campaignId: CAMPAIGN, unitCode: 'TD-1', block: 'CUM1' }, `bd:${COMPACT}:TD-1:CUM1`],
  [{ kind: 'lateUnits', campaignId: CAMPAIGN, block: 'CUM1' }, `bl:${COMPACT}:-:CUM1`],
  [{ kind: 'workbook', campaignId: CAMPAIGN, unitCode: 'TD', block: 'CUM1' }, `bx:${COMPACT}:TD:CUM1`],
  [{ kind: 'exemplarCampaign', draftId: OTHER, index: 0 }, `exc:${OTHER}:0`],
  [{ kind: 'exemplarNoPhoto', draftId: OTHER }, `exs:${OTHER}`],
  [{ kind: 'exemplarWithdraw', exemplarId: OTHER }, `exu:${OTHER}`],
];

describe('the button codec', () => {
  it.each(CASES)('encodes %o as its fixed data and reads it back', (button, data) => {
    expect(encodeButton(button)).toBe(data);
    expect(decodeButton(data)).toEqual(button);
  });

  it('covers every kind of button', () => {
    const kinds = new Set(CASES.map(([button]) => button.kind));
    expect([...kinds].sort()).toEqual(
      [
        'acknowledge',
        'allTasks',
        'drill',
        'exemplarCampaign',
        'exemplarNoPhoto',
        'exemplarWithdraw',
        'language',
        'lateUnits',
        'register',
        'status',
        'summary',
        'undo',
        'undoGroup',
        'whichTask',
        'workbook',
      ].sort(),
    );
  });

  it('reads ids in any case, as the parser before it did', () => {
    expect(decodeButton(`st:${OTHER.toUpperCase()}:d`)).toEqual({
      kind: 'status',
      taskId: OTHER.toUpperCase(),
      status: 'done',
    });
  });

  it('keeps to 64 bytes: longer data is not ours, and a block too long for a button does not fit', () => {
    const block = 'K'.repeat(40);
    const data = encodeButton({ kind: 'drill', campaignId: CAMPAIGN, unitCode: 'TD-1', block });
    expect(Buffer.byteLength(data)).toBeGreaterThan(BUTTON_DATA_MAX_BYTES);
    expect(fitsInButton(data)).toBe(false);
    expect(decodeButton(data)).toEqual({ kind: 'stale' });
    const longest = `bd:${COMPACT}:TD-1:${'K'.repeat(BUTTON_DATA_MAX_BYTES - `bd:${COMPACT}:TD-1:`.length)}`;
    expect(Buffer.byteLength(longest)).toBe(BUTTON_DATA_MAX_BYTES);
    expect(decodeButton(longest)).toMatchObject({ kind: 'drill', unitCode: 'TD-1' });
    // Multi-byte characters count as bytes, not characters.
    const vietnamese = `bl:${COMPACT}:-:${'Đ'.repeat(20)}`;
    expect(vietnamese.length).toBeLessThanOrEqual(BUTTON_DATA_MAX_BYTES);
    expect(decodeButton(vietnamese)).toEqual({ kind: 'stale' });
  });

  it.each([
    '',
    ':',
    'ack',
    'ack:',
    'ack:not-a-uuid',
    `ack:${CAMPAIGN}:extra`,
    `ACK:${CAMPAIGN}`,
    `st:${OTHER}`,
    `st:${OTHER}:x`,
    `st:${OTHER}:d:more`,
    'st:1:d',
    `pr:${OTHER}:`,
    `pr:${OTHER}:-1`,
    `pr:${OTHER}:1.5`,
    `pr:${OTHER}:abc`,
    'lang:fr',
    'lang:',
    `sum:${COMPACT}`,
    `sd:${CAMPAIGN}:-`,
    `sd:${CAMPAIGN}:`,
    `sd:${CAMPAIGN}`,
    `sl:${CAMPAIGN}`,
    `sl:${CAMPAIGN}:`,
    `sz:${CAMPAIGN}:-`,
    `bs:${CAMPAIGN}:-:CUM1`,
    `bs:${COMPACT}:-`,
    `bd:${COMPACT}:-:CUM1`,
    `bz:${COMPACT}:-:CUM1`,
    'bs:!!!!!!!!!!!!!!!!!!!!!!:-:CUM1',
    `exc:${OTHER}:x`,
    `exu:${OTHER}:0`,
    'ug:',
    'ug:not-a-uuid',
    `ug:${OTHER}:0`,
    `pa:${OTHER}:0`,
    `pa:${COMPACT}`,
    '\u0000',
    'ack:\ud800',
  ])('reads %j as stale, without throwing', (data) => {
    expect(decodeButton(data)).toEqual({ kind: 'stale' });
  });

  it('reads a block button with an empty unit, or late units of a block with no code, as the default scope', () => {
    expect(decodeButton(`bl:${COMPACT}::CUM1`)).toEqual({
      kind: 'lateUnits',
      campaignId: CAMPAIGN,
      block: 'CUM1',
    });
    expect(decodeButton(`bx:${COMPACT}:TD:`)).toEqual({
      kind: 'workbook',
      campaignId: CAMPAIGN,
      unitCode: 'TD',
    });
    // A block summary always starts from the asker's default scope, whatever unit its data names.
    expect(decodeButton(`bs:${COMPACT}:TD:CUM1`)).toEqual({
      kind: 'summary',
      campaignId: CAMPAIGN,
      block: 'CUM1',
    });
  });
});
