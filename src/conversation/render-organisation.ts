import type { OutboundMessage } from '../domain/message.ts';
import { dateFromIso, formatDate } from '../domain/time.ts';
import type { UnitChangeNews } from '../services/ports.ts';

/**
 * The one message an official gets when their unit went into another (merged, or dissolved into its
 * parent): where it went, then the successor's open tasks they now follow, then the old unit and the day it
 * took effect. `t` is the catalogue in the official's language (values escaped by i18next).
 */
export function unitChangeMessage(
  t: (key: string, vars?: Record<string, unknown>) => string,
  news: UnitChangeNews,
): OutboundMessage {
  const lines = [t(`unitChange.${news.kind}`, { into: news.into })];
  if (news.tasks.length === 0) lines.push(t('unitChange.noTasks'));
  news.tasks.forEach((task, index) =>
    lines.push(
      t('unitChange.task', {
        n: index + 1,
        title: task.title,
        docNumber: task.docNumber,
        due: formatDate(task.dueOn),
      }),
    ),
  );
  lines.push('', t('unitChange.since', { from: news.from, date: formatDate(dateFromIso(news.effectiveOn)) }));
  return { text: lines.join('\n') };
}
