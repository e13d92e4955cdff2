/**
 * The invariant proof of the draft (`verify.ts`), run in a Web Worker as the draft changes; each
 * invariant proved or violated, a violation's counterexample shown step by step and on the diagram.
 */
import { useEffect, useState } from 'react';
import type { ProcedureIR } from '../../../workflows/core/ir.ts';
import type { PositionIndex } from '../../../workflows/core/positions.ts';
import type { InvariantResult, VerifyResult } from '../../../workflows/core/verify.ts';
import { useI18n } from '../i18n.tsx';

type Outcome = { result: VerifyResult; ir: ProcedureIR } | { error: string } | undefined;

/** Verify `ir` in a worker, debounced; `running` while a proof is under way. */
export function useVerification(ir: ProcedureIR | undefined): { outcome: Outcome; running: boolean } {
  const [outcome, setOutcome] = useState<Outcome>();
  const [running, setRunning] = useState(false);
  useEffect(() => {
    if (!ir) {
      setRunning(false);
      return;
    }
    let worker: Worker | undefined;
    const timer = setTimeout(() => {
      setRunning(true);
      worker = new Worker(new URL('./verify.worker.ts', import.meta.url), { type: 'module' });
      worker.onmessage = (e: MessageEvent<{ ok: boolean; result?: VerifyResult; error?: string }>) => {
        setOutcome(
          e.data.ok && e.data.result ? { result: e.data.result, ir } : { error: e.data.error ?? '?' },
        );
        setRunning(false);
        worker?.terminate();
      };
      worker.onerror = (e) => {
        setOutcome({ error: e.message || 'the verifier failed' });
        setRunning(false);
      };
      worker.postMessage({ ir });
    }, 500);
    return () => {
      clearTimeout(timer);
      worker?.terminate();
    };
  }, [ir]);
  return { outcome, running };
}

/** The state path sequence of a counterexample (for the diagram's highlight). */
export function counterexamplePath(r: InvariantResult): string[] {
  return (r.counterexample ?? []).flatMap((s) => s.to);
}

export function VerificationPanel(props: {
  ir: ProcedureIR | undefined;
  outcome: Outcome;
  running: boolean;
  positions?: PositionIndex | undefined;
  shown?: string | undefined;
  onShow: (id: string | undefined, path: string[]) => void;
  onJump: (line: number, column: number) => void;
}) {
  const { pick, text } = useI18n();
  const { ir, outcome } = props;
  if (!ir)
    return (
      <p className="muted">
        {pick({
          zh: '草稿有错误：修正后才能证明不变量。',
          en: 'The draft has errors: fix them to prove the invariants.',
        })}
      </p>
    );
  if (!outcome || !('result' in outcome))
    return (
      <p className="muted" role="status">
        {outcome && 'error' in outcome
          ? pick({ zh: `验证失败：${outcome.error}`, en: `Verification failed: ${outcome.error}` })
          : pick({ zh: '正在证明不变量…', en: 'Proving the invariants…' })}
      </p>
    );
  const { result } = outcome;
  const defs = new Map(outcome.ir.invariants.map((inv, i) => [inv.id, { inv, i }]));
  const stale = outcome.ir !== ir;
  return (
    <div className="verification">
      <p className="verify-summary" role="status">
        {props.running || stale
          ? pick({ zh: '正在重新证明…', en: 'Proving again…' })
          : pick({
              zh: `已探索 ${result.explored} 个配置${result.exhaustive ? '（穷尽）' : '（未穷尽）'}`,
              en: `${result.explored} configurations explored${result.exhaustive ? ' (exhaustive)' : ' (search cut short)'}`,
            })}
      </p>
      {(result.loops ?? []).length > 0 && (
        <ul className="invariants" aria-label={pick({ zh: '无事件循环', en: 'Eventless loops' })}>
          {(result.loops ?? []).map((loop) => {
            const at = props.positions?.key(loop.pointers[0] ?? '');
            return (
              <li key={loop.pointers.join(' ')} className="invariant invariant-violated" data-loop>
                <div className="invariant-head">
                  <span className="invariant-badge">
                    {pick({ zh: '✗ 无事件循环', en: '✗ eventless loop' })}
                  </span>{' '}
                  {at && (
                    <button type="button" className="link" onClick={() => props.onJump(at.line, at.column)}>
                      {pick({ zh: `第 ${at.line} 行`, en: `line ${at.line}` })}
                    </button>
                  )}
                </div>
                <p className="invariant-desc">
                  {pick({
                    zh: `在 ${loop.states.join(' + ')}，这些无事件转换可以无休止地相继发生：`,
                    en: `In ${loop.states.join(' + ')}, these eventless transitions can follow one another without end:`,
                  })}{' '}
                  <code>{loop.pointers.join(' → ')}</code>
                </p>
              </li>
            );
          })}
        </ul>
      )}
      {result.invariants.length === 0 && (
        <p className="muted">
          {pick({ zh: '此定义没有不变量。', en: 'This definition declares no invariants.' })}
        </p>
      )}
      <ul className="invariants">
        {result.invariants.map((r) => {
          const d = defs.get(r.id);
          const at = d ? props.positions?.value(`/invariants/${d.i}`) : undefined;
          const status = r.holds ? 'proved' : r.counterexample ? 'violated' : 'not-proved';
          return (
            <li
              key={r.id}
              className={`invariant invariant-${status}`}
              data-invariant={r.id}
              data-status={status}
            >
              <div className="invariant-head">
                <span className="invariant-badge">
                  {status === 'proved'
                    ? pick({ zh: '✓ 已证明', en: '✓ proved' })
                    : status === 'violated'
                      ? pick({ zh: '✗ 违反', en: '✗ violated' })
                      : pick({ zh: '? 未证明', en: '? not proved' })}
                </span>{' '}
                <code>{r.id}</code> <span className="muted">({r.kind})</span>
                {at && (
                  <button type="button" className="link" onClick={() => props.onJump(at.line, at.column)}>
                    {pick({ zh: `第 ${at.line} 行`, en: `line ${at.line}` })}
                  </button>
                )}
              </div>
              {d && <p className="invariant-desc">{text(d.inv.description)}</p>}
              {r.note && <p className="muted">{r.note}</p>}
              {r.counterexample && (
                <>
                  <ol className="counterexample" aria-label={pick({ zh: '反例', en: 'Counterexample' })}>
                    {r.counterexample.map((s, i) => (
                      <li key={i}>
                        <code>{s.event}</code>
                        {s.actor ? ` ${pick({ zh: '由', en: 'by' })} ${s.actor}` : ''}
                        {s.roles?.length ? ` (${s.roles.join(', ')})` : ''}
                        {s.guard ? ` [${s.guard}]` : ''}
                        {s.data ? ` ${JSON.stringify(s.data)}` : ''} →{' '}
                        {s.to.map((p) => text(outcome.ir && findTitle(outcome.ir, p)) || p).join(' + ')}
                      </li>
                    ))}
                  </ol>
                  <button
                    type="button"
                    onClick={() =>
                      props.onShow(props.shown === r.id ? undefined : r.id, counterexamplePath(r))
                    }
                    aria-pressed={props.shown === r.id}
                  >
                    {props.shown === r.id
                      ? pick({ zh: '在图上隐藏', en: 'Hide on diagram' })
                      : pick({ zh: '在图上显示', en: 'Show on diagram' })}
                  </button>
                </>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function findTitle(ir: ProcedureIR, path: string) {
  let node = ir.root;
  for (const key of path.split('.')) {
    const next = node.states[key];
    if (!next) return undefined;
    node = next;
  }
  return node.title;
}
