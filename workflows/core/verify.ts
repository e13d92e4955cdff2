/**
 * Verifier: proves a procedure's invariants on every path, by breadth-first exploration of an
 * abstraction of its statechart. Pure (no I/O, no Node API): it runs in Node, in the Temporal
 * sandbox and in the browser, where the editor verifies as you type.
 *
 * A configuration of the abstraction is
 * - the active state nodes, moved by the rules XState v5 applies to our IR: the deepest enabled
 *   transition wins, each parallel region chooses for itself, conflicting transitions are
 *   pre-empted by the deeper source, a target is entered with its ancestors and initial
 *   descendants, the machine is done when its root is in a final state;
 * - an abstract context: each field a small set of possible values, or unknown. Constants,
 *   `enum`/`const`/boolean fields and data fields, and expressions over known values are
 *   evaluated with the real CEL evaluator; everything else (free text, numbers from the start
 *   input, `actor`, `now`) is unknown. A guard is decided when its value is the same for every
 *   combination of possible values; otherwise both branches are explored, each narrowing the
 *   fields the guard read. A guard over `ctx` alone that stays undecided is remembered as a fact
 *   (true on one branch, not true on the other) until a field it reads is assigned, so a later
 *   guard or `never_when` condition it decides is decided (`a == b` true makes `a != b` false;
 *   conjunctions and disjunctions are split, with CEL's error semantics);
 * - the people who sent the events that separation of duties or `distinct_actors` care about,
 *   symbolically: how many people have sent exactly which of those events (counts cut at 2);
 * - the timers already spent in the active states (a state's timer fires at most once per entry,
 *   and a shorter timer of the same state fires before a longer one; otherwise timers may fire
 *   in any order relative to events and to other states' timers).
 *
 * Eventless transitions are part of each step, as in XState's macrostep: after the microstep of an
 * event or timer, enabled `always` transitions are taken, then each done event raised on entering
 * final states (a compound state's final child; every region of a parallel state) takes its
 * state's `on_done`, until the configuration settles — so invariants are checked on settled
 * configurations only. A settling that comes back to a configuration it passed is an eventless
 * loop (`loops`): an instance there would never settle; it fails the proof.
 *
 * Breadth-first search makes every counterexample a shortest path. The search is finite (the
 * abstraction is finite; a field that takes too many values is widened to unknown) and capped by
 * `maxConfigurations` / `maxDepth`; when a cap cuts it short the result says so (`exhaustive`).
 *
 * Guards that read something unknown (the actor, free data) are evaluated three-valued: the parts
 * the known fields decide still narrow the context (`values.ts`, `evaluatePartial`).
 *
 * Beyond the graph: `ends_in` also reports a deadlock with data — a configuration where, for some
 * values the context schema allows, every way out is guarded false and no timer is pending
 * (`liveness.ts`); `actor_is` proves identity guards with a symbolic sender; `deadline` proves a
 * timer acts while a state waits; and invariants that hold vacuously are returned as warnings
 * (`vacuity.ts`).
 *
 * This file holds the public API and the invariant checks; the parts live in `./verify/`: the
 * shared types (`types.ts`), the model (`model.ts`), abstract values and knowledge (`values.ts`),
 * the XState step rules and moves (`semantics.ts`), the breadth-first search (`search.ts`),
 * deadlocks with data (`liveness.ts`) and vacuity (`vacuity.ts`).
 */
import type { Diagnostic } from './diagnostics.ts';
import { expressionReferences } from './expressions.ts';
import type { PositionIndex } from './positions.ts';
import type { InvariantIR, Json, ProcedureIR } from './ir.ts';
import { buildModel, type Model, type Tx } from './verify/model.ts';
import {
  ABSENT,
  evaluateAbstract,
  evaluatePartial,
  guardBranches,
  lookup,
  NO_DATA,
  predicate,
  refsOf,
  UNKNOWN,
  valuesOf,
} from './verify/values.ts';
import { parseDelay } from './duration.ts';
import { type Config, eventMoves, leaves } from './verify/semantics.ts';
import { type Edge, explore, type Graph, shortestPath, toSteps } from './verify/search.ts';
import { findDataDeadlock } from './verify/liveness.ts';
import { vacuityWarnings } from './verify/vacuity.ts';
import type { InvariantResult, PathStep, VerifyOptions, VerifyResult } from './verify/types.ts';

