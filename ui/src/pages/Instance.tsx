/**
 * One instance: what it is waiting for (state, task, clauses with their text), the events I may
 * send as generated forms, the statechart, the timeline of transitions, timers, context, linked
 * instances and the audit trail.
 */
import { Suspense, useEffect, useMemo, useState } from 'react';
import type { ApiError } from '../api.ts';
import { api, asApiError } from '../api.ts';
import { loadDefinition, loadPinned, useApi, useDefinitions } from '../data.tsx';
import { stateAt, statesAlong } from '../../../workflows/core/ir-walk.ts';
import { takenPath } from '../../../workflows/core/taken-path.ts';
import { REJECTION_TEXT } from '../components/common.tsx';
import { useI18n, type Bilingual } from '../i18n.tsx';
import { textIn } from '../../../workflows/core/languages.ts';
import { Link } from '../router.tsx';
import { ClauseList } from '../components/Clauses.tsx';
import {
  Due,
  ErrorBox,
  RoleChips,
  Since,
  splitTitle,
  useDocumentTitle,
  useStateName,
} from '../components/common.tsx';
import { SchemaForm } from '../components/SchemaForm.tsx';
import { Diagram } from '../lazy.tsx';
import { UserName, useUserNames } from '../features/users/names.tsx';
import { DEFINITION_CHANGE, PROPOSAL_FIELDS, ProposalPanel } from '../features/proposals/ProposalPanel.tsx';
import { AssignmentPanel } from '../features/assignment/AssignmentPanel.tsx';
import { AttachmentPicker } from '../features/attachments/AttachmentPicker.tsx';
import { AttachedFiles, AttachmentsPanel } from '../features/attachments/AttachmentsPanel.tsx';
import type { FileChoice } from '../features/attachments/files.ts';
import { ATTACHMENTS_KEY } from '../../../workflows/core/attachments.ts';
import { useUser } from '../session.tsx';
import type { Json, ProcedureIR, TransitionIR } from '../../../workflows/core/ir.ts';
import { isRejectionCode, type RejectionCode } from '../../../workflows/core/rejections.ts';
import { parseDuration } from '../../../workflows/core/duration.ts';
import { awaitsEngineReport } from '../../../workflows/core/actions/lookup.ts';
import type { EventResult, Snapshot, TransitionRecord } from '../types.ts';
import { CalledInstances, callEventTitle } from './CalledInstances.tsx';
import { SentNotifications } from '../features/sla/SentNotifications.tsx';
import { SlaCell } from '../features/sla/SlaCell.tsx';

