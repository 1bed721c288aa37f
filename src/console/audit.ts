import type { FastifyInstance } from 'fastify';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { isValidIsoDate } from '../domain/time.ts';
import { listAudit } from '../services/audit.ts';
import { isUuid } from '../services/errors.ts';
import { identityOf, type ConsoleContext } from './context.ts';

/** The audit trail of the operator's subtree, newest first, filtered by time, actor and target. */

const AUDIT_PAGE_MAX = 200;

const filterQuery = z.object({
  since: z.string().max(20).optional().catch(undefined),
  until: z.string().max(20).optional().catch(undefined),
  actor: z.string().max(100).optional().catch(undefined),
  target: z.string().max(100).optional().catch(undefined),
  campaign: z.string().max(64).optional().catch(undefined),
});

export function registerAuditPages(scope: FastifyInstance, context: ConsoleContext): void {
  const { deps, views } = context;

  scope.get('/audit', async (request, reply) => {
    const identity = identityOf(request);
    const query = filterQuery.parse(request.query);
    const errors: Record<string, string> = {};
    // Days are the days of TZ_DEFAULT: "until 05/12" takes in the whole of that day.
    const day = (field: 'since' | 'until', value: string | undefined, plusDays: number) => {
      const text = value?.trim();
      if (!text) return undefined;
      if (!isValidIsoDate(text)) {
        errors[field] = 'audit.badDate';
        return undefined;
      }
      return DateTime.fromISO(text, { zone: deps.timeZone }).plus({ days: plusDays }).toJSDate();
    };
    const since = day('since', query.since, 0);
    const until = day('until', query.until, 1);
    if (since && until && since >= until) errors.until = 'audit.untilBeforeSince';
    const campaignId = query.campaign && isUuid(query.campaign) ? query.campaign : undefined;
    const actor = query.actor?.trim() || undefined;
    const target = query.target?.trim() || undefined;
    const rows =
      Object.keys(errors).length > 0
        ? []
        : await listAudit(deps.db, identity.principal, {
            ...(since ? { since } : {}),
            ...(until ? { until } : {}),
            ...(actor ? { actor } : {}),
            ...(target ? { target } : {}),
            ...(campaignId ? { campaignId } : {}),
            limit: AUDIT_PAGE_MAX,
          });
    return views.page(
      reply,
      'audit',
      {
        identity,
        csrf: context.csrfFor(request, reply),
        section: 'audit',
        status: Object.keys(errors).length > 0 ? 400 : 200,
      },
      {
        title: views.t(identity.locale)('audit.title'),
        rows,
        filter: {
          since: query.since ?? '',
          until: query.until ?? '',
          actor: query.actor ?? '',
          target: query.target ?? '',
          campaign: campaignId ?? '',
        },
        errors,
        max: AUDIT_PAGE_MAX,
      },
    );
  });
}
