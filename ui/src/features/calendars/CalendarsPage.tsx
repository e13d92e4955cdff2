/**
 * `/calendars` (administrators): the business calendar instances count working days in — the
 * current version (coverage, holidays and adjusted working days per year), every version, and an
 * editor: validate (diagnostics with line:column, nothing stored) and save as the next version
 * (audited; instances started from then on pin it, running ones keep theirs).
 */
import { useState } from 'react';
import { api, asApiError, type ApiError } from '../../api.ts';
import { ErrorBox, PageHeader, useDocumentTitle } from '../../components/common.tsx';
import { useApi } from '../../data.tsx';
import { useI18n } from '../../i18n.tsx';
import { coverageNotice, todayIn } from './coverage.ts';

interface Year {
  year: number;
  holidays: { date: string; name: string }[];
  workdays: { date: string; for: string }[];
}
interface Current {
  version: number;
  id: string;
  sha256: string;
  source: 'store' | 'shipped';
  createdBy?: string;
  createdAt?: string;
  timezone: string;
  weekend: number[];
  covers: { from: string; to: string };
  years: Year[];
}
interface HistoryRow {
  version: number;
  id: string;
  sha256: string;
  source: 'store' | 'shipped';
  createdBy?: string;
  createdAt?: string;
}
interface CalendarDiagnostic {
  code: string;
  line: number;
  column: number;
  message: string;
}
interface Checked {
  valid: boolean;
  diagnostics: CalendarDiagnostic[];
}

function load(signal: AbortSignal): Promise<{ current: Current; history: HistoryRow[] }> {
  return api('GET', '/api/calendars', undefined, { signal });
}

