/**
 * Simulator: runs the draft with the real engine in the browser — an XState actor
 * (`simulation.ts`, `useActor` from @xstate/react) whose transitions are `runtime.ts` over the
 * machine `compile.ts` builds — so roles, guards, data schemas and separation of duties behave as
 * in production; a refusal shows the engine's own explanation (`explainRejection`). Called
 * procedures (`SimulatorCalls`) and SLA reminders and escalations (`SimulatorSla`) are played by hand.
 */
import { useEffect, useMemo, useState } from 'react';
import { useActor } from '@xstate/react';
import { compileProcedure } from '../../../workflows/core/compile.ts';
import { sampleAttachments } from '../../../workflows/core/attachments.ts';
import type { Json, JsonSchema, ProcedureIR } from '../../../workflows/core/ir.ts';
import { availableTo } from '../../../workflows/core/runtime.ts';
import { takenPath, type TakenPath } from '../../../workflows/core/taken-path.ts';
import { useI18n } from '../i18n.tsx';
import { simulationLogic } from './simulation.ts';
import { SimulatorCalls } from './SimulatorCalls.tsx';
import { SimulatorSla, useSimulatorCalendar } from './SimulatorSla.tsx';

export interface SimulationView extends TakenPath {
  active: string[];
}

/** A value that satisfies the simplest schemas, to prefill a JSON form. */
function sample(schema: JsonSchema | undefined): Json {
  if (!schema) return null;
  if (Array.isArray(schema.enum)) return (schema.enum[0] as Json) ?? null;
  if (schema.const !== undefined) return schema.const as Json;
  switch (schema.type) {
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const out: Record<string, Json> = {};
      for (const k of (schema.required as string[] | undefined) ?? []) out[k] = sample(props[k]);
      return out;
    }
    default:
      return 'example';
  }
}

function startSkeleton(ir: ProcedureIR): string {
  const out: Record<string, Json> = {};
  for (const [k, f] of Object.entries(ir.context))
    if (f.required) out[k] = sample({ type: f.type, ...(f.schema ?? {}) });
  return JSON.stringify(out, null, 2);
}

