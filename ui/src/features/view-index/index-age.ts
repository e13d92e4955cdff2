/**
 * What to say about the age of an answer from the server's index of the running instances
 * (`worker/view-index.ts`): when its rows were read, and — only when the server could not read the
 * change feed at its last refresh (`fullyIndexedAt` older than `indexedAt`) — as of when assignees
 * and escalation levels are. While the feed answers, every kind of change is as recent as the rows,
 * so nothing more is said.
 */

/** A text in both languages (the shape of `i18n.tsx`'s `Bilingual`, which this pure module does not import). */
export interface Bilingual {
  zh: string;
  en: string;
}

/** The fields an answer from the index carries (absent: counted live). */
export interface IndexAge {
  method?: string;
  indexedAt?: string;
  ageMs?: number;
  fullyIndexedAt?: string;
}

/** The sentences to show (none for a live answer), given how to write a time. */
export function indexAgeTexts(age: IndexAge | undefined, dateTime: (iso: string) => string): Bilingual[] {
  if (age?.method !== 'index' || !age.indexedAt) return [];
  const s = Math.round((age.ageMs ?? 0) / 1000);
  const out: Bilingual[] = [
    {
      zh: ` 计数来自 ${dateTime(age.indexedAt)} 的运行实例快照（${s} 秒前）。`,
      en: ` Counts from a snapshot of the running instances taken ${dateTime(age.indexedAt)} (${s} s ago).`,
    },
  ];
  const full = age.fullyIndexedAt;
  if (full && Date.parse(full) < Date.parse(age.indexedAt))
    out.push({
      zh: ` 指派人和升级级别为 ${dateTime(full)} 时的情况。`,
      en: ` Assignees and escalation levels as of ${dateTime(full)}.`,
    });
  return out;
}
