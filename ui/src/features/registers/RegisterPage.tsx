/**
 * One register (GET /api/records/{name}): the declared columns, filters kept in the URL (client,
 * month or dates, procedure, instance, any declared field), the total, CSV/XLSX exports of the
 * selection, each row linked to its instance and transition, corrections shown under the row
 * they correct (and, for the register's correctors, a form to add one). Printable: the print
 * stylesheet drops the chrome and keeps a titled, paged table for a binder.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError } from '../../api.ts';
import { useI18n } from '../../i18n.tsx';
import { Link, setQuery, useLocation } from '../../router.tsx';
import { ClientField, Empty, ErrorBox, PageHeader } from '../../components/common.tsx';
import { useUser } from '../../session.tsx';
import { CorrectionForm } from './CorrectionForm.tsx';
import type { Text } from '../../../../workflows/core/ir.ts';
import { FIXED_FILTERS, type Json, type Register, type RegisterRow, type RowsPage } from './types.ts';
import './registers.css';

const PAGE = 50;

/** The register's filters from the URL: the fixed ones and `field.<name>`. */
function filtersOf(query: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of query)
    if (v && ((FIXED_FILTERS as readonly string[]).includes(k) || k.startsWith('field.'))) out[k] = v;
  return out;
}

export function RegisterPage({ name }: { name: string }) {
  const { pick, text, lang } = useI18n();
  const user = useUser();
  const { query } = useLocation();
  const filters = filtersOf(query);
  const key = JSON.stringify(filters);
  const [register, setRegister] = useState<Register | undefined>();
  const [rows, setRows] = useState<RegisterRow[]>([]);
  const [total, setTotal] = useState<number | undefined>();
  const [next, setNext] = useState<string | undefined>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [tick, setTick] = useState(0);

  const load = async (cursor?: string, signal?: AbortSignal): Promise<void> => {
    setLoading(true);
    setError(undefined);
    try {
      const page = await api<RowsPage>('GET', `/api/records/${encodeURIComponent(name)}`, undefined, {
        query: { ...filters, limit: PAGE, cursor },
        ...(signal ? { signal } : {}),
      });
      setRegister(page.register);
      setRows((old) => (cursor ? [...old, ...page.rows] : page.rows));
      if (page.total !== undefined) setTotal(page.total);
      setNext(page.next);
    } catch (err) {
      if (err instanceof ApiError) setError(err);
      else if (!(err instanceof DOMException)) throw err;
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    const ctl = new AbortController();
    void load(undefined, ctl.signal);
    return () => ctl.abort();
  }, [name, key, tick]);

  const title = register ? text(register.title) : name;
  const corrector = register ? user.roles.some((r) => register.correctors.includes(r)) : false;
  const exportHref = (format: 'csv' | 'xlsx'): string =>
    `/api/records/${encodeURIComponent(name)}?${new URLSearchParams({ ...filters, format, lang }).toString()}`;
  const summary = Object.entries(filters)
    .map(
      ([k, v]) =>
        `${k.startsWith('field.') && register ? fieldTitle(register, k.slice(6), text) : filterLabel(k, pick)}: ${v}`,
    )
    .join(' · ');

  return (
    <section className="page register-page">
      <p className="print-only print-meta">
        Custodia · {pick({ zh: '打印于', en: 'Printed' })}{' '}
        {new Date().toLocaleString(lang === 'zh' ? 'zh-CN' : 'en')}
        {summary ? ` · ${summary}` : ''}
      </p>
      <PageHeader title={title}>
        <a className="button" href={exportHref('csv')} download data-export="csv">
          {pick({ zh: '导出 CSV', en: 'Export CSV' })}
        </a>
        <a className="button" href={exportHref('xlsx')} download data-export="xlsx">
          {pick({ zh: '导出 Excel', en: 'Export XLSX' })}
        </a>
        <button type="button" onClick={() => window.print()}>
          {pick({ zh: '打印', en: 'Print' })}
        </button>
      </PageHeader>
      <p className="no-print">
        <Link to="/registers">← {pick({ zh: '全部登记册', en: 'All registers' })}</Link>
        {register?.description && <span className="muted"> · {text(register.description)}</span>}
      </p>
      {register && <Filters register={register} filters={filters} />}
      {error && <ErrorBox error={error} />}
      <p className="register-totals" aria-live="polite">
        {total !== undefined &&
          pick({
            zh: `共 ${total} 条记录，已显示 ${rows.length} 条`,
            en: `${total} row${total === 1 ? '' : 's'}; showing ${rows.length}`,
          })}
        {summary && <span className="muted no-print"> · {summary}</span>}
      </p>
      {!loading && !error && register && !rows.length && (
        <Empty>{pick({ zh: '没有符合条件的记录。', en: 'No rows match.' })}</Empty>
      )}
      {register && rows.length > 0 && (
        <RowsTable
          register={register}
          rows={rows}
          corrector={corrector}
          onCorrected={() => setTick((t) => t + 1)}
        />
      )}
      <div className="pager no-print">
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

function filterLabel(key: string, pick: (s: { zh: string; en: string }) => string): string {
  const labels: Record<string, { zh: string; en: string }> = {
    client: { zh: '客户', en: 'Client' },
    from: { zh: '自', en: 'From' },
    to: { zh: '至', en: 'To' },
    procedure: { zh: '流程', en: 'Procedure' },
    workflowId: { zh: '实例', en: 'Instance' },
  };
  return labels[key] ? pick(labels[key]) : key;
}

function fieldTitle(register: Register, field: string, text: (t: Text) => string): string {
  const f = register.fields.find((x) => x.name === field);
  return f ? text(f.title) : field;
}

/** The first and last day of a month `YYYY-MM`. */
function monthRange(month: string): { from: string; to: string } | undefined {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m) return undefined;
  const last = new Date(Date.UTC(Number(m[1]), Number(m[2]), 0)).getUTCDate();
  return { from: `${month}-01`, to: `${month}-${String(last).padStart(2, '0')}` };
}

function Filters({ register, filters }: { register: Register; filters: Record<string, string> }) {
  const { pick, text } = useI18n();
  const user = useUser();
  const fieldKey = Object.keys(filters).find((k) => k.startsWith('field.'));
  const [draft, setDraft] = useState({
    client: filters.client ?? '',
    from: filters.from ?? '',
    to: filters.to ?? '',
    procedure: filters.procedure ?? '',
    workflowId: filters.workflowId ?? '',
    field: fieldKey ? fieldKey.slice(6) : '',
    value: fieldKey ? (filters[fieldKey] ?? '') : '',
  });
  const month =
    draft.from &&
    draft.to &&
    monthRange(draft.from.slice(0, 7))?.from === draft.from &&
    monthRange(draft.from.slice(0, 7))?.to === draft.to
      ? draft.from.slice(0, 7)
      : '';
  const apply = (e: FormEvent): void => {
    e.preventDefault();
    const cleared = Object.fromEntries(Object.keys(filters).map((k) => [k, undefined]));
    setQuery({
      ...cleared,
      client: draft.client,
      from: draft.from,
      to: draft.to,
      procedure: draft.procedure,
      workflowId: draft.workflowId.trim(),
      ...(draft.field && draft.value ? { [`field.${draft.field}`]: draft.value } : {}),
    });
  };
  return (
    <form className="filters no-print" onSubmit={apply} aria-label={pick({ zh: '筛选', en: 'Filters' })}>
      <ClientField
        value={draft.client}
        onChange={(client) => setDraft({ ...draft, client })}
        clients={user.clients}
        name="client"
      />
      <label className="field">
        <span className="field-label">{pick({ zh: '月份', en: 'Month' })}</span>
        <input
          type="month"
          name="month"
          value={month}
          onChange={(e) => {
            const r = monthRange(e.target.value);
            setDraft({ ...draft, from: r?.from ?? '', to: r?.to ?? '' });
          }}
        />
      </label>
      <label className="field">
        <span className="field-label">{pick({ zh: '自', en: 'From' })}</span>
        <input
          type="date"
          name="from"
          value={draft.from}
          onChange={(e) => setDraft({ ...draft, from: e.target.value })}
        />
      </label>
      <label className="field">
        <span className="field-label">{pick({ zh: '至', en: 'To' })}</span>
        <input
          type="date"
          name="to"
          value={draft.to}
          onChange={(e) => setDraft({ ...draft, to: e.target.value })}
        />
      </label>
      {register.procedures.length > 1 && (
        <label className="field">
          <span className="field-label">{pick({ zh: '流程', en: 'Procedure' })}</span>
          <select value={draft.procedure} onChange={(e) => setDraft({ ...draft, procedure: e.target.value })}>
            <option value="">{pick({ zh: '全部', en: 'All' })}</option>
            {register.procedures.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </label>
      )}
      <label className="field">
        <span className="field-label">{pick({ zh: '实例', en: 'Instance' })}</span>
        <input
          name="workflowId"
          value={draft.workflowId}
          onChange={(e) => setDraft({ ...draft, workflowId: e.target.value })}
        />
      </label>
      <label className="field">
        <span className="field-label">{pick({ zh: '字段', en: 'Field' })}</span>
        <select
          name="field"
          value={draft.field}
          onChange={(e) => setDraft({ ...draft, field: e.target.value })}
        >
          <option value="">—</option>
          {register.fields.map((f) => (
            <option key={f.name} value={f.name}>
              {text(f.title)}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span className="field-label">{pick({ zh: '等于 / 包含', en: 'Equals / contains' })}</span>
        <input
          name="value"
          value={draft.value}
          onChange={(e) => setDraft({ ...draft, value: e.target.value })}
        />
      </label>
      <div className="filter-actions">
        <button type="submit" className="primary">
          {pick({ zh: '筛选', en: 'Apply filters' })}
        </button>
        <button
          type="button"
          onClick={() => setQuery(Object.fromEntries(Object.keys(filters).map((k) => [k, undefined])))}
        >
          {pick({ zh: '清除', en: 'Clear' })}
        </button>
      </div>
    </form>
  );
}

function show(v: Json | undefined, pick: (s: { zh: string; en: string }) => string): string {
  if (v === undefined || v === null || v === '') return '—';
  if (typeof v === 'boolean') return v ? pick({ zh: '是', en: 'yes' }) : pick({ zh: '否', en: 'no' });
  if (Array.isArray(v))
    return v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join('; ') || '—';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function RowsTable({
  register,
  rows,
  corrector,
  onCorrected,
}: {
  register: Register;
  rows: RegisterRow[];
  corrector: boolean;
  onCorrected: () => void;
}) {
  const { pick, text, shortDateTime, dateTime } = useI18n();
  const [correcting, setCorrecting] = useState<string | undefined>();
  const span = register.fields.length + 4 + (corrector ? 1 : 0);
  return (
    <div className="table-wrap">
      <table className="grid register-table" aria-label={text(register.title)}>
        <thead>
          <tr>
            <th scope="col">{pick({ zh: '时间', en: 'At' })}</th>
            <th scope="col">{pick({ zh: '客户', en: 'Client' })}</th>
            <th scope="col">{pick({ zh: '实例 / 转换', en: 'Instance / transition' })}</th>
            <th scope="col">{pick({ zh: '操作人', en: 'By' })}</th>
            {register.fields.map((f) => (
              <th scope="col" key={f.name} title={f.name}>
                {text(f.title)}
              </th>
            ))}
            {corrector && (
              <th scope="col" className="no-print" aria-label={pick({ zh: '更正', en: 'Correct' })} />
            )}
          </tr>
        </thead>
        {rows.map((r) => {
          const key = `${r.workflowId}#${r.seq}.${r.idx}`;
          return (
            <tbody key={key} className="register-row" data-row={key}>
              <tr>
                <td className="nowrap" title={dateTime(r.at)}>
                  {shortDateTime(r.at)}
                </td>
                <td>{r.client ?? <span className="muted">—</span>}</td>
                <td>
                  <Link to={`/instances/${encodeURIComponent(r.workflowId)}`} className="mono">
                    {r.workflowId}
                  </Link>
                  <div className="cell-sub">
                    <Link to={`/instances/${encodeURIComponent(r.workflowId)}#transition-${r.seq}`}>
                      #{r.seq} {r.event ?? ''}
                    </Link>
                  </div>
                </td>
                <td>{r.actor ?? '—'}</td>
                {register.fields.map((f) => (
                  <td key={f.name}>{show(r.fields[f.name], pick)}</td>
                ))}
                {corrector && (
                  <td className="no-print">
                    <button
                      type="button"
                      className="small"
                      onClick={() => setCorrecting(correcting === key ? undefined : key)}
                    >
                      {pick({ zh: '更正', en: 'Correct' })}
                    </button>
                  </td>
                )}
              </tr>
              {r.corrections.map((c) => (
                <tr key={c.id} className="correction-row">
                  <td className="nowrap" title={dateTime(c.at)}>
                    {shortDateTime(c.at)}
                  </td>
                  <td colSpan={2}>
                    <span className="correction-tag">{pick({ zh: '更正', en: 'Correction' })}</span>{' '}
                    {c.reason}
                  </td>
                  <td>{c.by}</td>
                  {register.fields.map((f) => (
                    <td key={f.name}>{f.name in c.fields ? show(c.fields[f.name], pick) : ''}</td>
                  ))}
                  {corrector && <td className="no-print" />}
                </tr>
              ))}
              {correcting === key && (
                <tr className="no-print">
                  <td colSpan={span}>
                    <CorrectionForm
                      register={register}
                      row={r}
                      onDone={() => {
                        setCorrecting(undefined);
                        onCorrected();
                      }}
                    />
                  </td>
                </tr>
              )}
            </tbody>
          );
        })}
      </table>
    </div>
  );
}
