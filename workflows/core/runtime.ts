/**
 * The pure interpreter of a compiled procedure: data in, data out, no clock and no I/O.
 *
 * The Temporal workflow (and the browser simulator, and unit tests) drive it:
 * - `startInstance` → the first `InstanceState` and its effects and timers;
 * - `explainRejection` → why an event may not be sent now (the update validator), or nothing —
 *   built from `checkTransition` (`acceptance.ts`), the same rule the machine's guard applies;
 * - `applyEvent` / `fireTimer` → the next `InstanceState`, the transition record, effects;
 * - `describeInstance` → active leaves, roles awaited, due time, available events per role.
 * Time is passed in (`now`, ms since the epoch) by the caller: the workflow clock in Temporal.
 */
import {
  createActor,
  initialTransition,
  type AnyActorScope,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type ExecutableActionObject,
  type StateValue,
} from 'xstate';
import { checkTransition } from './acceptance.ts';
import type { Effect } from './actions/index.ts';
import { EVENTLESS_COUNT, type CompiledProcedure } from './compile.ts';
import { parseDuration } from './duration.ts';
import type { Actor, EventInput, Json, StateIR, TransitionIR } from './ir.ts';
import { isLeaf, valuePaths } from './ir-walk.ts';
import type { MachineContext, MachineEvent } from './machine-context.ts';
import type { Rejection, RejectionCode } from './rejections.ts';
import { formatProblems } from './schemas.ts';
import { unstorableText } from './storable.ts';
import { timerDueAt } from './sla.ts';

export type { Rejection, RejectionCode };

/** A pending delayed transition: a durable timer in the workflow. */
export interface PendingTimer {
  /** XState's send id, e.g. `xstate.after.after_P2D.file_access.submitted`. */
  id: string;
  /** The event to deliver when it fires. */
  event: { type: string };
  /** Deadline, ms since the epoch. */
  dueAt: number;
}

/** One accepted transition, as the audit log and the `snapshot` query show it. */
export interface TransitionRecord {
  seq: number;
  /** ISO-8601 time. */
  at: string;
  event: string;
  actor: Actor;
  /** Active leaf state paths before and after. */
  from: string[];
  to: string[];
  clauses: string[];
  data?: Record<string, Json>;
}

/** Everything an instance is, as plain JSON (carried across continue-as-new). */
export interface InstanceState {
  value: StateValue;
  context: MachineContext;
  done: boolean;
  seq: number;
  /** Entry time (ms) of every active state node, by path ('' = root). */
  enteredAt: Record<string, number>;
  timers: PendingTimer[];
}

export interface Step {
  state: InstanceState;
  record: TransitionRecord;
  effects: Effect[];
}

export interface InstanceView {
  /** Active leaf state paths. */
  leaves: string[];
  /** Events each role could send now (guards that read `data` count as possibly true). */
  available: Record<string, string[]>;
  /** Roles that can act now. */
  awaiting: string[];
  /** Entry time of the most recent leaf (ms). */
  stateSince: number;
  /** Earliest SLA deadline among the active states (ms), if any has an SLA. */
  dueAt?: number;
}

function snapshotOf(proc: CompiledProcedure, state: InstanceState): AnyMachineSnapshot {
  return proc.machine.resolveState({ value: state.value, context: state.context });
}

/** Active state node paths (all levels, '' = root) of a state value. */
export function activePaths(proc: CompiledProcedure, value: StateValue): string[] {
  return valuePaths(value).filter((p) => proc.nodes.has(p));
}

/** Active leaf paths of a state value. */
export function leafPaths(proc: CompiledProcedure, value: StateValue): string[] {
  return activePaths(proc, value).filter((p) => {
    const node = proc.nodes.get(p);
    return node !== undefined && isLeaf(node);
  });
}

interface Outcome {
  snapshot: AnyMachineSnapshot;
  effects: Effect[];
  clauses: string[];
  entered: string[];
  raised: PendingTimer[];
  cancelled: string[];
}