export function InstancePage({ id }: { id: string }) {
  const { pick, text } = useI18n();
  const snap = useApi(`instance:${id}`, (signal) =>
    api<Snapshot>('GET', `/api/instances/${encodeURIComponent(id)}`, undefined, { signal }),
  );
  const s = snap.data;
  // The pinned version's IR: the current definition when it is that version (it keeps the
  // definition's field order; the store's JSON does not), else the deployed version from the store.
  const pinned = useApi(s ? `${s.procedure}@${s.version}#${s.hash}` : '', async () => {
    if (!s) return undefined;
    const current = await loadDefinition(s.procedure).catch(() => undefined);
    if (current && current.hash === s.hash) return { ir: current.ir, stored: false };
    return { ir: (await loadPinned(s.procedure, s.version)).ir, stored: true };
  });
  const ir = pinned.data?.ir;
  // Others act too: look again every 20 s while the page is visible (forms keep what was typed);
  // every second while the engine works on it (a lookup, a deployment), which reports within seconds.
  const { reload } = snap;
  const engineAtWork = !!s && !s.done && !!ir && awaitsEngineReport(ir, s.leaves);
  useEffect(() => {
    const t = window.setInterval(
      () => {
        if (document.visibilityState === 'visible') reload();
      },
      engineAtWork ? 1_000 : 20_000,
    );
    return () => window.clearInterval(t);
  }, [reload, engineAtWork]);
  useDocumentTitle(s ? `${text(s.title)} ${id}` : id);

  if (snap.error && !s)
    return (
      <section className="page">
        <p>
          <Link to="/instances">← {pick({ zh: '实例列表', en: 'Instances' })}</Link>
        </p>
        <ErrorBox error={snap.error} title={pick({ zh: '无法打开实例', en: 'Cannot open the instance' })} />
      </section>
    );
  if (!s) return <p className="muted page">{pick({ zh: '正在加载…', en: 'Loading…' })}</p>;

  const auditJson = `/api/audit?workflowId=${encodeURIComponent(id)}&format=json`;
  const auditCsv = `/api/audit?workflowId=${encodeURIComponent(id)}&format=csv`;
  return (
    <section className="page instance">
      <div className="crumbs">
        <Link to="/instances">{pick({ zh: '实例', en: 'Instances' })}</Link> /{' '}
        <span className="mono">{id}</span>
      </div>
      <div className="page-header">
        <div>
          <h1>{text(s.title)}</h1>
          <div className="meta">
            <span className="mono">{s.workflowId}</span>
            <span className="badge">
              {s.procedure}@{s.version}
            </span>
            <span className={s.done ? 'badge badge-done' : 'badge badge-running'}>
              {s.done ? pick({ zh: '已结束', en: 'Finished' }) : pick({ zh: '进行中', en: 'Running' })}
            </span>
            {ir?.clientField && typeof s.context[ir.clientField] === 'string' && (
              <span>
                {pick({ zh: '客户', en: 'Client' })}: <strong>{String(s.context[ir.clientField])}</strong>
              </span>
            )}
          </div>
        </div>
        <div className="page-actions">
          <a className="button" href={auditJson} target="_blank" rel="noreferrer">
            {pick({ zh: '审核记录', en: 'Audit trail' })}
          </a>
          <a className="button" href={auditCsv} download={`audit-${id}.csv`}>
            {pick({ zh: '下载 CSV', en: 'Download CSV' })}
          </a>
          <button type="button" onClick={snap.reload} disabled={snap.loading}>
            {pick({ zh: '刷新', en: 'Refresh' })}
          </button>
        </div>
      </div>
      {snap.error && <ErrorBox error={snap.error} />}
      {pinned.error && <ErrorBox error={pinned.error} title={pick({ zh: '流程定义', en: 'Definition' })} />}

      <div className="instance-grid">
        <div className="instance-main">
          <CurrentState snapshot={s} ir={ir} />
          {s.procedure === DEFINITION_CHANGE && <ProposalPanel snapshot={s} />}
          <AssignmentPanel snapshot={s} ir={ir} onDone={snap.reload} />
          {!s.done && (
            <Actions snapshot={s} ir={ir} stored={pinned.data?.stored ?? false} onDone={snap.reload} />
          )}
          {ir && <DiagramPanel ir={ir} snapshot={s} />}
          <AttachmentsPanel workflowId={s.workflowId} log={s.log} ir={ir} version={s.log.length} />
          <Timeline log={s.log} ir={ir} workflowId={s.workflowId} />
          <SentNotifications workflowId={s.workflowId} names={ir?.roles} refresh={s.log.length} />
        </div>
        <aside className="instance-side">
          <Timers snapshot={s} ir={ir} />
          <Links snapshot={s} />
          <ContextPanel snapshot={s} ir={ir} />
        </aside>
      </div>
    </section>
  );
}

function CurrentState({ snapshot: s, ir }: { snapshot: Snapshot; ir: ProcedureIR | undefined }) {
  const { pick, text } = useI18n();
  const user = useUser();
  return (
    <div className="card" aria-labelledby="current-state">
      <h2 id="current-state">{pick({ zh: '当前状态', en: 'Current state' })}</h2>
      {s.leaves.map((leaf) => {
        const nodes = statesAlong(ir, leaf);
        const node = nodes[nodes.length - 1];
        const clauses = [...new Set(nodes.flatMap((n) => n.clauses))];
        return (
          <div key={leaf} className="state-block" data-state={leaf}>
            <div className="state-title">
              <span className="state-pill state-pill-active">{node ? text(node.title) : leaf}</span>
              <span className="mono muted">{leaf}</span>
            </div>
            {node?.task && <p className="task">{text(node.task)}</p>}
            <ClauseList ids={clauses} />
          </div>
        );
      })}
      <dl className="facts">
        <dt>{pick({ zh: '进入状态', en: 'In this state since' })}</dt>
        <dd>
          <Since at={s.stateSince} />
        </dd>
        <dt>{pick({ zh: '期限', en: 'Due' })}</dt>
        <dd>
          <Due dueAt={s.dueAt} />
        </dd>
        {s.sla && (
          <>
            <dt>{pick({ zh: '提醒与升级', en: 'Reminders and escalation' })}</dt>
            <dd>
              <SlaCell sla={s.sla} names={ir?.roles} />
            </dd>
          </>
        )}
        <dt>{pick({ zh: '等待角色', en: 'Awaiting' })}</dt>
        <dd>
          <RoleChips roles={s.awaiting} mine={user.roles} names={ir?.roles} />
        </dd>
      </dl>
    </div>
  );
}

