import type { LinkAttempts } from '../services/ports.ts';
import { campaignActs } from './features/campaign-acts.ts';
import { exemplars, isExemplarRequest } from './features/exemplars.ts';
import { groupChat } from './features/group-chats.ts';
import { help, staleButton, unknownCommand, unsupported } from './features/help.ts';
import { chooseLanguage, setLanguage } from './features/language.ts';
import { isLinkCode, linking } from './features/linking.ts';
import { numberedChoices } from './features/numbered-choices.ts';
import { statusReports } from './features/status.ts';
import { inScope, isSummaryRequest, summaries, supervisorsOnly } from './features/summaries.ts';
import { prisma, raw, Router } from './router.ts';
import { requireLinked } from './turn.ts';
import type { LinkCodeKeys } from '../services/officials.ts';

export interface RouteDeps {
  linkAttempts: LinkAttempts;
  /** Tells the admins that many wrong link codes slowed linking down. */
  alertLinkGuessing?: ((now: Date) => Promise<void>) | undefined;
  /** The server-side keys link codes are hashed with. */
  linkCodeKeys: LinkCodeKeys;
  /** Channels without buttons: there a reply "1", "2"… or a choice's words answers the latest choices. */
  numberedChoiceChannels: ReadonlySet<string>;
}

/**
 * Every route of the dialogue, in order of precedence: the first whose trigger matches an event takes it.
 * Each names the engine its turn runs on (`raw`: raw SQL only, the hot path; `prisma`: model queries) and
 * its steps: guards (requireLinked, supervisorsOnly, inScope) and handlers from features/.
 */
export function dialogueRoutes(deps: RouteDeps): Router {
  const router = new Router();
  const link = linking(deps);
  // Before a linked chat's text is read for what it says: what an open exemplar report expects, then the
  // numbered choices of a channel without buttons (they run the button's route), then the report again.
  const reading = [
    exemplars.words,
    numberedChoices({
      channels: deps.numberedChoiceChannels,
      press: (turn, data) => router.press(turn, data),
    }),
    exemplars.reply,
  ];
  return (
    router
      // Before anything links or records: a group chat is only told that the bot works in private chats.
      .group(raw('group-chat'), groupChat)
      .unsupported(raw('unsupported'), unsupported)
      // Linking, open to anyone; wrong codes are slowed down.
      .command({ names: ['start'], withArgs: true }, prisma('link'), link.throttled, link.redeemCommand)
      .command(['start'], raw('welcome'), link.welcome)
      // Commands of a linked chat; all but these two leave an unfinished exemplar report behind.
      .command(['diemhinh', 'exemplar'], prisma('exemplar'), requireLinked(exemplars.command))
      .command(['huy', 'cancel'], raw('cancel'), requireLinked(exemplars.cancel))
      .command(['baocao', 'report'], raw('report'), requireLinked(exemplars.leave, statusReports.ask))
      .command(['nhiemvu', 'tasks'], raw('tasks'), requireLinked(exemplars.leave, statusReports.list))
      .command(
        ['tonghop', 'summary'],
        prisma('summary'),
        requireLinked(exemplars.leave, supervisorsOnly(summaries.command)),
      )
      .command(['ngonngu', 'lang'], raw('language'), requireLinked(exemplars.leave, chooseLanguage))
      .command(['huongdan', 'help'], raw('help'), requireLinked(exemplars.leave, help))
      .command('any', raw('unknown-command'), requireLinked(exemplars.leave, unknownCommand))
      // Buttons, pressed or (where a channel has none) chosen by number.
      .callback(['status'], raw('status-button'), requireLinked(statusReports.button))
      .callback(['whichTask'], raw('which-task-button'), requireLinked(statusReports.whichTask))
      .callback(['allTasks'], raw('all-tasks-button'), requireLinked(statusReports.allTasks))
      .callback(['undo'], prisma('undo-button'), requireLinked(statusReports.undo))
      .callback(['undoGroup'], prisma('undo-group-button'), requireLinked(statusReports.undoGroup))
      .callback(['acknowledge', 'register'], prisma('launch-button'), requireLinked(campaignActs))
      .callback(['language'], raw('language-button'), requireLinked(setLanguage))
      .callback(
        ['summary', 'drill', 'lateUnits', 'workbook'],
        prisma('summary-button'),
        requireLinked(supervisorsOnly(inScope(summaries.button))),
      )
      .callback(
        ['exemplarCampaign', 'exemplarNoPhoto', 'exemplarWithdraw'],
        prisma('exemplar-button'),
        requireLinked(exemplars.button),
      )
      .callback(['stale'], raw('stale-button'), requireLinked(staleButton))
      .photo(prisma('photo'), requireLinked(exemplars.photo))
      // Free text: a link code from a chat nobody is linked to; otherwise what the words ask for, a
      // status reply when they ask for nothing else.
      .text(
        isLinkCode,
        prisma('link-code'),
        link.throttled,
        link.redeemText,
        requireLinked(...reading, statusReports.text),
      )
      .text(
        isSummaryRequest,
        prisma('summary-text'),
        requireLinked(...reading, supervisorsOnly(summaries.text)),
      )
      .text(isExemplarRequest, prisma('exemplar-text'), requireLinked(...reading, exemplars.request))
      .text(() => true, raw('status-text'), requireLinked(...reading, statusReports.text))
  );
}