function interpret(
  proc: CompiledProcedure,
  snapshot: AnyMachineSnapshot,
  actions: unknown[],
  now: number,
): Outcome {
  const out: Outcome = { snapshot, effects: [], clauses: [], entered: [], raised: [], cancelled: [] };
  for (const a of actions as { type: string; params?: Record<string, unknown> }[]) {
    const p = a.params ?? {};
    switch (a.type) {
      case '$enter':
        out.entered.push(p.path as string);
        break;
      case '$taken':
        for (const c of p.clauses as string[]) if (!out.clauses.includes(c)) out.clauses.push(c);
        break;
      case '$effect':
        out.effects.push(p as unknown as Effect);
        break;
      case 'xstate.raise':
        if (typeof p.delay === 'number')
          out.raised.push({
            id: p.id as string,
            event: p.event as { type: string },
            dueAt: timerDueAt(p.id as string, now, p.delay, proc.calendar),
          });
        break;
      case 'xstate.cancel':
        out.cancelled.push(p.sendId as string);
        break;
      default:
        break;
    }
  }
  return out;
}

function nextState(prev: InstanceState | undefined, o: Outcome, now: number): InstanceState {
  const enteredAt: Record<string, number> = {};
  // Children before the root, as instance state has always listed them (carried over continue-as-new).
  const [root = '', ...below] = valuePaths(o.snapshot.value as StateValue);
  for (const path of [...below, root]) {
    const kept = prev?.enteredAt[path];
    enteredAt[path] = o.entered.includes(path) || kept === undefined ? now : kept;
  }
  const timers = (prev?.timers ?? []).filter((t) => !o.cancelled.includes(t.id));
  for (const t of o.raised) {
    const i = timers.findIndex((x) => x.id === t.id);
    if (i >= 0) timers.splice(i, 1);
    timers.push(t);
  }
  // The count of `always` transitions is per macrostep: it never outlives one.
  const { [EVENTLESS_COUNT]: _count, ...context } = o.snapshot.context as MachineContext;
  return {
    value: o.snapshot.value as StateValue,
    context: context as MachineContext,
    done: o.snapshot.status === 'done',
    seq: (prev?.seq ?? -1) + 1,
    enteredAt,
    timers: o.snapshot.status === 'done' ? [] : timers,
  };
}

/** Start an instance: initial state, the start record (seq 0) and the effects of entry. */
export function startInstance(
  proc: CompiledProcedure,
  input: Record<string, Json>,
  starter: Actor,
  now: number,
): Step {
  const unstorable = unstorableText(input);
  if (unstorable) throw new InputError(`start input rejected: ${unstorable}`);
  const problems = proc.schemas.startInputProblems(input);
  if (problems.length) throw new InputError(`start input rejected: ${formatProblems(problems)}`);
  const [snapshot, actions] = initialTransition(proc.machine, input);
  const o = interpret(proc, snapshot, actions, now);
  const state = nextState(undefined, o, now);
  const record: TransitionRecord = {
    seq: 0,
    at: new Date(now).toISOString(),
    event: '$start',
    actor: starter,
    from: [],
    to: leafPaths(proc, state.value),
    clauses: [...proc.ir.clauses],
    data: input,
  };
  return { state, record, effects: o.effects };
}

/** Raised for a start input that does not match the declared context; classified by `name`. */
export class InputError extends Error {
  override name = 'InputError';
}

/** Candidate IR transitions for `type` among the active state nodes, deepest first. */
function candidates(proc: CompiledProcedure, state: InstanceState, type: string): TransitionIR[] {
  const paths = activePaths(proc, state.value).sort((a, b) => depth(b) - depth(a));
  const out: TransitionIR[] = [];
  for (const p of paths) out.push(...(proc.nodes.get(p)?.on[type] ?? []));
  return out;
}

const depth = (path: string): number => (path === '' ? 0 : path.split('.').length);