/** The transitions an event may take from the active states (leaf first, then its ancestors). */
function transitionsFor(ir: ProcedureIR | undefined, leaves: string[], event: string): TransitionIR[] {
  const out: TransitionIR[] = [];
  for (const leaf of leaves)
    for (const n of statesAlong(ir, leaf).reverse()) out.push(...(n.on[event] ?? []));
  return out;
}

function Actions({
  snapshot: s,
  ir,
  stored,
  onDone,
}: {
  snapshot: Snapshot;
  ir: ProcedureIR | undefined;
  stored: boolean;
  onDone: () => void;
}) {
  const { pick, text } = useI18n();
  const user = useUser();
  const stateName = useStateName();
  const [result, setResult] = useState<{ event: string; result: EventResult } | undefined>();
  const mine = s.availableToMyRoles;
  const others = Object.entries(s.available)
    .filter(([role]) => !user.roles.includes(role))
    .flatMap(([role, evs]) => evs.filter((e) => !mine.includes(e)).map((e) => ({ role, e })));

  return (
    <div className="card" aria-labelledby="actions">
      <h2 id="actions">{pick({ zh: '我可以执行的操作', en: 'What I can do' })}</h2>
      {result && (
        <div className="success" role="status">
          {pick({ zh: '已提交：', en: 'Done: ' })}
          <strong>{ir?.events[result.event] ? text(ir.events[result.event]?.title) : result.event}</strong>
          {' → '}
          {result.result.leaves.map((l) => stateName(ir, l)).join(', ')}
          {result.result.done && ` (${pick({ zh: '流程已结束', en: 'finished' })})`}
        </div>
      )}
      {!mine.length && (
        <p className="muted">
          {pick({
            zh: '当前没有您的角色可以执行的操作。',
            en: 'Nothing for your roles to do in this state.',
          })}
        </p>
      )}
      {ir &&
        mine.map((ev) => (
          <EventForm
            key={ev}
            workflowId={s.workflowId}
            event={ev}
            ir={ir}
            transitions={transitionsFor(ir, s.leaves, ev)}
            requiredFirst={stored}
            onSent={(r) => {
              setResult({ event: ev, result: r });
              onDone();
            }}
          />
        ))}
      {others.length > 0 && (
        <p className="others muted">
          {pick({ zh: '其他角色可执行：', en: 'Others can: ' })}
          {others.map(({ role, e }, i) => (
            <span key={role + e}>
              {i > 0 && '; '}
              {ir?.events[e] ? text(ir.events[e]?.title) : e} ({ir?.roles[role] ? text(ir.roles[role]) : role}
              )
            </span>
          ))}
        </p>
      )}
    </div>
  );
}

