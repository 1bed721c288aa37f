import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { createTranslator, type Translate } from '../i18n.ts';
import { isValidIsoDate } from '../domain/time.ts';
import {
  AUDIT_PAGE_DEFAULT,
  AUDIT_PAGE_MAX,
  auditPage,
  type AuditFilter,
  type AuditPosition,
} from '../services/audit.ts';
import { buildAuditWorkbook } from '../services/audit-workbook.ts';
import { DomainError, isUuid } from '../services/errors.ts';
import { requireSupervisor } from '../services/scope.ts';
import type { AdminApiDeps } from './admin-api.ts';
import { callerOf } from './api-caller.ts';

/** Rows in one export; a wider range is refused with a hint to narrow it. */
const EXPORT_MAX_ROWS = 50_000;
const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** An instant with its offset, or a calendar day (in the time zone). */
const instant = z.union(
  [z.iso.datetime({ offset: true }), z.string().refine(isValidIsoDate)],
  'an ISO instant with offset (2026-12-03T08:00:00+07:00) or a date (2026-12-03)',
);
const filterFields = {
  since: instant.optional(),
  until: instant.optional(),
  actor: z.string().trim().min(1).max(200).optional(),
  target: z.string().trim().min(1).max(200).optional(),
  action: z
    .string()
    .regex(/^[a-z_]+\.[a-z_]+$/, 'an action such as campaign.launch')
    .optional(),
  campaign: z.string().refine(isUuid, 'a campaign id').optional(),
};
const listQuery = z.strictObject({
  ...filterFields,
  limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).optional(),
  cursor: z.string().max(200).optional(),
});
const exportQuery = z.strictObject({ ...filterFields, lang: z.enum(['vi', 'en']).optional() });

/** The cursor of a page: where the next one starts (the last row's instant and id), as base64url. */
const encodeCursor = (position: AuditPosition) =>
  Buffer.from(JSON.stringify([position.at.toISOString(), position.id])).toString('base64url');

function decodeCursor(cursor: string): AuditPosition {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const date = typeof at === 'string' ? new Date(at) : new Date(NaN);
    if (typeof id === 'string' && isUuid(id) && !Number.isNaN(date.getTime())) return { at: date, id };
  } catch {
    // Falls through to the refusal below.
  }
  throw new DomainError('invalid_cursor', 'cursor is not one this API answered', { cursor });
}

/**
 * since/until as instants: a date means the start of that day in the time zone for `since`, and its end
 * (the next day's start) for `until`, so `since=D&until=D` is the whole of day D.
 */
function filterOf(query: z.infer<z.ZodObject<typeof filterFields>>, timeZone: string): AuditFilter {
  const day = (date: string, plusDays: number) =>
    DateTime.fromISO(date, { zone: timeZone }).plus({ days: plusDays }).toJSDate();
  const at = (value: string | undefined, plusDays: number) =>
    value === undefined ? undefined : isValidIsoDate(value) ? day(value, plusDays) : new Date(value);
  const filter: AuditFilter = {
    since: at(query.since, 0),
    until: at(query.until, 1),
    actor: query.actor,
    target: query.target,
    action: query.action,
    campaignId: query.campaign,
  };
  if (filter.since && filter.until && filter.since.getTime() >= filter.until.getTime())
    throw new DomainError('invalid_range', 'since must be before until', {
      since: query.since,
      until: query.until,
    });
  return filter;
}

/** The URL of the next page: this request's URL with the cursor replaced. */
function nextPageUrl(request: FastifyRequest, cursor: string): string {
  const url = new URL(request.url, 'http://localhost');
  url.searchParams.set('cursor', cursor);
  return `${url.pathname}${url.search}`;
}

/**
 * GET /api/audit and /api/audit/export.xlsx: the trail as the caller may read it (their subtree's rows;
 * everything for the whole organisation), newest first. A page holds `limit` rows (default 100, at most
 * 1,000); when there are more, the answer carries `Link: <…&cursor=…>; rel="next"` and `X-Next-Cursor`.
 */
export function registerAuditApi(api: FastifyInstance, deps: AdminApiDeps): void {
  let translate: Translate | undefined;

  api.get('/audit', async (request, reply) => {
    const { principal } = callerOf(request);
    requireSupervisor(principal);
    const query = listQuery.parse(request.query);
    const page = await auditPage(deps.db, principal, {
      ...filterOf(query, deps.timeZone),
      limit: query.limit ?? AUDIT_PAGE_DEFAULT,
      ...(query.cursor ? { before: decodeCursor(query.cursor) } : {}),
    });
    if (page.next) {
      const cursor = encodeCursor(page.next);
      void reply
        .header('link', `<${nextPageUrl(request, cursor)}>; rel="next"`)
        .header('x-next-cursor', cursor);
    }
    return page.rows;
  });

  api.get('/audit/export.xlsx', async (request, reply) => {
    const { principal } = callerOf(request);
    requireSupervisor(principal);
    const query = exportQuery.parse(request.query);
    const page = await auditPage(deps.db, principal, {
      ...filterOf(query, deps.timeZone),
      limit: EXPORT_MAX_ROWS,
    });
    if (page.next)
      throw new DomainError(
        'too_many_rows',
        `more than ${EXPORT_MAX_ROWS} rows: narrow the export with since and until`,
        { max: EXPORT_MAX_ROWS },
      );
    translate ??= createTranslator();
    const t = translate;
    const locale = query.lang ?? 'vi';
    const now = deps.clock.now();
    const file = await buildAuditWorkbook(page.rows, {
      t: (key, vars) => t(locale, key, vars),
      timeZone: deps.timeZone,
      now,
    });
    const stamp = DateTime.fromJSDate(now, { zone: deps.timeZone }).toFormat('yyyyMMdd-HHmm');
    return reply
      .header('content-type', XLSX_TYPE)
      .header('content-disposition', `attachment; filename="nhat-ky-${stamp}.xlsx"`)
      .send(file);
  });
}
