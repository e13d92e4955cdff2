/** All instances I may see (GET /api/instances): filters in the URL, paging by nextPageToken. */
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api.ts';
import { roleNames, useDefinitions, useIRs } from '../data.tsx';
import { useI18n } from '../i18n.tsx';
import { setQuery, useLocation } from '../router.tsx';
import {
  ClientField,
  Due,
  Empty,
  ErrorBox,
  InstanceCell,
  PageHeader,
  RoleChips,
  Since,
  StateNames,
} from '../components/common.tsx';
import { EvidencePack, mayMakeEvidence } from '../features/evidence/EvidencePack.tsx';
import { useUser } from '../session.tsx';
import type { InstanceRow } from '../types.ts';
import type { ProcedureIR } from '../../../workflows/core/ir.ts';
import { leafStates } from '../../../workflows/core/ir-walk.ts';

const PAGE = 50;
/** `ids`: the instances behind a dashboard chart (comma-separated workflow ids, no form field). */
const FILTERS = ['procedure', 'state', 'client', 'awaiting', 'overdue', 'all', 'ids'] as const;

export function InstancesPage() {
  const { pick, text } = useI18n();
  const user = useUser();
  const { query } = useLocation();
  const defs = useDefinitions();
  const names = roleNames(defs);
  const filters = Object.fromEntries(FILTERS.map((k) => [k, query.get(k) ?? ''])) as Record<
    (typeof FILTERS)[number],
    string
  >;
  const key = FILTERS.map((k) => filters[k]).join('|');
  const [rows, setRows] = useState<InstanceRow[]>([]);
  const [next, setNext] = useState<string | undefined>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [draft, setDraft] = useState(filters);

  const load = async (token?: string, signal?: AbortSignal): Promise<void> => {
    setLoading(true);
    setError(undefined);
    try {
      const r = await api<{ instances: InstanceRow[]; nextPageToken?: string }>(
        'GET',
        '/api/instances',
        undefined,
        {
          query: {
            procedure: filters.procedure,
            state: filters.state,
            client: filters.client,
            awaiting: filters.awaiting,
            overdue: filters.overdue === 'true' ? true : undefined,
            all: filters.all === 'true' ? true : undefined,
            ids: filters.ids,
            limit: PAGE,
            pageToken: token,
          },
          ...(signal ? { signal } : {}),
        },
      );
      setRows((old) => (token ? [...old, ...r.instances] : r.instances));
      setNext(r.nextPageToken);
    } catch (err) {
      if (err instanceof ApiError) setError(err);
      else if (!(err instanceof DOMException)) throw err;
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    const ctl = new AbortController();
    setDraft(filters);
    void load(undefined, ctl.signal);
    return () => ctl.abort();
  }, [key]);

  const irs = useIRs(rows.map((r) => r.procedure ?? '').filter(Boolean));
  const title = (id?: string): string => {
    const d = defs.find((x) => x.id === id);
    return d ? text(d.title) : (id ?? '—');
  };
  const apply = (e: FormEvent): void => {
    e.preventDefault();
    setQuery(draft);
  };
  const procIr = draft.procedure ? irs.get(draft.procedure) : undefined;
  const now = Date.now();

  return (
    <section className="page">
      <PageHeader title={pick({ zh: '实例', en: 'Instances' })} />
      {mayMakeEvidence(user) && (
        <EvidencePack user={user} {...(filters.client ? { client: filters.client } : {})} />
      )}
      <form className="filters" onSubmit={apply} aria-label={pick({ zh: '筛选', en: 'Filters' })}>
        <label className="field">
          <span className="field-label">{pick({ zh: '流程', en: 'Procedure' })}</span>
          <select
            value={draft.procedure}
            onChange={(e) => setDraft({ ...draft, procedure: e.target.value, state: '' })}
          >
            <option value="">{pick({ zh: '全部', en: 'All' })}</option>
            {defs.map((d) => (
              <option key={d.id} value={d.id}>
                {text(d.title)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="field-label">{pick({ zh: '状态', en: 'State' })}</span>
          <input
            value={draft.state}
            list="state-options"
            onChange={(e) => setDraft({ ...draft, state: e.target.value })}
          />
          <datalist id="state-options">{procIr && <StateOptions ir={procIr} />}</datalist>
        </label>
        <ClientField
          value={draft.client}
          onChange={(client) => setDraft({ ...draft, client })}
          clients={user.clients}
        />
        <label className="field">
          <span className="field-label">{pick({ zh: '等待角色', en: 'Awaiting role' })}</span>
          <select value={draft.awaiting} onChange={(e) => setDraft({ ...draft, awaiting: e.target.value })}>
            <option value="">{pick({ zh: '任意', en: 'Any' })}</option>
            {[...names.entries()].map(([id, t]) => (
              <option key={id} value={id}>
                {text(t)}
              </option>
            ))}
          </select>
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={draft.overdue === 'true'}
            onChange={(e) => setDraft({ ...draft, overdue: e.target.checked ? 'true' : '' })}
          />
          <span>{pick({ zh: '仅逾期', en: 'Overdue only' })}</span>
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={draft.all === 'true'}
            onChange={(e) => setDraft({ ...draft, all: e.target.checked ? 'true' : '' })}
          />
          <span>{pick({ zh: '包括已结束', en: 'Include finished' })}</span>
        </label>
        <div className="filter-actions">
          <button type="submit" className="primary">
            {pick({ zh: '筛选', en: 'Apply filters' })}
          </button>
          <button
            type="button"
            onClick={() => setQuery(Object.fromEntries(FILTERS.map((k) => [k, undefined])))}
          >
            {pick({ zh: '清除', en: 'Clear' })}
          </button>
        </div>
      </form>
      {filters.ids && (
        <p className="muted" data-testid="ids-filter">
          {pick({
            zh: `仅显示仪表板图形对应的 ${filters.ids.split(',').length} 个实例（已超出 Temporal 保留期的不显示）。`,
            en: `Only the ${filters.ids.split(',').length} instance(s) behind a dashboard chart (those past Temporal's retention are not listed).`,
          })}
        </p>
      )}
      {error && <ErrorBox error={error} />}
      {!loading && !error && !rows.length && (
        <Empty>{pick({ zh: '没有符合条件的实例。', en: 'No instances match.' })}</Empty>
      )}
      {rows.length > 0 && (
        <div className="table-wrap">
          <table className="grid" aria-label={pick({ zh: '实例列表', en: 'Instances' })}>
            <thead>
              <tr>
                <th scope="col">{pick({ zh: '流程 / 编号', en: 'Procedure / id' })}</th>
                <th scope="col">{pick({ zh: '状态', en: 'State' })}</th>
                <th scope="col">{pick({ zh: '客户', en: 'Client' })}</th>
                <th scope="col">{pick({ zh: '等待角色', en: 'Awaiting' })}</th>
                <th scope="col">{pick({ zh: '开始于', en: 'Since' })}</th>
                <th scope="col">{pick({ zh: '期限', en: 'Due' })}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.workflowId} className={r.overdue ? 'row-overdue' : ''}>
                  <td>
                    <InstanceCell workflowId={r.workflowId} title={title(r.procedure)} status={r.status} />
                  </td>
                  <td>
                    <StateNames ir={r.procedure ? irs.get(r.procedure) : undefined} states={r.state} />
                  </td>
                  <td>{r.client ?? <span className="muted">—</span>}</td>
                  <td>
                    <RoleChips roles={r.awaiting} mine={user.roles} names={names} />
                  </td>
                  <td>
                    <Since at={r.stateSince} now={now} />
                  </td>
                  <td>
                    <Due dueAt={r.dueAt} overdue={r.overdue} now={now} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="pager">
        <span className="muted">
          {pick({ zh: `已显示 ${rows.length} 条`, en: `Showing ${rows.length}` })}
          {next ? pick({ zh: '，还有更多', en: ', more available' }) : ''}
        </span>
        {next && (
          <button type="button" onClick={() => void load(next)} disabled={loading}>
            {pick({ zh: '加载更多', en: 'Load more' })}
          </button>
        )}
        {loading && <span className="muted">{pick({ zh: '正在加载…', en: 'Loading…' })}</span>}
      </div>
    </section>
  );
}

function StateOptions({ ir }: { ir: ProcedureIR }) {
  const { text } = useI18n();
  return (
    <>
      {leafStates(ir).map((s) => (
        <option key={s.path} value={s.path}>
          {text(s.title)}
        </option>
      ))}
    </>
  );
}
