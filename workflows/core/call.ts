/**
 * Called procedures (`call:` of a state): this instance enters the state, the engine starts the
 * called procedure as a child instance, and the state waits until that instance ends; its outcome
 * comes back as an engine event taken like any transition (recorded in the log and the audit):
 *
 * - `$call/<state>/done/<final>`: the called instance reached its top-level final state `<final>`
 *   (its `on_done` entry; `output` copies fields of its final context into this one's);
 * - `$call/<state>/failed`: it failed, was terminated, or could not be started (`on_failed`);
 * - `$call/<state>/cancelled`: someone cancelled it (`on_cancelled`).
 *
 * This module is the pure part: normalisation, the machine's transitions for the outcomes, the
 * event an outcome becomes, which calls an instance state needs, and the checks that need both the
 * caller and the callee (`calleeProblems`). The Temporal side is `workflows/call.ts`; the checks
 * within one definition `call-check.ts`; the verifier's moves `verify/call.ts`.
 */
import type { ActionIR, CallIR, CallOutcomeIR, Json, ProcedureIR, StateIR } from './ir.ts';
import { compileAction, type ActionConfig } from './actions/index.ts';
import { evaluateAll, scopeOf, type MachineContext, type MachineEvent } from './machine-context.ts';
import { joinPointer } from './positions.ts';
import { startInputMismatches } from './start-input.ts';
import type { StateValue } from 'xstate';
import { valuePaths } from './ir-walk.ts';

/** The YAML form of `call:` (schema-valid). */
export interface RawCall {
  procedure: string;
  input?: Record<string, string>;
  on_done: Record<string, RawCallOutcome>;
  on_failed: RawCallOutcome;
  on_cancelled: RawCallOutcome;
}

export interface RawCallOutcome {
  target: string;
  output?: Record<string, string>;
  clauses?: string[];
  actions?: Record<string, unknown>[];
}

/** How an outcome is named: a final state of the callee, or failed / cancelled. */
export type CallOutcomeName = { done: string } | 'failed' | 'cancelled';

/** The IR of a state's `call:`; targets resolved like any transition's. */
export function normalizeCall(
  raw: RawCall,
  pointer: string,
  resolve: (target: string) => string,
  actions: (list: Record<string, unknown>[] | undefined, pointer: string) => ActionIR[],
): CallIR {
  const outcome = (o: RawCallOutcome, at: string): CallOutcomeIR => {
    const t: CallOutcomeIR = {
      target: resolve(o.target),
      actions: actions(o.actions, at),
      clauses: o.clauses ?? [],
      pointer: at,
    };
    if (o.output !== undefined) t.output = o.output;
    return t;
  };
  return {
    procedure: raw.procedure,
    input: raw.input ?? {},
    onDone: Object.fromEntries(
      Object.entries(raw.on_done).map(([k, o]) => [k, outcome(o, joinPointer(pointer, 'on_done', k))]),
    ),
    onFailed: outcome(raw.on_failed, joinPointer(pointer, 'on_failed')),
    onCancelled: outcome(raw.on_cancelled, joinPointer(pointer, 'on_cancelled')),
    pointer,
  };
}

/** Every outcome transition of a call, with its engine event type, in document order. */
export function callOutcomes(
  state: StateIR,
): { outcome: CallOutcomeName; event: string; transition: CallOutcomeIR }[] {
  const call = state.call;
  if (!call) return [];
  return [
    ...Object.entries(call.onDone).map(([final, transition]) => ({
      outcome: { done: final },
      event: callEventType(state.path, { done: final }),
      transition,
    })),
    { outcome: 'failed', event: callEventType(state.path, 'failed'), transition: call.onFailed },
    { outcome: 'cancelled', event: callEventType(state.path, 'cancelled'), transition: call.onCancelled },
  ];
}

/** The engine event type of an outcome of the call in state `path`. */
export function callEventType(path: string, outcome: CallOutcomeName): string {
  return typeof outcome === 'string' ? `$call/${path}/${outcome}` : `$call/${path}/done/${outcome.done}`;
}

/** Is `type` the event of a call's outcome? */
export function isCallEvent(type: string): boolean {
  return type.startsWith('$call/');
}

/** The calling state and the outcome an outcome event's type names, or undefined for another event. */
export function parseCallEvent(type: string): { state: string; outcome: string } | undefined {
  const m = /^\$call\/([^/]+)\/(?:done\/([^/]+)|(failed|cancelled))$/.exec(type);
  return m ? { state: m[1]!, outcome: m[2] ?? m[3]! } : undefined;
}

