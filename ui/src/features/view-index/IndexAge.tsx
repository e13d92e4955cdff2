/**
 * How old a count is when the server answered from its index of the running instances (many of
 * them: `worker/view-index.ts`) instead of asking visibility at the request.
 */
import { useI18n } from '../../i18n.tsx';

/** The fields an answer from the index carries (absent: counted live). */
export interface IndexAge {
  method?: string;
  indexedAt?: string;
  ageMs?: number;
}

export function IndexAgeNote({ age }: { age: IndexAge | undefined }) {
  const { pick, dateTime } = useI18n();
  if (age?.method !== 'index' || !age.indexedAt) return null;
  const s = Math.round((age.ageMs ?? 0) / 1000);
  return (
    <span className="muted" data-index-age={age.indexedAt}>
      {pick({
        zh: ` 计数来自 ${dateTime(age.indexedAt)} 的运行实例快照（${s} 秒前）。`,
        en: ` Counts from a snapshot of the running instances taken ${dateTime(age.indexedAt)} (${s} s ago).`,
      })}
    </span>
  );
}
