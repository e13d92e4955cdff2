/**
 * Migration of a running instance to another version of its procedure: the plan (pure, one home).
 *
 * The same function answers the dry run (server side, from an instance's snapshot) and the
 * `migrate` update inside the workflow (from the instance's own state), so what the dry run says
 * is what the engine does.
 *
 * - States: each active leaf of the old version goes to the state the new version's `migrate:`
 *   names for it, else to the state of the same path. A target that is compound or parallel is
 *   entered at its initial descendants (every region of a parallel one); a parallel state of the
 *   new version reached by some leaf gets its other regions at their initial states. The result
 *   must be one configuration (one child per compound state) and no leaf may be final.
 * - Context: fields of both versions keep their values, new fields take their `default`, fields
 *   the new version no longer declares are dropped (listed in the plan and in the audit record;
 *   their values stay in the old version's audit records). The engine's own fields (`_…`) are kept.
 *   The result must satisfy the new version's context schema.
 * - Time: a state keeps the entry time of the state it comes from (same path, or the leaf mapped
 *   to it); states entered by the migration are entered now. Timers of the new version's active
 *   states are due at entry + delay (a timer the old version had pending keeps its deadline); a
 *   delay in working days (`P2WD`) counts in the instance's business calendar, as when a state is
 *   entered (`timerDueAt`) — {@link MigrationTiming}.
 *
 * Whether the new version's proof covers the migrated configuration is asked by the caller
 * (`verify/reachable.ts`: the proof's reachable set), not here: it costs an exploration.
 */
import type { StateValue } from 'xstate';
import type { Json, ProcedureIR, StateIR } from './ir.ts';
import { indexStates, isLeaf, valuePaths, walkStates } from './ir-walk.ts';
import type { BusinessCalendar } from './calendar.ts';
import { nominalDelayMs, timerDueAt } from './sla.ts';
import type { MachineContext } from './machine-context.ts';
import type { InstanceState, PendingTimer } from './runtime.ts';
import { parseDuration } from './duration.ts';
import { callRunningRefusal, callsEndedBy, type RunningCall } from './migration-calls.ts';

/** How an instance can move: at once, once the new version maps a state, or not at all. */
export type MigrationClass = 'moves' | 'needs_mapping' | 'cannot_move';

/** Why an instance does not move (closed set; the UI and API map each). */
export const MIGRATION_REFUSALS = [
  /** A leaf of the old version is no state of the new one and `migrate:` does not map it. */
  'UNMAPPED_STATE',
  /** `migrate:` maps a leaf to a state the new version does not have. */
  'UNKNOWN_TARGET',
  /** The mapped leaves do not make one configuration (two children of one compound state…). */
  'INVALID_CONFIGURATION',
  /** A leaf would be a final state (the instance would end without an event). */
  'FINAL_TARGET',
  /** The carried context does not satisfy the new version's context schema. */
  'CONTEXT_INVALID',
  /** The new version's proof never reaches the migrated configuration with this context. */
  'NOT_COVERED',
  /** The instance is already on the new version (same hash). */
  'SAME_VERSION',
  /** The instance belongs to another procedure. */
  'OTHER_PROCEDURE',
  /** The instance has finished. */
  'FINISHED',
  /** A called instance runs that the move would end (`migration-calls.ts`); dry-run once it ends. */
  'CALL_RUNNING',
  /** The instance has moved since the plan was made (its sequence number differs). */
  'STATE_CHANGED',
  /** The request is malformed (no admin actor, a definition that does not hash to its hash…). */
  'BAD_MIGRATION',
] as const;
export type MigrationRefusal = (typeof MIGRATION_REFUSALS)[number];

/** The class each refusal puts an instance in. */
export const REFUSAL_CLASS: Record<MigrationRefusal, Exclude<MigrationClass, 'moves'>> = {
  UNMAPPED_STATE: 'needs_mapping',
  UNKNOWN_TARGET: 'needs_mapping',
  INVALID_CONFIGURATION: 'needs_mapping',
  FINAL_TARGET: 'needs_mapping',
  CONTEXT_INVALID: 'cannot_move',
  NOT_COVERED: 'cannot_move',
  SAME_VERSION: 'cannot_move',
  OTHER_PROCEDURE: 'cannot_move',
  FINISHED: 'cannot_move',
  CALL_RUNNING: 'cannot_move',
  STATE_CHANGED: 'cannot_move',
  BAD_MIGRATION: 'cannot_move',
};

/** What the migration does to one instance (or why it cannot). */
export interface MigrationPlan {
  class: MigrationClass;
  code?: MigrationRefusal;
  /** Why not, in English and Chinese. */
  message?: string;
  zh?: string;
  /** Active leaves before (old version) and after (new version). */
  from: string[];
  to: string[];
  /** Leaves moved by an explicit `migrate:` entry: old → new. */
  mapped: Record<string, string>;
  /** Context fields the new version adds (with their defaults) and those it drops. */
  added: string[];
  dropped: string[];
}