/**
 * Why `input` may not be sent now, or `undefined` when it may. Synchronous and pure: the
 * workflow's update validator. Checks, in order: the event's shape, finished, the actor's shape,
 * the actor's authentication (`authenticate`, when given: the workflow checks its assertion),
 * unknown event, the current state takes it; then each candidate transition by `checkTransition`
 * (roles, separation of duties, data, guard) — the first that passes means accepted, otherwise
 * the refusal of the candidates that got furthest is the answer.
 */
export function explainRejection(
  proc: CompiledProcedure,
  state: InstanceState,
  input: EventInput,
  now: number,
  authenticate?: (actor: Actor) => Rejection | undefined,
): Rejection | undefined {
  const { ir } = proc;
  const shape = input as Partial<EventInput> | null | undefined;
  if (!shape || typeof shape !== 'object' || typeof shape.type !== 'string')
    return {
      code: 'BAD_EVENT',
      message: 'an event needs { type, actor, data? }',
      zh: '操作格式无效：需要 { type, actor, data? }',
    };
  if (state.done)
    return {
      code: 'INSTANCE_FINISHED',
      message: 'this instance has finished; it takes no events',
      zh: '该实例已结束，不再接受任何操作',
    };
  const actor = input.actor as Partial<Actor> | undefined;
  if (!actor || typeof actor.id !== 'string' || !actor.id || !Array.isArray(actor.roles))
    return {
      code: 'BAD_ACTOR',
      message: 'an event needs an actor { id, roles[] }',
      zh: '操作需要操作人 { id, roles[] }',
    };
  const unauthenticated = authenticate?.(actor as Actor);
  if (unauthenticated) return unauthenticated;
  if (!ir.events[input.type]) {
    const events = Object.keys(ir.events).join(', ');
    return {
      code: 'UNKNOWN_EVENT',
      message: `${ir.id} has no event ${input.type}; its events are ${events}`,
      zh: `${ir.id} 没有操作 ${input.type}；它的操作有：${events}`,
    };
  }
  const leaves = leafPaths(proc, state.value).join(', ');
  const all = candidates(proc, state, input.type);
  if (!all.length) {
    const takes = [...new Set(Object.values(describeInstance(proc, state).available).flat())].join(', ');
    return {
      code: 'CANNOT_TAKE',
      message: `${input.type} cannot be sent in state ${leaves}; events possible now: ${takes || 'none'}`,
      zh: `当前状态 ${leaves} 不接受 ${input.type}；现在可执行的操作：${takes || '无'}`,
    };
  }
  const event: MachineEvent = { type: input.type, data: input.data ?? {}, actor: actor as Actor, at: now };
  const refusals: Rejection[] = [];
  for (const t of all) {
    const refusal = checkTransition(proc, state.context, event, t);
    if (!refusal) return undefined;
    refusals.push(refusal);
  }
  const furthest = Math.max(...refusals.map((r) => TRANSITION_CHECKS.indexOf(r.code)));
  const code = TRANSITION_CHECKS[furthest] ?? 'GUARD_FALSE';
  if (code === 'ROLE_NOT_ALLOWED') {
    const allowed = [...new Set(all.flatMap((t) => t.roles))].join(', ');
    const has = actor.roles.length ? actor.roles.join(', ') : 'no role';
    const hasZh = actor.roles.length ? actor.roles.join(', ') : '无角色';
    return {
      code,
      message: `${actor.id} (${has}) may not send ${input.type} in state ${leaves}; allowed roles: ${allowed}`,
      zh: `${actor.id}（${hasZh}）不能在状态 ${leaves} 执行 ${input.type}；允许的角色：${allowed}`,
    };
  }
  const reached = refusals.filter((r) => r.code === code);
  if (code !== 'GUARD_FALSE') return reached[0];
  return {
    code,
    message: `${input.type} refused: ${reached.map((r) => r.message).join('; ')}`,
    zh: `${input.type} 被拒绝：${reached.map((r) => r.zh).join('；')}`,
  };
}

