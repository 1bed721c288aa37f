import { compactUuid, expandUuid } from '../domain/compact-id.ts';
import type { Choice } from '../domain/message.ts';
import { statusCode, statusFromCode, type Status } from '../domain/status.ts';
import { isLocale, type Locale } from '../i18n.ts';
import { isUuid } from '../services/errors.ts';

/** Telegram refuses callback data over 64 bytes; nothing longer is sent, nor read back. */
export const BUTTON_DATA_MAX_BYTES = 64;

/**
 * What a button (or, where a channel has none, a numbered choice) asks for. Every button the bot sends is
 * one of these, encoded by `encodeButton` and read back by `decodeButton`, so the two cannot drift apart.
 * The wire format is fixed: buttons already sent sit in officials' chats for months and must keep working.
 *
 * | kind             | data                                                    |
 * |------------------|---------------------------------------------------------|
 * | acknowledge      | `ack:<campaign>`                                        |
 * | register         | `reg:<campaign>`                                        |
 * | status           | `st:<task>:<d, p, b or n>`                              |
 * | undo             | `undo:<report>`                                         |
 * | undoGroup        | `ug:<report group>`                                     |
 * | whichTask        | `pr:<pending reply>:<index>`                            |
 * | allTasks         | `pa:<pending reply>`                                    |
 * | language         | `lang:vi`, `lang:en`                                    |
 * | summary          | `sum:<campaign>`, with a block `bs:<compact>:-:<block>` |
 * | drill            | `sd:<campaign>:<unit>`, `bd:<compact>:<unit>:<block>`   |
 * | lateUnits        | `sl:<campaign>:<unit or ->`, `bl:…:<block>`             |
 * | workbook         | `sx:<campaign>:<unit or ->`, `bx:…:<block>`             |
 * | exemplarCampaign | `exc:<draft>:<index>`                                   |
 * | exemplarNoPhoto  | `exs:<draft>`                                           |
 * | exemplarWithdraw | `exu:<exemplar>`                                        |
 *
 * Ids are UUIDs; a button that keeps an emulation block carries its campaign as a 22-character compact id
 * (domain/compact-id.ts) so that a unit code and a block code still fit in 64 bytes.
 */
export type Button =
  | { kind: 'acknowledge' | 'register'; campaignId: string }
  | { kind: 'status'; taskId: string; status: Status }
  | { kind: 'undo'; reportId: string }
  /** Takes back every report of one message about several tasks. */
  | { kind: 'undoGroup'; groupId: string }
  | { kind: 'whichTask'; pendingId: string; index: number }
  /** The answer "all of them" to "which task?": every open task the question offered. */
  | { kind: 'allTasks'; pendingId: string }
  | { kind: 'language'; locale: Locale }
  /** A campaign's summary in the asker's default scope; `block` limits it to an emulation block. */
  | { kind: 'summary'; campaignId: string; block?: string }
  /** The summary of one unit's subtree. */
  | { kind: 'drill'; campaignId: string; unitCode: string; block?: string }
  /** Only the late units, or the workbook, of a unit's subtree (`unitCode` absent: the default scope). */
  | { kind: 'lateUnits' | 'workbook'; campaignId: string; unitCode?: string; block?: string }
  | { kind: 'exemplarCampaign'; draftId: string; index: number }
  | { kind: 'exemplarNoPhoto'; draftId: string }
  | { kind: 'exemplarWithdraw'; exemplarId: string };

export type ButtonKind = Button['kind'];

/** Data that is no button of ours (an old format, a forged press, a cut-off string): answered "stale". */
export interface StaleButton {
  kind: 'stale';
}

export type DecodedButton = Button | StaleButton;

const STALE: StaleButton = { kind: 'stale' };

/** Summary actions and their one-letter codes in `s?:` and `b?:` data. */
const SUMMARY_LETTERS = { summary: 's', drill: 'd', lateUnits: 'l', workbook: 'x' } as const;
type SummaryKind = keyof typeof SUMMARY_LETTERS;
const SUMMARY_KINDS = Object.fromEntries(
  Object.entries(SUMMARY_LETTERS).map(([kind, letter]) => [letter, kind as SummaryKind]),
) as Record<string, SummaryKind>;

