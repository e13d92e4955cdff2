/**
 * Compiler: procedure IR → XState v5 machine (`setup()` with named guards and actions).
 *
 * Deterministic: the same IR always yields the same machine. All behaviour is named in
 * `setup()`; the machine config itself stays plain data with params.
 *
 * Events inside the machine have the shape `{ type, data, actor, at }` (`at` = workflow time in
 * ms). The machine enforces everything on its own: its one guard, `allowed`, is `checkTransition`
 * (`acceptance.ts`: roles, separation of duties, data schemas, CEL guard), the same rule the
 * interpreter uses to explain *why* an event is refused (`runtime.ts`), so the browser simulator
 * and the Temporal interpreter behave the same. Actions compile through their kind's module
 * (`actions/`).
 *
 * Bookkeeping is done with marker actions that pure `transition()` returns and nobody executes:
 * - `$enter` `{ path }` on entry of every state node (drives `CustodiaStateSince` and SLAs);
 * - `$taken` `{ pointer, clauses }` on every transition (the clauses of the audit record);
 * - `$effect` `{ kind, … }` for record / notify / start (run as activities by the workflow).
 * Delayed transitions use XState `after` with named delays; pure `transition()` returns them as
 * `xstate.raise` actions with a delay, and `xstate.cancel` when the state is left.
 * `on_done` compiles to XState's `onDone`, `always` to `always`: both run inside the macrostep of
 * the event or timer that led there. Each `always` transition counts itself in the reserved
 * `_eventless` field and is refused once `MAX_EVENTLESS_STEPS` were taken in one macrostep (the
 * runtime resets the count before each step), so a definition whose eventless transitions could
 * loop — which the verifier refuses — still cannot hang an interpreter.
 */
import { assign, setup, type AnyStateMachine } from 'xstate';
import { checkTransition } from './acceptance.ts';
import { ASSIGN_FIELDS, compileAction } from './actions/index.ts';
import type {
  DelayedTransitionIR,
  EventlessTransitionIR,
  Json,
  ProcedureIR,
  StateIR,
  TransitionIR,
} from './ir.ts';
import { indexStates, indexTransitions, initialContext, walkStates } from './ir-walk.ts';
import { evaluateAll, scopeOf, type MachineContext, type MachineEvent } from './machine-context.ts';
import { compileSchemas, type SchemaSet } from './schemas.ts';
import { CALL_OUTPUT, callOutputOf, callTransitionsConfig } from './call.ts';
import type { BusinessCalendar } from './calendar.ts';
import { nominalDelayMs } from './sla.ts';

export type { Effect } from './actions/index.ts';
export type { MachineContext, MachineEvent } from './machine-context.ts';
export { SYSTEM_ACTOR, scopeOf } from './machine-context.ts';

export interface CompiledProcedure {
  ir: ProcedureIR;
  machine: AnyStateMachine;
  schemas: SchemaSet;
  /** Every state node by absolute path ('' is the root). */
  nodes: Map<string, StateIR>;
  /** The procedure has `always` transitions (their step count lives in the context's `_eventless`). */
  eventless: boolean;
  /** The business calendar `P2WD` delays count in (`sla.ts`); absent: none given. */
  calendar?: BusinessCalendar;
}

/** Most `always` transitions one macrostep takes (a defensive cap; the verifier proves none loop). */
export const MAX_EVENTLESS_STEPS = 100;

/** Reserved context field counting the `always` transitions of the current macrostep. */
export const EVENTLESS_COUNT = '_eventless';

/** Compiled procedures remembered (most recently used kept; a least recently used one goes first). */
export const MAX_COMPILED = 32;

/** Compiled procedures by their content: the IR and the calendar as JSON. */
const compiled = new Map<string, CompiledProcedure>();

/**
 * The IR compiled into its machine, schemas and indexes — once per content: an IR and calendar
 * equal to those of an earlier call (as JSON) give the procedure compiled then. Compiling is most
 * of what starting an instance costs the workflow thread (ajv compiles every data schema, ~4 ms
 * for the benchmark's procedure), and every instance of a definition, every run after
 * continue-as-new and every replay after eviction compiled it again. The key is the content itself,
 * never a hash from the workflow's input: an input cannot have another IR's compiled procedure
 * given to it. A compiled procedure is never changed after it is built (pure data, functions of
 * their arguments), so instances may share it; the worker preloads this module
 * (`PRELOADED_MODULES`), so the memo lives once per reusable V8 context.
 */