/** The refusals `checkTransition` gives, in the order it checks: a later one got further. */
const TRANSITION_CHECKS: readonly RejectionCode[] = [
  'ROLE_NOT_ALLOWED',
  'NOT_ASSIGNEE',
  'DUTY_CONFLICT',
  'INVALID_DATA',
  'BAD_ATTACHMENT',
  'ATTACHMENT_REQUIRED',
  'GUARD_FALSE',
];

/** Each machine's inert actor scope (`pureTransition`), made once. */
const inertScopes = new WeakMap<AnyStateMachine, AnyActorScope>();

/**
 * XState's pure `transition(machine, snapshot, event)` — the next snapshot and the actions it
 * would execute, none executed — with the machine's inert actor scope made once instead of per
 * call. `transition` creates an actor (its initial snapshot computed) and an actor system on every
 * call: a third of a step's CPU inside the workflow (`test/bench/engine-profile.ts`). The scope
 * is inert: nothing is executed through it (its executor only collects), nothing is spawned (a
 * compiled procedure invokes no actor), so one call leaves nothing behind for the next —
 * `test/unit/pure-transition.test.ts` compares it with `transition` over the shipped definitions.
 */
export function pureTransition(
  machine: AnyStateMachine,
  snapshot: AnyMachineSnapshot,
  event: MachineEvent,
): [AnyMachineSnapshot, ExecutableActionObject[]] {
  let scope = inertScopes.get(machine);
  if (!scope) {
    const self = createActor(machine);
    scope = {
      self,
      id: '',
      sessionId: '',
      logger: () => {},
      defer: () => {},
      emit: () => {},
      stopChild: () => {},
      system: self.system,
      actionExecutor: () => {},
    };
    inertScopes.set(machine, scope);
  }
  const actions: ExecutableActionObject[] = [];
  scope.actionExecutor = (action) => {
    actions.push(action);
  };
  try {
    return [machine.transition(snapshot, event, scope) as AnyMachineSnapshot, actions];
  } finally {
    scope.actionExecutor = () => {};
  }
}

function step(
  proc: CompiledProcedure,
  state: InstanceState,
  event: MachineEvent,
  actor: Actor,
  now: number,
): Step | undefined {
  const before = snapshotOf(
    proc,
    proc.eventless ? { ...state, context: { ...state.context, [EVENTLESS_COUNT]: 0 } } : state,
  );
  const [snapshot, actions] = pureTransition(proc.machine, before, event);
  const o = interpret(proc, snapshot, actions, now);
  if (!actions.length && snapshot.value === before.value) return undefined;
  const next = nextState(state, o, now);
  const record: TransitionRecord = {
    seq: next.seq,
    at: new Date(now).toISOString(),
    event: eventLabel(event.type),
    actor,
    from: leafPaths(proc, state.value),
    to: leafPaths(proc, next.value),
    clauses: o.clauses,
  };
  if (event.data && Object.keys(event.data).length) record.data = event.data;
  return { state: next, record, effects: o.effects };
}

/** How an event appears in the log: timers as `after P2D`, others by their type. */
export function eventLabel(type: string): string {
  const m = /^xstate\.after\.after_([^.]+)\./.exec(type);
  return m ? `after ${m[1]}` : type;
}

/**
 * Apply an event the validator accepted: one machine step (its guard is `checkTransition`).
 * Throws `EventRejectedError` with the explanation only if the machine does not take it.
 */
export function applyEvent(
  proc: CompiledProcedure,
  state: InstanceState,
  input: EventInput,
  now: number,
): Step {
  const event: MachineEvent = { type: input.type, data: input.data ?? {}, actor: input.actor, at: now };
  const result = state.done ? undefined : step(proc, state, event, input.actor, now);
  if (result) return result;
  throw new EventRejectedError(
    explainRejection(proc, state, input, now) ?? {
      code: 'GUARD_FALSE',
      message: `${input.type} was not taken`,
      zh: `${input.type} 未被执行`,
    },
  );
}