export function encodeButton(button: Button): string {
  switch (button.kind) {
    case 'acknowledge':
      return `ack:${button.campaignId}`;
    case 'register':
      return `reg:${button.campaignId}`;
    case 'status':
      return `st:${button.taskId}:${statusCode(button.status)}`;
    case 'undo':
      return `undo:${button.reportId}`;
    case 'undoGroup':
      return `ug:${button.groupId}`;
    case 'whichTask':
      return `pr:${button.pendingId}:${button.index}`;
    case 'allTasks':
      return `pa:${button.pendingId}`;
    case 'language':
      return `lang:${button.locale}`;
    case 'exemplarCampaign':
      return `exc:${button.draftId}:${button.index}`;
    case 'exemplarNoPhoto':
      return `exs:${button.draftId}`;
    case 'exemplarWithdraw':
      return `exu:${button.exemplarId}`;
    case 'summary':
    case 'drill':
    case 'lateUnits':
    case 'workbook':
      return encodeSummaryButton(button);
  }
}

function encodeSummaryButton(button: Extract<Button, { kind: SummaryKind }>): string {
  const letter = SUMMARY_LETTERS[button.kind];
  const unit = 'unitCode' in button && button.unitCode !== undefined ? button.unitCode : '-';
  if (button.block !== undefined)
    return `b${letter}:${compactUuid(button.campaignId) ?? button.campaignId}:${unit}:${button.block}`;
  return button.kind === 'summary' ? `sum:${button.campaignId}` : `s${letter}:${button.campaignId}:${unit}`;
}

export function fitsInButton(data: string): boolean {
  return Buffer.byteLength(data) <= BUTTON_DATA_MAX_BYTES;
}

/** A choice answering with this button. */
export function buttonChoice(label: string, button: Button): Choice {
  return { label, data: encodeButton(button) };
}

const INDEX = /^\d{1,3}$/;

/** Reads button data back; anything that is not exactly one of ours is `stale` (never a throw). */
export function decodeButton(data: string): DecodedButton {
  if (typeof data !== 'string' || !fitsInButton(data)) return STALE;
  const [head = '', ...fields] = data.split(':');
  return decodeFields(head, fields) ?? STALE;
}

function decodeFields(head: string, fields: string[]): Button | null {
  const [id = '', second, third] = fields;
  const uuid = isUuid(id);
  if (fields.length === 1) {
    if (head === 'lang') return isLocale(id) ? { kind: 'language', locale: id } : null;
    if (!uuid) return null;
    if (head === 'ack') return { kind: 'acknowledge', campaignId: id };
    if (head === 'reg') return { kind: 'register', campaignId: id };
    if (head === 'undo') return { kind: 'undo', reportId: id };
    if (head === 'ug') return { kind: 'undoGroup', groupId: id };
    if (head === 'pa') return { kind: 'allTasks', pendingId: id };
    if (head === 'sum') return { kind: 'summary', campaignId: id };
    if (head === 'exs') return { kind: 'exemplarNoPhoto', draftId: id };
    if (head === 'exu') return { kind: 'exemplarWithdraw', exemplarId: id };
    return null;
  }
  if (fields.length === 2 && second !== undefined) {
    if (!uuid) return null;
    if (head === 'st') {
      const status = statusFromCode(second);
      return status ? { kind: 'status', taskId: id, status } : null;
    }
    if (head === 'pr' && INDEX.test(second))
      return { kind: 'whichTask', pendingId: id, index: Number(second) };
    if (head === 'exc' && INDEX.test(second))
      return { kind: 'exemplarCampaign', draftId: id, index: Number(second) };
    const kind = head.startsWith('s') ? SUMMARY_KINDS[head.slice(1)] : undefined;
    return kind && kind !== 'summary' ? summaryButton(kind, id, second, undefined) : null;
  }
  if (fields.length === 3 && second !== undefined && third !== undefined && head.startsWith('b')) {
    const kind = SUMMARY_KINDS[head.slice(1)];
    const campaignId = expandUuid(id);
    return kind && campaignId ? summaryButton(kind, campaignId, second, third) : null;
  }
  return null;
}

/**
 * A summary action over `unit` ("-" for the asker's default scope). A drill-down needs a unit; a block
 * summary always starts from the default scope. Late units and the workbook of a block with no code ask
 * for no block (as they always did).
 */
function summaryButton(
  kind: SummaryKind,
  campaignId: string,
  unit: string,
  block: string | undefined,
): Button | null {
  const unitCode = unit === '-' || unit === '' ? undefined : unit;
  const withBlock = block === undefined ? {} : { block };
  switch (kind) {
    case 'summary':
      return { kind, campaignId, ...withBlock };
    case 'drill':
      return unitCode === undefined ? null : { kind, campaignId, unitCode, ...withBlock };
    case 'lateUnits':
    case 'workbook':
      // `sl:<id>:` (no unit at all) was never sent; `bl:<id>::<block>` reads as the default scope.
      if (block === undefined && unit === '') return null;
      return {
        kind,
        campaignId,
        ...(unitCode !== undefined ? { unitCode } : {}),
        ...(block ? { block } : {}),
      };
  }
}
