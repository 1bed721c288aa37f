import type { FastifyInstance } from 'fastify';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { isValidIsoDate } from '../domain/time.ts';
import { createTranslator, type Translate } from '../i18n.ts';
import { auditPage, listAudit, type AuditFilter } from '../services/audit.ts';
import { buildAuditWorkbook } from '../services/audit-workbook.ts';
import { isUuid } from '../services/errors.ts';
import { ConsoleHttpError, identityOf, type ConsoleContext } from './context.ts';
import { noStore } from './security.ts';

/**
 * The audit trail of the operator's subtree, newest first, filtered by time, actor and target, and the same
 * rows as a workbook (the download keeps the page's filters).
 */

const AUDIT_PAGE_MAX = 200;
/** Rows in one download, as GET /api/audit/export.xlsx allows; a wider range is refused with a hint. */
const EXPORT_MAX_ROWS = 50_000;
const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const filterQuery = z.object({
  since: z.string().max(20).optional().catch(undefined),
  until: z.string().max(20).optional().catch(undefined),
  actor: z.string().max(100).optional().catch(undefined),
  target: z.string().max(100).optional().catch(undefined),
  campaign: z.string().max(64).optional().catch(undefined),
});

interface ReadFilter {
  /** What the service is asked for (nothing when the form has errors). */
  filter: AuditFilter;
  /** What the form shows again, as typed. */
  shown: Record<'since' | 'until' | 'actor' | 'target' | 'campaign', string>;
  /** Per field, the catalogue key of what is wrong with it. */
  errors: Record<string, string>;
}

/** The page's filters as the service takes them. Days are the days of TZ_DEFAULT: "until 05/12" takes in that day. */
function readFilter(raw: unknown, timeZone: string): ReadFilter {
  const query = filterQuery.parse(raw);
  const errors: Record<string, string> = {};
  const day = (field: 'since' | 'until', value: string | undefined, plusDays: number) => {
    const text = value?.trim();
    if (!text) return undefined;
    if (!isValidIsoDate(text)) {
      errors[field] = 'audit.badDate';
      return undefined;
    }
    return DateTime.fromISO(text, { zone: timeZone }).plus({ days: plusDays }).toJSDate();
  };
  const since = day('since', query.since, 0);
  const until = day('until', query.until, 1);
  if (since && until && since >= until) errors.until = 'audit.untilBeforeSince';
  const campaignId = query.campaign && isUuid(query.campaign) ? query.campaign : undefined;
  const actor = query.actor?.trim() || undefined;
  const target = query.target?.trim() || undefined;
  return {
    filter: {
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
      ...(actor ? { actor } : {}),
      ...(target ? { target } : {}),
      ...(campaignId ? { campaignId } : {}),
    },
    shown: {
      since: query.since ?? '',
      until: query.until ?? '',
      actor: query.actor ?? '',
      target: query.target ?? '',
      campaign: campaignId ?? '',
    },
    errors,
  };
}

export function registerAuditPages(scope: FastifyInstance, context: ConsoleContext): void {
  const { deps, views } = context;
  let translate: Translate | undefined;

  scope.get('/audit', async (request, reply) => {
    const identity = identityOf(request);
    const { filter, shown, errors } = readFilter(request.query, deps.timeZone);
    const invalid = Object.keys(errors).length > 0;
    const rows = invalid
      ? []
      : await listAudit(deps.db, identity.principal, { ...filter, limit: AUDIT_PAGE_MAX });
    return views.page(
      reply,
      'audit',
      {
        identity,
        csrf: context.csrfFor(request, reply),
        section: 'audit',
        status: invalid ? 400 : 200,
      },
      {
        title: views.t(identity.locale)('audit.title'),
        rows,
        filter: shown,
        errors,
        max: AUDIT_PAGE_MAX,
        exportMax: EXPORT_MAX_ROWS,
      },
    );
  });

  // The rows the page's filters select, in the reader's language: the workbook of GET /api/audit/export.xlsx,
  // read as the signed-in operator (their subtree's rows), through their session rather than a token.
  scope.get('/audit/export.xlsx', async (request, reply) => {
    const identity = identityOf(request);
    const { filter, errors } = readFilter(request.query, deps.timeZone);
    if (Object.keys(errors).length > 0) throw new ConsoleHttpError(400, 'audit.exportBadFilter');
    const page = await auditPage(deps.db, identity.principal, { ...filter, limit: EXPORT_MAX_ROWS });
    if (page.next) throw new ConsoleHttpError(400, 'audit.exportTooMany');
    translate ??= createTranslator();
    const t = translate;
    const now = deps.clock.now();
    const file = await buildAuditWorkbook(page.rows, {
      t: (key, vars) => t(identity.locale, key, vars),
      timeZone: deps.timeZone,
      now,
    });
    const stamp = DateTime.fromJSDate(now, { zone: deps.timeZone }).toFormat('yyyyMMdd-HHmm');
    noStore(reply);
    return reply
      .type(XLSX_TYPE)
      .header('content-disposition', `attachment; filename="nhat-ky-${stamp}.xlsx"`)
      .send(file);
  });
}