/** Name of the machine action that copies an outcome's `output` into the context. */
export const CALL_OUTPUT = '$callOutput';

/** The fields an outcome event's `output` sets (what the machine's `$callOutput` assigns). */
export function callOutputOf(event: MachineEvent): Record<string, Json> {
  const output = event.data?.['output'];
  return output && typeof output === 'object' && !Array.isArray(output) ? output : {};
}

/** The XState `on` entries of a state's call outcomes (no guard: the outcome is the event). */
export function callTransitionsConfig(
  state: StateIR,
  machineId: string,
): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const { event, transition: t } of callOutcomes(state)) {
    const actions: ActionConfig[] = [
      { type: '$taken', params: { pointer: t.pointer, clauses: t.clauses } },
      { type: CALL_OUTPUT },
      ...t.actions.map(compileAction),
    ];
    const config: Record<string, unknown> = { actions };
    if (t.target !== undefined) {
      config.target = `#${machineId}${t.target ? '.' + t.target : ''}`;
      if (t.target === state.path) config.reenter = true;
    }
    out[event] = config;
  }
  return out;
}

/** A call an instance state needs running: its state, the procedure and its evaluated input. */
export interface NeededCall {
  path: string;
  procedure: string;
  input: Record<string, Json>;
}

/** The calls of the active states of `value` (document order), their input evaluated on `context`. */
export function neededCalls(
  nodes: ReadonlyMap<string, StateIR>,
  value: StateValue,
  context: MachineContext,
  done: boolean,
): NeededCall[] {
  if (done) return [];
  const out: NeededCall[] = [];
  for (const path of valuePaths(value)) {
    const call = nodes.get(path)?.call;
    if (!call) continue;
    out.push({
      path,
      procedure: call.procedure,
      input: evaluateAll(call.input, scopeOf(context, { type: '$call' })),
    });
  }
  return out;
}

/** Does any state of the procedure call another? */
export function hasCalls(nodes: ReadonlyMap<string, StateIR>): boolean {
  for (const s of nodes.values()) if (s.call) return true;
  return false;
}

/**
 * The workflow id of the instance called from `parentId` on entering `path` by transition `seq`:
 * the same on every replay, a new one on each entry.
 */
export function calledWorkflowId(parentId: string, path: string, seq: number, procedure: string): string {
  return `${procedure}-called-by-${parentId}-${path}-${seq}`;
}

/** How a called instance ended, as the workflow saw it. */
export type CallResult =
  | { kind: 'done'; state: StateValue; context: Record<string, Json> }
  | { kind: 'failed'; reason: string }
  | { kind: 'cancelled' };

/**
 * The engine event of an outcome for the call in `path`: its type, and as data the called
 * instance's id, the outcome and the mapped output (only fields the callee has). A callee that
 * ended in a final state this call does not expect (a later version added one) counts as failed.
 */
export function callOutcomeEvent(
  state: StateIR,
  workflowId: string,
  result: CallResult,
  at: number,
): MachineEvent {
  const call = state.call!;
  const data: Record<string, Json> = { workflowId, procedure: call.procedure };
  let outcome: CallOutcomeName;
  if (result.kind === 'done') {
    const final = typeof result.state === 'string' ? result.state : undefined;
    const spec = final !== undefined ? call.onDone[final] : undefined;
    if (final !== undefined && spec) {
      outcome = { done: final };
      data.outcome = final;
      const output: Record<string, Json> = {};
      for (const [mine, theirs] of Object.entries(spec.output ?? {}))
        if (result.context[theirs] !== undefined) output[mine] = result.context[theirs];
      data.output = output;
    } else {
      outcome = 'failed';
      data.outcome = 'failed';
      data.reason = `ended in ${JSON.stringify(result.state)}, which this call does not expect`;
    }
  } else {
    outcome = result.kind;
    data.outcome = result.kind;
    if (result.kind === 'failed') data.reason = result.reason;
  }
  return { type: callEventType(state.path, outcome), data, at };
}

/** The outcomes a callee can end in: the final states directly under its root (compound root). */
export function calleeFinals(callee: ProcedureIR): string[] {
  if (callee.root.type === 'parallel') return [];
  return Object.values(callee.root.states)
    .filter((s) => s.type === 'final')
    .map((s) => s.key);
}