export function compileProcedure(
  ir: ProcedureIR,
  options: { calendar?: BusinessCalendar } = {},
): CompiledProcedure {
  const key = JSON.stringify([ir, options.calendar ?? null]);
  const known = compiled.get(key);
  if (known) {
    compiled.delete(key);
    compiled.set(key, known);
    return known;
  }
  const proc = compileAnew(ir, options);
  compiled.set(key, proc);
  if (compiled.size > MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
  return proc;
}

function compileAnew(ir: ProcedureIR, options: { calendar?: BusinessCalendar }): CompiledProcedure {
  const schemas = compileSchemas(ir);
  const nodes = indexStates(ir.root);
  const transitionsByPointer = indexTransitions(ir.root);
  const delays: Record<string, number> = {};
  for (const node of walkStates(ir.root))
    for (const t of node.after) delays[delayName(t.delay)] = nominalDelayMs(t.delay);
  const rules = { ir, schemas };

  const machine = setup({
    types: {} as { context: MachineContext; events: MachineEvent; input: Record<string, Json> },
    delays,
    guards: {
      /** The one acceptance rule (`checkTransition`) for the transition at `pointer`. */
      allowed: ({ context, event }, params: { pointer: string }) => {
        const t = transitionsByPointer.get(params.pointer);
        return t !== undefined && checkTransition(rules, context, event, t) === undefined;
      },
      /** An `always` transition: under the step cap, and its guard holds. */
      eventless: ({ context, event }, params: { pointer: string }) => {
        const t = transitionsByPointer.get(params.pointer);
        const taken = Number(context[EVENTLESS_COUNT] ?? 0);
        return (
          t !== undefined &&
          taken < MAX_EVENTLESS_STEPS &&
          checkTransition(rules, context, event, t) === undefined
        );
      },
    },
    actions: {
      $enter: () => {},
      $taken: () => {},
      $effect: () => {},
      countEventless: assign(({ context }) => ({
        [EVENTLESS_COUNT]: Number(context[EVENTLESS_COUNT] ?? 0) + 1,
      })),
      trackActor: assign(({ context, event }) => {
        if (!event.actor) return {};
        const seen = context._actors[event.type] ?? [];
        if (seen.includes(event.actor.id)) return {};
        return { _actors: { ...context._actors, [event.type]: [...seen, event.actor.id] } };
      }),
      [CALL_OUTPUT]: assign(({ event }) => callOutputOf(event)),
      [ASSIGN_FIELDS]: assign(({ context, event }, params: { fields: Record<string, string> }) =>
        evaluateAll(params.fields, scopeOf(context, event)),
      ),
    },
  }).createMachine({
    id: ir.id,
    context: ({ input }) => ({ ...initialContext(ir), ...input, _actors: {} }) as MachineContext,
    ...nodeConfig(ir.root, ir.id),
  });

  const eventless = [...walkStates(ir.root)].some((n) => (n.always?.length ?? 0) > 0);
  return {
    ir,
    machine,
    schemas,
    nodes,
    eventless,
    ...(options.calendar ? { calendar: options.calendar } : {}),
  };
}

function delayName(duration: string): string {
  return `after_${duration}`;
}

type Config = Record<string, unknown>;

function nodeConfig(node: StateIR, machineId: string): Config {
  const config: Config = {};
  if (node.type === 'parallel') config.type = 'parallel';
  if (node.type === 'final') config.type = 'final';
  if (node.initial) config.initial = node.initial;
  config.entry = [{ type: '$enter', params: { path: node.path } }];
  const children = Object.entries(node.states);
  if (children.length)
    config.states = Object.fromEntries(children.map(([k, s]) => [k, nodeConfig(s, machineId)]));
  const on = Object.entries(node.on);
  if (on.length)
    config.on = Object.fromEntries(
      on.map(([e, list]) => [e, list.map((t) => transitionConfig(t, node.path, machineId))]),
    );
  if (node.call) config.on = { ...(config.on as Config), ...callTransitionsConfig(node, machineId) };
  if (node.after.length) {
    const after: Record<string, Config[]> = {};
    for (const t of node.after)
      (after[delayName(t.delay)] ??= []).push(transitionConfig(t, node.path, machineId));
    config.after = after;
  }
  if (node.onDone) config.onDone = node.onDone.map((t) => transitionConfig(t, node.path, machineId));
  if (node.always)
    config.always = node.always.map((t) => transitionConfig(t, node.path, machineId, 'always'));
  return config;
}

function transitionConfig(
  t: TransitionIR | DelayedTransitionIR | EventlessTransitionIR,
  source: string,
  machineId: string,
  kind?: 'always',
): Config {
  const isEvent = 'roles' in t;
  const config: Config = {
    guard: { type: kind === 'always' ? 'eventless' : 'allowed', params: { pointer: t.pointer } },
    actions: [
      ...(isEvent ? [{ type: 'trackActor' }] : []),
      ...(kind === 'always' ? [{ type: 'countEventless' }] : []),
      { type: '$taken', params: { pointer: t.pointer, clauses: t.clauses } },
      ...t.actions.map(compileAction),
    ],
  };
  if (t.target !== undefined) {
    config.target = `#${machineId}${t.target ? '.' + t.target : ''}`;
    // A transition back to its own state restarts it (timers re-armed, SLA restarted).
    if (t.target === source) config.reenter = true;
  }
  return config;
}
