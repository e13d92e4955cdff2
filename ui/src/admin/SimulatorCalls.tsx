/**
 * The simulator's called procedures: for each active calling state (`call:`), one button per
 * outcome of the called instance — each final state under `on_done`, failed, cancelled — which
 * plays that outcome as the engine would deliver it (`simulation.ts`, `outcome`).
 */
import type { CompiledProcedure } from '../../../workflows/core/compile.ts';
import type { CallResult } from '../../../workflows/core/call.ts';
import { activePaths, type InstanceState } from '../../../workflows/core/runtime.ts';
import { useI18n } from '../i18n.tsx';

export function SimulatorCalls(props: {
  proc: CompiledProcedure;
  state: InstanceState;
  play: (path: string, result: CallResult) => void;
}) {
  const { proc, state, play } = props;
  const { pick, text } = useI18n();
  if (state.done) return null;
  const calling = activePaths(proc, state.value).filter((p) => proc.nodes.get(p)?.call);
  if (!calling.length) return null;
  return (
    <ul className="sim-timers" aria-label={pick({ zh: '被调用的程序', en: 'Called procedures' })}>
      {calling.map((path) => {
        const node = proc.nodes.get(path)!;
        const call = node.call!;
        return (
          <li key={path}>
            {pick({
              zh: `${text(node.title)}：等待 ${call.procedure} 结束`,
              en: `${text(node.title)}: waiting for ${call.procedure}`,
            })}{' '}
            {Object.keys(call.onDone).map((final) => (
              <button
                key={final}
                type="button"
                onClick={() => play(path, { kind: 'done', state: final, context: {} })}
              >
                {pick({ zh: `以 ${final} 结束`, en: `Ends ${final}` })}
              </button>
            ))}
            <button type="button" onClick={() => play(path, { kind: 'failed', reason: 'simulated' })}>
              {pick({ zh: '失败', en: 'Fails' })}
            </button>
            <button type="button" onClick={() => play(path, { kind: 'cancelled' })}>
              {pick({ zh: '被取消', en: 'Is cancelled' })}
            </button>
          </li>
        );
      })}
    </ul>
  );
}