function EventForm({
  workflowId,
  event,
  ir,
  transitions,
  requiredFirst,
  onSent,
}: {
  workflowId: string;
  event: string;
  ir: ProcedureIR;
  transitions: TransitionIR[];
  requiredFirst: boolean;
  onSent: (r: EventResult) => void;
}) {
  const { pick, text, lang } = useI18n();
  const def = ir.events[event];
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [round, setRound] = useState(0);
  const [files, setFiles] = useState<FileChoice[]>([]);
  const schema = useMemo(() => def?.data ?? { type: 'object', maxProperties: 0 }, [def]);
  const clauses = [...new Set(transitions.flatMap((t) => t.clauses))];
  const title = def ? text(def.title) : event;
  const send = async (data: Record<string, Json>): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      // Attached files travel in data.attachments (by hash; the server resolves them).
      const withFiles = files.length ? { ...data, attachments: files as unknown as Json } : data;
      const r = await api<EventResult>('POST', `/api/instances/${encodeURIComponent(workflowId)}/events`, {
        type: event,
        ...(def?.data || files.length ? { data: withFiles } : {}),
      });
      setRound((n) => n + 1);
      onSent(r);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="event-form" aria-label={title} data-event={event}>
      <header>
        <h3>{title}</h3>
        <span className="mono muted">{event}</span>
        <ClauseList ids={clauses} compact />
      </header>
      {def?.description && <p className="muted">{text(def.description)}</p>}
      <AttachmentPicker
        key={`files-${round}`}
        workflowId={workflowId}
        event={event}
        kinds={def?.attachments ?? {}}
        onChange={setFiles}
      />
      <SchemaForm
        key={round}
        schema={schema}
        idPrefix={`ev-${event}`}
        requiredFirst={requiredFirst}
        submitLabel={def ? textIn(def.title, lang, ir.languages) || event : event}
        busy={busy}
        onSubmit={send}
      >
        {error && (
          <div className="rejection" role="alert" data-code={error.code}>
            <strong>{pick({ zh: '未被接受', en: 'Refused' })}</strong>{' '}
            <span className="code">{error.code}</span>
            <span className="error-summary"> {rejectionText(error.code, lang)}</span>
            {error.problem.detail && <div className="error-detail">{error.problem.detail}</div>}
          </div>
        )}
      </SchemaForm>
    </section>
  );
}

/** The engine's refusals as the event form words them (more specific than an error box where it helps). */
const FORM_REFUSAL: Record<RejectionCode, Bilingual> = {
  ...REJECTION_TEXT,
  DUTY_CONFLICT: {
    zh: '职责分离：您已在此前的步骤中担任了不相容的职责',
    en: 'Separation of duties: you took an incompatible part earlier',
  },
  CANNOT_TAKE: {
    zh: '当前状态不接受此操作（可能已被他人处理，请刷新）',
    en: 'The current state does not take this event (someone may have acted; refresh)',
  },
  INVALID_DATA: { zh: '填写的数据不符合要求', en: 'The data does not meet the event’s rules' },
};

function rejectionText(code: string, lang: 'zh' | 'en'): string {
  return isRejectionCode(code) ? FORM_REFUSAL[code][lang] : '';
}

function DiagramPanel({ ir, snapshot: s }: { ir: ProcedureIR; snapshot: Snapshot }) {
  const { pick } = useI18n();
  // Assignments and reminders change who holds or is told of a task, not the state: no edge.
  const { visited, taken } = useMemo(
    () =>
      takenPath(s.log.filter((r) => r.event !== '$assign' && r.event !== '$remind' && r.event !== '$sla')),
    [s.log],
  );
  return (
    <div className="card" aria-labelledby="diagram">
      <h2 id="diagram">{pick({ zh: '流程图', en: 'Statechart' })}</h2>
      <Suspense fallback={<p className="muted">{pick({ zh: '正在绘制…', en: 'Drawing…' })}</p>}>
        <Diagram ir={ir} active={s.leaves} visited={visited} taken={taken} height={420} />
      </Suspense>
    </div>
  );
}

