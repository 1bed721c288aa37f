import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import i18next, { type i18n } from 'i18next';

export const LOCALES = ['vi', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

export function isLocale(value: string): value is Locale {
  return (LOCALES as readonly string[]).includes(value);
}

export function escapeHtml(value: unknown): string {
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export type Translate = (locale: string, key: string, vars?: Record<string, unknown>) => string;

function loadCatalogue(locale: Locale): Record<string, unknown> {
  const url = new URL(`../locales/${locale}/translation.json`, import.meta.url);
  return JSON.parse(readFileSync(fileURLToPath(url), 'utf8')) as Record<string, unknown>;
}

/**
 * One i18next instance for the process. Interpolated values are HTML-escaped by i18next
 * (escapeValue), which is exactly what Telegram's HTML parse mode needs for text users typed.
 */
export function createTranslator(): Translate {
  const instance: i18n = i18next.createInstance();
  void instance.init({
    initAsync: false,
    lng: 'vi',
    fallbackLng: 'vi',
    supportedLngs: [...LOCALES],
    resources: Object.fromEntries(LOCALES.map((locale) => [locale, { translation: loadCatalogue(locale) }])),
    // Only what Telegram's HTML mode needs: i18next's default would also turn "/" in dates into "&#x2F;".
    interpolation: { escapeValue: true, escape: escapeHtml },
    returnNull: false,
  });
  return (locale, key, vars) => instance.t(key, { lng: isLocale(locale) ? locale : 'vi', ...vars });
}