/** A planned migration with the new instance state (when it moves). */
export interface PlannedMigration {
  plan: MigrationPlan;
  state?: InstanceState;
}

/** Context validation of the new version (the compiled start-input schema, `schemas.ts`). */
export type ContextProblems = (context: Record<string, Json>) => string | undefined;

const refuse = (
  plan: Omit<MigrationPlan, 'class'>,
  code: MigrationRefusal,
  message: string,
  zh: string,
): PlannedMigration => ({ plan: { ...plan, class: REFUSAL_CLASS[code], code, message, zh } });

/** The leaves of a state value, by the IR's tree (valuePaths lists every level). */
function leavesOf(nodes: Map<string, StateIR>, value: StateValue): string[] {
  return valuePaths(value).filter((p) => {
    const n = nodes.get(p);
    return n !== undefined && isLeaf(n);
  });
}

/** Add `node` and its initial descendants (every region of a parallel state) to `out`. */
function enterDown(node: StateIR, out: Set<string>): void {
  out.add(node.path);
  if (isLeaf(node)) return;
  if (node.type === 'parallel') for (const c of Object.values(node.states)) enterDown(c, out);
  else {
    const first = node.initial ?? Object.keys(node.states)[0];
    const child = first === undefined ? undefined : node.states[first];
    if (child) enterDown(child, out);
  }
}

const parentOf = (path: string): string => (path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '');

/** The XState state value of a set of active paths, or the problem that makes it none. */
function valueOf(node: StateIR, active: Set<string>): { value: StateValue } | { problem: string } {
  if (node.type === 'parallel') {
    const out: Record<string, StateValue> = {};
    for (const c of Object.values(node.states)) {
      if (isLeaf(c)) {
        out[c.key] = {};
        continue;
      }
      const v = valueOf(c, active);
      if ('problem' in v) return v;
      out[c.key] = v.value;
    }
    return { value: out };
  }
  const children = Object.values(node.states).filter((c) => active.has(c.path));
  const where = node.path || 'the root';
  if (children.length !== 1)
    return {
      problem: children.length
        ? `${where} would be in ${children.map((c) => c.key).join(' and ')} at once`
        : `${where} would be in none of its states`,
    };
  const child = children[0] as StateIR;
  if (isLeaf(child)) return { value: child.key };
  const v = valueOf(child, active);
  return 'problem' in v ? v : { value: { [child.key]: v.value } };
}

/**
 * How `after:` timers new to a state are timed. `workingDayTimers` (patch
 * `migration-working-day-timers`): a `P<n>WD` delay counts n working days of `calendar` from the
 * entry (n days without one), like a timer raised when the state is entered. Without it, the rule
 * of the migrations recorded before the patch: such a delay counted 0 (due at entry, so it fired
 * at once) — kept only so their histories replay.
 */
export interface MigrationTiming {
  workingDayTimers?: { calendar?: BusinessCalendar };
}

/** Whether a version has an `after:` delay in working days (only then does the timing rule matter). */
export function hasWorkingDayTimers(ir: ProcedureIR): boolean {
  for (const s of walkStates(ir.root)) if (s.after.some((t) => /WD$/.test(t.delay))) return true;
  return false;
}

/** XState's send id (and event type) of a state's delayed transition (`compile.ts` names delays). */
export function timerId(ir: ProcedureIR, path: string, delay: string): string {
  return `xstate.after.after_${delay}.${ir.id}${path ? `.${path}` : ''}`;
}

/**
 * Plan the move of an instance in `state` (of `from`) to `to`. `now` is the migration time (ms);
 * `contextProblems` validates the new context (the new version's compiled schema); `running` are
 * the instance's calls running now (a move that would end one is refused, `migration-calls.ts`);
 * `timing` how new `after:` timers in working days are timed ({@link MigrationTiming}).
 */
