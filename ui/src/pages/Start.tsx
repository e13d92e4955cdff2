/**
 * Start a procedure: pick a definition, fill its start form (generated from its input fields —
 * `input: true` or required, `core/start-fields.ts` — sensitive ones marked), POST /api/instances,
 * open the new one. A definition with `start.roles` offers the form only to those roles.
 */
import { useMemo, useState } from 'react';
import type { ApiError } from '../api.ts';
import { api, asApiError } from '../api.ts';
import { loadDefinition, useApi, useDefinitions } from '../data.tsx';
import { DEFINITION_CHANGE } from '../features/proposals/ids.ts';
import { useI18n } from '../i18n.tsx';
import { navigate, setQuery, useLocation } from '../router.tsx';
import { ErrorBox, PageHeader } from '../components/common.tsx';
import { ClauseList } from '../components/Clauses.tsx';
import { SchemaForm } from '../components/SchemaForm.tsx';
import { useUser } from '../session.tsx';
import type { Text } from '../../../workflows/core/ir.ts';
import { startInputSchema } from '../../../workflows/core/start-fields.ts';

export function StartPage() {
  const { pick, text } = useI18n();
  const user = useUser();
  const { query } = useLocation();
  const defs = useDefinitions();
  const selected = query.get('procedure') ?? '';
  const def = useApi(`def:${selected}`, async () => (selected ? loadDefinition(selected) : undefined));
  const ir = def.data?.ir;
  const clients = user.clients.join(',');
  const schema = useMemo(() => {
    if (!ir) return undefined;
    // The input fields a start may set, defaults included to pre-fill the form.
    const sc = startInputSchema(ir);
    // Staff bound to clients may start instances for those clients only: offer them as a choice.
    const props = sc.properties as Record<string, Record<string, unknown>>;
    const field = ir.clientField ? props[ir.clientField] : undefined;
    if (ir.clientField && field && clients) props[ir.clientField] = { ...field, enum: clients.split(',') };
    return sc;
  }, [ir, clients]);
  const titles = useMemo(() => {
    const t: Record<string, Text> = {};
    for (const [k, f] of Object.entries(ir?.context ?? {})) {
      if (!f.title) continue;
      // A sensitive field is masked in every record the engine writes: say so beside its name.
      t[k] = f.sensitive
        ? Object.fromEntries(Object.entries(f.title).map(([l, v]) => [l, `${v}${SENSITIVE_MARK[l] ?? ''}`]))
        : f.title;
    }
    return t;
  }, [ir]);
  const startRoles = ir?.start?.roles;
  const mayStart = !startRoles || user.roles.some((r) => startRoles.includes(r));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  // The client field, for a user with assigned clients: prefilled with the first one.
  const initial =
    ir?.clientField && user.clients.length === 1 ? { [ir.clientField]: user.clients[0] ?? '' } : undefined;

  const start = async (input: Record<string, unknown>): Promise<void> => {
    if (!ir) return;
    setBusy(true);
    setError(undefined);
    try {
      const r = await api<{ workflowId: string }>('POST', '/api/instances', { procedure: ir.id, input });
      navigate(`/instances/${encodeURIComponent(r.workflowId)}`);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="page">
      <PageHeader title={pick({ zh: '发起流程', en: 'Start a procedure' })} />
      <div className="start-grid">
        <nav className="def-list" aria-label={pick({ zh: '可发起的流程', en: 'Procedures' })}>
          <ul>
            {/* A definition change is proposed from the definitions editor (Deploy), not started here. */}
            {defs
              .filter((d) => d.id !== DEFINITION_CHANGE)
              .map((d) => (
                <li key={d.id}>
                  <button
                    type="button"
                    className={d.id === selected ? 'def-item selected' : 'def-item'}
                    aria-pressed={d.id === selected}
                    onClick={() => {
                      setError(undefined);
                      setQuery({ procedure: d.id });
                    }}
                  >
                    <span className="cell-title">{text(d.title)}</span>
                    <span className="cell-sub mono">
                      {d.id}@{d.version}
                    </span>
                  </button>
                </li>
              ))}
          </ul>
        </nav>
        <div className="card start-form">
          {!selected && (
            <p className="muted">
              {pick({ zh: '请从左侧选择要发起的流程。', en: 'Choose a procedure on the left.' })}
            </p>
          )}
          {def.error && <ErrorBox error={def.error} />}
          {ir && !mayStart && (
            <>
              <h2>{text(ir.title)}</h2>
              <p className="muted" role="note" data-testid="start-not-allowed">
                {pick({
                  zh: `只有以下角色可以发起此流程：${(startRoles ?? []).map((r) => text(ir.roles[r] ?? { zh: r })).join('、')}。`,
                  en: `Only these roles may start this procedure: ${(startRoles ?? []).map((r) => text(ir.roles[r] ?? { en: r })).join(', ')}.`,
                })}
              </p>
            </>
          )}
          {ir && schema && mayStart && (
            <>
              <h2>{text(ir.title)}</h2>
              <p className="muted">{text(ir.description)}</p>
              <details className="clause-fold" open={ir.clauses.length <= 3}>
                <summary>
                  {pick({ zh: `依据条款（${ir.clauses.length}）`, en: `Clauses (${ir.clauses.length})` })}
                </summary>
                <ClauseList ids={ir.clauses} />
              </details>
              <SchemaForm
                key={`${ir.id}@${ir.version}`}
                schema={schema}
                titles={titles}
                idPrefix={`start-${ir.id}`}
                initial={initial}
                primary={(p) => p.required}
                submitLabel={pick({ zh: '发起', en: 'Start' })}
                busy={busy}
                onSubmit={(data) => start(data)}
              >
                {error && (
                  <div className="rejection" role="alert" data-code={error.code}>
                    <strong>{pick({ zh: '未能发起', en: 'Not started' })}</strong>{' '}
                    <span className="code">{error.code}</span>
                    <div className="error-detail">{error.problem.detail}</div>
                  </div>
                )}
              </SchemaForm>
            </>
          )}
        </div>
      </div>
    </section>
  );
}

/** What the start form adds to a sensitive field's name, per language. */
const SENSITIVE_MARK: Record<string, string> = {
  zh: '（敏感，记录中屏蔽）',
  en: ' (sensitive: masked in records)',
};
