import type { Db, Tx } from '../db/client.ts';
import { NeedsPrisma, type RawTransactions } from '../db/raw-transactions.ts';
import type { Official, Unit } from '../generated/prisma/client.ts';
import { matchChoiceReply } from '../domain/choice-reply.ts';
import { compactUuid, expandUuid } from '../domain/compact-id.ts';
import {
  parseExemplarRequest,
  parseSummaryArgs,
  parseSummaryRequest,
  type SummaryRequest,
} from '../domain/intents.ts';
import { normaliseLinkCode } from '../domain/link-code.ts';
import type { Choice, OutboundMessage } from '../domain/message.ts';
import { foldVietnamese, parseStatusReply } from '../domain/reply-parser.ts';
import { statusFromCode, type Status } from '../domain/status.ts';
import { isLocale } from '../i18n.ts';
import type { Logger } from '../logger.ts';
import { openTurn, type OpenedTurn } from '../services/accounts.ts';
import { sendMissedLaunches } from '../services/campaigns.ts';
import { isUuid } from '../services/errors.ts';
import { countExemplars } from '../services/exemplars.ts';
import { redeemLinkCode, type LinkCodeKeys } from '../services/officials.ts';
import { offeredChoices, writeOutboxReturning } from '../services/outbox.ts';
import type { Clock, Throttle } from '../services/ports.ts';
import {
  recordCampaignAct,
  recordStatus,
  tasksForUnit,
  undoReport,
  type UnitTask,
} from '../services/reports.ts';
import { lateItems } from '../domain/summary.ts';
import { isSupervisor, viewIncludes } from '../domain/scope.ts';
import { campaignInView, campaignsInReach, officialPrincipal } from '../services/scope.ts';
import { campaignRollUp, campaignSummary, summaryFromRollUp } from '../services/summaries.ts';
import { storableEvent, type HandleResult, type InboundEvent } from './events.ts';
import { ExemplarDialogue } from './exemplar-dialogue.ts';
import type { Renderer } from './render.ts';

/** Commands in Vietnamese and English, mapped to one intent each. */
const COMMANDS: Record<string, string> = {
  start: 'start',
  baocao: 'report',
  report: 'report',
  nhiemvu: 'tasks',
  tasks: 'tasks',
  tonghop: 'summary',
  summary: 'summary',
  ngonngu: 'lang',
  lang: 'lang',
  huongdan: 'help',
  help: 'help',
  diemhinh: 'exemplar',
  exemplar: 'exemplar',
  huy: 'cancel',
  cancel: 'cancel',
};

/** The buttons of a block summary (its campaign, unit and block in the data): b + s/d/l/x. */
const BLOCK_ACTIONS = new Set(['bs', 'bd', 'bl', 'bx']);

/** How long a "which task?" question stays answerable. */
const PENDING_TTL_MS = 30 * 60_000;
const THROTTLE_MINUTES = 15;
/** The key under which `linkGuard` counts wrong link codes from every chat together. */
const ALL_CHATS_LINK_KEY = 'link:all-chats';

type Member = Official & { unit: Unit };

interface Turn {
  tx: Tx;
  event: InboundEvent;
  locale: string;
  member: Member | null;
  accountId: string | null;
  now: Date;
  replies: OutboundMessage[];
  notice?: string;
  /** The chat's exemplar draft as the turn began (read with the update's record). */
  openingDraft: OpenedTurn['exemplarDraft'];
  /** The member's unit's tasks as the turn began, read with the update's record for a text. */
  openingTasks: OpenedTurn['tasks'];
}

export interface DialogueDeps {
  db: Db;
  render: Renderer;
  throttle: Throttle;
  /**
   * Wrong link codes counted across all chats: a guess spread over many chats (one try each) slips past
   * the per-chat throttle. Over its limit, every chat's code waits (told so, not checked) until the window ends.
   */
  linkGuard?: Throttle;
  clock: Clock;
  timeZone: string;
  logger: Logger;
  /** The server-side keys link codes are hashed with (config.linkCodeKeys). */
  linkCodeKeys: LinkCodeKeys;
  /**
   * Channels without buttons (their adapters number the choices): there a reply "1", "2"… or a choice's
   * words answers the latest choices offered in the chat.
   */
  numberedChoiceChannels?: ReadonlySet<string>;
  /**
   * Answers this process can send itself right after the commit (src/delivery/direct-replies.ts); they are
   * written held and returned in the result. Absent: every answer goes through relay, queue and worker.
   */
  directReplies?: { accepts(channel: string, messages: readonly OutboundMessage[]): boolean };
  /** Cheaper transactions for turns that are raw SQL only (src/db/raw-transactions.ts). */
  raw?: Pick<RawTransactions, 'run'>;
}

