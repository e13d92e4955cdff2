/**
 * Bulk acts from the stalled view: reassign the picked instances (or every one matching the
 * filter) to a person, or remind the people they wait for. A preview first says what will happen
 * to each; the act then runs on the server (`POST /api/stalled/bulk`), and this panel polls its
 * progress and shows the result per instance.
 */
import { useEffect, useState } from 'react';
import { api, asApiError, type ApiError } from '../../api.ts';
import { ErrorBox } from '../../components/common.tsx';
import { useI18n } from '../../i18n.tsx';
import { useUserNames } from '../users/names.tsx';
import { useServerJob, type StartedJob } from '../jobs/useServerJob.ts';
import type { InstanceRow } from '../../types.ts';
import './assignment.css';

type Action = 'reassign' | 'remind';

interface Preview {
  total: number;
  missing: string[];
  instances: (InstanceRow & { plan: string })[];
}

export interface BulkScope {
  /** The picked rows' ids (when not `allMatching`). */
  picked: string[];
  /** Every stalled instance matching the filter instead of the picked ones. */
  allMatching: boolean;
  filter: { idle: string; procedure?: string; state?: string };
}

export function BulkPanel({ scope, onDone }: { scope: BulkScope; onDone: () => void }) {
  const { pick } = useI18n();
  const names = useUserNames();
  const [action, setAction] = useState<Action>('reassign');
  const [assignee, setAssignee] = useState('');
  const [preview, setPreview] = useState<Preview | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const { job, follow } = useServerJob({ intervalMs: 400, onError: setError, onFinished: onDone });
  const [busy, setBusy] = useState(false);
  const count = scope.allMatching ? undefined : scope.picked.length;
  const body = (): Record<string, unknown> => ({
    action,
    ...(action === 'reassign' ? { assignee: assignee.trim() || null } : {}),
    ...(scope.allMatching
      ? {
          filter: {
            idle: scope.filter.idle,
            ...(scope.filter.procedure ? { procedure: scope.filter.procedure } : {}),
            ...(scope.filter.state ? { state: scope.filter.state } : {}),
          },
        }
      : { workflowIds: scope.picked }),
  });
  // Any change of what or to whom voids the preview.
  useEffect(() => setPreview(undefined), [action, assignee, scope.allMatching, scope.picked.length]);

  const run = async (what: 'preview' | 'start'): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      if (what === 'preview') setPreview(await api<Preview>('POST', '/api/stalled/bulk/preview', body()));
      else {
        const started = await api<StartedJob>('POST', '/api/stalled/bulk', body());
        follow(`/api/stalled/bulk/${encodeURIComponent(started.jobId)}`, started);
        setPreview(undefined);
      }
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };

  const nothing = !scope.allMatching && !scope.picked.length;
  return (
    <div className="card bulk-panel" aria-labelledby="bulk">
      <h2 id="bulk">
        {pick({ zh: '批量处理', en: 'Bulk action' })}{' '}
        <span className="count" data-testid="bulk-scope">
          {count === undefined
            ? pick({ zh: '筛选出的全部', en: 'all matching the filter' })
            : pick({ zh: `已选 ${count} 项`, en: `${count} selected` })}
        </span>
      </h2>
      <div className="bulk-controls">
        <label>
          {pick({ zh: '操作', en: 'Action' })}{' '}
          <select value={action} onChange={(e) => setAction(e.target.value as Action)}>
            <option value="reassign">{pick({ zh: '重新分派', en: 'Reassign' })}</option>
            <option value="remind">{pick({ zh: '催办', en: 'Remind' })}</option>
          </select>
        </label>
        {action === 'reassign' && (
          <label>
            {pick({ zh: '分派给（用户编号，留空为取消分派）', en: 'To (user id; empty: unassign)' })}{' '}
            <input
              list="bulk-people"
              value={assignee}
              onChange={(e) => setAssignee(e.target.value)}
              aria-label={pick({ zh: '分派给', en: 'Assign to' })}
            />
            <datalist id="bulk-people">
              {[...names].map(([id, name]) => (
                <option key={id} value={id}>
                  {name}
                </option>
              ))}
            </datalist>
          </label>
        )}
        <button type="button" disabled={busy || nothing} onClick={() => void run('preview')}>
          {pick({ zh: '预览', en: 'Preview' })}
        </button>
        <button
          type="button"
          className="primary"
          disabled={busy || !preview || preview.total === 0}
          onClick={() => void run('start')}
        >
          {pick({ zh: '执行', en: 'Run' })}
          {preview ? ` (${preview.total})` : ''}
        </button>
      </div>
      {error && <ErrorBox error={error} />}
      {preview && (
        <div className="bulk-preview" data-testid="bulk-preview">
          <p>
            {pick({
              zh: `将处理 ${preview.total} 个实例${preview.missing.length ? `；${preview.missing.length} 个已不可处理` : ''}：`,
              en: `${preview.total} instance${preview.total === 1 ? '' : 's'} will be acted on${preview.missing.length ? `; ${preview.missing.length} can no longer be` : ''}:`,
            })}
          </p>
          <ResultTable
            rows={preview.instances.slice(0, 100).map((r) => ({ workflowId: r.workflowId, text: r.plan }))}
          />
        </div>
      )}
      {job && (
        <div className="bulk-job" data-testid="bulk-job" data-finished={job.finishedAt ? 'true' : 'false'}>
          <progress max={job.total} value={job.done} />{' '}
          <span role="status">
            {pick({
              zh: `${job.done}/${job.total} 已处理：成功 ${job.ok}，被拒 ${job.refused}${job.finishedAt ? '（完成）' : ''}`,
              en: `${job.done}/${job.total} done: ${job.ok} succeeded, ${job.refused} refused${job.finishedAt ? ' (finished)' : ''}`,
            })}
          </span>
          {job.finishedAt && (
            <ResultTable
              rows={job.results.map((r) => ({
                workflowId: r.workflowId,
                ok: r.ok,
                text: r.ok ? (r.detail ?? '') : `${r.code ?? ''}: ${r.message ?? ''}`,
              }))}
            />
          )}
        </div>
      )}
    </div>
  );
}

function ResultTable({ rows }: { rows: { workflowId: string; ok?: boolean; text: string }[] }) {
  const { pick } = useI18n();
  return (
    <div className="table-wrap">
      <table className="grid" aria-label={pick({ zh: '每个实例的结果', en: 'Result per instance' })}>
        <tbody>
          {rows.map((r) => (
            <tr
              key={r.workflowId}
              data-workflow-id={r.workflowId}
              className={r.ok === undefined ? '' : r.ok ? 'bulk-result-ok' : 'bulk-result-refused'}
            >
              <td className="mono">{r.workflowId}</td>
              <td>
                {r.ok === undefined
                  ? ''
                  : r.ok
                    ? pick({ zh: '成功', en: 'done' })
                    : pick({ zh: '被拒', en: 'refused' })}
              </td>
              <td>{r.text}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
