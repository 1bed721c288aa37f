import type { Tx } from '../db/client.ts';
import {
  exemplarTextProblem,
  isNoPhotoReply,
  splitExemplarText,
  cleanExemplarText,
  EXEMPLAR_LIMITS,
  type ExemplarTextProblem,
} from '../domain/exemplar.ts';
import { parseExemplarRequest } from '../domain/intents.ts';
import type { Choice, OutboundMessage } from '../domain/message.ts';
import type { Official, Unit } from '../generated/prisma/client.ts';
import { exemplarCampaigns, recordExemplar, withdrawExemplar } from '../services/exemplars.ts';
import type { InboundEvent } from './events.ts';
import type { Renderer } from './render.ts';

/** A draft left unfinished this long is abandoned. */
export const EXEMPLAR_DRAFT_TTL_MS = 24 * 3600_000;
const MAX_CAMPAIGN_CHOICES = 10;

/** The part of a dialogue turn this conversation reads and answers into. */
export interface ExemplarTurn {
  tx: Tx;
  event: InboundEvent;
  locale: string;
  member: (Official & { unit: Unit }) | null;
  accountId: string | null;
  now: Date;
  replies: OutboundMessage[];
}

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

/** Commands whose words also start a report in a photo's caption. */
const CAPTION_COMMAND = /^\/(?:diemhinh|exemplar)(?:@\w+)?(?:\s+([\s\S]*))?$/i;

/**
 * /diemhinh: any linked official reports an exemplar (điển hình tiên tiến) of a running campaign of their
 * unit, in one line ("/diemhinh Nguyễn Văn A – trồng 2 ha rừng phòng hộ") or step by step, optionally with
 * a photo. The same turns work on every channel: buttons on Telegram, numbered choices on Zalo.
 */
export class ExemplarDialogue {
  constructor(private readonly render: Renderer) {}

  private reply(turn: ExemplarTurn, key: string, vars?: Record<string, unknown>, choices?: Choice[][]) {
    turn.replies.push(this.render.text(turn.locale, key, vars, choices));
  }

  /** The chat's unfinished draft, if any (expired ones are gone for good). */
  async draft(turn: ExemplarTurn): Promise<{ id: string; draft: Draft } | null> {
    if (!turn.accountId) return null;
    const row = await turn.tx.pendingReply.findFirst({
      where: {
        channelAccountId: turn.accountId,
        expiresAt: { gt: turn.now },
        payload: { path: ['kind'], equals: 'exemplar' },
      },
      orderBy: { createdAt: 'desc' },
    });
    return this.draftOf(row);
  }

  /** A stored draft (a PendingReply of kind "exemplar") as this conversation reads it. */
  draftOf(row: { id: string; payload: unknown } | null): { id: string; draft: Draft } | null {
    return row ? { id: row.id, draft: row.payload as Draft } : null;
  }

  /** True while the draft waits for words (who, what): then a reply is never read as a numbered choice. */
  waitsForWords(found: { draft: Draft } | null): boolean {
    const step = found ? stepOf(found.draft) : null;
    return step === 'who' || step === 'what';
  }

  /** Drops the chat's draft; true when there was one. */
  async abandon(turn: ExemplarTurn): Promise<boolean> {
    if (!turn.accountId) return false;
    const { count } = await turn.tx.pendingReply.deleteMany({
      where: {
        channelAccountId: turn.accountId,
        expiresAt: { gt: turn.now },
        payload: { path: ['kind'], equals: 'exemplar' },
      },
    });
    return count > 0;
  }

  /** /huy (/cancel). */
  async cancel(turn: ExemplarTurn): Promise<void> {
    this.reply(turn, (await this.abandon(turn)) ? 'exemplar.cancelled' : 'exemplar.nothingToCancel');
  }