export type {
  EventlessLoopResult,
  InvariantResult,
  PathStep,
  VerifyOptions,
  VerifyResult,
  Warning,
} from './verify/types.ts';
import { escalatesWithin } from './sla.ts';

// ---------------------------------------------------------------------------------------------
// Invariants.

interface Check {
  counterexample?: PathStep[];
  values?: Record<string, Json>;
  note?: string;
  /** Holds whatever the search found (a static check). */
  proved?: boolean;
}

function activeIn(g: Graph, i: number, path: string): boolean {
  return (g.configs[i] as Config).active.includes(path);
}

function checkInvariant(m: Model, g: Graph, inv: InvariantIR): Check {
  const unknown = statesOf(inv).find((s) => !m.nodes.has(s));
  if (unknown !== undefined) return { note: `unknown state "${unknown}"` };
  const found = (path: Edge[] | undefined, note?: string): Check =>
    path ? { counterexample: toSteps(m, g, path), ...(note ? { note } : {}) } : {};
  switch (inv.kind) {
    case 'unreachable':
      return found(
        shortestPath(g, (i) => activeIn(g, i, inv.state)),
        `${inv.state} is entered`,
      );
    case 'must_pass':
      return found(
        shortestPath(
          g,
          (i) => activeIn(g, i, inv.to),
          (i) => !inv.via.some((v) => activeIn(g, i, v)),
        ),
        `${inv.to} is entered without passing ${inv.via.join(' or ')}`,
      );
    case 'never_when':
      return checkNeverWhen(m, g, inv);
    case 'distinct_actors':
      return checkDistinctActors(m, g, inv);
    case 'roles_only':
      return checkRolesOnly(m, g, inv);
    case 'ends_in':
      return checkEndsIn(m, g, inv);
    case 'actor_is':
      return checkActorIs(m, g, inv);
    case 'deadline':
      return checkDeadline(m, g, inv);
  }
}

function statesOf(inv: InvariantIR): string[] {
  switch (inv.kind) {
    case 'must_pass':
      return [inv.to, ...inv.via];
    case 'unreachable':
    case 'never_when':
    case 'deadline':
      return [inv.state];
    case 'ends_in':
      return inv.states;
    default:
      return [];
  }
}

function whenPossible(c: Config, when: string): boolean {
  const ast = predicate(when);
  if (ast && lookup(ast, new Set(c.facts)) === false) return false;
  const env = { roles: undefined, data: { complete: false, values: {} }, system: false };
  const ev = evaluateAbstract(when, c.ctx, env) ?? evaluatePartial(when, c.ctx, env);
  return !ev || ev.some((e) => e.value === true || e.value === UNKNOWN);
}

function checkNeverWhen(m: Model, g: Graph, inv: Extract<InvariantIR, { kind: 'never_when' }>): Check {
  const bad = (i: number): boolean =>
    activeIn(g, i, inv.state) && whenPossible(g.configs[i] as Config, inv.when);
  const path = shortestPath(g, bad);
  if (!path) return {};
  const ctx = (g.configs[path.length ? (path[path.length - 1] as Edge).to : 0] as Config).ctx;
  let fields: string[] = [];
  try {
    const paths = expressionReferences(inv.when).map((r) => r.path.split('.'));
    fields = [...new Set(paths.filter((p) => p[0] === 'ctx' && p[1]).map((p) => p[1] ?? ''))];
  } catch {
    fields = [];
  }
  const describe = (f: string): string => {
    const v = valuesOf(ctx, f);
    if (v === null) return `ctx.${f} is unknown here`;
    return `ctx.${f} may be ${v.map((x) => (x === ABSENT ? 'absent' : x)).join(' or ')}`;
  };
  const note = `in ${inv.state}, ${inv.when} can be true: ${fields.map(describe).join('; ') || 'it reads values the verifier cannot know'}`;
  return { counterexample: toSteps(m, g, path), note };
}

