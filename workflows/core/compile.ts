/**
 * Compiler: procedure IR → XState v5 machine (`setup()` with named guards and actions).
 *
 * Deterministic: the same IR always yields the same machine. All behaviour is named in
 * `setup()`; the machine config itself stays plain data with params.
 *
 * Events inside the machine have the shape `{ type, data, actor, at }` (`at` = workflow time in
 * ms). The machine enforces everything on its own (roles, separation of duties, data schemas,
 * CEL guards), so the browser simulator and the Temporal interpreter behave the same. The
 * interpreter additionally explains *why* an event is refused (`runtime.ts`).
 *
 * Bookkeeping is done with marker actions that pure `transition()` returns and nobody executes:
 * - `$enter` `{ path }` on entry of every state node (drives `CustodiaStateSince` and SLAs);
 * - `$taken` `{ pointer, clauses }` on every transition (the clauses of the audit record);
 * - `$effect` `{ kind, … }` for record / notify / start (run as activities by the workflow).
 * Delayed transitions use XState `after` with named delays; pure `transition()` returns them as
 * `xstate.raise` actions with a delay, and `xstate.cancel` when the state is left.
 */
import { assign, setup, type AnyStateMachine } from 'xstate';
import { parseDuration } from './duration.ts';
import { evaluateExpression, evaluateGuard, type ExpressionScope } from './expressions.ts';
import type { ActionIR, Actor, DelayedTransitionIR, Json, ProcedureIR, StateIR, TransitionIR } from './ir.ts';
import { compileSchemas, type SchemaSet } from './schemas.ts';

/** The event object inside the machine. */
export interface MachineEvent {
  type: string;
  data?: Record<string, Json>;
  actor?: Actor;
  at?: number;
}

/** Instance context inside the machine: user fields plus the engine's reserved `_actors`. */
export type MachineContext = Record<string, Json> & { _actors: Record<string, string[]> };

/** An effect requested by a transition; run by the interpreter as an idempotent activity. */
export type Effect =
  | { kind: 'record'; record: string; fields: Record<string, Json> }
  | { kind: 'notify'; to: string; message: { zh: string; en: string } }
  | { kind: 'start'; procedure: string; input: Record<string, Json> };

export const SYSTEM_ACTOR: Actor = { id: 'system', roles: [] };

export interface CompiledProcedure {
  ir: ProcedureIR;
  machine: AnyStateMachine;
  schemas: SchemaSet;
  /** Every state node by absolute path ('' is the root). */
  nodes: Map<string, StateIR>;
}

/** Scope for expressions, from a context and a machine event. */
export function scopeOf(context: Record<string, unknown>, event: MachineEvent): ExpressionScope {
  const ctx: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(context)) if (!k.startsWith('_')) ctx[k] = v;
  return { ctx, data: event.data ?? {}, actor: event.actor ?? SYSTEM_ACTOR, now: event.at ?? 0 };
}

/** Is `actor` barred from sending `event` by a separation-of-duties rule? Returns the rule's other event. */
export function dutyConflict(
  ir: ProcedureIR,
  actors: Record<string, string[]>,
  event: string,
  actorId: string,
): string | undefined {
  for (const rule of ir.duties) {
    if (rule.event !== event) continue;
    const other = rule.distinctFrom.find((e) => actors[e]?.includes(actorId));
    if (other) return other;
  }
  return undefined;
}