/**
 * Turns chat events into service calls. Each event is handled in one transaction together with
 * its (channel, update id) record and the replies it produces, so a redelivered update is a no-op
 * and a failed one leaves nothing behind for the platform's retry to trip over.
 */
export class Dialogue {
  private readonly exemplars: ExemplarDialogue;

  constructor(private readonly deps: DialogueDeps) {
    this.exemplars = new ExemplarDialogue(deps.render);
  }

  async handle(received: InboundEvent): Promise<HandleResult> {
    const event = storableEvent(received);
    const throttleKey = `link:${event.channel}:${event.chatId}`;
    const linkWait = this.isLinkAttempt(event) ? await this.linkWait(throttleKey) : null;
    let failedLink = false;
    const result = await this.transaction(async (tx): Promise<HandleResult> => {
      const now = this.deps.clock.now();
      const opened = await openTurn(tx, { ...event, now }, { withTasks: event.kind === 'text' });
      if (!opened.fresh) return { fresh: false };
      const account = opened.account;
      if (account && !account.active) {
        // A person writing to us again has unblocked the bot: reach them here again.
        await tx.channelAccount.update({
          where: { id: account.id },
          data: { active: true, inactiveReason: null, deactivatedAt: null },
        });
      }
      const turn: Turn = {
        tx,
        event,
        member: account?.official ?? null,
        accountId: account?.id ?? null,
        locale: account?.official.locale ?? 'vi',
        now,
        replies: [],
        openingDraft: opened.exemplarDraft,
        openingTasks: opened.tasks,
      };
      if (linkWait) {
        turn.replies.push(this.deps.render.text(turn.locale, linkWait, { minutes: THROTTLE_MINUTES }));
      } else {
        failedLink = await this.dispatch(turn);
      }
      // Sent directly only when nothing else waits for the chat: a chat reads its messages in order.
      const direct = this.deps.directReplies?.accepts(event.channel, turn.replies) === true;
      const written = await writeOutboxReturning(
        tx,
        turn.replies.map((message, index) => ({
          dedupeKey: `reply:${event.channel}:${event.updateId}:${index}`,
          channel: event.channel,
          chatId: event.chatId,
          channelAccountId: turn.accountId,
          officialId: turn.member?.id ?? null,
          message,
        })),
        { hold: direct && 'if-chat-idle' },
      );
      return { fresh: true, notice: turn.notice, held: written.filter((row) => row.held) };
    });
    if (failedLink) {
      await this.deps.throttle.fail(throttleKey);
      await this.deps.linkGuard?.fail(ALL_CHATS_LINK_KEY);
    }
    return result;
  }