function Timeline({
  log,
  ir,
  workflowId,
}: {
  log: TransitionRecord[];
  ir: ProcedureIR | undefined;
  workflowId: string;
}) {
  const { pick, text, dateTime } = useI18n();
  const stateName = useStateName();
  const eventTitle = (e: string): string =>
    ir?.events[e]
      ? text(ir.events[e]?.title)
      : e === '$start'
        ? pick({ zh: '发起', en: 'Started' })
        : e === '$assign'
          ? pick({ zh: '分派', en: 'Assignment' })
          : e === '$remind'
            ? pick({ zh: '催办', en: 'Reminder' })
            : e === '$sla'
              ? pick({ zh: '时限提醒 / 升级', en: 'SLA reminder / escalation' })
              : e.startsWith('xstate.after')
                ? pick({ zh: '到期自动流转', en: 'Timer' })
                : (callEventTitle(e, pick) ?? e);
  const rows = [...log].reverse();
  const names = useUserNames();
  // Opened from a register row (`#transition-<seq>`): show and mark that transition once it is listed.
  const [target, setTarget] = useState<string | undefined>();
  useEffect(() => {
    const id = window.location.hash.slice(1);
    const row = id.startsWith('transition-') ? document.getElementById(id) : null;
    if (!row) return;
    setTarget(id);
    row.scrollIntoView({ block: 'center' });
  }, [log.length]);
  // A definition change's text, diff and results are in its own panel, not in each row.
  const hidden = ir?.id === DEFINITION_CHANGE ? PROPOSAL_FIELDS : [];
  const dataTitle = (event: string, key: string): string => {
    const props = ir?.events[event]?.data?.properties as Record<string, { title?: unknown }> | undefined;
    const t = splitTitle(props?.[key]?.title) ?? ir?.context[key]?.title;
    return t ? text(t) || key : key;
  };
  return (
    <div className="card" aria-labelledby="timeline">
      <h2 id="timeline">
        {pick({ zh: '流转记录', en: 'Timeline' })} <span className="count">{log.length}</span>
      </h2>
      {!log.length ? (
        <p className="muted">{pick({ zh: '尚无流转。', en: 'No transitions yet.' })}</p>
      ) : (
        <div className="table-wrap">
          <table className="grid timeline" aria-label={pick({ zh: '流转记录', en: 'Timeline' })}>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">{pick({ zh: '时间', en: 'When' })}</th>
                <th scope="col">{pick({ zh: '操作', en: 'Event' })}</th>
                <th scope="col">{pick({ zh: '执行人（角色）', en: 'Who (roles)' })}</th>
                <th scope="col">{pick({ zh: '状态变化', en: 'From → to' })}</th>
                <th scope="col">{pick({ zh: '条款', en: 'Clauses' })}</th>
                <th scope="col">{pick({ zh: '数据', en: 'Data' })}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr
                  key={r.seq}
                  id={`transition-${r.seq}`}
                  className={target === `transition-${r.seq}` ? 'targeted' : undefined}
                >
                  <td className="mono">{r.seq}</td>
                  <td className="nowrap">{dateTime(r.at)}</td>
                  <td>
                    <div className="cell-title">{eventTitle(r.event)}</div>
                    <div className="cell-sub mono">{r.event}</div>
                  </td>
                  <td>
                    <div>
                      <UserName id={r.actor.id} names={names} />
                    </div>
                    <div className="cell-sub">
                      {r.actor.roles.map((x) => (ir?.roles[x] ? text(ir.roles[x]) : x)).join(', ') || '—'}
                    </div>
                  </td>
                  <td>
                    {r.from.map((x) => stateName(ir, x)).join(', ') || '—'} →{' '}
                    {r.to.map((x) => stateName(ir, x)).join(', ')}
                  </td>
                  <td>
                    <ClauseList ids={r.clauses} compact />
                  </td>
                  <td>
                    {r.event === '$assign' && r.data ? (
                      <span className="assignment-change">
                        {stateName(ir, String(r.data.state))}:{' '}
                        {typeof r.data.from === 'string' ? <UserName id={r.data.from} names={names} /> : '—'}{' '}
                        → {typeof r.data.to === 'string' ? <UserName id={r.data.to} names={names} /> : '—'}
                      </span>
                    ) : r.data && Object.keys(r.data).length ? (
                      <dl className="kv">
                        {Object.entries(r.data)
                          .filter(([k]) => !hidden.includes(k))
                          .map(([k, v]) =>
                            k === ATTACHMENTS_KEY ? (
                              <AttachedFiles key={k} workflowId={workflowId} data={r.data} />
                            ) : (
                              <div key={k}>
                                <dt title={k}>{dataTitle(r.event, k)}</dt>
                                <dd>{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
                              </div>
                            ),
                          )}
                      </dl>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function Timers({ snapshot: s, ir }: { snapshot: Snapshot; ir: ProcedureIR | undefined }) {
  const { pick, text, duration } = useI18n();
  const stateName = useStateName();
  /** `xstate.after.after_P5D.file_access.submitted` → "after 5 d: Submitted → Expired undecided". */
  const describe = (event: string): { title: string; sub?: string } => {
    if (ir?.events[event]) return { title: text(ir.events[event]?.title) };
    const m = /^xstate\.after\.(?:after_)?([^.]+)\.[^.]+(?:\.(.*))?$/.exec(event);
    if (!m) return { title: event };
    const delay = m[1] ?? '';
    const delayMs = parseDuration(delay);
    const from = m[2] ?? '';
    const node = stateAt(ir, from);
    const t = node?.after.find((a) => a.delay === delay);
    return {
      title: `${stateName(ir, from)}${t?.target ? ` → ${stateName(ir, t.target)}` : ''}`,
      sub: `${pick({ zh: '进入后', en: 'after' })} ${delayMs !== undefined ? duration(delayMs) : delay}${t?.clauses.length ? ` · ${t.clauses.join(', ')}` : ''}`,
    };
  };
  return (
    <div className="card" aria-labelledby="timers">
      <h2 id="timers">{pick({ zh: '待触发的定时', en: 'Pending timers' })}</h2>
      {!s.timers.length ? (
        <p className="muted">{pick({ zh: '无', en: 'None' })}</p>
      ) : (
        <ul className="plain">
          {s.timers.map((t, i) => {
            const d = describe(t.event);
            return (
              <li key={i}>
                <div className="cell-title">{d.title}</div>
                {d.sub && <div className="cell-sub">{d.sub}</div>}
                <Due dueAt={t.dueAt} />
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

function Links({ snapshot: s }: { snapshot: Snapshot }) {
  const { pick, text } = useI18n();
  const defs = useDefinitions();
  const title = (id: string): string => {
    const d = defs.find((x) => x.id === id);
    return d ? text(d.title) : id;
  };
  return (
    <div className="card" aria-labelledby="links">
      <h2 id="links">{pick({ zh: '关联实例', en: 'Linked instances' })}</h2>
      {!s.parent && !s.children.length && !s.calls?.length && (
        <p className="muted">{pick({ zh: '无', en: 'None' })}</p>
      )}
      <CalledInstances calls={s.calls ?? []} title={title} />
      <ul className="plain">
        {s.parent && (
          <li>
            <span className="muted">{pick({ zh: '由此实例发起：', en: 'Started by: ' })}</span>
            <Link to={`/instances/${encodeURIComponent(s.parent.workflowId)}`} className="mono">
              {s.parent.workflowId}
            </Link>
          </li>
        )}
        {s.children.map((c) =>
          c.failed ? (
            <li key={c.workflowId} className="rejection" role="alert" data-code="LINKED_START_REFUSED">
              <strong>{pick({ zh: '未能发起：', en: 'Not started: ' })}</strong>
              {title(c.procedure)} <span className="error-detail">{c.failed}</span>
            </li>
          ) : (
            <li key={c.workflowId}>
              <span className="muted">{pick({ zh: '发起了：', en: 'Started: ' })}</span>
              {title(c.procedure)}{' '}
              <Link to={`/instances/${encodeURIComponent(c.workflowId)}`} className="mono">
                {c.workflowId}
              </Link>
            </li>
          ),
        )}
      </ul>
    </div>
  );
}

function ContextPanel({ snapshot: s, ir }: { snapshot: Snapshot; ir: ProcedureIR | undefined }) {
  const { pick, text } = useI18n();
  // A definition change's text, diff and results are shown by its own panel.
  const hidden = s.procedure === DEFINITION_CHANGE ? PROPOSAL_FIELDS : [];
  const entries = Object.entries(s.context).filter(
    ([k, v]) => v !== null && v !== undefined && v !== '' && !hidden.includes(k),
  );
  return (
    <div className="card" aria-labelledby="context">
      <h2 id="context">{pick({ zh: '业务数据', en: 'Details' })}</h2>
      <dl className="kv kv-block">
        {entries.map(([k, v]) => (
          <div key={k}>
            <dt title={k}>{ir?.context[k]?.title ? text(ir.context[k]?.title) : k}</dt>
            <dd>{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}
