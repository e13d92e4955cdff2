/** Clause citations with their text in the chosen language (GET /api/clauses). */
import { useClauses } from '../data.tsx';
import { useI18n } from '../i18n.tsx';

export function ClauseList({ ids, compact = false }: { ids: readonly string[]; compact?: boolean }) {
  const clauses = useClauses();
  const { text, pick } = useI18n();
  if (!ids.length) return null;
  if (compact)
    return (
      <span className="clause-ids">
        {ids.map((id) => {
          const c = clauses.get(id);
          return (
            <span key={id} className="clause-id" title={c ? text(c) : undefined}>
              {id}
            </span>
          );
        })}
      </span>
    );
  return (
    <ul className="clauses" aria-label={pick({ zh: '依据条款', en: 'Clauses' })}>
      {ids.map((id) => {
        const c = clauses.get(id);
        const parent = c?.parent ? clauses.get(c.parent) : undefined;
        return (
          <li key={id} className="clause">
            <span className="clause-id">{id}</span>
            <span className="clause-text">
              {parent && <span className="clause-parent">{text(parent)} · </span>}
              {c ? (
                text(c)
              ) : (
                <span className="muted">
                  {pick({ zh: '（条款文本不可用）', en: '(clause text unavailable)' })}
                </span>
              )}
            </span>
          </li>
        );
      })}
    </ul>
  );
}
