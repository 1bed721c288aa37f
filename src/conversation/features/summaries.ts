import { parseSummaryArgs, parseSummaryRequest, type SummaryRequest } from '../../domain/intents.ts';
import { isSupervisor } from '../../domain/scope.ts';
import { lateItems } from '../../domain/summary.ts';
import { countExemplars } from '../../services/exemplars.ts';
import {
  campaignBlocks,
  campaignByDocNumber,
  campaignsToSummarise,
  findBlock,
  summaryAccess,
  type CampaignBlock,
} from '../../services/summary-access.ts';
import { campaignRollUp, campaignSummary, summaryFromRollUp } from '../../services/summaries.ts';
import { buttonChoice, encodeButton, fitsInButton, type Button } from '../buttons.ts';
import { compose, type CommandEvent, type Middleware, type TextEvent } from '../router.ts';
import { requireRole, type ButtonTurn, type LinkedTurn, type Turn } from '../turn.ts';

/** A supervisor's summary request in plain words ("tổng hợp 01/KH-UBND", "tình hình khối CUM1"). */
export const isSummaryRequest = (text: string): boolean => parseSummaryRequest(text) !== null;

/** Only leaders and admins read summaries; a member asking gets a polite no. */
export const supervisorsOnly = <C extends LinkedTurn>(...steps: Middleware<C>[]): Middleware<C> =>
  requireRole(isSupervisor, 'summary.refused', ...steps);

type SummaryButtonKind = 'summary' | 'drill' | 'lateUnits' | 'workbook';
type SummaryButton = Extract<Button, { kind: SummaryButtonKind }>;

/** The part of a campaign a summary shows: the campaign, and a unit's subtree (undefined: all of it). */
interface Granted {
  campaign: { id: string; docNumber: string };
  unitCode: string | undefined;
}

/** The turn of a summary button once inScope has let it through. */
type ScopedButtonTurn = LinkedTurn<ButtonTurn<SummaryButtonKind>> & { scope: Granted };

/** Why a summary is refused, as the asker is told: a campaign outside their scope looks like no campaign. */
const REFUSALS = { not_supervisor: 'summary.refused', missing: 'stale', out_of_scope: 'summary.outOfScope' };

/** The part of the campaign the asker may see (services/summary-access.ts), or null after saying no. */
async function grant(
  turn: LinkedTurn,
  campaignId: string,
  unitCode: string | undefined,
): Promise<Granted | null> {
  const access = await summaryAccess(turn.prisma('summary access'), turn.member, campaignId, unitCode);
  if (access.kind !== 'granted') {
    turn.reply(REFUSALS[access.kind]);
    return null;
  }
  return { campaign: access.campaign, unitCode: access.unitCode };
}

/**
 * Lets a summary button through when its campaign and unit are in the asker's scope (a button pressed
 * after the asker's scope changed, or forged, is refused with no data shown).
 */
export function inScope(
  ...steps: Middleware<ScopedButtonTurn>[]
): Middleware<LinkedTurn<ButtonTurn<SummaryButtonKind>>> {
  const chain = compose(steps);
  return async (turn, next) => {
    const button = turn.button;
    const scope = await grant(turn, button.campaignId, 'unitCode' in button ? button.unitCode : undefined);
    if (scope) await chain(Object.assign(turn, { scope }), next);
  };
}

/** A campaign named by number, or the running one; several running: the asker chooses. */
async function answer(turn: LinkedTurn, request: SummaryRequest): Promise<void> {
  const { docQuery, block } = request;
  if (docQuery !== null) {
    const found = await campaignByDocNumber(turn.sql, docQuery);
    if (!found) turn.reply('summary.unknownCampaign', { doc: docQuery });
    else await showGranted(turn, await grant(turn, found.id, undefined), undefined, block);
    return;
  }
  const running = await campaignsToSummarise(turn.prisma('campaigns to summarise'), turn.member);
  const only = running[0];
  if (!only) turn.reply('summary.noCampaign');
  else if (running.length === 1)
    await showGranted(turn, await grant(turn, only.id, undefined), undefined, block);
  else {
    // The block asked for comes along with the choice (when it fits in a button's 64 bytes).
    const choice = (campaignId: string): Button => {
      const withBlock: Button = { kind: 'summary', campaignId, ...(block !== undefined ? { block } : {}) };
      return fitsInButton(encodeButton(withBlock)) ? withBlock : { kind: 'summary', campaignId };
    };
    turn.reply(
      'summary.choose',
      {},
      running.map((campaign) => [buttonChoice(campaign.docNumber, choice(campaign.id))]),
    );
  }
}

/**
 * The summary and chart of the granted scope, optionally one emulation block within it. `unit` names the
 * scope in the buttons' data (undefined: the asker's default, which a later press checks again).
 */
