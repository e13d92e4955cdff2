/**
 * The manager's dashboard (GET /api/dashboard): open instances by procedure and state, overdue
 * instances day by day, cycle times, SLA breaches per month, workload per role and person — all
 * from the records store — filtered by client, procedure and period (kept in the URL). A click on
 * a bar or point opens the instances behind it: the instance list filtered by procedure and state
 * or awaited role, or by the workflow ids `GET /api/dashboard/instances` gives for the element.
 */
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import type { EChartsCoreOption } from 'echarts/core';
import { api, ApiError } from '../../api.ts';
import { roleNames, useDefinitions, useIRs } from '../../data.tsx';
import { useI18n } from '../../i18n.tsx';
import { navigate, setQuery, useLocation } from '../../router.tsx';
import { ClientField, Empty, ErrorBox, PageHeader, useStateName } from '../../components/common.tsx';
import { useUser } from '../../session.tsx';
import { useUserNames } from '../users/names.tsx';
import { EChart, type ChartClick } from './EChart.tsx';
import type { Dashboard, DrillQuery } from './types.ts';
import './dashboard.css';

const FILTERS = ['client', 'procedure', 'from', 'to'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;
const DAY = 86_400_000;

/** Series colours (fixed, so the charts read the same in both languages and in tests). */
export const COLORS = {
  open: '#2f6fb0',
  overdue: '#c0392b',
  median: '#2f6fb0',
  p90: '#8e44ad',
  awaiting: '#16a085',
  person: '#d68910',
  breaches: ['#c0392b', '#d68910', '#2f6fb0', '#16a085', '#8e44ad', '#7f8c8d'],
} as const;

export function DashboardPage() {
  const { pick, text, lang } = useI18n();
  const user = useUser();
  const { query } = useLocation();
  const defs = useDefinitions();
  // Stable between renders: the charts are drawn again only when what they show changes.
  const roles = useMemo(() => roleNames(defs), [defs]);
  const people = useUserNames();
  const stateName = useStateName();
  const filters = Object.fromEntries(FILTERS.map((k) => [k, query.get(k) ?? ''])) as Filters;
  const key = FILTERS.map((k) => filters[k]).join('|');
  const [draft, setDraft] = useState<Filters>(filters);
  const [data, setData] = useState<Dashboard | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [opening, setOpening] = useState(false);

  useEffect(() => {
    const ctl = new AbortController();
    setDraft(filters);
    setError(undefined);
    api<Dashboard>('GET', '/api/dashboard', undefined, { query: filters, signal: ctl.signal }).then(
      setData,
      (err: unknown) => {
        if (err instanceof ApiError) setError(err);
        else if (!(err instanceof DOMException)) throw err;
      },
    );
    return () => ctl.abort();
  }, [key]);

  const irs = useIRs([...new Set(data?.openByState.map((g) => g.procedure) ?? [])]);
  const title = (id: string): string => {
    const d = defs.find((x) => x.id === id);
    return d ? text(d.title) : id;
  };

  /** The instance list for these filters (besides the dashboard's client and procedure). */
  const openList = (extra: Record<string, string>): void => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries({ client: filters.client, procedure: filters.procedure, ...extra }))
      if (v) q.set(k, v);
    navigate(`/instances?${q.toString()}`);
  };
  /** The instances behind a chart element, by their workflow ids. */
  const openBehind = async (drill: DrillQuery): Promise<void> => {
    setOpening(true);
    try {
      const r = await api<{ workflowIds: string[]; total: number }>(
        'GET',
        '/api/dashboard/instances',
        undefined,
        {
          query: { ...filters, ...drill, limit: 200 },
        },
      );
      if (r.workflowIds.length) navigate(`/instances?all=true&ids=${r.workflowIds.join(',')}`);
    } catch (err) {
      if (err instanceof ApiError) setError(err);
      else throw err;
    } finally {
      setOpening(false);
    }
  };

  const charts = useMemo(() => {
    if (!data) return undefined;
    const bars = (color: string, values: number[]) => ({
      type: 'bar',
      data: values,
      itemStyle: { color },
      label: { show: true, position: 'right' },
      barMaxWidth: 28,
    });
    const hbar = (categories: string[], series: object[]): EChartsCoreOption => ({
      grid: { left: 8, right: 40, top: 8, bottom: 8 },
      tooltip: { trigger: 'item' },
      xAxis: { type: 'value', minInterval: 1 },
      yAxis: { type: 'category', data: categories, inverse: true },
      series,
    });
    const open = data.openByState;
    const awaiting = data.awaitingByRole;
    const persons = data.transitionsByPerson;
    const months = [...new Set(data.breachesByMonth.map((b) => b.month))].sort();
    const breachProcs = [...new Set(data.breachesByMonth.map((b) => b.procedure))].sort();
    const days = (ms: number): number => Math.round((ms / DAY) * 10) / 10;
    return {
      open: hbar(
        open.map((g) => `${title(g.procedure)} · ${stateName(irs.get(g.procedure), g.state)}`),
        [
          bars(
            COLORS.open,
            open.map((g) => g.count),
          ),
        ],
      ),
      overdue: {
        grid: { left: 8, right: 16, top: 16, bottom: 8 },
        tooltip: { trigger: 'axis' },
        xAxis: { type: 'category', data: data.overdueByDay.map((p) => p.day.slice(5)) },
        yAxis: { type: 'value', minInterval: 1 },
        series: [
          {
            type: 'line',
            name: pick({ zh: '逾期实例', en: 'Overdue instances' }),
            data: data.overdueByDay.map((p) => p.count),
            itemStyle: { color: COLORS.overdue },
            symbolSize: 6,
          },
        ],
      },
      cycle: {
        grid: { left: 8, right: 16, top: 32, bottom: 8 },
        tooltip: { trigger: 'axis' },
        legend: { top: 0 },
        xAxis: { type: 'category', data: data.cycleTimes.map((c) => title(c.procedure)) },
        yAxis: { type: 'value', name: pick({ zh: '天', en: 'days' }) },
        series: [
          {
            type: 'bar',
            name: pick({ zh: '中位数', en: 'Median' }),
            data: data.cycleTimes.map((c) => days(c.medianMs)),
            itemStyle: { color: COLORS.median },
            barMaxWidth: 28,
          },
          {
            type: 'bar',
            name: 'P90',
            data: data.cycleTimes.map((c) => days(c.p90Ms)),
            itemStyle: { color: COLORS.p90 },
            barMaxWidth: 28,
          },
        ],
      },
      breaches: {
        grid: { left: 8, right: 16, top: 32, bottom: 8 },
        tooltip: { trigger: 'axis' },
        legend: { top: 0 },
        xAxis: { type: 'category', data: months },
        yAxis: { type: 'value', minInterval: 1 },
        series: breachProcs.map((p, i) => ({
          type: 'bar',
          stack: 'breaches',
          name: title(p),
          data: months.map(
            (m) => data.breachesByMonth.find((b) => b.month === m && b.procedure === p)?.count ?? 0,
          ),
          itemStyle: { color: COLORS.breaches[i % COLORS.breaches.length] },
          barMaxWidth: 40,
        })),
      },
      awaiting: hbar(
        awaiting.map((a) => text(roles.get(a.role)) || a.role),
        [
          bars(
            COLORS.awaiting,
            awaiting.map((a) => a.count),
          ),
        ],
      ),
      person: hbar(
        persons.map((p) => people.get(p.actor) ?? p.actor),
        [
          bars(
            COLORS.person,
            persons.map((p) => p.transitions),
          ),
        ],
      ),
      months,
      breachProcs,
    };
  }, [data, lang, defs, irs, people, roles]);

  const apply = (e: FormEvent): void => {
    e.preventDefault();
    setQuery(draft);
  };
  const onOpen = ({ dataIndex }: ChartClick): void => {
    const g = data?.openByState[dataIndex];
    if (g) openList({ procedure: g.procedure, state: g.state });
  };
  const onAwaiting = ({ dataIndex }: ChartClick): void => {
    const a = data?.awaitingByRole[dataIndex];
    if (a) openList({ awaiting: a.role });
  };
  const onOverdue = ({ dataIndex }: ChartClick): void => {
    const p = data?.overdueByDay[dataIndex];
    if (p) void openBehind({ chart: 'overdue', day: p.day });
  };
  const onCycle = ({ dataIndex }: ChartClick): void => {
    const c = data?.cycleTimes[dataIndex];
    if (c) void openBehind({ chart: 'cycle', procedure: c.procedure });
  };
  const onBreaches = ({ seriesIndex, dataIndex }: ChartClick): void => {
    const month = charts?.months[dataIndex];
    const procedure = charts?.breachProcs[seriesIndex];
    if (month && procedure) void openBehind({ chart: 'breaches', month, procedure });
  };
  const onPerson = ({ dataIndex }: ChartClick): void => {
    const p = data?.transitionsByPerson[dataIndex];
    if (p) void openBehind({ chart: 'person', actor: p.actor });
  };

  const total = (ns: number[]): number => ns.reduce((a, b) => a + b, 0);
  const openInstances = data ? total(data.openByState.map((g) => g.count)) : 0;
  const lastOverdue = data?.overdueByDay.at(-1)?.count ?? 0;

  return (
    <section className="page dashboard">
      <PageHeader title={pick({ zh: '仪表板', en: 'Dashboard' })} />
      <form className="filters" onSubmit={apply} aria-label={pick({ zh: '筛选', en: 'Filters' })}>
        <ClientField
          value={draft.client}
          onChange={(client) => setDraft({ ...draft, client })}
          clients={user.clients}
        />
        <label className="field">
          <span className="field-label">{pick({ zh: '流程', en: 'Procedure' })}</span>
          <select value={draft.procedure} onChange={(e) => setDraft({ ...draft, procedure: e.target.value })}>
            <option value="">{pick({ zh: '全部', en: 'All' })}</option>
            {defs.map((d) => (
              <option key={d.id} value={d.id}>
                {text(d.title)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="field-label">{pick({ zh: '起始日', en: 'From' })}</span>
          <input
            type="date"
            value={draft.from}
            onChange={(e) => setDraft({ ...draft, from: e.target.value })}
          />
        </label>
        <label className="field">
          <span className="field-label">{pick({ zh: '截止日', en: 'To' })}</span>
          <input type="date" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
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
      {error && <ErrorBox error={error} />}
      {data && charts && (
        <>
          <p className="muted dashboard-period">
            {pick({ zh: '期间（UTC）', en: 'Period (UTC)' })}: {data.period.from.slice(0, 10)} –{' '}
            {new Date(Date.parse(data.period.to) - 1).toISOString().slice(0, 10)} ·{' '}
            {pick({
              zh: '点击图形查看相应实例。',
              en: 'Click a bar or point to open the instances behind it.',
            })}
            {opening && ` ${pick({ zh: '正在打开…', en: 'Opening…' })}`}
          </p>
          <div className="dashboard-grid">
            <Figure
              id="open"
              title={pick({ zh: '未结束的实例：按流程和状态', en: 'Open instances by procedure and state' })}
              summary={pick({ zh: `共 ${openInstances} 个`, en: `${openInstances} in all` })}
              empty={!data.openByState.length}
            >
              <EChart
                option={charts.open}
                onClick={onOpen}
                height={Math.max(160, 36 * data.openByState.length + 40)}
                label={pick({ zh: '未结束的实例', en: 'Open instances' })}
              />
            </Figure>
            <Figure
              id="overdue"
              title={pick({ zh: '逾期实例：每日（日终）', en: 'Overdue instances, day by day (end of day)' })}
              summary={pick({ zh: `当前逾期 ${lastOverdue}`, en: `${lastOverdue} overdue now` })}
              empty={false}
            >
              <EChart
                option={charts.overdue}
                onClick={onOverdue}
                label={pick({ zh: '逾期实例', en: 'Overdue' })}
              />
            </Figure>
            <Figure
              id="cycle"
              title={pick({ zh: '周期时间（已结束的实例）', en: 'Cycle time of instances that ended' })}
              summary={data.cycleTimes.map((c) => `${title(c.procedure)}: ${c.count}`).join(' · ')}
              empty={!data.cycleTimes.length}
            >
              <EChart
                option={charts.cycle}
                onClick={onCycle}
                label={pick({ zh: '周期时间', en: 'Cycle time' })}
              />
            </Figure>
            <Figure
              id="breaches"
              title={pick({ zh: 'SLA 超时：每月', en: 'SLA breaches per month' })}
              summary={pick({
                zh: `共 ${total(data.breachesByMonth.map((b) => b.count))} 次`,
                en: `${total(data.breachesByMonth.map((b) => b.count))} in all`,
              })}
              empty={!data.breachesByMonth.length}
            >
              <EChart
                option={charts.breaches}
                onClick={onBreaches}
                label={pick({ zh: 'SLA 超时', en: 'SLA breaches' })}
              />
            </Figure>
            <Figure
              id="awaiting"
              title={pick({
                zh: '工作量：等待各角色的实例',
                en: 'Workload: open instances awaiting each role',
              })}
              summary=""
              empty={!data.awaitingByRole.length}
            >
              <EChart
                option={charts.awaiting}
                onClick={onAwaiting}
                height={Math.max(160, 36 * data.awaitingByRole.length + 40)}
                label={pick({ zh: '等待各角色', en: 'Awaiting each role' })}
              />
            </Figure>
            <Figure
              id="person"
              title={pick({
                zh: '工作量：每人办理的步骤（期间内）',
                en: 'Workload: steps each person took in the period',
              })}
              summary=""
              empty={!data.transitionsByPerson.length}
            >
              <EChart
                option={charts.person}
                onClick={onPerson}
                height={Math.max(160, 30 * data.transitionsByPerson.length + 40)}
                label={pick({ zh: '每人办理的步骤', en: 'Steps per person' })}
              />
            </Figure>
          </div>
        </>
      )}
    </section>
  );
}

function Figure({
  id,
  title,
  summary,
  empty,
  children,
}: {
  id: string;
  title: string;
  summary: string;
  empty: boolean;
  children: React.ReactNode;
}) {
  const { pick } = useI18n();
  return (
    <figure className="card dashboard-chart" data-chart={id}>
      <figcaption>
        <h2>{title}</h2>
        {summary && <span className="muted">{summary}</span>}
      </figcaption>
      {empty ? <Empty>{pick({ zh: '此期间没有数据。', en: 'Nothing in this period.' })}</Empty> : children}
    </figure>
  );
}
