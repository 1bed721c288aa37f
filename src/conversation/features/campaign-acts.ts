import { recordCampaignAct } from '../../services/reports.ts';
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