async function showGranted(
  turn: LinkedTurn,
  granted: Granted | null,
  unit: string | undefined,
  block: string | undefined,
): Promise<void> {
  if (!granted) return;
  const found = block === undefined ? undefined : await resolveBlock(turn, granted, block);
  if (found === null) return;
  const db = turn.prisma('summary');
  const campaignId = granted.campaign.id;
  const rolled = await campaignSummary(db, campaignId, {
    unitCode: granted.unitCode,
    block: found?.code,
    now: turn.now,
    timeZone: turn.timeZone,
  });
  const summary = found ? { ...rolled, blockName: found.name } : rolled;
  const exemplars = await countExemplars(db, campaignId, {
    unitCode: granted.unitCode,
    block: found?.code,
  });
  turn.replies.push(
    ...turn.render.summaryWithChart(turn.locale, summary, {
      now: turn.now,
      unit: unit ?? '-',
      chartUnitCode: granted.unitCode,
      exemplars,
    }),
  );
}

/**
 * The emulation block asked for among the blocks in the scope, with a friendlier name saying what kind of
 * units it holds when they are all of one kind. Null, after a clear answer listing the blocks the asker
 * may see (and no data), when there is no such block.
 */
async function resolveBlock(
  turn: LinkedTurn,
  granted: Granted,
  asked: string,
): Promise<{ code: string; name: string } | null> {
  const blocks = await campaignBlocks(turn.sql, granted.campaign.id, granted.unitCode);
  const match = findBlock(blocks, asked);
  if (match) return { code: match.code, name: blockName(turn, match) };
  const { docNumber } = granted.campaign;
  const lines: string[] = [];
  // What was typed comes folded (no diacritics, lower case); codes are written in capitals.
  if (asked !== '') lines.push(turn.text('summary.unknownBlock', { block: asked.toUpperCase(), docNumber }));
  const codes = blocks.map((block) => block.code);
  lines.push(
    codes.length > 0
      ? turn.text('summary.blockList', { blocks: codes.join(', '), example: codes[0] })
      : turn.text('summary.noBlocks', { docNumber }),
  );
  turn.replies.push({ text: lines.join('\n') });
  return null;
}

function blockName(turn: Turn, block: CampaignBlock): string {
  const [kind, ...others] = block.kinds;
  const kindName = kind && others.length === 0 ? turn.render.unitKind(turn.locale, kind) : null;
  return kindName ? turn.text('summary.blockKind', { block: block.code, kind: kindName }) : block.code;
}

/** /tonghop (/summary). */
const command: Middleware<LinkedTurn<Turn<CommandEvent>>> = (turn) =>
  answer(turn, parseSummaryArgs(turn.event.args));

/** "tổng hợp …". */
const text: Middleware<LinkedTurn<Turn<TextEvent>>> = (turn) =>
  answer(turn, parseSummaryRequest(turn.event.text) ?? { docQuery: null });

/** The buttons of a summary (behind inScope). */
const button: Middleware<ScopedButtonTurn> = async (turn) => {
  const pressed: SummaryButton = turn.button;
  const { scope } = turn;
  if (pressed.kind === 'summary') await showGranted(turn, scope, undefined, pressed.block);
  else if (pressed.kind === 'drill') await showGranted(turn, scope, pressed.unitCode, pressed.block);
  else if (pressed.kind === 'workbook') {
    turn.replies.push(
      turn.render.xlsxMessage(turn.locale, scope.campaign.docNumber, {
        kind: 'document',
        ref: {
          type: 'xlsx',
          campaignId: scope.campaign.id,
          ...(scope.unitCode ? { unitCode: scope.unitCode } : {}),
          ...(pressed.block ? { block: pressed.block } : {}),
          locale: turn.locale,
          at: turn.now.toISOString(),
        },
        fallback: turn.text('summary.xlsxUnavailable'),
      }),
    );
  } else {
    const { block } = pressed;
    const rolled = await campaignRollUp(turn.prisma('late units'), scope.campaign.id, {
      unitCode: scope.unitCode,
      block,
    });
    const summary = summaryFromRollUp(rolled, { block, now: turn.now, timeZone: turn.timeZone });
    const late = lateItems(rolled.tasks, rolled.units, turn.now, turn.timeZone);
    // The answer names at most 20 units: the full list is the workbook of the same scope, one tap away.
    const excel = buttonChoice(turn.text('buttons.excel'), {
      kind: 'workbook',
      campaignId: scope.campaign.id,
      ...(pressed.unitCode !== undefined ? { unitCode: pressed.unitCode } : {}),
      ...(block ? { block } : {}),
    });
    const choices = late.length > 0 && fitsInButton(excel.data) ? [[excel]] : undefined;
    turn.replies.push(turn.render.lateUnits(turn.locale, summary, late, choices));
  }
};

/**
 * /tonghop [docNumber] [khối CODE], the same in plain words, and the buttons under a summary: the summary
 * of the asker's scope (or a unit's subtree, or an emulation block within it) with a chart picture, only
 * the late units, the workbook.
 */
export const summaries = { command, text, button };