/** One problem of a call with its callee known, at a pointer of the caller. */
export interface CallProblem {
  code:
    | 'PROC_START_INPUT_MISMATCH'
    | 'PROC_CALL_UNKNOWN_OUTCOME'
    | 'PROC_CALL_UNHANDLED_OUTCOME'
    | 'PROC_CALL_OUTPUT_FIELD'
    | 'PROC_CALL_OUTPUT_TYPE';
  pointer: string;
  message: string;
  hint?: string;
  at?: 'key';
}

/**
 * What the callee makes wrong in `state`'s call: input fields it does not have, required ones
 * missing, values its start schema can refuse (`start-input.ts`, as for `start`); `on_done` keys
 * that are not its final states and final states with no `on_done`; output fields it does not
 * have, or whose type (or values) do not fit this procedure's field.
 */
export function calleeProblems(caller: ProcedureIR, state: StateIR, callee: ProcedureIR): CallProblem[] {
  const call = state.call!;
  const out: CallProblem[] = [];
  const inputAt = joinPointer(call.pointer, 'input');
  for (const field of Object.keys(call.input))
    if (!callee.context[field])
      out.push({
        code: 'PROC_START_INPUT_MISMATCH',
        pointer: joinPointer(inputAt, field),
        at: 'key',
        message: `calls "${callee.id}" with input "${field}", which is not one of its context fields`,
        hint: `its fields: ${Object.keys(callee.context).join(', ') || 'none'}`,
      });
  for (const [field, spec] of Object.entries(callee.context))
    if (spec.required && spec.default === undefined && !(field in call.input))
      out.push({
        code: 'PROC_START_INPUT_MISMATCH',
        pointer: call.pointer,
        at: 'key',
        message: `calls "${callee.id}" without its required input "${field}"`,
      });
  const asStart = { kind: 'start' as const, procedure: call.procedure, input: call.input };
  for (const m of startInputMismatches(asStart, undefined, caller, callee))
    out.push({
      code: 'PROC_START_INPUT_MISMATCH',
      pointer: joinPointer(inputAt, m.field),
      message: `calls "${callee.id}" with input "${m.field}" that its start schema can refuse: ${m.reason}`,
      hint: `limit the source field's schema to what "${callee.id}" takes for "${m.field}"`,
    });
  const finals = calleeFinals(callee);
  for (const key of Object.keys(call.onDone))
    if (!finals.includes(key))
      out.push({
        code: 'PROC_CALL_UNKNOWN_OUTCOME',
        pointer: joinPointer(call.pointer, 'on_done', key),
        at: 'key',
        message: `"${callee.id}" has no final state "${key}"`,
        hint: `its final states: ${finals.join(', ') || 'none at the top level'}`,
      });
  for (const final of finals)
    if (!call.onDone[final])
      out.push({
        code: 'PROC_CALL_UNHANDLED_OUTCOME',
        pointer: joinPointer(call.pointer, 'on_done'),
        at: 'key',
        message: `"${callee.id}" can end in "${final}", which on_done does not handle`,
        hint: `add "${final}:" under on_done`,
      });
  for (const [key, t] of Object.entries(call.onDone))
    for (const [mine, theirs] of Object.entries(t.output ?? {})) {
      const at = joinPointer(t.pointer, 'output', mine);
      const from = callee.context[theirs];
      const to = caller.context[mine];
      if (!from) {
        out.push({
          code: 'PROC_CALL_OUTPUT_FIELD',
          pointer: at,
          message: `"${callee.id}" has no context field "${theirs}" (output of ${key})`,
          hint: `its fields: ${Object.keys(callee.context).join(', ') || 'none'}`,
        });
        continue;
      }
      if (!to) continue; // reported within the definition (call-check.ts)
      const mismatch = outputMismatch(from, to);
      if (mismatch)
        out.push({
          code: 'PROC_CALL_OUTPUT_TYPE',
          pointer: at,
          message: `output "${mine}" ← "${callee.id}".${theirs}: ${mismatch}`,
        });
    }
  return out;
}

function outputMismatch(
  from: ProcedureIR['context'][string],
  to: ProcedureIR['context'][string],
): string | undefined {
  if (from.type !== to.type && !(from.type === 'integer' && to.type === 'number'))
    return `a ${from.type} cannot go into a field of type ${to.type}`;
  const target = to.schema?.['enum'];
  if (!Array.isArray(target)) return undefined;
  const source = from.schema?.['enum'];
  if (!Array.isArray(source)) return `its values are not limited to this field's (${JSON.stringify(target)})`;
  const extra = source.filter((v) => !target.some((t) => JSON.stringify(t) === JSON.stringify(v)));
  return extra.length ? `it can be ${JSON.stringify(extra)}, not among this field's values` : undefined;
}
