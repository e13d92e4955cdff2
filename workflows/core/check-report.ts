/**
 * Shared plumbing of the semantic checks: a reporter that turns (code, pointer, message) into a
 * positioned diagnostic, and walks over the states and transitions of an IR.
 */
import type { Diagnostic, DiagnosticCode, Severity } from './diagnostics.ts';
import type { DelayedTransitionIR, ProcedureIR, StateIR, TransitionIR } from './ir.ts';
import type { PositionIndex } from './positions.ts';
import { closestName } from './suggest.ts';

export interface ReportOptions {
  /** Point at the key of the member (default: its value), or at an offset inside a string value. */
  at?: 'key' | 'value' | { offset: number };
  hint?: string;
  severity?: Severity;
}

export type Report = (
  code: DiagnosticCode,
  pointer: string,
  message: string,
  options?: ReportOptions,
) => void;

/** Everything a check needs: the IR, and where to send what it finds. */
export interface CheckContext {
  ir: ProcedureIR;
  report: Report;
}

export function createReporter(file: string, positions: PositionIndex, out: Diagnostic[]): Report {
  return (code, pointer, message, options = {}) => {
    const at = options.at ?? 'value';
    const pos =
      at === 'key'
        ? positions.key(pointer)
        : at === 'value'
          ? positions.value(pointer)
          : positions.inString(pointer, at.offset);
    out.push({
      code,
      severity: options.severity ?? 'error',
      message,
      file,
      line: pos.line,
      column: pos.column,
      pointer,
      ...(options.hint ? { hint: options.hint } : {}),
    });
  };
}

/** Every state of the IR, the root first, parents before children. */
export function* walkStates(root: StateIR): Generator<StateIR> {
  yield root;
  for (const child of Object.values(root.states)) yield* walkStates(child);
}

/** A transition of a state: event-driven or delayed. */
export type AnyTransition =
  | { kind: 'event'; state: StateIR; transition: TransitionIR }
  | { kind: 'delayed'; state: StateIR; transition: DelayedTransitionIR };

/** Every transition declared on `state` (not its children), events first, in document order. */
export function* stateTransitions(state: StateIR): Generator<AnyTransition> {
  for (const list of Object.values(state.on))
    for (const transition of list) yield { kind: 'event', state, transition };
  for (const transition of state.after) yield { kind: 'delayed', state, transition };
}

/** Every transition of the procedure. */
export function* allTransitions(root: StateIR): Generator<AnyTransition> {
  for (const state of walkStates(root)) yield* stateTransitions(state);
}

/** `state "a.b"`, or `the procedure` for the root. */
export function stateLabel(state: StateIR): string {
  return state.path === '' ? 'the procedure' : `state "${state.path}"`;
}

/** `transition APPROVE in state "a"` / `timer #1 in state "a"`. */
export function transitionLabel(t: AnyTransition): string {
  if (t.kind === 'event') {
    const list = t.state.on[t.transition.event ?? ''] ?? [];
    const index = list.indexOf(t.transition);
    return `transition ${t.transition.event ?? ''}${index > 0 ? ` #${index + 1}` : ''} in ${stateLabel(t.state)}`;
  }
  return `timer #${t.state.after.indexOf(t.transition) + 1} in ${stateLabel(t.state)}`;
}

/**
 * The state an unresolved target most likely meant (a sibling first, then any path), or
 * undefined. Used for "did you mean" and so a typo does not also make states unreachable.
 */
export function guessTarget(
  t: AnyTransition,
  target: string,
  paths: ReadonlySet<string>,
): string | undefined {
  const parent = t.state.path.includes('.') ? t.state.path.slice(0, t.state.path.lastIndexOf('.')) : '';
  const siblings =
    parent === ''
      ? []
      : [...paths].filter((p) => p.startsWith(`${parent}.`)).map((p) => p.slice(parent.length + 1));
  const sibling = closestName(target, siblings);
  return sibling !== undefined ? `${parent}.${sibling}` : closestName(target, paths);
}
