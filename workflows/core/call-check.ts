/**
 * The checks of `call:` within one definition (those that need the called procedure are
 * `calleeProblems` in `call.ts`, run across definitions by the draft pipeline): a call sits on an
 * atomic state, `output` only under `on_done` and into declared context fields, and the input
 * expressions read only `ctx`. Targets, actions and clauses of the outcomes are checked with every
 * other transition's (`ir-walk.ts` lists them).
 */
import type { CheckContext } from './check-report.ts';
import { stateLabel } from './check-report.ts';
import { checkSite } from './check-expressions.ts';
import { walkStates } from './ir-walk.ts';
import { joinPointer } from './positions.ts';
import { didYouMean } from './suggest.ts';

export function checkCalls(cx: CheckContext): void {
  const { ir, report } = cx;
  for (const state of walkStates(ir.root)) {
    const call = state.call;
    if (!call) continue;
    if (state.type !== 'atomic' || Object.keys(state.states).length > 0)
      report('PROC_CALL_MISPLACED', call.pointer, `${stateLabel(state)} is not atomic: it cannot call`, {
        at: 'key',
        hint: 'put the call on an atomic state of its own (a state that only waits for the called procedure)',
      });
    for (const t of [call.onFailed, call.onCancelled])
      if (t.output)
        report(
          'PROC_CALL_MISPLACED',
          joinPointer(t.pointer, 'output'),
          `output in ${stateLabel(state)}'s call: a failed or cancelled instance gives no output`,
          { at: 'key', hint: 'map output under on_done only' },
        );
    for (const t of Object.values(call.onDone))
      for (const mine of Object.keys(t.output ?? {}))
        if (!ir.context[mine])
          report(
            'PROC_CALL_OUTPUT_FIELD',
            joinPointer(t.pointer, 'output', mine),
            `output into "${mine}", which is not a context field${didYouMean(mine, Object.keys(ir.context))}`,
            { at: 'key', hint: 'declare the field under "context"' },
          );
    for (const [field, source] of Object.entries(call.input))
      checkSite(cx, {
        source,
        pointer: joinPointer(call.pointer, 'input', field),
        role: 'value',
        where: `the call in ${stateLabel(state)}`,
        roots: new Set(['ctx']),
        unavailable: "a call's input reads only ctx",
        dataOpen: false,
      });
  }
}