export function CalendarsPage() {
  const { pick, dateTime } = useI18n();
  const cal = useApi('calendars', load);
  const [text, setText] = useState<string | undefined>();
  const [checked, setChecked] = useState<Checked | undefined>();
  const [saved, setSaved] = useState<number | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  useDocumentTitle(pick({ zh: '工作日历', en: 'Calendars' }));

  const run = async (fn: () => Promise<void>): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
    } catch (err) {
      const e = asApiError(err);
      const diagnostics = (e.problem as { diagnostics?: CalendarDiagnostic[] } | undefined)?.diagnostics;
      if (diagnostics) setChecked({ valid: false, diagnostics });
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const edit = (version: number): Promise<void> =>
    run(async () => {
      const v = await api<{ text: string }>('GET', `/api/calendars/${version}`);
      setText(v.text);
      setChecked(undefined);
      setSaved(undefined);
    });
  const validate = (): Promise<void> =>
    run(async () => {
      setChecked(await api<Checked>('POST', '/api/calendars/validate', { text: text ?? '' }));
    });
  const save = (): Promise<void> =>
    run(async () => {
      const r = await api<{ version: number }>('POST', '/api/calendars', { text: text ?? '' });
      setSaved(r.version);
      setChecked(undefined);
      setText(undefined);
      cal.reload();
    });

  const cur = cal.data?.current;
  return (
    <section className="page">
      <PageHeader title={pick({ zh: '工作日历', en: 'Calendars' })}>
        {cur && text === undefined && (
          <button type="button" className="primary" onClick={() => void edit(cur.version)} disabled={busy}>
            {pick({ zh: '编辑新版本', en: 'Edit a new version' })}
          </button>
        )}
      </PageHeader>
      <p className="lede">
        {pick({
          zh: '以工作日计的期限（如 P2WD）按此日历计算。新发起的实例固定使用当前版本；运行中的实例保留其发起时的版本。',
          en: 'Deadlines in working days (e.g. P2WD) are counted in this calendar. New instances pin the current version; running instances keep the one they started with.',
        })}
      </p>
      {cal.error && <ErrorBox error={cal.error} />}
      {error && <ErrorBox error={error} />}
      {saved !== undefined && (
        <p role="status" className="card">
          {pick({ zh: `已保存为版本 ${saved}。`, en: `Saved as version ${saved}.` })}
        </p>
      )}
      {text !== undefined && (
        <div className="card calendar-editor">
          <label>
            {pick({ zh: '日历（JSON）', en: 'Calendar (JSON)' })}
            <textarea
              value={text}
              onChange={(e) => {
                setText(e.target.value);
                setChecked(undefined);
              }}
              rows={24}
              spellCheck={false}
              style={{ width: '100%', fontFamily: 'monospace' }}
              data-testid="calendar-text"
            />
          </label>
          <div>
            <button type="button" onClick={() => void validate()} disabled={busy}>
              {pick({ zh: '检查', en: 'Validate' })}
            </button>{' '}
            <button type="button" className="primary" onClick={() => void save()} disabled={busy}>
              {pick({ zh: '保存为新版本', en: 'Save as a new version' })}
            </button>{' '}
            <button type="button" onClick={() => setText(undefined)} disabled={busy}>
              {pick({ zh: '取消', en: 'Cancel' })}
            </button>
          </div>
          {checked && (
            <div role="status" data-testid="calendar-diagnostics">
              {checked.valid ? (
                <p>{pick({ zh: '没有问题：日历有效', en: 'No problems: the calendar is valid' })}</p>
              ) : (
                <ul>
                  {checked.diagnostics.map((d, i) => (
                    <li key={i}>
                      <code>
                        {d.line}:{d.column}
                      </code>{' '}
                      <code>{d.code}</code> {d.message}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          )}
        </div>
      )}
      {cur && (
        <div className="card">
          <h2>
            {pick({ zh: `当前版本 ${cur.version}`, en: `Current version ${cur.version}` })}
            {cur.source === 'shipped' && pick({ zh: '（随产品发布的文件）', en: ' (the shipped file)' })}
          </h2>
          <p>
            <code>{cur.id}</code> · {cur.timezone} · {pick({ zh: '覆盖', en: 'covers' })} {cur.covers.from} –{' '}
            {cur.covers.to} · <code title={cur.sha256}>{cur.sha256.slice(0, 12)}</code>
          </p>
          <CoverageWarning to={cur.covers.to} timeZone={cur.timezone} />
          <table className="table">
            <thead>
              <tr>
                <th>{pick({ zh: '年份', en: 'Year' })}</th>
                <th>{pick({ zh: '放假', en: 'Holidays' })}</th>
                <th>{pick({ zh: '调休上班', en: 'Adjusted working days' })}</th>
              </tr>
            </thead>
            <tbody>
              {cur.years.map((y) => (
                <tr key={y.year}>
                  <td>{y.year}</td>
                  <td>
                    {y.holidays.length}
                    <details>
                      <summary>{pick({ zh: '日期', en: 'Dates' })}</summary>
                      {y.holidays.map((h) => `${h.date} ${h.name}`).join(', ')}
                    </details>
                  </td>
                  <td>
                    {y.workdays.length}
                    <details>
                      <summary>{pick({ zh: '日期', en: 'Dates' })}</summary>
                      {y.workdays.map((w) => `${w.date} (${w.for})`).join(', ')}
                    </details>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cal.data && (
        <div className="card">
          <h2>{pick({ zh: '版本历史', en: 'Version history' })}</h2>
          <table className="table">
            <thead>
              <tr>
                <th>{pick({ zh: '版本', en: 'Version' })}</th>
                <th>SHA-256</th>
                <th>{pick({ zh: '保存人', en: 'By' })}</th>
                <th>{pick({ zh: '时间', en: 'When' })}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {cal.data.history.map((h) => (
                <tr key={h.version}>
                  <td>
                    {h.version}
                    {h.source === 'shipped' && pick({ zh: '（随产品发布）', en: ' (shipped)' })}
                  </td>
                  <td>
                    <code title={h.sha256}>{h.sha256.slice(0, 12)}</code>
                  </td>
                  <td>{h.createdBy ?? '—'}</td>
                  <td>{h.createdAt ? dateTime(h.createdAt) : '—'}</td>
                  <td>
                    <button type="button" onClick={() => void edit(h.version)} disabled={busy}>
                      {pick({ zh: '以此为底编辑', en: 'Edit from this' })}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** From 60 days before the holiday data ends: add the next year's notice (see `coverage.ts`). */
function CoverageWarning({ to, timeZone }: { to: string; timeZone: string }) {
  const { pick } = useI18n();
  const notice = coverageNotice(to, todayIn(timeZone));
  if (notice.kind === 'ok') return null;
  const text =
    notice.kind === 'ends-soon'
      ? pick({
          zh: `节假日数据将于 ${to} 到期（还剩 ${notice.daysLeft} 天）。此后的工作日只按周末计算（不含法定节假日与调休）：国务院办公厅公布下一年的放假安排后，请在下方添加并延长覆盖范围。`,
          en: `The holiday data ends on ${to} (${notice.daysLeft} days left). After it, working days are counted on weekends alone (no public holidays or adjusted working days): once the State Council General Office publishes next year's arrangements, add them below and extend the coverage.`,
        })
      : pick({
          zh: `节假日数据已于 ${to} 到期（${notice.daysAgo} 天前）。目前的工作日只按周末计算：请添加新一年的放假安排。`,
          en: `The holiday data ended on ${to} (${notice.daysAgo} days ago). Working days are now counted on weekends alone: add the new year's arrangements.`,
        });
  return (
    <p className="notice" role="alert" data-testid="calendar-coverage-warning">
      {text}
    </p>
  );
}
