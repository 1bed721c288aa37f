import { acknowledgeLatestLaunch, recordCampaignAct } from '../../services/campaign-acts.ts';
import type { Middleware } from '../router.ts';
import type { ButtonTurn, LinkedTurn } from '../turn.ts';

/** 👍 Đã nhận and 📝 Đăng ký thi đua under a launch: the unit acknowledges or registers, once. */
export const campaignActs: Middleware<LinkedTurn<ButtonTurn<'acknowledge' | 'register'>>> = async (turn) => {
  const { kind, campaignId } = turn.button;
  const result = await recordCampaignAct(turn.prisma(kind), kind, {
    campaignId,
    unitId: turn.member.unitId,
    officialId: turn.member.id,
    channel: turn.event.channel,
    now: turn.now,
  });
  if (result.kind === 'not_allowed') {
    turn.reply('stale');
    return;
  }
  const messages = kind === 'acknowledge' ? 'ack' : 'register';
  turn.reply(`${messages}.${result.kind}`, { docNumber: result.docNumber });
  turn.notice = turn.text(`${messages}.toast`);
};

/**
 * "👍", "ok", "đã nhận" typed alone: the acknowledgement a launch asks for, of the latest launch the unit
 * has not acknowledged (named in the answer); with none left, a polite answer and nothing recorded.
 */
export async function acknowledgeTyped(turn: LinkedTurn): Promise<void> {
  const result = await acknowledgeLatestLaunch(turn.sql, {
    unitId: turn.member.unitId,
    officialId: turn.member.id,
    channel: turn.event.channel,
    now: turn.now,
  });
  if (result.kind === 'recorded' || result.kind === 'already') {
    turn.reply(result.kind === 'recorded' ? 'ack.typed' : 'ack.already', {
      docNumber: result.docNumber,
      title: result.title,
    });
  } else turn.reply('ack.nothing');
}
