/**
 * How old a count is when the server answered from its index of the running instances (many of
 * them: `worker/view-index.ts`) instead of asking visibility at the request (`index-age.ts`).
 */
import { useI18n } from '../../i18n.tsx';
import { indexAgeTexts, type IndexAge } from './index-age.ts';

export type { IndexAge };

export function IndexAgeNote({ age }: { age: IndexAge | undefined }) {
  const { pick, dateTime } = useI18n();
  const texts = indexAgeTexts(age, dateTime);
  if (!texts.length) return null;
  return (
    <span className="muted" data-index-age={age?.indexedAt} data-fully-indexed-at={age?.fullyIndexedAt}>
      {texts.map(pick).join('')}
    </span>
  );
}