  /**
   * A turn runs on the raw `pg` transactions when given (most turns, a status reply first of all, are raw
   * SQL only), and again through Prisma when it turns out to need a model query (rolled back first).
   */
  private async transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.deps.raw) {
      try {
        return await this.deps.raw.run(work);
      } catch (error) {
        if (!(error instanceof NeedsPrisma)) throw error;
      }
    }
    return this.deps.db.$transaction(work, { timeout: 15_000, maxWait: 10_000 });
  }

  /** Why a link code must wait unchecked (the message to show), or null when it may be checked. */
  private async linkWait(throttleKey: string): Promise<'link.throttled' | 'link.paused' | null> {
    if (await this.deps.throttle.isBlocked(throttleKey)) return 'link.throttled';
    if (await this.deps.linkGuard?.isBlocked(ALL_CHATS_LINK_KEY)) return 'link.paused';
    return null;
  }

  private isLinkAttempt(event: InboundEvent): boolean {
    if (event.kind === 'command') return event.command.toLowerCase() === 'start' && event.args.trim() !== '';
    return event.kind === 'text' && normaliseLinkCode(event.text) !== null;
  }

  /** Returns true when the turn was a failed link attempt (it counts towards the throttle). */
  private async dispatch(turn: Turn): Promise<boolean> {
    const { event } = turn;
    if (event.kind === 'command') {
      const intent = COMMANDS[event.command.toLowerCase()];
      if (intent === 'start') return this.start(turn, event.args);
      if (!turn.member) return this.unlinked(turn);
      // Another command leaves an unfinished exemplar report behind (and says so), then runs as usual.
      if (intent !== 'exemplar' && intent !== 'cancel' && (await this.exemplars.abandon(turn)))
        this.reply(turn, 'exemplar.abandoned');
      switch (intent) {
        case 'exemplar':
          await this.exemplars.start(turn, event.args);
          return false;
        case 'cancel':
          await this.exemplars.cancel(turn);
          return false;
        case 'report':
          await this.askReport(turn);
          return false;
        case 'tasks':
          await this.listTasks(turn);
          return false;
        case 'summary':
          await this.summary(turn, parseSummaryArgs(event.args));
          return false;
        case 'lang':
          this.reply(turn, 'lang.choose', {}, [
            [
              { label: this.deps.render.text(turn.locale, 'buttons.vi').text, data: 'lang:vi' },
              { label: this.deps.render.text(turn.locale, 'buttons.en').text, data: 'lang:en' },
            ],
          ]);
          return false;
        case 'help':
          this.reply(turn, 'help.text');
          return false;
        default:
          this.reply(turn, 'unknownCommand');
          return false;
      }
    }
    if (event.kind === 'unsupported') {
      this.reply(turn, 'unsupported');
      return false;
    }
    if (event.kind === 'photo') {
      if (!turn.member) return this.unlinked(turn);
      await this.exemplars.photo(turn, event.ref, event.caption);
      return false;
    }
    if (event.kind === 'text') {
      if (!turn.member) {
        return normaliseLinkCode(event.text) !== null ? this.start(turn, event.text) : this.unlinked(turn);
      }
      // An exemplar report asking "who?" or "what?" takes the words as they come; at its other questions
      // a number still answers the choices offered.
      const draft = this.exemplars.draftOf(turn.openingDraft);
      if (draft && this.exemplars.waitsForWords(draft)) {
        await this.exemplars.answer(turn, draft, event.text);
        return false;
      }
      if (
        this.deps.numberedChoiceChannels?.has(event.channel) &&
        (await this.numberedChoice(turn, event.text))
      )
        return false;
      if (draft) {
        await this.exemplars.answer(turn, draft, event.text);
        return false;
      }
      await this.text(turn, event.text);
      return false;
    }
    if (!turn.member) return this.unlinked(turn);
    await this.choice(turn, event.data);
    return false;
  }

  private reply(turn: Turn, key: string, vars?: Record<string, unknown>, choices?: Choice[][]): void {
    turn.replies.push(this.deps.render.text(turn.locale, key, vars, choices));
  }

  /** A reply to the latest numbered choices; true when it was one (answered, or the choices shown again). */
  private async numberedChoice(turn: Turn, text: string): Promise<boolean> {
    const offered = await offeredChoices(turn.tx, {
      channel: turn.event.channel,
      chatId: turn.event.chatId,
      now: turn.now,
    });
    const match = matchChoiceReply(text, offered);
    if (!match) return false;
    if (match.kind === 'choice') {
      await this.choice(turn, match.data);
      return true;
    }
    this.reply(
      turn,
      'choices.unknownNumber',
      { n: match.n, max: offered.length },
      offered.map((choice) => [{ label: choice.label, data: choice.data }]),
    );
    return true;
  }

  private unlinked(turn: Turn): false {
    this.reply(turn, 'link.unlinked');
    return false;
  }

  private async start(turn: Turn, args: string): Promise<boolean> {
    const code = args.trim();
    if (code === '') {
      if (turn.member)
        this.reply(turn, 'link.already', { name: turn.member.name, unit: turn.member.unit.name });
      else this.reply(turn, 'link.welcome');
      return false;
    }
    const result = await redeemLinkCode(
      turn.tx,
      { channel: turn.event.channel, chatId: turn.event.chatId, code, now: turn.now },
      { linkCodeKeys: this.deps.linkCodeKeys, render: this.deps.render, timeZone: this.deps.timeZone },
    );
    if (result.kind !== 'linked') {
      this.reply(turn, `link.${result.kind}`);
      return true;
    }
    const official = await turn.tx.official.findUniqueOrThrow({
      where: { id: result.officialId },
      include: { unit: true },
    });
    turn.member = official;
    turn.accountId = result.accountId;
    turn.locale = official.locale;
    this.reply(turn, 'link.linked', { name: official.name, unit: official.unit.name });
    await sendMissedLaunches(turn.tx, official.id, this.deps.render);
    return false;
  }

  private async askReport(turn: Turn, intro?: string): Promise<void> {
    const member = turn.member;
    if (!member) return;
    const tasks = await tasksForUnit(turn.tx, member.unitId);
    if (tasks.length === 0) {
      this.reply(turn, 'report.none');
      return;
    }
    if (intro) this.reply(turn, intro);
    for (const task of tasks) turn.replies.push(this.deps.render.askStatus(turn.locale, task));
  }

  private async listTasks(turn: Turn): Promise<void> {
    const member = turn.member;
    if (!member) return;
    const tasks = await tasksForUnit(turn.tx, member.unitId);
    turn.replies.push(this.deps.render.taskList(turn.locale, member.unit.name, tasks, turn.now));
  }

  private async text(turn: Turn, text: string): Promise<void> {
    const summaryRequest = parseSummaryRequest(text);
    if (summaryRequest) {
      await this.summary(turn, summaryRequest);
      return;
    }
    const exemplarRequest = parseExemplarRequest(text);
    if (exemplarRequest) {
      await this.exemplars.start(turn, exemplarRequest.rest);
      return;
    }
    const member = turn.member;
    if (!member) return;
    const parsed = parseStatusReply(text);
    const tasks = turn.openingTasks ?? (await tasksForUnit(turn.tx, member.unitId));
    if (tasks.length === 0) {
      this.reply(turn, 'report.none');
      return;
    }
    if (parsed.status === null) {
      const numbered = parsed.taskNumber !== null ? tasks[parsed.taskNumber - 1] : undefined;
      if (numbered) {
        this.reply(turn, 'report.unclear');
        turn.replies.push(this.deps.render.askStatus(turn.locale, numbered));
      } else await this.askReport(turn, 'report.unclear');
      return;
    }
    const report = { status: parsed.status, percent: parsed.percent, note: parsed.note, sourceText: text };
    const named = parsed.taskNumber !== null ? tasks[parsed.taskNumber - 1] : undefined;
    const open = tasks.filter((task) => task.latest?.status !== 'done');
    const target = named ?? (open.length === 1 ? open[0] : tasks.length === 1 ? tasks[0] : undefined);
    if (target) {
      await this.record(turn, target.taskId, report);
      return;
    }
    if (open.length === 0) {
      this.reply(turn, 'report.allDone');
      return;
    }
    await this.askWhichTask(turn, text, report, open, tasks);
  }

  private async askWhichTask(
    turn: Turn,
    text: string,
    report: PendingReport,
    candidates: UnitTask[],
    numbering: UnitTask[],
  ): Promise<void> {
    if (!turn.accountId) return;
    const pending = await turn.tx.pendingReply.create({
      data: {
        channelAccountId: turn.accountId,
        payload: { ...report, taskIds: candidates.map((task) => task.taskId) },
        expiresAt: new Date(turn.now.getTime() + PENDING_TTL_MS),
      },
    });
    const choices = candidates.map((task, index) => [
      {
        label: this.deps.render.text(turn.locale, 'buttons.task', {
          n: numbering.indexOf(task) + 1,
          title: task.title.length > 48 ? `${task.title.slice(0, 47)}…` : task.title,
        }).text,
        data: `pr:${pending.id}:${index}`,
      },
    ]);
    this.reply(
      turn,
      'report.whichTask',
      {
        text: text.length > 200 ? `${text.slice(0, 199)}…` : text,
        status: this.deps.render.statusLabel(turn.locale, report.status),
      },
      choices,
    );
  }

  private async record(turn: Turn, taskId: string, report: PendingReport): Promise<void> {
    const member = turn.member;
    if (!member) return;
    const result = await recordStatus(turn.tx, {
      officialId: member.id,
      unitId: member.unitId,
      taskId,
      ...report,
      channel: turn.event.channel,
      now: turn.now,
    });
    if (result.kind !== 'recorded') {
      this.reply(turn, 'report.notAllowed');
      return;
    }
    turn.notice = this.deps.render.text(turn.locale, 'report.toast').text;
    turn.replies.push(
      this.deps.render.recorded(turn.locale, {
        title: result.task.title,
        docNumber: result.task.docNumber,
        status: report.status,
        percent: result.percent,
        note: report.note,
        reportId: result.reportId,
      }),
    );
  }

  private async choice(turn: Turn, data: string): Promise<void> {
    const member = turn.member;
    if (!member) return;
    const [kind = '', id = '', extra = ''] = data.split(':');
    const uuid = isUuid(id);
    if (kind === 'lang' && isLocale(id)) {
      await turn.tx.official.update({ where: { id: member.id }, data: { locale: id } });
      turn.locale = id;
      this.reply(turn, 'lang.set');
      return;
    }
    if (BLOCK_ACTIONS.has(kind)) {
      await this.blockAction(turn, data);
      return;
    }
    if (!uuid) {
      this.reply(turn, 'stale');
      return;
    }
    switch (kind) {
      case 'ack':
      case 'reg': {
        const act = kind === 'ack' ? 'acknowledge' : 'register';
        const result = await recordCampaignAct(turn.tx, act, {
          campaignId: id,
          unitId: member.unitId,
          officialId: member.id,
          channel: turn.event.channel,
          now: turn.now,
        });
        const prefix = kind === 'ack' ? 'ack' : 'register';
        if (result.kind === 'not_allowed') this.reply(turn, 'stale');
        else {
          this.reply(turn, `${prefix}.${result.kind}`, { docNumber: result.docNumber });
          turn.notice = this.deps.render.text(turn.locale, `${prefix}.toast`).text;
        }
        return;
      }
      case 'st': {
        const status = statusFromCode(extra);
        if (!status) {
          this.reply(turn, 'stale');
          return;
        }
        await this.record(turn, id, { status, percent: null, note: null, sourceText: null });
        return;
      }
      case 'undo': {
        const result = await undoReport(turn.tx, { reportId: id, unitId: member.unitId, now: turn.now });
        if (result.kind === 'undone') this.reply(turn, 'report.undone', { title: result.taskTitle });
        else this.reply(turn, result.kind === 'already_undone' ? 'report.alreadyUndone' : 'stale');
        return;
      }
      case 'pr': {
        await this.answerPending(turn, id, Number(extra));
        return;
      }
      case 'exc':
      case 'exs':
      case 'exu': {
        await this.exemplars.choice(turn, kind, id, extra);
        return;
      }
      case 'sum': {
        await this.summaryOf(turn, id);
        return;
      }
      case 'sd':
      case 'sl':
      case 'sx': {
        await this.summaryAction(turn, kind, id, extra === '-' ? undefined : extra);
        return;
      }
      default:
        this.reply(turn, 'stale');
    }
  }

  private async answerPending(turn: Turn, pendingId: string, index: number): Promise<void> {
    const pending = await turn.tx.pendingReply.findFirst({
      where: { id: pendingId, channelAccountId: turn.accountId ?? undefined },
    });
    const payload = pending?.payload as (PendingReport & { taskIds: string[] }) | undefined;
    const taskId = payload?.taskIds?.[index];
    if (!pending || !payload || !taskId || pending.expiresAt.getTime() < turn.now.getTime()) {
      this.reply(turn, 'report.expired');
      return;
    }
    await turn.tx.pendingReply.delete({ where: { id: pending.id } });
    await this.record(turn, taskId, payload);
  }

  private async summary(turn: Turn, request: SummaryRequest): Promise<void> {
    const { docQuery, block } = request;
    const member = turn.member;
    if (!member) return;
    if (!isSupervisor(member.role)) {
      this.reply(turn, 'summary.refused');
      return;
    }
    if (docQuery !== null) {
      const campaigns = await turn.tx.campaign.findMany({ select: { id: true, docNumber: true } });
      const found = campaigns.find((campaign) => foldVietnamese(campaign.docNumber) === docQuery);
      if (!found) this.reply(turn, 'summary.unknownCampaign', { doc: docQuery });
      else await this.summaryOf(turn, found.id, undefined, block);
      return;
    }
    const running = await turn.tx.campaign.findMany({
      where: { state: 'running', ...campaignsInReach(officialPrincipal(member)) },
      orderBy: { launchedAt: 'desc' },
      select: { id: true, docNumber: true },
    });
    const only = running[0];
    if (!only) this.reply(turn, 'summary.noCampaign');
    else if (running.length === 1) await this.summaryOf(turn, only.id, undefined, block);
    else {
      // The block asked for comes along with the choice (when it fits in a button's 64 bytes).
      const choiceData = (id: string) => {
        const withBlock = `bs:${compactUuid(id) ?? id}:-:${block ?? ''}`;
        return block !== undefined && Buffer.byteLength(withBlock) <= 64 ? withBlock : `sum:${id}`;
      };
      this.reply(
        turn,
        'summary.choose',
        {},
        running.map((campaign) => [{ label: campaign.docNumber, data: choiceData(campaign.id) }]),
      );
    }
  }

  /**
   * An admin of the issuing unit sees the whole campaign; everyone else their own unit's subtree. With a
   * block, only the units of that emulation block within that scope.
   */
  private async summaryOf(turn: Turn, campaignId: string, unitCode?: string, block?: string): Promise<void> {
    const scope = await this.summaryScope(turn, campaignId, unitCode);
    if (!scope) return;
    const found = block === undefined ? undefined : await this.resolveBlock(turn, campaignId, scope, block);
    if (found === null) return;
    const rolled = await campaignSummary(turn.tx, campaignId, {
      unitCode: scope.unitCode,
      block: found?.code,
      now: turn.now,
      timeZone: this.deps.timeZone,
    });
    const summary = found ? { ...rolled, blockName: found.name } : rolled;
    const exemplars = await countExemplars(turn.tx, campaignId, {
      unitCode: scope.unitCode,
      block: found?.code,
    });
    turn.replies.push(
      ...this.deps.render.summaryWithChart(turn.locale, summary, {
        now: turn.now,
        unit: unitCode ?? '-',
        chartUnitCode: scope.unitCode,
        exemplars,
      }),
    );
  }

  /**
   * The emulation block a supervisor named, among the blocks of the campaign's participants in their
   * scope, matched without case or diacritics. Null (after a clear answer listing the blocks they may
   * see, and no data) when there is no such block. Its friendlier name says what kind of units it holds
   * when they are all of one kind.
   */
  private async resolveBlock(
    turn: Turn,
    campaignId: string,
    scope: { unitCode: string | undefined },
    asked: string,
  ): Promise<{ code: string; name: string } | null> {
    const scopeUnit = scope.unitCode
      ? await turn.tx.unit.findUnique({ where: { code: scope.unitCode }, select: { path: true } })
      : null;
    const rows = await turn.tx.$queryRaw<{ code: string; kinds: (string | null)[] }[]>`
      SELECT b.code, array_agg(DISTINCT u.kind) AS kinds
      FROM "CampaignUnit" cu
      JOIN "Unit" u ON u.id = cu."unitId"
      CROSS JOIN LATERAL unnest(u."blockCodes") AS b(code)
      WHERE cu."campaignId" = ${campaignId}::uuid
        AND (${scopeUnit?.path ?? null}::text IS NULL OR u.path LIKE ${scopeUnit?.path ?? null}::text || '%')
      GROUP BY b.code
      ORDER BY b.code`;
    const wanted = foldVietnamese(asked);
    const match = wanted === '' ? undefined : rows.find((row) => foldVietnamese(row.code) === wanted);
    if (match) {
      const [kind, ...others] = match.kinds;
      const kindName = kind && others.length === 0 ? this.deps.render.unitKind(turn.locale, kind) : null;
      if (!kindName) return { code: match.code, name: match.code };
      const named = this.deps.render.text(turn.locale, 'summary.blockKind', {
        block: match.code,
        kind: kindName,
      });
      return { code: match.code, name: named.text };
    }
    const campaign = await turn.tx.campaign.findUniqueOrThrow({
      where: { id: campaignId },
      select: { docNumber: true },
    });
    const lines: string[] = [];
    if (wanted !== '')
      lines.push(
        this.deps.render.text(turn.locale, 'summary.unknownBlock', {
          // What was typed comes folded (no diacritics, lower case); codes are written in capitals.
          block: asked.toUpperCase(),
          docNumber: campaign.docNumber,
        }).text,
      );
    const blocks = rows.map((row) => row.code);
    lines.push(
      blocks.length > 0
        ? this.deps.render.text(turn.locale, 'summary.blockList', {
            blocks: blocks.join(', '),
            example: blocks[0],
          }).text
        : this.deps.render.text(turn.locale, 'summary.noBlocks', { docNumber: campaign.docNumber }).text,
    );
    turn.replies.push({ text: lines.join('\n') });
    return null;
  }

  /** A button of a block summary: `b<action>:<compact campaign id>:<unit or ->:<block>`. */
  private async blockAction(turn: Turn, data: string): Promise<void> {
    const [kind = '', compact = '', unit = '', block = ''] = data.split(':');
    const campaignId = expandUuid(compact);
    if (!campaignId) {
      this.reply(turn, 'stale');
      return;
    }
    const unitCode = unit === '-' || unit === '' ? undefined : unit;
    if (kind === 'bs') await this.summaryOf(turn, campaignId, undefined, block);
    else if (kind === 'bd') {
      if (unitCode === undefined) this.reply(turn, 'stale');
      else await this.summaryOf(turn, campaignId, unitCode, block);
    } else {
      const action = kind === 'bl' ? 'sl' : 'sx';
      await this.summaryAction(turn, action, campaignId, unitCode, block === '' ? undefined : block);
    }
  }

  private ref(turn: Turn, type: 'xlsx', campaignId: string, unitCode: string | undefined, block?: string) {
    return {
      type,
      campaignId,
      ...(unitCode ? { unitCode } : {}),
      ...(block ? { block } : {}),
      locale: turn.locale,
      at: turn.now.toISOString(),
    };
  }

  /**
   * Who may see what: a member nothing; an admin of the issuer the whole campaign (or any unit in it);
   * anyone else their own unit's subtree. A unit outside that (a button pressed after the asker's scope
   * changed, or crafted) is refused with no data shown. `unitCode` undefined means the asker's default.
   */
  private async summaryScope(
    turn: Turn,
    campaignId: string,
    unitCode: string | undefined,
  ): Promise<{ unitCode: string | undefined } | null> {
    const member = turn.member;
    if (!member || !isSupervisor(member.role)) {
      this.reply(turn, 'summary.refused');
      return null;
    }
    const found = await campaignInView(turn.tx, officialPrincipal(member), campaignId);
    if (!('view' in found)) {
      // A campaign that neither comes from the asker's subtree nor reaches into it is none of their
      // business (its id in a crafted button, or its number typed): not even its title is shown.
      this.reply(turn, found.kind === 'missing' ? 'stale' : 'summary.outOfScope');
      return null;
    }
    const { view } = found;
    if (unitCode === undefined) return { unitCode: view.kind === 'whole' ? undefined : member.unit.code };
    const unit = await turn.tx.unit.findUnique({ where: { code: unitCode }, select: { path: true } });
    if (!unit || !viewIncludes(view, unit.path)) {
      this.reply(turn, 'summary.outOfScope');
      return null;
    }
    return { unitCode };
  }

  /** The buttons under a summary chart: drill into a child unit, only the late units, the workbook. */
  private async summaryAction(
    turn: Turn,
    kind: string,
    campaignId: string,
    unitCode: string | undefined,
    block?: string,
  ) {
    if (kind === 'sd') {
      if (unitCode === undefined) this.reply(turn, 'stale');
      else await this.summaryOf(turn, campaignId, unitCode);
      return;
    }
    const scope = await this.summaryScope(turn, campaignId, unitCode);
    if (!scope) return;
    if (kind === 'sx') {
      const campaign = await turn.tx.campaign.findUniqueOrThrow({
        where: { id: campaignId },
        select: { docNumber: true },
      });
      turn.replies.push(
        this.deps.render.xlsxMessage(turn.locale, campaign.docNumber, {
          kind: 'document',
          ref: this.ref(turn, 'xlsx', campaignId, scope.unitCode, block),
          fallback: this.deps.render.text(turn.locale, 'summary.xlsxUnavailable').text,
        }),
      );
      return;
    }
    const rolled = await campaignRollUp(turn.tx, campaignId, { unitCode: scope.unitCode, block });
    const summary = summaryFromRollUp(rolled, { block, now: turn.now, timeZone: this.deps.timeZone });
    const late = lateItems(rolled.tasks, rolled.units, turn.now, this.deps.timeZone);
    turn.replies.push(this.deps.render.lateUnits(turn.locale, summary, late));
  }
}

interface PendingReport {
  status: Status;
  percent: number | null;
  note: string | null;
  sourceText: string | null;
}