export function compileProcedure(ir: ProcedureIR): CompiledProcedure {
  const schemas = compileSchemas(ir);
  const nodes = new Map<string, StateIR>();
  const delays: Record<string, number> = {};
  const transitionsByPointer = new Map<string, TransitionIR | DelayedTransitionIR>();

  const indexNode = (node: StateIR): void => {
    nodes.set(node.path, node);
    for (const list of Object.values(node.on)) for (const t of list) transitionsByPointer.set(t.pointer, t);
    for (const t of node.after) {
      transitionsByPointer.set(t.pointer, t);
      delays[delayName(t.delay)] = parseDuration(t.delay) ?? 0;
    }
    for (const child of Object.values(node.states)) indexNode(child);
  };
  indexNode(ir.root);

  const machine = setup({
    types: {} as { context: MachineContext; events: MachineEvent; input: Record<string, Json> },
    delays,
    guards: {
      /** Roles, separation of duties, data schemas and the CEL guard of one transition. */
      allowed: ({ context, event }, params: { pointer: string }) => {
        const t = transitionsByPointer.get(params.pointer);
        if (!t) return false;
        if ('roles' in t) {
          const actor = event.actor;
          if (!actor || !t.roles.some((r) => actor.roles.includes(r))) return false;
          if (dutyConflict(ir, context._actors, t.event ?? event.type, actor.id)) return false;
          if (!schemas.eventData(event.type, event.data)) return false;
          if (t.data && !schemas.transitionData(t.pointer, event.data)) return false;
        }
        return t.guard ? evaluateGuard(t.guard, scopeOf(context, event)) : true;
      },
    },
    actions: {
      $enter: () => {},
      $taken: () => {},
      $effect: () => {},
      trackActor: assign(({ context, event }) => {
        if (!event.actor) return {};
        const seen = context._actors[event.type] ?? [];
        if (seen.includes(event.actor.id)) return {};
        return { _actors: { ...context._actors, [event.type]: [...seen, event.actor.id] } };
      }),
      assignFields: assign(({ context, event }, params: { fields: Record<string, string> }) => {
        const scope = scopeOf(context, event);
        const out: Record<string, Json> = {};
        for (const [field, expr] of Object.entries(params.fields))
          out[field] = evaluateExpression(expr, scope);
        return out;
      }),
    },
  }).createMachine({
    id: ir.id,
    context: ({ input }) => ({ ...initialContext(ir), ...input, _actors: {} }) as MachineContext,
    ...nodeConfig(ir.root, ir.id),
  });

  return { ir, machine, schemas, nodes };
}

/** Defaults of the declared context fields. */
export function initialContext(ir: ProcedureIR): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [name, field] of Object.entries(ir.context))
    if (field.default !== undefined) out[name] = field.default;
  return out;
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
  if (node.after.length) {
    const after: Record<string, Config[]> = {};
    for (const t of node.after)
      (after[delayName(t.delay)] ??= []).push(transitionConfig(t, node.path, machineId));
    config.after = after;
  }
  return config;
}

function transitionConfig(t: TransitionIR | DelayedTransitionIR, source: string, machineId: string): Config {
  const isEvent = 'roles' in t;
  const config: Config = {
    guard: { type: 'allowed', params: { pointer: t.pointer } },
    actions: [
      ...(isEvent ? [{ type: 'trackActor' }] : []),
      { type: '$taken', params: { pointer: t.pointer, clauses: t.clauses } },
      ...t.actions.map(actionConfig),
    ],
  };
  if (t.target !== undefined) {
    config.target = `#${machineId}${t.target ? '.' + t.target : ''}`;
    // A transition back to its own state restarts it (timers re-armed, SLA restarted).
    if (t.target === source) config.reenter = true;
  }
  return config;
}

function actionConfig(action: ActionIR): Config {
  switch (action.kind) {
    case 'assign':
      return { type: 'assignFields', params: { fields: action.fields } };
    case 'record':
      return {
        type: '$effect',
        params: ({ context, event }: { context: MachineContext; event: MachineEvent }): Effect => ({
          kind: 'record',
          record: action.record,
          fields: evaluateAll(action.fields ?? {}, scopeOf(context, event)),
        }),
      };
    case 'notify':
      return { type: '$effect', params: { kind: 'notify', to: action.to, message: action.message } };
    case 'start':
      return {
        type: '$effect',
        params: ({ context, event }: { context: MachineContext; event: MachineEvent }): Effect => ({
          kind: 'start',
          procedure: action.procedure,
          input: evaluateAll(action.input ?? {}, scopeOf(context, event)),
        }),
      };
  }
}

function evaluateAll(fields: Record<string, string>, scope: ExpressionScope): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [k, expr] of Object.entries(fields)) out[k] = evaluateExpression(expr, scope);
  return out;
}
