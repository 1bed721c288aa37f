import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { FastifyReply } from 'fastify';
import i18next, { type i18n } from 'i18next';
import { DateTime } from 'luxon';
import { formatDate, formatInstant } from '../domain/time.ts';
import { LOCALES, isLocale, type Locale } from '../i18n.ts';
import type { ConsoleIdentity } from '../services/console-sessions.ts';
import { noStore } from './security.ts';

/**
 * Server-rendered pages: Eta templates (views/*.eta) with auto-escaping on (`<%= %>` escapes, `<%~ %>` is
 * only for other templates' output), and the console namespace of locales/. Translations are not escaped
 * by i18next: the template escapes whatever it prints, catalogue text and user-typed values alike.
 */
const VIEWS = fileURLToPath(new URL('./views/', import.meta.url));

export type ConsoleT = (key: string, vars?: Record<string, unknown>) => string;

function loadCatalogue(locale: Locale): Record<string, unknown> {
  const url = new URL(`../../locales/${locale}/console.json`, import.meta.url);
  return JSON.parse(readFileSync(fileURLToPath(url), 'utf8')) as Record<string, unknown>;
}

export function consoleTranslator(): (locale: string) => ConsoleT {
  const instance: i18n = i18next.createInstance();
  void instance.init({
    initAsync: false,
    lng: 'vi',
    fallbackLng: 'vi',
    supportedLngs: [...LOCALES],
    ns: ['console'],
    defaultNS: 'console',
    resources: Object.fromEntries(LOCALES.map((locale) => [locale, { console: loadCatalogue(locale) }])),
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  return (locale) => {
    const lng = isLocale(locale) ? locale : 'vi';
    return (key, vars) => instance.t(key, { lng, ...vars });
  };
}

/** A navigation entry; `manage` entries are for admins only (leaders change nothing, so see no forms). */
interface NavItem {
  key: string;
  href: string;
  section: string;
  manage?: boolean;
}

/**
 * The console's sections. Write pages that are a section of their own are listed with `manage: true`, and
 * leaders never see them (the campaign and organisation forms are reached from their sections' pages).
 */
const NAV: NavItem[] = [
  { key: 'nav.campaigns', href: '/console', section: 'campaigns' },
  { key: 'nav.organisation', href: '/console/organisation', section: 'organisation' },
  { key: 'nav.officials', href: '/console/officials', section: 'officials' },
  { key: 'nav.import', href: '/console/import', section: 'import', manage: true },
  { key: 'nav.audit', href: '/console/audit', section: 'audit' },
  { key: 'nav.tokens', href: '/console/tokens', section: 'tokens', manage: true },
];

export interface PageContext {
  identity: ConsoleIdentity | null;
  /** The form token for this browser (session-bound, or the pre-sign-in one). */
  csrf: string;
  section?: string;
  status?: number;
}

export class Views {
  readonly #eta = new Eta({ views: VIEWS, cache: true, autoEscape: true });
  readonly #translators = consoleTranslator();

  constructor(private readonly timeZone: string) {}

  t(locale: string): ConsoleT {
    return this.#translators(locale);
  }

  /** The helpers every template gets. */
  helpers(locale: string) {
    const zone = this.timeZone;
    const lang = isLocale(locale) ? locale : 'vi';
    const number = new Intl.NumberFormat(lang === 'vi' ? 'vi-VN' : 'en-GB');
    return {
      locale: lang,
      t: this.t(lang),
      /** An instant as dd/MM/yyyy HH:mm in TZ_DEFAULT. */
      dateTime: (date: Date | null | undefined) => (date ? formatInstant(date, zone) : ''),
      time: (date: Date) => DateTime.fromJSDate(date, { zone }).toFormat('HH:mm:ss'),
      /** A calendar date (DATE column) as dd/MM/yyyy. */
      date: (date: Date) => formatDate(date),
      number: (value: number) => number.format(value),
      percent: (part: number, whole: number) => (whole === 0 ? 0 : Math.round((100 * part) / whole)),
      /** A form field's label by its id, for the list of errors at the top of a form. */
      fieldLabel: (form: string, id: string) => {
        const row = /^task-(\d+)-(key|title|due)$/.exec(id);
        const t = this.t(lang);
        return row
          ? t(`fields.task.${row[2] ?? ''}`, { n: Number(row[1]) + 1 })
          : t(`fields.${form}.${id}`, { defaultValue: '' });
      },
      query: (params: Record<string, string | undefined | null>) => {
        const search = new URLSearchParams();
        for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
        const text = search.toString();
        return text ? `?${text}` : '';
      },
    };
  }

  /** Renders a template to HTML (a fragment, or a page when the template names the layout). */
  render(template: string, locale: string, data: Record<string, unknown>): string {
    return this.#eta.render(template, { ...this.helpers(locale), ...data });
  }

  /** Sends a whole page, never cached. */
  async page(
    reply: FastifyReply,
    template: string,
    context: PageContext,
    data: Record<string, unknown> = {},
  ): Promise<FastifyReply> {
    const identity = context.identity;
    const locale = identity?.locale ?? 'vi';
    const canManage = identity?.principal.role === 'admin';
    const html = this.render(template, locale, {
      ...data,
      identity,
      csrf: context.csrf,
      section: context.section ?? '',
      nav: identity ? NAV.filter((item) => !item.manage || canManage) : [],
    });
    noStore(reply);
    return reply
      .code(context.status ?? 200)
      .type('text/html; charset=utf-8')
      .send(html);
  }
}