export function planMigration(
  from: ProcedureIR,
  to: ProcedureIR,
  state: Pick<InstanceState, 'value' | 'context' | 'done' | 'enteredAt' | 'timers'> &
    Partial<Pick<InstanceState, 'seq'>>,
  now: number,
  contextProblems: ContextProblems,
  running: readonly RunningCall[] = [],
  timing: MigrationTiming = {},
): PlannedMigration {
  const oldNodes = indexStates(from.root);
  const newNodes = indexStates(to.root);
  const fromLeaves = leavesOf(oldNodes, state.value);
  const base = { from: fromLeaves, to: [] as string[], mapped: {} as Record<string, string> };
  const fields = { added: [] as string[], dropped: [] as string[] };
  const plan0 = { ...base, ...fields };
  if (from.id !== to.id)
    return refuse(
      plan0,
      'OTHER_PROCEDURE',
      `the instance runs ${from.id}, not ${to.id}`,
      `该实例运行的是 ${from.id}，不是 ${to.id}`,
    );
  if (state.done) return refuse(plan0, 'FINISHED', 'the instance has finished', '该实例已结束');
  // States.
  const active = new Set<string>(['']);
  const origin = new Map<string, string>(); // new path → old leaf it comes from
  for (const leaf of fromLeaves) {
    const explicit = to.migrate?.[leaf];
    const target = explicit ?? leaf;
    const node = newNodes.get(target);
    if (!node) {
      if (explicit !== undefined)
        return refuse(
          plan0,
          'UNKNOWN_TARGET',
          `migrate maps ${leaf} to ${explicit}, which is no state of ${to.id} ${to.version}`,
          `migrate 将 ${leaf} 映射到 ${explicit}，但 ${to.id} ${to.version} 没有该状态`,
        );
      return refuse(
        plan0,
        'UNMAPPED_STATE',
        `state ${leaf} is not in ${to.id} ${to.version}; map it with migrate: { ${leaf}: <state> }`,
        `状态 ${leaf} 不在 ${to.id} ${to.version} 中；请用 migrate: { ${leaf}: <状态> } 映射`,
      );
    }
    if (explicit !== undefined) base.mapped[leaf] = explicit;
    const entered = new Set<string>();
    enterDown(node, entered);
    for (const p of entered) {
      active.add(p);
      if (!origin.has(p)) origin.set(p, leaf);
    }
    for (let p = target; p !== ''; p = parentOf(p)) {
      active.add(p);
      if (!origin.has(p)) origin.set(p, leaf);
    }
  }
  // Regions of active parallel states that no leaf reached start at their initial states.
  for (const path of [...active]) {
    const n = newNodes.get(path);
    if (n?.type === 'parallel')
      for (const c of Object.values(n.states)) if (!active.has(c.path)) enterDown(c, active);
  }
  const resolved = valueOf(to.root, active);
  if ('problem' in resolved)
    return refuse(
      plan0,
      'INVALID_CONFIGURATION',
      `the mapped states are no configuration of ${to.id} ${to.version}: ${resolved.problem}`,
      `映射后的状态不是 ${to.id} ${to.version} 的有效配置：${resolved.problem}`,
    );
  const { value } = resolved;
  const toLeaves = leavesOf(newNodes, value);
  base.to = toLeaves;
  const final = toLeaves.find((l) => newNodes.get(l)?.type === 'final');
  if (final !== undefined)
    return refuse(
      { ...base, ...fields },
      'FINAL_TARGET',
      `${final} is a final state: a migration never ends an instance`,
      `${final} 是终止状态：迁移不能结束实例`,
    );
  // Context.
  const context: Record<string, Json> = {};
  for (const [k, v] of Object.entries(state.context))
    if (k.startsWith('_') || k in to.context) context[k] = v as Json;
    else fields.dropped.push(k);
  for (const [k, f] of Object.entries(to.context))
    if (!(k in context) && f.default !== undefined) {
      context[k] = f.default;
      fields.added.push(k);
    }
  const pub = Object.fromEntries(Object.entries(context).filter(([k]) => !k.startsWith('_')));
  const problem = contextProblems(pub);
  if (problem)
    return refuse(
      { ...base, ...fields },
      'CONTEXT_INVALID',
      `the context does not fit ${to.id} ${to.version}: ${problem}`,
      `上下文不符合 ${to.id} ${to.version}：${problem}`,
    );
  const ended = callsEndedBy(running, newNodes, active);
  if (ended.length) {
    const why = callRunningRefusal(ended);
    return refuse({ ...base, ...fields }, 'CALL_RUNNING', why.message, why.zh);
  }
  // Time: entry times and timers.
  const oldActive = new Set(valuePaths(state.value));
  const enteredAt: Record<string, number> = {};
  for (const p of [...active].sort()) {
    const same = oldActive.has(p) ? state.enteredAt[p] : undefined;
    const src = origin.get(p);
    enteredAt[p] = same ?? (src !== undefined ? state.enteredAt[src] : undefined) ?? now;
  }
  // A timer the old version had for the same state and delay stays as it was: pending with its
  // deadline, or spent (not raised again); a timer new to the state is due at entry + delay.
  const timers: PendingTimer[] = [];
  for (const p of [...active]) {
    const old = oldActive.has(p) ? oldNodes.get(p) : undefined;
    for (const t of newNodes.get(p)?.after ?? []) {
      const id = timerId(to, p, t.delay);
      if (timers.some((x) => x.id === id)) continue;
      if (old?.after.some((o) => o.delay === t.delay)) {
        const kept = state.timers.find((x) => x.id === timerId(from, p, t.delay));
        if (kept) timers.push({ id, event: { type: id }, dueAt: kept.dueAt });
        continue;
      }
      const entry = enteredAt[p] ?? now;
      const wd = timing.workingDayTimers;
      const dueAt = wd
        ? timerDueAt(id, entry, nominalDelayMs(t.delay), wd.calendar)
        : entry + (parseDuration(t.delay) ?? 0);
      timers.push({ id, event: { type: id }, dueAt });
    }
  }
  return {
    plan: { ...base, ...fields, class: 'moves' },
    state: {
      value,
      context: context as MachineContext,
      done: false,
      seq: state.seq ?? 0,
      enteredAt,
      timers,
    },
  };
}