function parseJson(text: string): { value?: Record<string, Json>; error?: string } {
  if (!text.trim()) return { value: {} };
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return { error: 'a JSON object is expected' };
    return { value: v as Record<string, Json> };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

export function Simulator(props: { ir: ProcedureIR; onView: (view: SimulationView | undefined) => void }) {
  const { ir, onView } = props;
  const { pick, text, lang } = useI18n();
  const proc = useMemo(() => compileProcedure(ir), [ir]);
  const calendar = useSimulatorCalendar(proc);
  const roles = Object.keys(ir.roles);
  const [role, setRole] = useState(roles[0] ?? '');
  const [actorId, setActorId] = useState('alice');
  const [startInput, setStartInput] = useState(() => startSkeleton(ir));
  const [snapshot, sendSim, simActor] = useActor(simulationLogic);
  const run = snapshot.context;
  const refusal = run.refusal;
  const [event, setEvent] = useState('');
  const [data, setData] = useState('{}');

  const start = (): void => {
    const input = parseJson(startInput);
    if (!input.value) {
      sendSim({ type: 'fail', error: `Start input: ${input.error}` });
      return;
    }
    sendSim({
      type: 'start',
      proc,
      input: input.value,
      actor: { id: actorId || 'alice', roles: [role] },
      now: Date.now(),
    });
  };

  // A changed definition starts the simulation again.
  useEffect(() => {
    if (!roles.includes(role)) setRole(roles[0] ?? '');
    start();
  }, [proc]);

  const actor = { id: actorId.trim(), roles: role ? [role] : [] };
  const available = run.state ? availableTo(proc, run.state, actor, Date.now()) : [];
  const eventTypes = [...available, ...Object.keys(ir.events).filter((e) => !available.includes(e))];
  const chosen = event && ir.events[event] ? event : (available[0] ?? '');

  useEffect(() => {
    onView(run.state ? { active: run.log.at(-1)?.to ?? [], ...takenPath(run.log) } : undefined);
  }, [run, onView]);

  const chooseEvent = (type: string): void => {
    setEvent(type);
    // With placeholder files for the kinds the event requires (the simulator has no uploads).
    const files = sampleAttachments(ir, type);
    const base = sample(ir.events[type]?.data) ?? {};
    const value = typeof base === 'object' && !Array.isArray(base) && base ? { ...base, ...files } : base;
    setData(JSON.stringify(value, null, 2));
    sendSim({ type: 'clearRefusal' });
  };

  const send = (): void => {
    if (!run.state || !chosen) return;
    const parsed = parseJson(data);
    if (!parsed.value) {
      sendSim({ type: 'refuse', refusal: `INVALID_JSON: ${parsed.error}` });
      return;
    }
    const before = run.log.length;
    sendSim({
      type: 'send',
      proc,
      input: { type: chosen, data: parsed.value, actor },
      now: Date.now(),
      lang,
    });
    // Taken (not refused; the actor steps synchronously): the next event is chosen afresh.
    if (simActor.getSnapshot().context.log.length > before) setEvent('');
  };

  const fire = (timerId: string): void => {
    sendSim({
      type: 'fire',
      proc,
      timerId,
      now: Date.now(),
      ifNothing: pick({
        zh: '计时器触发但没有发生转换（条件不成立）',
        en: 'The timer fired but nothing happened (its condition is false)',
      }),
    });
  };

  const stateTitle = (path: string): string => text(proc.nodes.get(path)?.title) || path;

  return (
    <div className="simulator">
      <div className="sim-row">
        <label>
          {pick({ zh: '角色', en: 'Role' })}
          <select aria-label="Role" value={role} onChange={(e) => setRole(e.target.value)}>
            {roles.map((r) => (
              <option key={r} value={r}>
                {text(ir.roles[r])} ({r})
              </option>
            ))}
          </select>
        </label>
        <label>
          {pick({ zh: '操作人编号', en: 'Actor id' })}
          <input
            aria-label="Actor id"
            value={actorId}
            onChange={(e) => setActorId(e.target.value)}
            size={12}
          />
        </label>
        <button type="button" onClick={start}>
          {pick({ zh: '重置', en: 'Reset' })}
        </button>
      </div>
      <details className="sim-start">
        <summary>
          {pick({ zh: '启动输入（JSON，重置时使用）', en: 'Start input (JSON, used by Reset)' })}
        </summary>
        <textarea
          aria-label="Start input"
          rows={5}
          value={startInput}
          onChange={(e) => setStartInput(e.target.value)}
        />
      </details>
      {run.error && (
        <p className="sim-error" role="alert">
          {run.error}
        </p>
      )}
      {run.state && (
        <>
          <p className="sim-state" data-testid="sim-state">
            {pick({ zh: '当前状态：', en: 'Current state: ' })}
            <strong>{(run.log.at(-1)?.to ?? []).map(stateTitle).join(' + ')}</strong>
            {run.state.done && <> — {pick({ zh: '已结束', en: 'finished' })}</>}
          </p>
          <p className="sim-available" aria-label="Can send now">
            {pick({ zh: '此角色现在可发送：', en: 'This role can send now: ' })}
            {available.length
              ? available.map((e) => (
                  <button
                    key={e}
                    type="button"
                    className={`chip ${e === chosen ? 'chosen' : ''}`}
                    onClick={() => chooseEvent(e)}
                  >
                    {text(ir.events[e]?.title) || e}
                  </button>
                ))
              : pick({ zh: '无', en: 'nothing' })}
          </p>
          <div className="sim-row">
            <label>
              {pick({ zh: '事件', en: 'Event' })}
              <select aria-label="Event" value={chosen} onChange={(e) => chooseEvent(e.target.value)}>
                {eventTypes.map((e) => (
                  <option key={e} value={e}>
                    {text(ir.events[e]?.title) || e} ({e})
                    {available.includes(e) ? '' : ` — ${pick({ zh: '不可用', en: 'not available' })}`}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <label className="sim-data">
            {pick({ zh: '数据（JSON）', en: 'Data (JSON)' })}
            <textarea
              aria-label="Data (JSON)"
              rows={5}
              value={data}
              onChange={(e) => setData(e.target.value)}
            />
          </label>
          <div className="sim-row">
            <button type="button" className="primary" onClick={send} disabled={!chosen || run.state.done}>
              {pick({ zh: '发送', en: 'Send' })}
            </button>
          </div>
          {refusal && (
            <p className="sim-refusal" role="alert">
              {pick({ zh: '被拒绝：', en: 'Refused: ' })}
              {refusal}
            </p>
          )}
          <SimulatorCalls
            proc={proc}
            state={run.state}
            play={(path, result) => sendSim({ type: 'outcome', proc, path, result, now: Date.now() })}
          />
          <SimulatorSla
            proc={proc}
            sim={run}
            calendar={calendar}
            play={(key) =>
              sendSim({
                type: 'sla',
                proc,
                key,
                now: Date.now(),
                ...(calendar ? { calendar } : {}),
                ifGone: pick({
                  zh: '该提醒或升级已不在计划中（状态已离开或已发送）',
                  en: 'That reminder or escalation is no longer scheduled (the state was left, or it was sent)',
                }),
              })
            }
          />
          {run.state.timers.length > 0 && (
            <ul className="sim-timers" aria-label={pick({ zh: '计时器', en: 'Timers' })}>
              {run.state.timers.map((t) => (
                <li key={t.id}>
                  {t.id.replace(/^xstate\.after\.after_([^.]+)\.[^.]+\.?/, 'after $1 · ')}{' '}
                  <button type="button" onClick={() => fire(t.id)}>
                    {pick({ zh: '立即触发', en: 'Fire now' })}
                  </button>
                </li>
              ))}
            </ul>
          )}
          <ol className="sim-log" aria-label={pick({ zh: '转换记录', en: 'Transition log' })}>
            {run.log.map((r) => (
              <li key={r.seq}>
                <code>{r.event}</code> {r.actor.id}
                {r.actor.roles.length ? ` (${r.actor.roles.join(', ')})` : ''} →{' '}
                {r.to.map(stateTitle).join(' + ')}
              </li>
            ))}
          </ol>
        </>
      )}
    </div>
  );
}
