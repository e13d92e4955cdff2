/**
 * Stalled and overdue (managers): exact counts per procedure and state (GET /api/stalled/counts,
 * count queries — holds for any number of instances) and the instances themselves a page of at
 * most 500 at a time (GET /api/stalled, "load more" by page token). Refreshes every 15 s.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError } from '../api.ts';
import { roleNames, useDefinitions, useIRs } from '../data.tsx';
import { statesAlong } from '../../../workflows/core/ir-walk.ts';
import { useI18n } from '../i18n.tsx';
import { setQuery, useLocation } from '../router.tsx';
import {
  Due,
  Empty,
  ErrorBox,
  InstanceCell,
  PageHeader,
  RoleChips,
  StateNames,
  useStateName,
} from '../components/common.tsx';
import type { StalledRow } from '../types.ts';
import { BulkPanel } from '../features/assignment/BulkPanel.tsx';
import { SlaCell } from '../features/sla/SlaCell.tsx';
import { UserName, useUserNames } from '../features/users/names.tsx';
import { IndexAgeNote, type IndexAge } from '../features/view-index/IndexAge.tsx';

const PAGE = 500;
const REFRESH_MS = 15_000;
const IDLE_CHOICES = ['PT4H', 'P1D', 'P3D', 'P7D', 'P14D', 'P30D'];

interface Counts extends IndexAge {
  idle: string;
  at: string;
  total: number;
  /** `awaiting`: who can act, as the engine reports it on the group's instances. */
  groups: { procedure: string; state: string; count: number; overdue: number; awaiting?: string[] }[];
}