function checkDistinctActors(
  m: Model,
  g: Graph,
  inv: Extract<InvariantIR, { kind: 'distinct_actors' }>,
): Check {
  const path = shortestPath(g, (i) => sharedPerson(g, i, inv.events));
  if (!path) return {};
  const steps = toSteps(m, g, path);
  const sent = new Map<string, Set<string>>();
  for (const s of steps)
    if (s.actor && inv.events.includes(s.event))
      sent.set(s.actor, (sent.get(s.actor) ?? new Set()).add(s.event));
  const [who, events] = [...sent].find(([, e]) => e.size >= 2) ?? ['one person', new Set(inv.events)];
  return { counterexample: steps, note: `${who} sends ${[...events].join(' and ')}` };
}

function sharedPerson(g: Graph, i: number, events: string[]): boolean {
  return Object.keys((g.configs[i] as Config).people).some(
    (h) => h.split(',').filter((e) => events.includes(e)).length >= 2,
  );
}

function checkRolesOnly(m: Model, g: Graph, inv: Extract<InvariantIR, { kind: 'roles_only' }>): Check {
  const bad: { t: Tx; role: string }[] = [];
  for (const node of m.nodes.values())
    for (const t of m.on.get(node)?.get(inv.event) ?? []) {
      const role = t.roles?.find((r) => !inv.roles.includes(r));
      if (role !== undefined) bad.push({ t, role });
    }
  if (!bad.length) return { proved: true };
  for (let i = 0; i < g.configs.length; i++) {
    const c = g.configs[i] as Config;
    for (const { t, role } of bad) {
      if (!c.active.includes(t.source.path) || c.done) continue;
      const move = eventMoves(m, c, inv.event, [role]).find((mv) => mv.pointers.includes(t.ir.pointer));
      if (!move) continue;
      const path = shortestPath(g, (k) => k === i) ?? [];
      const note = `${role} may send ${inv.event} in ${t.source.path || '(every state)'} (${t.ir.pointer})`;
      return { counterexample: toSteps(m, g, path, move), note };
    }
  }
  const first = bad[0] as { t: Tx; role: string };
  const where = first.t.source.path || '(every state)';
  const note = `${first.role} may send ${inv.event} in ${where} (${first.t.ir.pointer}), a state no explored path reaches`;
  return { proved: false, note };
}

function checkEndsIn(m: Model, g: Graph, inv: Extract<InvariantIR, { kind: 'ends_in' }>): Check {
  const n = g.configs.length;
  const reverse: number[][] = Array.from({ length: n }, () => []);
  g.edges.forEach((out, i) => out.forEach((e) => reverse[e.to]?.push(i)));
  // Configurations from which an end is reachable (a cut one may lead anywhere).
  const canEnd = new Set<number>();
  const queue: number[] = [];
  for (let i = 0; i < n; i++)
    if ((g.configs[i] as Config).done || g.cut.has(i)) {
      canEnd.add(i);
      queue.push(i);
    }
  for (let k = 0; k < queue.length; k++)
    for (const p of reverse[queue[k] as number] ?? [])
      if (!canEnd.has(p)) {
        canEnd.add(p);
        queue.push(p);
      }
  const badEnd = (i: number): boolean =>
    (g.configs[i] as Config).done && !inv.states.some((s) => activeIn(g, i, s));
  const stuck = (i: number): boolean => !canEnd.has(i) && (g.edges[i] ?? []).every((e) => e.to === i);
  // A wrong end or a deadlock is the clearest report; else any place from which no end is reachable.
  const path = shortestPath(g, (i) => badEnd(i) || stuck(i)) ?? shortestPath(g, (i) => !canEnd.has(i));
  if (!path) return dataDeadlock(m, g);
  const last = path.length ? (path[path.length - 1] as Edge).to : 0;
  const where = leaves(m, g.configs[last] as Config).join(', ');
  const note = badEnd(last)
    ? `ends in ${where}, not in ${inv.states.join(' or ')}`
    : stuck(last)
      ? `deadlock: nothing can happen in ${where} and the procedure has not ended`
      : `from ${where} no path leads to an end`;
  return { counterexample: toSteps(m, g, path), note };
}

/**
 * `actor_is`: wherever `event` is taken, its guard is evaluated with a symbolic sender `A` and the
 * named value set to someone else (`equals`) or to `A` itself (`differs_from`); the guard must then
 * be false whatever the unknown rest is. A missing or weaker guard is a counterexample: the path to
 * where the event is taken, and the step.
 */
