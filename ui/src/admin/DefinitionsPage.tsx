/** Admin: the deployed definitions, each with its deployed versions. */
import { useEffect, useState } from 'react';
import { api, ApiError } from '../api.ts';
import { useI18n } from '../i18n.tsx';
import { VersionTable } from './DefinitionEditorPage.tsx';
import { SingleAdminBanner } from './DeployMode.tsx';
import type { DefinitionDetail, DefinitionSummary } from './types.ts';
import './admin.css';

export function DefinitionsPage(props: { navigate: (path: string) => void }) {
  const { pick, text } = useI18n();
  const [list, setList] = useState<DefinitionSummary[] | undefined>();
  const [details, setDetails] = useState<Record<string, DefinitionDetail>>({});
  const [error, setError] = useState<string | undefined>();
  const [singleAdmin, setSingleAdmin] = useState<boolean | undefined>();

  useEffect(() => {
    const ac = new AbortController();
    api<{ definitions: DefinitionSummary[]; deployment?: { singleAdmin?: boolean } }>(
      'GET',
      '/api/definitions',
      undefined,
      { signal: ac.signal },
    )
      .then((r) => {
        setList(r.definitions);
        setSingleAdmin(r.deployment?.singleAdmin === true);
        for (const d of r.definitions)
          api<DefinitionDetail>('GET', `/api/definitions/${encodeURIComponent(d.id)}`, undefined, {
            signal: ac.signal,
          })
            .then((full) => setDetails((cur) => ({ ...cur, [d.id]: full })))
            .catch(() => undefined);
      })
      .catch((err: unknown) => {
        if (!ac.signal.aborted)
          setError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err));
      });
    return () => ac.abort();
  }, []);

  return (
    <section className="admin definitions">
      <header className="editor-head">
        <h1>{pick({ zh: '流程定义', en: 'Definitions' })}</h1>
        <button type="button" className="primary" onClick={() => props.navigate('/definitions/new')}>
          {pick({ zh: '新建定义', en: 'New definition' })}
        </button>
      </header>
      <SingleAdminBanner single={singleAdmin} />
      {error && <p role="alert">{error}</p>}
      {!list && !error && (
        <p className="muted" role="status">
          {pick({ zh: '正在加载…', en: 'Loading…' })}
        </p>
      )}
      <ul className="definition-cards">
        {list?.map((d) => (
          <li key={d.id} className="definition-card" data-definition={d.id}>
            <div className="card-head">
              <h2>
                <a
                  href={`/definitions/${encodeURIComponent(d.id)}`}
                  onClick={(e) => {
                    e.preventDefault();
                    props.navigate(`/definitions/${encodeURIComponent(d.id)}`);
                  }}
                >
                  {text(d.title)}
                </a>
              </h2>
              <span className="muted">
                <code>{d.id}</code> · v{d.version} · <code title={d.hash}>{d.hash.slice(0, 12)}</code>
              </span>
              <button
                type="button"
                onClick={() => props.navigate(`/definitions/${encodeURIComponent(d.id)}`)}
              >
                {pick({ zh: '编辑', en: 'Edit' })}
                <span className="visually-hidden"> {d.id}</span>
              </button>
            </div>
            <p className="muted">
              {pick({ zh: '角色：', en: 'Roles: ' })}
              {Object.values(d.roles)
                .map((r) => text(r))
                .join(pick({ zh: '、', en: ', ' }))}{' '}
              · {pick({ zh: `${d.events.length} 个事件`, en: `${d.events.length} events` })}
            </p>
            {details[d.id] ? (
              details[d.id]!.versions.length ? (
                <details>
                  <summary>
                    {pick({
                      zh: `已部署版本（${details[d.id]!.versions.length}）`,
                      en: `Deployed versions (${details[d.id]!.versions.length})`,
                    })}
                  </summary>
                  <VersionTable versions={details[d.id]!.versions} />
                </details>
              ) : (
                <p className="muted">{pick({ zh: '没有部署记录', en: 'No deployment records' })}</p>
              )
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
