import {
  cleanExemplarText,
  EXEMPLAR_LIMITS,
  exemplarTextProblem,
  isNoPhotoReply,
  splitExemplarText,
  type ExemplarTextProblem,
} from '../../domain/exemplar.ts';
import { parseExemplarRequest } from '../../domain/intents.ts';
import { exemplarCampaigns, recordExemplar, withdrawExemplar } from '../../services/exemplars.ts';
import {
  dropExemplarDrafts,
  dropPendingReply,
  exemplarDraft,
  saveExemplarDraft,
  type StoredExemplarDraft,
} from '../../services/pending-replies.ts';
import { buttonChoice } from '../buttons.ts';
import type { CommandEvent, Middleware, PhotoEvent, TextEvent } from '../router.ts';
import type { ButtonTurn, LinkedTurn, Turn } from '../turn.ts';

/** A draft left unfinished this long is abandoned. */
export const EXEMPLAR_DRAFT_TTL_MS = 24 * 3600_000;
const MAX_CAMPAIGN_CHOICES = 10;

/**
 * An exemplar being reported step by step, kept as a PendingReply of the chat's account. What is missing
 * decides the next question: the campaign (when several run), who, what, then (step by step only) a photo.
 */
interface Draft {
  kind: 'exemplar';
  /** The running campaigns offered to choose from, while none is chosen. */
  campaigns?: { id: string; docNumber: string }[];
  campaign?: { id: string; docNumber: string };
  subject?: string;
  achievement?: string;
  photoRef?: string;
  /** True when the report began step by step: the bot then offers to attach a photo. */
  askPhoto: boolean;
  /** The photo question was answered ("Bỏ qua", "không"). */
  photoSkipped?: boolean;
}

interface OpenDraft {
  id: string;
  draft: Draft;
}

type Step = 'campaign' | 'who' | 'what' | 'photo' | 'complete';

const stepOf = (draft: Draft): Step =>
  !draft.campaign
    ? 'campaign'
    : !draft.subject
      ? 'who'
      : !draft.achievement
        ? 'what'
        : draft.askPhoto && !draft.photoRef && !draft.photoSkipped
          ? 'photo'
          : 'complete';

const openDraft = (row: StoredExemplarDraft | null): OpenDraft | null =>
  row ? { id: row.id, draft: row.payload as Draft } : null;

/** While the draft waits for words (who, what), a reply is never read as a numbered choice. */
const waitsForWords = (found: OpenDraft | null): boolean => {
  const step = found ? stepOf(found.draft) : null;
  return step === 'who' || step === 'what';
};

/** Commands whose words also start a report in a photo's caption. */
const CAPTION_COMMAND = /^\/(?:diemhinh|exemplar)(?:@\w+)?(?:\s+([\s\S]*))?$/i;

/** What a caption asks for: the words after /diemhinh or "điển hình", or null when it is no request. */
function captionRequest(caption: string): string | null {
  const command = CAPTION_COMMAND.exec(caption.trim());
  if (command) return command[1] ?? '';
  return parseExemplarRequest(caption)?.rest ?? null;
}

/** Text of an exemplar request ("điển hình Nguyễn Văn A – trồng rừng"). */
export const isExemplarRequest = (text: string): boolean => parseExemplarRequest(text) !== null;

type Linked = LinkedTurn;
type TextTurn = LinkedTurn<Turn<TextEvent>>;

const drop = (turn: Linked) => dropExemplarDrafts(turn.sql, { accountId: turn.accountId, now: turn.now });
const current = async (turn: Linked) =>
  openDraft(await exemplarDraft(turn.sql, { accountId: turn.accountId, now: turn.now }));

async function start(turn: Linked, args: string, photoRef?: string): Promise<void> {
  await drop(turn);
  const campaigns = await exemplarCampaigns(turn.prisma('exemplar campaigns'), turn.member.unit);
  const only = campaigns[0];
  if (!only) {
    turn.reply('exemplar.noCampaign');
    return;
  }
  const { subject, achievement } = splitExemplarText(args);
  const draft: Draft = {
    kind: 'exemplar',
    askPhoto: !(subject !== '' && achievement),
    ...(campaigns.length === 1
      ? { campaign: { id: only.id, docNumber: only.docNumber } }
      : {
          campaigns: campaigns.slice(0, MAX_CAMPAIGN_CHOICES).map(({ id, docNumber }) => ({ id, docNumber })),
        }),
    ...(photoRef ? { photoRef } : {}),
  };
  take(turn, draft, 'subject', subject);
  if (achievement) take(turn, draft, 'achievement', achievement);
  await advance(turn, draft, null);
}

