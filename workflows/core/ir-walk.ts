/**
 * The IR toolkit: every walk over a procedure's states and transitions, in one place. `ir.ts`
 * holds the types; this module answers the questions every stage asks of them (compile, schemas,
 * check, verify, the worker's definition checks and visibility, the UI's lists and diagram), so
 * nobody re-writes a recursive walk with its own idea of order or of what a leaf is.
 *
 * Order is always document order: a parent before its children, children in declaration order,
 * a state's event transitions (by event, in order) before its delayed ones.
 */
import type { StateValue } from 'xstate';
import type {
  CallOutcomeIR,
  DelayedTransitionIR,
  EventlessTransitionIR,
  Json,
  JsonSchema,
  ProcedureIR,
  StateIR,
  TransitionIR,
} from './ir.ts';

/** Every state of the IR, the root first, parents before children. */
export function* walkStates(root: StateIR): Generator<StateIR> {
  yield root;
  for (const child of Object.values(root.states)) yield* walkStates(child);
}

/** A transition of a state: event-driven, delayed, on completion (`on_done`), eventless (`always`) or a call's outcome. */
export type AnyTransition =
  | { kind: 'event'; state: StateIR; transition: TransitionIR }
  | { kind: 'delayed'; state: StateIR; transition: DelayedTransitionIR }
  | { kind: 'done' | 'always'; state: StateIR; transition: EventlessTransitionIR }
  /** An outcome of the state's `call:` (`call.ts`): `done <final>`, `failed` or `cancelled`. */
  | { kind: 'call'; state: StateIR; transition: CallOutcomeIR; outcome: string };

/** Every transition declared on `state` (not its children): events, timers, on_done, always. */
export function* stateTransitions(state: StateIR): Generator<AnyTransition> {
  for (const list of Object.values(state.on))
    for (const transition of list) yield { kind: 'event', state, transition };
  for (const transition of state.after) yield { kind: 'delayed', state, transition };
  for (const transition of state.onDone ?? []) yield { kind: 'done', state, transition };
  for (const transition of state.always ?? []) yield { kind: 'always', state, transition };
  if (state.call) {
    for (const [final, transition] of Object.entries(state.call.onDone))
      yield { kind: 'call', state, transition, outcome: `done ${final}` };
    yield { kind: 'call', state, transition: state.call.onFailed, outcome: 'failed' };
    yield { kind: 'call', state, transition: state.call.onCancelled, outcome: 'cancelled' };
  }
}

/** Every transition of the procedure. */
export function* allTransitions(root: StateIR): Generator<AnyTransition> {
  for (const state of walkStates(root)) yield* stateTransitions(state);
}

/** Is `state` a leaf (no child states)? A compound with no children counts as one. */
export function isLeaf(state: StateIR): boolean {
  return Object.keys(state.states).length === 0;
}

/** All state paths of the procedure (the root's empty path excluded), in document order. */
export function statePaths(root: StateIR): Set<string> {
  const paths = new Set<string>();
  for (const state of walkStates(root)) if (state.path !== '') paths.add(state.path);
  return paths;
}

/** Every leaf state path of a procedure (what `CustodiaState` holds), in document order. */
export function leafStatePaths(ir: ProcedureIR): string[] {
  const out: string[] = [];
  for (const state of walkStates(ir.root)) if (state.path !== '' && isLeaf(state)) out.push(state.path);
  return out;
}

/** The leaf states of a procedure themselves, in document order (for pickers and lists). */
export function leafStates(ir: ProcedureIR): StateIR[] {
  return [...walkStates(ir.root)].filter((s) => s.path !== '' && isLeaf(s));
}

/** The state node at a dotted path ('' = root), or undefined. */
export function stateAt(ir: ProcedureIR | undefined, path: string): StateIR | undefined {
  if (!ir) return undefined;
  let node: StateIR | undefined = ir.root;
  if (!path) return node;
  for (const key of path.split('.')) node = node?.states[key];
  return node;
}

/** The state nodes from the top down to `path` (the root excluded): `a`, `a.b`, `a.b.c`. */
export function statesAlong(ir: ProcedureIR | undefined, path: string): StateIR[] {
  if (!path) return [];
  const parts = path.split('.');
  return parts
    .map((_, i) => stateAt(ir, parts.slice(0, i + 1).join('.')))
    .filter((s): s is StateIR => s !== undefined);
}

/**
 * The state node paths an XState state value names, at every level: the root ('') first, then
 * depth first in the value's order (`{ a: { b: 'c' } }` → '', a, a.b, a.b.c).
 */
export function valuePaths(value: StateValue): string[] {
  const out: string[] = [''];
  const walk = (v: StateValue, prefix: string): void => {
    if (typeof v === 'string') {
      out.push(prefix ? `${prefix}.${v}` : v);
      return;
    }
    for (const [k, child] of Object.entries(v)) {
      const path = prefix ? `${prefix}.${k}` : k;
      out.push(path);
      if (child !== undefined) walk(child, path);
    }
  };
  walk(value, '');
  return out;
}

/** Every state node by absolute path ('' is the root). */
export function indexStates(root: StateIR): Map<string, StateIR> {
  const nodes = new Map<string, StateIR>();
  for (const state of walkStates(root)) nodes.set(state.path, state);
  return nodes;
}

/** Every transition by its pointer. */
export function indexTransitions(
  root: StateIR,
): Map<string, TransitionIR | DelayedTransitionIR | EventlessTransitionIR> {
  const out = new Map<string, TransitionIR | DelayedTransitionIR | EventlessTransitionIR>();
  for (const t of allTransitions(root)) out.set(t.transition.pointer, t.transition);
  return out;
}

/**
 * The JSON Schema of a procedure's start input, from its context fields. With `defaults`, each
 * field carries its `default` (what a start form pre-fills); the engine validates without them.
 */
export function contextSchema(ir: ProcedureIR, options: { defaults?: boolean } = {}): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, field] of Object.entries(ir.context)) {
    properties[name] = {
      ...(field.schema ?? {}),
      type: field.type,
      ...(options.defaults && field.default !== undefined ? { default: field.default } : {}),
    };
    if (field.required) required.push(name);
  }
  return { type: 'object', properties, required, additionalProperties: false };
}

/** Defaults of the declared context fields (the context an instance starts from). */
export function initialContext(ir: ProcedureIR): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [name, field] of Object.entries(ir.context))
    if (field.default !== undefined) out[name] = field.default;
  return out;
}