function checkActorIs(m: Model, g: Graph, inv: Extract<InvariantIR, { kind: 'actor_is' }>): Check {
  const named = inv.equals ?? inv.differsFrom ?? '';
  const [root, field] = named.split('.');
  const other = inv.equals !== undefined ? 'Y' : 'X';
  const txs = [...m.nodes.values()].flatMap((n) => m.on.get(n)?.get(inv.event) ?? []);
  const seen = new Map<string, boolean>();
  /** Can `t` be taken in `c` by X with the named value set to `other`? (memoised per known values) */
  const can = (t: Tx, c: Config): boolean => {
    const guard = t.ir.guard;
    if (!guard) return true;
    const reads = refsOf(guard) ?? [];
    const key = `${t.ir.pointer}|${JSON.stringify(reads.map((r) => (r.startsWith('ctx.') ? valuesOf(c.ctx, r.split('.')[1] ?? '') : r)))}`;
    let out = seen.get(key);
    if (out === undefined) {
      const values: Record<string, string | null> = {};
      const ctx = { ...c.ctx };
      if (root === 'ctx' && field) ctx[field] = [JSON.stringify(other)];
      else if (field) values[field] = JSON.stringify(other);
      const env = { roles: t.roles, data: { complete: false, values }, system: false, actorId: 'X' };
      const ev = evaluatePartial(guard, ctx, env, true);
      out = !ev || ev.some((e) => e.value === true || e.value === UNKNOWN);
      seen.set(key, out);
    }
    return out;
  };
  for (let i = 0; i < g.configs.length; i++) {
    const c = g.configs[i] as Config;
    if (c.done) continue;
    const t = txs.find((x) => c.active.includes(x.source.path) && can(x, c));
    if (!t) continue;
    // A step that takes it, for the counterexample (the abstraction may not take it: then none).
    const move = eventMoves(m, c, inv.event).find((mv) => mv.pointers.includes(t.ir.pointer));
    const path = shortestPath(g, (k) => k === i) ?? [];
    const steps = toSteps(m, g, path, move);
    const guard = t.ir.guard;
    const who =
      inv.equals !== undefined
        ? `someone other than ${named} (X sends it; ${named} is Y)`
        : `the person ${named} names (X)`;
    const why = guard ? `its guard ${guard} does not exclude it` : 'it has no guard';
    const note = `${inv.event} can be sent by ${who} in ${t.source.path || '(every state)'} (${t.ir.pointer}): ${why}`;
    // The last step, concretely: sender X; the named value X (differs_from) or Y (equals).
    const result: Check = { counterexample: steps, note };
    if (move) {
      const last = steps[steps.length - 1] as PathStep;
      last.actor = 'X';
      if (root === 'data' && field) last.data = { ...(last.data ?? {}), [field]: other };
    }
    if (root === 'ctx' && field) result.values = { [field]: other };
    return result;
  }
  return {};
}

/**
 * `deadline`: wherever `state` is active, a timer of it or of an active ancestor, no longer than
 * `within`, surely acts: a transition of the timer whose guard is true for every value the
 * configuration allows (a timer spent since entry has acted, when it surely does) — or an `sla`
 * escalation of it or of an active ancestor within `within` (`sla.ts`), which always acts.
 */
function checkDeadline(m: Model, g: Graph, inv: Extract<InvariantIR, { kind: 'deadline' }>): Check {
  const within = parseDelay(inv.within);
  if (within === undefined) return { note: `"${inv.within}" is not a duration` };
  // Working days last at least that many days: a calendar-time timer that short surely acts within.
  const limit = 'ms' in within ? within.ms : within.workingDays * 86_400_000;
  const env = { roles: undefined, data: NO_DATA, system: true };
  const bad = (i: number): boolean => {
    const c = g.configs[i] as Config;
    if (c.done || !c.active.includes(inv.state)) return false;
    const k = { ctx: c.ctx, facts: c.facts };
    for (let n = m.nodes.get(inv.state); n; n = n.parent) {
      if (!c.active.includes(n.path)) continue;
      if (escalatesWithin(n.ir, within)) return false;
      for (const group of n.timers)
        if (
          group.ms <= limit &&
          group.transitions.some((t) => guardBranches(m, t.ir.guard, k, env).f === null)
        )
          return false;
    }
    return true;
  };
  const path = shortestPath(g, bad);
  if (!path) return {};
  const last = path.length ? (path[path.length - 1] as Edge).to : 0;
  const where = leaves(m, g.configs[last] as Config).join(', ');
  const note = `in ${where}, no timer of ${inv.state} or its parents surely acts within ${inv.within}`;
  return { counterexample: toSteps(m, g, path), note };
}