/**
 * A text while a draft is open. At "who" and "what" the words are the answer; at the photo question
 * "không"/"bỏ qua" skips it; otherwise the question is asked again. "điển hình …" starts over.
 */
async function answer(turn: Linked, found: OpenDraft, text: string): Promise<void> {
  const restart = parseExemplarRequest(text);
  if (restart) {
    await start(turn, restart.rest);
    return;
  }
  const { draft } = found;
  const step = stepOf(draft);
  if (step === 'who') {
    const split = splitExemplarText(text, { spacedOnly: true });
    take(turn, draft, 'subject', split.subject);
    if (draft.subject && split.achievement) take(turn, draft, 'achievement', split.achievement);
  } else if (step === 'what') {
    take(turn, draft, 'achievement', text);
  } else if (step === 'photo') {
    if (isNoPhotoReply(text)) draft.photoSkipped = true;
    else turn.reply('exemplar.photoExpected');
  }
  await advance(turn, draft, found.id);
}

/** Stores a field when it is acceptable; otherwise says what is wrong and leaves it to be asked again. */
function take(turn: Turn, draft: Draft, field: 'subject' | 'achievement', text: string): void {
  const cleaned = cleanExemplarText(text);
  if (cleaned === '') return;
  const problem = exemplarTextProblem(field, cleaned);
  if (problem) problemReply(turn, problem);
  else draft[field] = cleaned;
}

function problemReply(turn: Turn, problem: ExemplarTextProblem): void {
  if (problem.reason === 'too_long')
    turn.reply(`exemplar.${problem.field}TooLong`, { length: problem.length, max: problem.max });
  else turn.reply(`exemplar.${problem.field}Empty`);
}

/** Saves the draft and asks for what is missing, or records the exemplar once nothing is. */
async function advance(turn: Linked, draft: Draft, id: string | null): Promise<void> {
  const step = stepOf(draft);
  if (step === 'complete') {
    await record(turn, draft, id);
    return;
  }
  const draftId = await saveExemplarDraft(turn.sql, {
    id,
    accountId: turn.accountId,
    payload: JSON.parse(JSON.stringify(draft)) as Draft,
    expiresAt: new Date(turn.now.getTime() + EXEMPLAR_DRAFT_TTL_MS),
  });
  const docNumber = draft.campaign?.docNumber ?? '';
  switch (step) {
    case 'campaign':
      turn.reply(
        'exemplar.chooseCampaign',
        {},
        (draft.campaigns ?? []).map((campaign, index) => [
          buttonChoice(campaign.docNumber, { kind: 'exemplarCampaign', draftId, index }),
        ]),
      );
      return;
    case 'who':
      turn.reply('exemplar.askWho', { docNumber });
      return;
    case 'what':
      turn.reply('exemplar.askWhat', { who: draft.subject, docNumber });
      return;
    case 'photo':
      turn.reply('exemplar.askPhoto', { who: draft.subject }, [
        [buttonChoice(turn.text('buttons.skip'), { kind: 'exemplarNoPhoto', draftId })],
      ]);
      return;
  }
}

async function record(turn: Linked, draft: Draft, id: string | null): Promise<void> {
  if (!draft.campaign || !draft.subject || !draft.achievement) return;
  if (id) await dropPendingReply(turn.sql, id);
  const result = await recordExemplar(turn.prisma('record exemplar'), {
    campaignId: draft.campaign.id,
    officialId: turn.member.id,
    subject: draft.subject,
    achievement: draft.achievement,
    photoRef: draft.photoRef ?? null,
    channel: turn.event.channel,
    now: turn.now,
  });
  if (result.kind === 'not_allowed') {
    turn.reply('exemplar.notAllowed', { docNumber: draft.campaign.docNumber });
    return;
  }
  if (result.kind === 'invalid') {
    for (const problem of result.problems) problemReply(turn, problem);
    return;
  }
  turn.reply(
    'exemplar.recorded',
    {
      docNumber: result.docNumber,
      who: result.subject,
      what: result.achievement,
      photo: turn.text(draft.photoRef ? 'exemplar.photoYes' : 'exemplar.photoNo'),
    },
    [[buttonChoice(turn.text('buttons.undo'), { kind: 'exemplarWithdraw', exemplarId: result.id })]],
  );
}