  /** /diemhinh [who – what], "điển hình …", or a photo captioned so. */
  async start(turn: ExemplarTurn, args: string, photoRef?: string): Promise<void> {
    const member = turn.member;
    if (!member) return;
    await this.abandon(turn);
    const campaigns = await exemplarCampaigns(turn.tx, member.unit);
    const only = campaigns[0];
    if (!only) {
      this.reply(turn, 'exemplar.noCampaign');
      return;
    }
    const { subject, achievement } = splitExemplarText(args);
    const draft: Draft = {
      kind: 'exemplar',
      askPhoto: !(subject !== '' && achievement),
      ...(campaigns.length === 1
        ? { campaign: { id: only.id, docNumber: only.docNumber } }
        : {
            campaigns: campaigns
              .slice(0, MAX_CAMPAIGN_CHOICES)
              .map(({ id, docNumber }) => ({ id, docNumber })),
          }),
      ...(photoRef ? { photoRef } : {}),
    };
    this.take(turn, draft, 'subject', subject);
    if (achievement) this.take(turn, draft, 'achievement', achievement);
    await this.advance(turn, draft, null);
  }

  /**
   * A text while a draft is open. At "who" and "what" the words are the answer; at the photo question
   * "không"/"bỏ qua" skips it; otherwise the question is asked again. "điển hình …" starts over.
   */
  async answer(turn: ExemplarTurn, found: { id: string; draft: Draft }, text: string): Promise<void> {
    const restart = parseExemplarRequest(text);
    if (restart) {
      await this.start(turn, restart.rest);
      return;
    }
    const { draft } = found;
    const step = stepOf(draft);
    if (step === 'who') {
      const split = splitExemplarText(text, { spacedOnly: true });
      this.take(turn, draft, 'subject', split.subject);
      if (draft.subject && split.achievement) this.take(turn, draft, 'achievement', split.achievement);
    } else if (step === 'what') {
      this.take(turn, draft, 'achievement', text);
    } else if (step === 'photo') {
      if (isNoPhotoReply(text)) draft.photoSkipped = true;
      else this.reply(turn, 'exemplar.photoExpected');
    }
    await this.advance(turn, draft, found.id);
  }

  /** A picture: attached to the open draft, or a new report when its caption asks for one. */
  async photo(turn: ExemplarTurn, ref: string, caption: string | undefined): Promise<void> {
    const found = await this.draft(turn);
    if (!found) {
      const args = caption ? this.captionRequest(caption) : null;
      if (args === null) this.reply(turn, 'unsupported');
      else await this.start(turn, args, ref.length <= EXEMPLAR_LIMITS.photoRef ? ref : undefined);
      return;
    }
    const { draft } = found;
    const step = stepOf(draft);
    if (ref.length <= EXEMPLAR_LIMITS.photoRef) draft.photoRef = ref;
    if (step !== 'photo') this.reply(turn, 'exemplar.photoReceived');
    if (caption && (step === 'who' || step === 'what')) {
      await this.answer(turn, found, caption);
      return;
    }
    await this.advance(turn, draft, found.id);
  }

  /** What a caption asks for: the words after /diemhinh or "điển hình", or null when it is no request. */
  private captionRequest(caption: string): string | null {
    const command = CAPTION_COMMAND.exec(caption.trim());
    if (command) return command[1] ?? '';
    return parseExemplarRequest(caption)?.rest ?? null;
  }

  /** The buttons of this conversation: exc (campaign), exs (no photo), exu (withdraw). */
  async choice(turn: ExemplarTurn, kind: string, id: string, extra: string): Promise<void> {
    const member = turn.member;
    if (!member) return;
    if (kind === 'exu') {
      const result = await withdrawExemplar(turn.tx, {
        exemplarId: id,
        officialId: member.id,
        now: turn.now,
      });
      if (result.kind === 'not_allowed') this.reply(turn, 'stale');
      else
        this.reply(turn, result.kind === 'withdrawn' ? 'exemplar.withdrawn' : 'exemplar.alreadyWithdrawn', {
          who: result.subject,
        });
      return;
    }
    const found = await this.draft(turn);
    if (!found || found.id !== id) {
      this.reply(turn, 'exemplar.expired');
      return;
    }
    const { draft } = found;
    const step = stepOf(draft);
    if (kind === 'exc' && step === 'campaign') {
      const chosen = draft.campaigns?.[Number(extra)];
      if (!chosen) {
        this.reply(turn, 'stale');
        return;
      }
      draft.campaign = chosen;
      delete draft.campaigns;
    } else if (kind === 'exs' && step === 'photo') {
      draft.photoSkipped = true;
    } else {
      this.reply(turn, 'exemplar.expired');
      return;
    }
    await this.advance(turn, draft, found.id);
  }