/** A configuration stuck for some context values (see `verify/liveness.ts`), as a counterexample. */
function dataDeadlock(m: Model, g: Graph): Check {
  const found = findDataDeadlock(m, g);
  if (!found) return {};
  const path = shortestPath(g, (i) => i === found.config) ?? [];
  const where = leaves(m, g.configs[found.config] as Config).join(', ');
  const values = Object.entries(found.values)
    .map(([f, v]) => `ctx.${f} = ${JSON.stringify(v)}`)
    .join(', ');
  const needs = found.needs.length ? `: ${found.needs.join('; ')}` : '';
  const note = `deadlock with data: in ${where}, with ${values || 'these values'} (allowed by the context schema) no event or timer is enabled${needs}`;
  return { counterexample: toSteps(m, g, path), note, values: found.values };
}

/**
 * Prove every invariant of `ir` on all paths. Pure and deterministic; see the module comment for
 * what the abstraction decides and what it treats as unknown.
 */
export function verifyProcedure(ir: ProcedureIR, opts: VerifyOptions = {}): VerifyResult {
  const m = buildModel(ir);
  const g = explore(m, opts);
  const explored = g.configs.length;
  const invariants = ir.invariants.map((inv): InvariantResult => {
    const check = checkInvariant(m, g, inv);
    const holds = !check.counterexample && (check.proved ?? (g.exhaustive && check.note === undefined));
    const result: InvariantResult = { id: inv.id, kind: inv.kind, holds, explored };
    if (check.counterexample) result.counterexample = check.counterexample;
    if (check.values) result.values = check.values;
    const undecided =
      !holds && !check.counterexample && check.proved === undefined && check.note === undefined
        ? `undecided: the search stopped after ${explored} configurations without finding a violation (raise maxConfigurations or maxDepth)`
        : undefined;
    const note = check.note ?? undecided;
    if (note) result.note = note;
    return result;
  });
  const warnings = vacuityWarnings(m, g, ir.invariants, invariants);
  const loops = [...m.loops.values()].map((l) => ({ pointers: l.pointers, states: l.states }));
  return { invariants, loops, warnings, exhaustive: g.exhaustive, explored };
}

/** A counterexample, one step per line: `  1. SUBMIT by A1 (project_staff) → submitted`. */
export function formatCounterexample(steps: readonly PathStep[]): string {
  return steps
    .map((s, i) => {
      const who = s.actor ? ` by ${s.actor}` : '';
      const roles = s.roles?.length ? ` (${s.roles.join(', ')})` : '';
      const data = s.data ? ` ${JSON.stringify(s.data)}` : '';
      const guard = s.guard ? ` [assuming ${s.guard}]` : '';
      return `  ${i}. ${s.event}${who}${roles}${data}${guard} → ${s.to.join(', ') || '(nothing)'}`;
    })
    .join('\n');
}

/**
 * The eventless loops of a proof as positioned diagnostics (`PROC_EVENTLESS_LOOP`), each at the
 * first transition of its cycle, the cycle in the message.
 */
export function eventlessLoopDiagnostics(
  result: VerifyResult,
  file: string,
  positions?: PositionIndex,
): Diagnostic[] {
  return result.loops.map((loop) => {
    const pointer = loop.pointers[0] ?? '';
    const at = positions?.key(pointer) ?? { line: 1, column: 1 };
    return {
      code: 'PROC_EVENTLESS_LOOP',
      severity: 'error',
      message: `eventless transitions can follow one another without end in ${loop.states.join(', ') || 'the procedure'}: ${loop.pointers.join(' → ')}`,
      file,
      line: at.line,
      column: at.column,
      pointer,
      hint: 'give one transition of the cycle a guard its own actions make false, or a target outside the cycle',
    };
  });
}