/** /diemhinh [who – what]. */
const command: Middleware<LinkedTurn<Turn<CommandEvent>>> = (turn) => start(turn, turn.event.args);

/** "điển hình …" typed. */
const request: Middleware<TextTurn> = (turn) =>
  start(turn, parseExemplarRequest(turn.event.text)?.rest ?? '');

/** /huy (/cancel). */
const cancel: Middleware<Linked> = async (turn) =>
  turn.reply((await drop(turn)) ? 'exemplar.cancelled' : 'exemplar.nothingToCancel');

/** Any other command leaves an unfinished report behind, and says so, then runs as usual. */
const leave: Middleware<Linked> = async (turn, next) => {
  if (turn.opening.exemplarDraft && (await drop(turn))) turn.reply('exemplar.abandoned');
  await next();
};

/** A draft asking "who?" or "what?" takes the words as they come, before anything else reads them. */
const words: Middleware<TextTurn> = async (turn, next) => {
  const found = openDraft(turn.opening.exemplarDraft);
  if (found && waitsForWords(found)) await answer(turn, found, turn.event.text);
  else await next();
};

/** At its other questions (campaign, photo) the draft reads the text after numbered choices did. */
const reply: Middleware<TextTurn> = async (turn, next) => {
  const found = openDraft(turn.opening.exemplarDraft);
  if (found) await answer(turn, found, turn.event.text);
  else await next();
};

/** A picture: attached to the open draft, or a new report when its caption asks for one. */
const photo: Middleware<LinkedTurn<Turn<PhotoEvent>>> = async (turn) => {
  const { ref, caption } = turn.event;
  const found = await current(turn);
  if (!found) {
    const args = caption ? captionRequest(caption) : null;
    if (args === null) turn.reply('unsupported');
    else await start(turn, args, ref.length <= EXEMPLAR_LIMITS.photoRef ? ref : undefined);
    return;
  }
  const { draft } = found;
  const step = stepOf(draft);
  if (ref.length <= EXEMPLAR_LIMITS.photoRef) draft.photoRef = ref;
  if (step !== 'photo') turn.reply('exemplar.photoReceived');
  if (caption && (step === 'who' || step === 'what')) await answer(turn, found, caption);
  else await advance(turn, draft, found.id);
};

/** The buttons of this conversation: a campaign chosen, no photo, an exemplar withdrawn. */
const button: Middleware<
  LinkedTurn<ButtonTurn<'exemplarCampaign' | 'exemplarNoPhoto' | 'exemplarWithdraw'>>
> = async (turn) => {
  const pressed = turn.button;
  if (pressed.kind === 'exemplarWithdraw') {
    const result = await withdrawExemplar(turn.prisma('withdraw exemplar'), {
      exemplarId: pressed.exemplarId,
      officialId: turn.member.id,
      now: turn.now,
    });
    if (result.kind === 'not_allowed') turn.reply('stale');
    else
      turn.reply(result.kind === 'withdrawn' ? 'exemplar.withdrawn' : 'exemplar.alreadyWithdrawn', {
        who: result.subject,
      });
    return;
  }
  const found = await current(turn);
  if (!found || found.id !== pressed.draftId) {
    turn.reply('exemplar.expired');
    return;
  }
  const { draft } = found;
  const step = stepOf(draft);
  if (pressed.kind === 'exemplarCampaign' && step === 'campaign') {
    const chosen = draft.campaigns?.[pressed.index];
    if (!chosen) {
      turn.reply('stale');
      return;
    }
    draft.campaign = chosen;
    delete draft.campaigns;
  } else if (pressed.kind === 'exemplarNoPhoto' && step === 'photo') {
    draft.photoSkipped = true;
  } else {
    turn.reply('exemplar.expired');
    return;
  }
  await advance(turn, draft, found.id);
};

/**
 * /diemhinh: any linked official reports an exemplar (điển hình tiên tiến) of a running campaign of their
 * unit, in one line ("/diemhinh Nguyễn Văn A – trồng 2 ha rừng phòng hộ") or step by step, optionally with
 * a photo. The same turns work on every channel: buttons on Telegram, numbered choices on Zalo. The draft's
 * steps are raw SQL; finding the campaigns and recording the exemplar need Prisma.
 */
export const exemplars = { command, request, cancel, leave, words, reply, photo, button };
