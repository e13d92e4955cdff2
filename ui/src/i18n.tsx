/**
 * Language: zh-CN (default, the procedure's authoritative language) and en, switchable and
 * remembered in localStorage. Components write their texts inline as `pick({ zh, en })`, so each
 * part of the UI owns its strings; `text()` picks from the definitions' bilingual `{zh, en}` texts.
 * Dates and numbers follow the chosen language's locale.
 */
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { setAnswerLanguage } from './api.ts';

export type Lang = 'zh' | 'en';
const STORAGE_KEY = 'custodia.lang';

export interface Bilingual {
  zh: string;
  en: string;
}

export interface I18n {
  lang: Lang;
  /** BCP 47 locale for Intl: zh-CN or en. */
  locale: string;
  setLang(lang: Lang): void;
  /** Pick this language's string: `pick({ zh: '收件箱', en: 'Inbox' })`. */
  pick(s: Bilingual): string;
  /** A definition text (`{zh, en}`, either may be missing) in this language, falling back to the other. */
  text(t: Partial<Bilingual> | undefined): string;
  /** An ISO timestamp as a local date and time. */
  dateTime(iso: string | undefined): string;
  /** Compact, for table cells: "11/23 22:24" / "11月23日 22:24"; the year only when not this year. */
  shortDateTime(iso: string | undefined): string;
  /** A duration in ms, e.g. "3 d 4 h" / "3 天 4 小时". */
  duration(ms: number): string;
}

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === 'zh' || saved === 'en') return saved;
  } catch {
    // storage unavailable (private mode): fall through
  }
  return navigator.language.toLowerCase().startsWith('en') ? 'en' : 'zh';
}

const I18nContext = createContext<I18n | undefined>(undefined);

export function I18nProvider({ children, initial }: { children: ReactNode; initial?: Lang }) {
  const [lang, setLangState] = useState<Lang>(() => initial ?? initialLang());
  const setLang = useCallback((l: Lang) => {
    setLangState(l);
    try {
      localStorage.setItem(STORAGE_KEY, l);
    } catch {
      // not remembered; still switched
    }
    document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
  }, []);
  // Every API call from now on asks for the engine's messages in this language.
  setAnswerLanguage(lang);
  const value = useMemo<I18n>(() => {
    const locale = lang === 'zh' ? 'zh-CN' : 'en';
    const dtf = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
    const short = new Intl.DateTimeFormat(locale, {
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    const shortYear = new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'short', day: 'numeric' });
    return {
      lang,
      locale,
      setLang,
      pick: (s) => s[lang],
      text: (t) => (t ? (t[lang] ?? t[lang === 'zh' ? 'en' : 'zh'] ?? '') : ''),
      dateTime: (iso) => {
        if (!iso) return '—';
        const d = new Date(iso);
        return Number.isNaN(d.getTime()) ? iso : dtf.format(d);
      },
      shortDateTime: (iso) => {
        if (!iso) return '—';
        const d = new Date(iso);
        if (Number.isNaN(d.getTime())) return iso;
        return d.getFullYear() === new Date().getFullYear() ? short.format(d) : shortYear.format(d);
      },
      duration: (ms) => formatDuration(ms, lang),
    };
  }, [lang, setLang]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(I18nContext);
  if (!v) throw new Error('useI18n outside <I18nProvider>');
  return v;
}

export function formatDuration(ms: number, lang: Lang): string {
  const abs = Math.abs(ms);
  const units: [number, string, string][] = [
    [86_400_000, ' 天', ' d'],
    [3_600_000, ' 小时', ' h'],
    [60_000, ' 分钟', ' min'],
  ];
  const parts: string[] = [];
  let rest = abs;
  for (const [size, zh, en] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${lang === 'zh' ? zh : en}`);
    rest -= n * size;
    if (parts.length === 2) break;
  }
  if (!parts.length) parts.push(lang === 'zh' ? '不到 1 分钟' : '< 1 min');
  return parts.join(' ');
}