/** Raised when an event is refused at apply time; carries the rejection. */
export class EventRejectedError extends Error {
  override name = 'EventRejectedError';
  constructor(readonly rejection: Rejection) {
    super(rejection.message);
  }
}

/** Deliver a due timer. `undefined` when it is no longer pending or nothing happens (guard false). */
export function fireTimer(
  proc: CompiledProcedure,
  state: InstanceState,
  timerId: string,
  now: number,
): Step | undefined {
  const timer = state.timers.find((t) => t.id === timerId);
  if (!timer || state.done) return undefined;
  const result = step(proc, state, { ...timer.event, at: now }, { id: 'timer', roles: [] }, now);
  if (!result) {
    // Guard false: the timer is spent; drop it.
    return undefined;
  }
  result.state.timers = result.state.timers.filter((t) => !(t.id === timerId && t.dueAt === timer.dueAt));
  return result;
}

/**
 * Deliver an event no person sends (a called instance's outcome, `call.ts`): one machine step, or
 * `undefined` when the instance has finished or nothing takes it.
 */
export function applySystemEvent(
  proc: CompiledProcedure,
  state: InstanceState,
  event: MachineEvent,
  actor: Actor,
  now: number,
): Step | undefined {
  return state.done ? undefined : step(proc, state, { ...event, actor, at: now }, actor, now);
}

/** Remove a spent timer whose delivery changed nothing. */
export function dropTimer(state: InstanceState, timerId: string): InstanceState {
  return { ...state, timers: state.timers.filter((t) => t.id !== timerId) };
}

/**
 * Events `actor` may send now: `checkTransition` without the data (guards that read it may pass).
 * `anyAssignee`: as a holder of the roles, whoever the tasks are assigned to (what a role awaits).
 */
export function availableTo(
  proc: CompiledProcedure,
  state: InstanceState,
  actor: Actor,
  now: number,
  anyAssignee = false,
): string[] {
  if (state.done) return [];
  const out = new Set<string>();
  for (const path of activePaths(proc, state.value)) {
    for (const [type, list] of Object.entries(proc.nodes.get(path)?.on ?? {})) {
      if (out.has(type)) continue;
      const event: MachineEvent = { type, actor, at: now };
      if (
        list.some((t) => !checkTransition(proc, state.context, event, t, { withoutData: true, anyAssignee }))
      )
        out.add(type);
    }
  }
  return [...out].sort();
}

/** Leaves, roles awaited, due time and per-role availability of an instance. */
export function describeInstance(proc: CompiledProcedure, state: InstanceState, now = 0): InstanceView {
  const leaves = leafPaths(proc, state.value);
  const available: Record<string, string[]> = {};
  for (const role of Object.keys(proc.ir.roles).sort()) {
    const events = availableTo(proc, state, { id: '', roles: [role] }, now, true);
    if (events.length) available[role] = events;
  }
  let dueAt: number | undefined;
  if (!state.done)
    for (const path of activePaths(proc, state.value)) {
      const node: StateIR | undefined = proc.nodes.get(path);
      const sla = node?.sla ? parseDuration(node.sla) : undefined;
      const since = state.enteredAt[path];
      if (sla !== undefined && since !== undefined) dueAt = Math.min(dueAt ?? Infinity, since + sla);
    }
  const stateSince = Math.max(...leaves.map((l) => state.enteredAt[l] ?? 0), 0);
  const view: InstanceView = { leaves, available, awaiting: Object.keys(available), stateSince };
  if (dueAt !== undefined) view.dueAt = dueAt;
  return view;
}

/** The context without the engine's reserved fields. */
export function publicContext(state: InstanceState): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(state.context)) if (!k.startsWith('_')) out[k] = v;
  return out;
}
