/**
 * Migration of running instances, from the definition's page (admins): pick a deployed version,
 * dry-run (every running instance classified: moves, needs a mapping, cannot move, with the
 * reason), then migrate those that move — the batch runs on the server
 * (`POST /api/definitions/{id}/migrations`); this panel polls its progress and shows the result
 * per instance. The dry run warns when moving sets deadlines off at once: the new version's due
 * times, reminders, escalations and `after:` timers count from the entry of the state, so those
 * already past fire the moment an instance migrates (per instance, and those due within the hour).
 */
import { useEffect, useState } from 'react';
import type { MigrationClass, MigrationPlan } from '../../../../workflows/core/migration.ts';
import type {
  DeadlineCounts,
  DeadlineKind,
  DeadlineSummary,
  DeadlineView,
  InstanceDeadlines,
} from '../../../../workflows/core/migration-deadlines.ts';
import { api, asApiError, type ApiError } from '../../api.ts';
import { ErrorBox } from '../../components/common.tsx';
import { formatDuration, useI18n, type Lang } from '../../i18n.tsx';
import { useServerJob, type StartedJob } from '../jobs/useServerJob.ts';
import '../assignment/assignment.css';

interface DryRun {
  to: { version: string; hash: string };
  proof: { exhaustive: boolean; explored: number };
  total: number;
  counts: Record<MigrationClass, number>;
  deadlines: DeadlineSummary;
  instances: {
    workflowId: string;
    fromVersion: string;
    seq: number;
    plan: MigrationPlan;
    deadlines?: InstanceDeadlines;
    deadlinesUnknown?: string;
  }[];
}

const KIND_TEXT: Record<DeadlineKind, { zh: string; en: string; unit: string }> = {
  due: { zh: '到期（即超期）', en: 'due time (overdue)', unit: '个' },
  remind: { zh: '提醒', en: 'reminder', unit: '条' },
  escalate: { zh: '升级', en: 'escalation', unit: '条' },
  after: { zh: '定时转换', en: 'after: timer', unit: '个' },
};

/** `3 reminders, 1 escalation` / `提醒 3 条、升级 1 条` of a summary's counts. */
function kindsText(c: DeadlineCounts, lang: Lang): string {
  const kinds: DeadlineKind[] = ['remind', 'escalate', 'after', 'due'];
  return kinds
    .filter((k) => c[k] > 0)
    .map((k) =>
      lang === 'zh'
        ? `${KIND_TEXT[k].zh} ${c[k]} ${KIND_TEXT[k].unit}`
        : `${c[k]} ${KIND_TEXT[k].en}${c[k] === 1 ? '' : 's'}`,
    )
    .join(lang === 'zh' ? '、' : ', ');
}

/** One deadline: `reminder review (PT2S after entry) → quality_manager, due 5 min ago`. */
function deadlineText(d: DeadlineView, lang: Lang, now: number): string {
  const at = Date.parse(d.at);
  const when = formatDuration(now - at, lang);
  const level = d.level ? (lang === 'zh' ? `第 ${d.level} 级` : ` level ${d.level}`) : '';
  const who = d.to ? ` → ${d.to}` : '';
  const moves = d.moves
    ? lang === 'zh'
      ? `，转到 ${d.moves.join('、')}`
      : `, moves to ${d.moves.join(', ')}`
    : '';
  return lang === 'zh'
    ? `${KIND_TEXT[d.kind].zh}${level} ${d.state}（进入后 ${d.delay}）${who}，${at <= now ? `${when}前已到期` : `${when}后到期`}${moves}`
    : `${KIND_TEXT[d.kind].en}${level} ${d.state} (${d.delay} after entry)${who}, ${at <= now ? `due ${when} ago` : `due in ${when}`}${moves}`;
}

const CLASS_TEXT: Record<MigrationClass, { zh: string; en: string }> = {
  moves: { zh: '可迁移', en: 'Moves' },
  needs_mapping: { zh: '需要映射', en: 'Needs mapping' },
  cannot_move: { zh: '不能迁移', en: 'Cannot move' },
};

