import { setOfficialLocale } from '../../services/accounts.ts';
import { buttonChoice } from '../buttons.ts';
import type { Middleware } from '../router.ts';
import type { ButtonTurn, LinkedTurn } from '../turn.ts';

/** /ngonngu (/lang): Tiếng Việt or English, as two buttons. */
export const chooseLanguage: Middleware<LinkedTurn> = (turn) => {
  turn.reply('lang.choose', {}, [
    [
      buttonChoice(turn.text('buttons.vi'), { kind: 'language', locale: 'vi' }),
      buttonChoice(turn.text('buttons.en'), { kind: 'language', locale: 'en' }),
    ],
  ]);
};

/** A language chosen: the official is written to in it from now on, this answer included. */
export const setLanguage: Middleware<LinkedTurn<ButtonTurn<'language'>>> = async (turn) => {
  await setOfficialLocale(turn.sql, {
    officialId: turn.member.id,
    locale: turn.button.locale,
    now: turn.now,
  });
  turn.locale = turn.button.locale;
  turn.reply('lang.set');
};