export function StalledPage() {
  const { pick, text, dateTime, duration, lang } = useI18n();
  const { query } = useLocation();
  const idle = query.get('idle') || 'P3D';
  const procedure = query.get('procedure') ?? '';
  const state = query.get('state') ?? '';
  const defs = useDefinitions();
  const names = roleNames(defs);
  const stateName = useStateName();
  const [counts, setCounts] = useState<Counts | undefined>();
  const [rows, setRows] = useState<StalledRow[]>([]);
  const [next, setNext] = useState<string | undefined>();
  const [pages, setPages] = useState(0);
  const [updatedAt, setUpdatedAt] = useState<Date | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [loading, setLoading] = useState(false);
  const pagesRef = useRef(0);
  pagesRef.current = pages;
  // Rows picked for a bulk act (by id, so refreshes keep them), or all matching the filter.
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [allMatching, setAllMatching] = useState(false);
  const people = useUserNames();
  const toggle = (id: string): void =>
    setPicked((old) => {
      const n = new Set(old);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });

  const rowsQuery = useCallback(
    (pageToken?: string) => ({ idle, procedure, state, limit: PAGE, pageToken }),
    [idle, procedure, state],
  );

  // The rows (one visibility page) and the exact counts (many count queries: slower with many
  // procedures) load side by side; each shows as soon as it arrives.
  const refresh = useCallback(
    async (signal?: AbortSignal) => {
      setLoading(true);
      const opts = signal ? { signal } : {};
      const rowsDone =
        // After "load more", a refresh keeps the loaded rows and updates the counts only.
        pagesRef.current > 1
          ? Promise.resolve()
          : api<{ instances: StalledRow[]; nextPageToken?: string }>('GET', '/api/stalled', undefined, {
              query: rowsQuery(),
              ...opts,
            }).then((first) => {
              setRows(first.instances);
              setNext(first.nextPageToken);
              setPages(1);
              setUpdatedAt(new Date());
            });
      const countsDone = api<Counts>('GET', '/api/stalled/counts', undefined, {
        query: { idle },
        ...opts,
      }).then((c) => {
        setCounts(c);
        setUpdatedAt(new Date());
      });
      const results = await Promise.allSettled([rowsDone, countsDone]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (!signal?.aborted) {
        setError(failed?.reason instanceof ApiError ? failed.reason : undefined);
        setLoading(false);
      }
    },
    [idle, rowsQuery],
  );

  useEffect(() => {
    const ctl = new AbortController();
    setPages(0);
    pagesRef.current = 0;
    setRows([]);
    void refresh(ctl.signal);
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') void refresh();
    }, REFRESH_MS);
    return () => {
      ctl.abort();
      window.clearInterval(timer);
    };
  }, [refresh]);

  const loadMore = async (): Promise<void> => {
    if (!next) return;
    setLoading(true);
    try {
      const r = await api<{ instances: StalledRow[]; nextPageToken?: string }>(
        'GET',
        '/api/stalled',
        undefined,
        {
          query: rowsQuery(next),
        },
      );
      setRows((old) => [...old, ...r.instances]);
      setNext(r.nextPageToken);
      setPages((p) => p + 1);
    } catch (err) {
      if (err instanceof ApiError) setError(err);
    } finally {
      setLoading(false);
    }
  };

  const groups = (counts?.groups ?? []).filter((g) => !procedure || g.procedure === procedure);
  const irs = useIRs(
    [...groups.map((g) => g.procedure), ...rows.map((r) => r.procedure ?? '')].filter(Boolean),
  );
  const title = (id?: string): string => {
    const d = defs.find((x) => x.id === id);
    return d ? text(d.title) : (id ?? '—');
  };
  // Per group, from the loaded rows: roles awaited, the longest idle and the worst overdue.
  const seen = new Map<string, { roles: Set<string>; idleMs: number; overdueMs: number; loaded: number }>();
  for (const r of rows)
    for (const s of r.state) {
      const k = `${r.procedure ?? ''}\u0000${s}`;
      const g = seen.get(k) ?? { roles: new Set<string>(), idleMs: 0, overdueMs: 0, loaded: 0 };
      r.awaiting.forEach((x) => g.roles.add(x));
      g.idleMs = Math.max(g.idleMs, r.idleMs);
      g.overdueMs = Math.max(g.overdueMs, r.overdueMs ?? 0);
      g.loaded++;
      seen.set(k, g);
    }
  const total = procedure ? groups.reduce((n, g) => n + g.count, 0) : (counts?.total ?? 0);
  const byProcedure = new Map<string, typeof groups>();
  for (const g of groups) byProcedure.set(g.procedure, [...(byProcedure.get(g.procedure) ?? []), g]);
  const idleLabel = (d: string): string => {
    const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(d);
    if (!m || d === 'P' || d.endsWith('T')) return d;
    const ms = (Number(m[1] ?? 0) * 24 * 60 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)) * 60_000;
    return duration(ms);
  };
  // Roles that can act in a state, when none of its instances is loaded (else what the engine
  // reports as awaiting): those of its (and its ancestors') event transitions.
  const awaitedIn = (proc: string, path: string): string[] => {
    const ir = irs.get(proc);
    if (!ir) return [];
    const roles = new Set<string>();
    for (const node of [ir.root, ...statesAlong(ir, path)])
      for (const list of Object.values(node.on)) for (const t of list) t.roles.forEach((r) => roles.add(r));
    return [...roles];
  };
  const shownTotal = state ? groups.filter((g) => g.state === state).reduce((n, g) => n + g.count, 0) : total;

  return (
    <section className="page">
      <PageHeader title={pick({ zh: '停滞与逾期', en: 'Stalled and overdue' })}>
        <span className="muted" role="status" aria-live="polite">
          {updatedAt
            ? pick({
                zh: `更新于 ${updatedAt.toLocaleTimeString('zh-CN')}`,
                en: `Updated at ${updatedAt.toLocaleTimeString('en')}`,
              })
            : pick({ zh: '正在加载…', en: 'Loading…' })}
          {loading && updatedAt ? ' ⟳' : ''}
          <IndexAgeNote age={counts} />
        </span>
        <button type="button" onClick={() => void refresh()} disabled={loading}>
          {pick({ zh: '刷新', en: 'Refresh' })}
        </button>
      </PageHeader>
      <p className="lede">
        {pick({
          zh: '已超过处理期限、或在当前状态停留超过设定时长的进行中实例；每 15 秒自动刷新。',
          en: 'Running instances past their deadline or idle in their state longer than the threshold; refreshes every 15 s.',
        })}
      </p>
      <form
        className="filters"
        onSubmit={(e) => e.preventDefault()}
        aria-label={pick({ zh: '筛选', en: 'Filters' })}
      >
        <label className="field">
          <span className="field-label">{pick({ zh: '停留超过', en: 'Idle longer than' })}</span>
          <select
            value={idle}
            onChange={(e) => setQuery({ idle: e.target.value === 'P3D' ? undefined : e.target.value })}
          >
            {(IDLE_CHOICES.includes(idle) ? IDLE_CHOICES : [idle, ...IDLE_CHOICES]).map((d) => (
              <option key={d} value={d}>
                {idleLabel(d)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="field-label">{pick({ zh: '流程', en: 'Procedure' })}</span>
          <select
            value={procedure}
            onChange={(e) => setQuery({ procedure: e.target.value, state: undefined })}
          >
            <option value="">{pick({ zh: '全部', en: 'All' })}</option>
            {defs.map((d) => (
              <option key={d.id} value={d.id}>
                {text(d.title)}
              </option>
            ))}
          </select>
        </label>
        {state && (
          <div className="filter-actions">
            <span className="chip">
              {pick({ zh: '状态', en: 'State' })}:{' '}
              {stateName(procedure ? irs.get(procedure) : undefined, state)}
            </span>
            <button type="button" onClick={() => setQuery({ state: undefined })}>
              {pick({ zh: '显示全部状态', en: 'All states' })}
            </button>
          </div>
        )}
      </form>
      {error && <ErrorBox error={error} />}

      {counts && (
        <div className="summary-bar">
          <div className="stat">
            <span className="stat-value">{total.toLocaleString(lang === 'zh' ? 'zh-CN' : 'en')}</span>
            <span className="stat-label">{pick({ zh: '停滞或逾期实例', en: 'stalled or overdue' })}</span>
          </div>
          <div className="stat stat-bad">
            <span className="stat-value">{groups.reduce((n, g) => n + g.overdue, 0).toLocaleString()}</span>
            <span className="stat-label">{pick({ zh: '已逾期（按状态计）', en: 'overdue (by state)' })}</span>
          </div>
          <div className="stat">
            <span className="stat-value">{groups.length}</span>
            <span className="stat-label">
              {pick({ zh: '分组（流程 × 状态）', en: 'groups (procedure × state)' })}
            </span>
          </div>
        </div>
      )}

      {counts && !groups.length && (
        <Empty>{pick({ zh: '没有停滞或逾期的实例。', en: 'Nothing is stalled or overdue.' })}</Empty>
      )}
      {groups.length > 0 && (
        <div className="table-wrap">
          <table
            className="grid"
            aria-label={pick({ zh: '按流程和状态分组', en: 'Groups by procedure and state' })}
          >
            <thead>
              <tr>
                <th scope="col">{pick({ zh: '流程', en: 'Procedure' })}</th>
                <th scope="col">{pick({ zh: '状态', en: 'State' })}</th>
                <th scope="col" className="num">
                  {pick({ zh: '数量', en: 'Count' })}
                </th>
                <th scope="col" className="num">
                  {pick({ zh: '逾期', en: 'Overdue' })}
                </th>
                <th scope="col">{pick({ zh: '最长停留', en: 'Longest idle' })}</th>
                <th scope="col">{pick({ zh: '最久逾期', en: 'Most overdue' })}</th>
                <th scope="col">{pick({ zh: '等待角色', en: 'Awaiting' })}</th>
                <th scope="col">
                  <span className="sr-only">{pick({ zh: '操作', en: 'Actions' })}</span>
                </th>
              </tr>
            </thead>
            {[...byProcedure.entries()].map(([proc, gs]) => (
              <tbody key={proc} className="group">
                {gs.map((g, i) => {
                  const s = seen.get(`${g.procedure}\u0000${g.state}`);
                  return (
                    <tr
                      key={g.state}
                      data-procedure={g.procedure}
                      data-state={g.state}
                      className={g.overdue ? 'row-overdue' : ''}
                    >
                      {i === 0 && (
                        <th scope="rowgroup" rowSpan={gs.length} className="group-head">
                          {title(proc)}
                          <div className="cell-sub">
                            {pick({
                              zh: `共 ${gs.reduce((n, x) => n + x.count, 0)}`,
                              en: `${gs.reduce((n, x) => n + x.count, 0)} in all`,
                            })}
                          </div>
                        </th>
                      )}
                      <td>
                        <StateNames ir={irs.get(proc)} states={[g.state]} />
                      </td>
                      <td className="num strong">{g.count.toLocaleString()}</td>
                      <td className={g.overdue ? 'num overdue strong' : 'num muted'}>
                        {g.overdue.toLocaleString()}
                      </td>
                      <td>{s ? duration(s.idleMs) : <span className="muted">—</span>}</td>
                      <td className={s?.overdueMs ? 'overdue' : ''}>
                        {s?.overdueMs ? duration(s.overdueMs) : <span className="muted">—</span>}
                      </td>
                      <td>
                        <RoleChips
                          roles={g.awaiting ?? (s ? [...s.roles] : awaitedIn(g.procedure, g.state))}
                          names={names}
                        />
                      </td>
                      <td className="cell-action">
                        <button
                          type="button"
                          className="small"
                          onClick={() => setQuery({ procedure: g.procedure, state: g.state })}
                        >
                          {pick({ zh: '查看', en: 'Show' })}
                          <span className="sr-only">
                            {' '}
                            {g.procedure} {g.state}
                          </span>
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            ))}
          </table>
        </div>
      )}

      {rows.length > 0 && (
        <>
          <BulkPanel
            scope={{
              picked: [...picked],
              allMatching,
              filter: { idle, ...(procedure ? { procedure } : {}), ...(state ? { state } : {}) },
            }}
            onDone={() => void refresh()}
          />
          <h2 className="section-title">
            {pick({ zh: '实例', en: 'Instances' })}{' '}
            <span className="muted small-text">
              {pick({
                zh: `显示前 ${rows.length.toLocaleString()} 条${counts ? `，共 ${Math.max(shownTotal, rows.length).toLocaleString()} 条` : ''}；每次最多加载 ${PAGE} 条`,
                en: `Showing first ${rows.length.toLocaleString()}${counts ? ` of ${Math.max(shownTotal, rows.length).toLocaleString()}` : ''}; at most ${PAGE} per load`,
              })}
            </span>
          </h2>
          <div className="table-wrap">
            <table className="grid" aria-label={pick({ zh: '停滞实例', en: 'Stalled instances' })}>
              <thead>
                <tr>
                  <th scope="col">
                    <input
                      type="checkbox"
                      aria-label={pick({ zh: '选择已加载的全部', en: 'Select all loaded' })}
                      checked={!allMatching && rows.length > 0 && rows.every((r) => picked.has(r.workflowId))}
                      disabled={allMatching}
                      onChange={(e) =>
                        setPicked(e.target.checked ? new Set(rows.map((r) => r.workflowId)) : new Set())
                      }
                    />
                    <label className="all-matching">
                      <input
                        type="checkbox"
                        checked={allMatching}
                        onChange={(e) => setAllMatching(e.target.checked)}
                      />{' '}
                      {pick({ zh: '筛选出的全部', en: 'All matching' })}
                    </label>
                  </th>
                  <th scope="col">{pick({ zh: '流程 / 编号', en: 'Procedure / id' })}</th>
                  <th scope="col">{pick({ zh: '状态', en: 'State' })}</th>
                  <th scope="col">{pick({ zh: '客户', en: 'Client' })}</th>
                  <th scope="col">{pick({ zh: '停留', en: 'Idle' })}</th>
                  <th scope="col">{pick({ zh: '期限', en: 'Due' })}</th>
                  <th scope="col">{pick({ zh: '升级 / 下次提醒', en: 'Escalation / next reminder' })}</th>
                  <th scope="col">{pick({ zh: '等待角色', en: 'Awaiting' })}</th>
                  <th scope="col">{pick({ zh: '处理人', en: 'Assignee' })}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr
                    key={r.workflowId}
                    className={r.overdue ? 'row-overdue' : ''}
                    data-workflow-id={r.workflowId}
                  >
                    <td>
                      <input
                        type="checkbox"
                        aria-label={pick({ zh: `选择 ${r.workflowId}`, en: `Select ${r.workflowId}` })}
                        checked={allMatching || picked.has(r.workflowId)}
                        disabled={allMatching}
                        onChange={() => toggle(r.workflowId)}
                      />
                    </td>
                    <td>
                      <InstanceCell workflowId={r.workflowId} title={title(r.procedure)} />
                    </td>
                    <td>
                      <StateNames ir={r.procedure ? irs.get(r.procedure) : undefined} states={r.state} />
                    </td>
                    <td>{r.client ?? <span className="muted">—</span>}</td>
                    <td className="nowrap">{duration(r.idleMs)}</td>
                    <td>
                      <Due dueAt={r.dueAt} overdue={r.overdue} />
                    </td>
                    <td>
                      <SlaCell sla={r.sla} names={names} />
                    </td>
                    <td>
                      <RoleChips roles={r.awaiting} names={names} />
                    </td>
                    <td>
                      {r.assignees?.length ? (
                        r.assignees.map((a) => <UserName key={a} id={a} names={people} />)
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="pager">
            <span className="muted">
              {next
                ? pick({ zh: '还有更多未加载。', en: 'More are not loaded yet.' })
                : pick({ zh: '已全部加载。', en: 'All loaded.' })}
              {pages > 1 &&
                pick({
                  zh: ' 自动刷新只更新上方计数。',
                  en: ' Auto-refresh now updates the counts above only.',
                })}
              {counts && ` ${pick({ zh: '计数时间', en: 'Counted at' })} ${dateTime(counts.at)}`}
            </span>
            {next && (
              <button type="button" onClick={() => void loadMore()} disabled={loading}>
                {pick({ zh: '加载更多', en: 'Load more' })}
              </button>
            )}
          </div>
        </>
      )}
    </section>
  );
}