export function MigrationPanel(props: { id: string; versions: string[]; current: string }) {
  const { pick, lang } = useI18n();
  const [to, setTo] = useState(props.current);
  const [dry, setDry] = useState<DryRun | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const { job, follow } = useServerJob({ onError: setError });
  const [busy, setBusy] = useState(false);
  const [ranAt, setRanAt] = useState(0);
  const base = `/api/definitions/${encodeURIComponent(props.id)}/migrations`;
  useEffect(() => setDry(undefined), [to]);

  const run = async (what: 'dry' | 'start'): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      if (what === 'dry') {
        setDry(await api<DryRun>('POST', `${base}/dry-run`, { to }));
        setRanAt(Date.now());
      } else {
        const ids = dry?.instances.filter((i) => i.plan.class === 'moves').map((i) => i.workflowId) ?? [];
        const started = await api<StartedJob>('POST', base, { to, workflowIds: ids });
        follow(`${base}/${encodeURIComponent(started.jobId)}`, started);
        setDry(undefined);
      }
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };

  const reason = (p: MigrationPlan): string =>
    p.class === 'moves'
      ? `${p.from.join(', ')} → ${p.to.join(', ')}${p.added.length ? ` (+${p.added.join(', ')})` : ''}${p.dropped.length ? ` (−${p.dropped.join(', ')})` : ''}`
      : `${p.code ?? ''}: ${(lang === 'zh' ? p.zh : p.message) ?? ''}`;
  const moving = dry?.counts.moves ?? 0;
  const atOnce = dry?.deadlines.atOnce;
  const soon = dry?.deadlines.soon;
  const deadlinesOf = (i: DryRun['instances'][number]): string[] => [
    ...(i.deadlines?.atOnce ?? []).map(
      (d) => `${pick({ zh: '立即：', en: 'At once: ' })}${deadlineText(d, lang, ranAt)}`,
    ),
    ...(i.deadlines?.soon ?? []).map(
      (d) => `${pick({ zh: '即将：', en: 'Soon: ' })}${deadlineText(d, lang, ranAt)}`,
    ),
    ...(i.deadlinesUnknown ? [pick({ zh: '期限未知', en: 'Deadlines unknown' })] : []),
  ];
  return (
    <section className="card migration-panel" aria-labelledby="migration">
      <h2 id="migration">{pick({ zh: '迁移运行中的实例', en: 'Migrate running instances' })}</h2>
      <p className="muted">
        {pick({
          zh: '试运行对每个运行中的实例分类；迁移只移动可迁移的实例，在两次转换之间进行，并且只移入新版本证明覆盖的配置。每次迁移都记入审计链。',
          en: 'The dry run classifies every running instance; migrating moves only those that can move, between two transitions, and only into configurations the new version’s proof covers. Every move is in the audit chain.',
        })}
      </p>
      <div className="bulk-controls">
        <label>
          {pick({ zh: '目标版本', en: 'To version' })}{' '}
          <select value={to} onChange={(e) => setTo(e.target.value)} data-testid="migration-version">
            {props.versions.map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
          </select>
        </label>
        <button type="button" disabled={busy} onClick={() => void run('dry')}>
          {pick({ zh: '试运行', en: 'Dry run' })}
        </button>
        <button
          type="button"
          className="primary"
          disabled={busy || !moving}
          onClick={() => void run('start')}
        >
          {pick({ zh: `迁移 ${moving} 个实例`, en: `Migrate ${moving} instance${moving === 1 ? '' : 's'}` })}
        </button>
      </div>
      {error && <ErrorBox error={error} />}
      {dry && (
        <div data-testid="migration-dry-run">
          <p role="status">
            {pick({
              zh: `${dry.total} 个运行中：可迁移 ${dry.counts.moves}，需要映射 ${dry.counts.needs_mapping}，不能迁移 ${dry.counts.cannot_move}（新版本证明：${dry.proof.explored} 个配置${dry.proof.exhaustive ? '' : '，未穷尽'}）`,
              en: `${dry.total} running: ${dry.counts.moves} move, ${dry.counts.needs_mapping} need a mapping, ${dry.counts.cannot_move} cannot move (the new proof: ${dry.proof.explored} configurations${dry.proof.exhaustive ? '' : ', not exhaustive'})`,
            })}
          </p>
          {atOnce && atOnce.instances > 0 ? (
            <p className="banner banner-warning" role="alert" data-testid="migration-fires-at-once">
              {pick({
                zh: `警告：迁移将立即为 ${atOnce.instances} 个实例触发 ${kindsText(atOnce, 'zh')}——${dry.to.version} 的这些期限从进入状态时起算，已经过去。`,
                en: `Warning: migrating sets off at once, for ${atOnce.instances} instance${atOnce.instances === 1 ? '' : 's'}: ${kindsText(atOnce, 'en')} — deadlines of ${dry.to.version} counted from the entry of the state and already past.`,
              })}
            </p>
          ) : (
            <p className="muted" data-testid="migration-fires-at-once">
              {pick({
                zh: '迁移不会立即触发新版本的任何期限。',
                en: 'No deadline of the new version fires at once on migration.',
              })}
            </p>
          )}
          {soon && soon.instances > 0 && (
            <p className="muted" data-testid="migration-due-soon">
              {pick({
                zh: `试运行后 ${formatDuration(dry.deadlines.withinMs, 'zh')}内到期：${kindsText(soon, 'zh')}（${soon.instances} 个实例）。`,
                en: `Due within ${formatDuration(dry.deadlines.withinMs, 'en')} of the dry run: ${kindsText(soon, 'en')} (${soon.instances} instance${soon.instances === 1 ? '' : 's'}).`,
              })}
            </p>
          )}
          <div className="table-wrap">
            <table className="grid" aria-label={pick({ zh: '每个实例的分类', en: 'Class per instance' })}>
              <thead>
                <tr>
                  <th>{pick({ zh: '实例', en: 'Instance' })}</th>
                  <th>{pick({ zh: '当前版本', en: 'Runs' })}</th>
                  <th>{pick({ zh: '分类', en: 'Class' })}</th>
                  <th>{pick({ zh: '计划或原因', en: 'Plan or reason' })}</th>
                  <th>{pick({ zh: '迁移时的期限', en: 'Deadlines on migration' })}</th>
                </tr>
              </thead>
              <tbody>
                {dry.instances.slice(0, 500).map((i) => (
                  <tr key={i.workflowId} data-workflow-id={i.workflowId} data-class={i.plan.class}>
                    <td className="mono">{i.workflowId}</td>
                    <td>{i.fromVersion}</td>
                    <td>{pick(CLASS_TEXT[i.plan.class])}</td>
                    <td>{reason(i.plan)}</td>
                    <td data-deadlines={i.deadlines?.atOnce.length ? 'at-once' : undefined}>
                      {deadlinesOf(i).map((t) => (
                        <div key={t}>{t}</div>
                      ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
      {job && (
        <div
          className="bulk-job"
          data-testid="migration-job"
          data-finished={job.finishedAt ? 'true' : 'false'}
        >
          <progress max={job.total} value={job.done} />{' '}
          <span role="status">
            {pick({
              zh: `${job.done}/${job.total} 已处理：已迁移 ${job.ok}，未迁移 ${job.refused}${job.finishedAt ? '（完成）' : ''}`,
              en: `${job.done}/${job.total} done: ${job.ok} moved, ${job.refused} not moved${job.finishedAt ? ' (finished)' : ''}`,
            })}
          </span>
          {job.finishedAt && (
            <div className="table-wrap">
              <table className="grid" aria-label={pick({ zh: '每个实例的结果', en: 'Result per instance' })}>
                <tbody>
                  {job.results.map((r) => (
                    <tr
                      key={r.workflowId}
                      data-workflow-id={r.workflowId}
                      className={r.ok ? 'bulk-result-ok' : 'bulk-result-refused'}
                    >
                      <td className="mono">{r.workflowId}</td>
                      <td>{r.ok ? (r.detail ?? '') : `${r.code ?? ''}: ${r.message ?? ''}`}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
    </section>
  );
}
