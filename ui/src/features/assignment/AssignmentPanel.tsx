/**
 * Who holds each active task of an instance, and the controls to change it (the `assign` update
 * through `POST /api/instances/:id/assignment`): *claim* a free task my roles can do, *release* or
 * *hand on* one I hold, and — for the definition's assigners — *assign to* anyone qualified or
 * take it back. The engine decides; a refusal is shown with its reason.
 */
import { useState } from 'react';
import './assignment.css';
import { api, asApiError, type ApiError } from '../../api.ts';
import { useApi } from '../../data.tsx';
import { ErrorBox, useStateName } from '../../components/common.tsx';
import { useI18n } from '../../i18n.tsx';
import { useUser } from '../../session.tsx';
import { UserName, useUserNames } from '../users/names.tsx';
import { assignersOf } from '../../../../workflows/core/assignment-rule.ts';
import type { ProcedureIR } from '../../../../workflows/core/ir.ts';
import type { AssignResult, TaskView } from '../../../../workflows/contract.ts';
import type { Snapshot } from '../../types.ts';

interface Candidates {
  tasks: (TaskView & { candidates: { id: string; displayName: string }[] })[];
}

/** Send one assignment; the result or the refusal. */
export function postAssignment(
  workflowId: string,
  body: { state?: string; assignee: string | null },
): Promise<AssignResult> {
  return api<AssignResult>('POST', `/api/instances/${encodeURIComponent(workflowId)}/assignment`, body);
}

export function AssignmentPanel({
  snapshot: s,
  ir,
  onDone,
}: {
  snapshot: Snapshot;
  ir: ProcedureIR | undefined;
  onDone: () => void;
}) {
  const { pick } = useI18n();
  const tasks = (s.tasks ?? []).filter((t) => t.assignment !== 'none');
  if (s.done || !tasks.length) return null;
  return (
    <div className="card" aria-labelledby="assignment">
      <h2 id="assignment">{pick({ zh: '任务分派', en: 'Assignment' })}</h2>
      {tasks.map((t) => (
        <TaskAssignment key={t.state} workflowId={s.workflowId} task={t} ir={ir} onDone={onDone} />
      ))}
    </div>
  );
}

function TaskAssignment({
  workflowId,
  task: t,
  ir,
  onDone,
}: {
  workflowId: string;
  task: TaskView;
  ir: ProcedureIR | undefined;
  onDone: () => void;
}) {
  const { pick } = useI18n();
  const user = useUser();
  const names = useUserNames();
  const stateName = useStateName();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [done, setDone] = useState<AssignResult | undefined>();
  const [picked, setPicked] = useState('');
  const mine = t.assignee === user.id;
  const qualified = user.roles.some((r) => t.roles.includes(r));
  const assigner = ir ? user.roles.some((r) => assignersOf(ir).includes(r)) : false;
  const canPick = mine || assigner;
  const send = async (assignee: string | null): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      setDone(await postAssignment(workflowId, { state: t.state, assignee }));
      setPicked('');
      onDone();
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="assignment" data-state={t.state} aria-label={stateName(ir, t.state)}>
      <div className="assignment-line">
        <span className="state-pill">{stateName(ir, t.state)}</span>{' '}
        <span className="assignment-who" data-assignee={t.assignee ?? ''}>
          {t.assignee ? (
            <>
              {pick({ zh: '处理人：', en: 'Assigned to ' })}
              <UserName id={t.assignee} names={names} />
            </>
          ) : (
            <span className="muted">
              {t.assignment === 'required'
                ? pick({ zh: '未分派（须先认领）', en: 'Unassigned (must be claimed first)' })
                : pick({ zh: '未分派', en: 'Unassigned' })}
            </span>
          )}
        </span>
      </div>
      <div className="assignment-actions">
        {!t.assignee && qualified && (
          <button type="button" disabled={busy} onClick={() => void send(user.id)}>
            {pick({ zh: '认领', en: 'Claim' })}
          </button>
        )}
        {t.assignee && (mine || assigner) && (
          <button type="button" disabled={busy} onClick={() => void send(null)}>
            {mine ? pick({ zh: '放弃认领', en: 'Unclaim' }) : pick({ zh: '取消分派', en: 'Unassign' })}
          </button>
        )}
        {canPick && (
          <CandidatePicker
            workflowId={workflowId}
            state={t.state}
            exclude={t.assignee}
            value={picked}
            onChange={setPicked}
          />
        )}
        {canPick && (
          <button type="button" disabled={busy || !picked} onClick={() => void send(picked)}>
            {mine && !assigner
              ? pick({ zh: '转交', en: 'Delegate' })
              : pick({ zh: '分派给', en: 'Assign to' })}
          </button>
        )}
      </div>
      {done && (
        <p className="success" role="status">
          {done.to ? (
            <>
              {pick({ zh: '现由 ', en: 'Now with ' })}
              <UserName id={done.to} names={names} />
            </>
          ) : (
            pick({ zh: '已取消分派', en: 'Unassigned' })
          )}
        </p>
      )}
      {error && <ErrorBox error={error} />}
    </section>
  );
}

function CandidatePicker({
  workflowId,
  state,
  exclude,
  value,
  onChange,
}: {
  workflowId: string;
  state: string;
  exclude: string | undefined;
  value: string;
  onChange: (id: string) => void;
}) {
  const { pick } = useI18n();
  const list = useApi(`candidates:${workflowId}`, (signal) =>
    api<Candidates>('GET', `/api/instances/${encodeURIComponent(workflowId)}/candidates`, undefined, {
      signal,
    }),
  );
  const people = (list.data?.tasks.find((t) => t.state === state)?.candidates ?? []).filter(
    (c) => c.id !== exclude,
  );
  return (
    <select
      aria-label={pick({ zh: '选择处理人', en: 'Choose a person' })}
      value={value}
      onChange={(e) => onChange(e.target.value)}
    >
      <option value="">{pick({ zh: '— 选择处理人 —', en: '— choose a person —' })}</option>
      {people.map((c) => (
        <option key={c.id} value={c.id}>
          {c.displayName} ({c.id})
        </option>
      ))}
    </select>
  );
}