  /** Stores a field when it is acceptable; otherwise says what is wrong and leaves it to be asked again. */
  private take(turn: ExemplarTurn, draft: Draft, field: 'subject' | 'achievement', text: string): void {
    const cleaned = cleanExemplarText(text);
    if (cleaned === '') return;
    const problem = exemplarTextProblem(field, cleaned);
    if (problem) {
      this.problem(turn, problem);
      return;
    }
    draft[field] = cleaned;
  }

  private problem(turn: ExemplarTurn, problem: ExemplarTextProblem): void {
    if (problem.reason === 'too_long')
      this.reply(turn, `exemplar.${problem.field}TooLong`, { length: problem.length, max: problem.max });
    else this.reply(turn, `exemplar.${problem.field}Empty`);
  }

  /** Saves the draft and asks for what is missing, or records the exemplar once nothing is. */
  private async advance(turn: ExemplarTurn, draft: Draft, id: string | null): Promise<void> {
    const step = stepOf(draft);
    if (step === 'complete') {
      await this.record(turn, draft, id);
      return;
    }
    const draftId = await this.save(turn, draft, id);
    if (!draftId) {
      // Without an account there is nowhere to keep a draft (cannot happen for a linked chat).
      this.reply(turn, 'exemplar.expired');
      return;
    }
    const docNumber = draft.campaign?.docNumber ?? '';
    switch (step) {
      case 'campaign':
        this.reply(
          turn,
          'exemplar.chooseCampaign',
          {},
          (draft.campaigns ?? []).map((campaign, index) => [
            { label: campaign.docNumber, data: `exc:${draftId}:${index}` },
          ]),
        );
        return;
      case 'who':
        this.reply(turn, 'exemplar.askWho', { docNumber });
        return;
      case 'what':
        this.reply(turn, 'exemplar.askWhat', { who: draft.subject, docNumber });
        return;
      case 'photo':
        this.reply(turn, 'exemplar.askPhoto', { who: draft.subject }, [
          [{ label: this.render.text(turn.locale, 'buttons.skip').text, data: `exs:${draftId}` }],
        ]);
        return;
    }
  }

  private async save(turn: ExemplarTurn, draft: Draft, id: string | null): Promise<string | null> {
    const expiresAt = new Date(turn.now.getTime() + EXEMPLAR_DRAFT_TTL_MS);
    const payload = JSON.parse(JSON.stringify(draft)) as object;
    if (id) {
      await turn.tx.pendingReply.update({ where: { id }, data: { payload, expiresAt } });
      return id;
    }
    if (!turn.accountId) return null;
    const created = await turn.tx.pendingReply.create({
      data: { channelAccountId: turn.accountId, payload, expiresAt },
      select: { id: true },
    });
    return created.id;
  }

  private async record(turn: ExemplarTurn, draft: Draft, id: string | null): Promise<void> {
    const member = turn.member;
    if (!member || !draft.campaign || !draft.subject || !draft.achievement) return;
    if (id) await turn.tx.pendingReply.deleteMany({ where: { id } });
    const result = await recordExemplar(turn.tx, {
      campaignId: draft.campaign.id,
      officialId: member.id,
      subject: draft.subject,
      achievement: draft.achievement,
      photoRef: draft.photoRef ?? null,
      channel: turn.event.channel,
      now: turn.now,
    });
    if (result.kind === 'not_allowed') {
      this.reply(turn, 'exemplar.notAllowed', { docNumber: draft.campaign.docNumber });
      return;
    }
    if (result.kind === 'invalid') {
      for (const problem of result.problems) this.problem(turn, problem);
      return;
    }
    const t = (key: string) => this.render.text(turn.locale, key).text;
    this.reply(
      turn,
      'exemplar.recorded',
      {
        docNumber: result.docNumber,
        who: result.subject,
        what: result.achievement,
        photo: t(draft.photoRef ? 'exemplar.photoYes' : 'exemplar.photoNo'),
      },
      [[{ label: t('buttons.undo'), data: `exu:${result.id}` }]],
    );
  }
}
