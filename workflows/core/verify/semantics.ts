/**
 * The XState step rules over the abstraction: configurations and their keys, final states, exit
 * and entry sets, conflict removal, the microstep; the selection of transitions (`judge`,
 * `choose`), branching on what cannot be decided; and the moves from a configuration: events (per
 * role set, data valuation and person), timers.
 */
import type { Json, JsonSchema } from '../ir.ts';
import {
  isCompound,
  isDescendant,
  isParallel,
  type Model,
  type Node,
  type TimerGroup,
  type Tx,
} from './model.ts';
import {
  type AbsCtx,
  ABSENT,
  applyAssigns,
  combinations,
  type DataValuation,
  decode,
  type Env,
  guardBranches,
  type Knowledge,
  MAX_COMBINATIONS,
  NO_DATA,
  refsOf,
  schemaDomain,
  sorted,
} from './values.ts';
import { callMoves } from './call.ts';

/** People with the same history are counted up to this number (then "this many or more"). */
const PEOPLE_CAP = 2;

// ---------------------------------------------------------------------------------------------
// Configurations and the XState step rules.

export interface Config {
  /** Active state paths ('' = root), in document order. */
  active: string[];
  ctx: AbsCtx;
  facts: readonly string[];
  /** Sorted tracked-event history ("APPROVE,SUBMIT") → number of people with it (cut at PEOPLE_CAP). */
  people: Readonly<Record<string, number>>;
  /** Timer group ids spent since their state was entered. */
  spent: string[];
  done: boolean;
  /** Memo of everything but `people` as text (configurations that differ only in people share it). */
  core?: string;
}

export function configKey(c: Config): string {
  c.core ??= JSON.stringify([c.active, c.ctx, c.facts, c.spent, c.done]);
  const people = Object.keys(c.people)
    .sort()
    .map((h) => `${h}=${c.people[h] ?? 0}`);
  return `${c.core}|${people.join(';')}`;
}

export function leaves(m: Model, c: Config): string[] {
  return c.active.filter((p) => m.nodes.get(p)?.children.length === 0);
}

export function inFinalState(n: Node, active: ReadonlySet<string>): boolean {
  if (isCompound(n)) return n.children.some((ch) => ch.ir.type === 'final' && active.has(ch.path));
  if (isParallel(n)) return n.children.every((ch) => inFinalState(ch, active));
  return n.ir.type === 'final';
}

/** XState's transition domain: the state whose descendants the transition exits and enters. */
function domainOf(m: Model, t: Tx): Node {
  const target = t.target ?? t.source;
  if (!t.reenter && (target === t.source || isDescendant(target, t.source))) return t.source;
  for (let a = target.parent; a; a = a.parent) if (isDescendant(t.source, a)) return a;
  return m.root;
}

function exitSet(m: Model, t: Tx, active: ReadonlySet<string>): Set<Node> {
  const out = new Set<Node>();
  if (!t.target) return out;
  const domain = domainOf(m, t);
  if (t.reenter && t.source === domain) out.add(domain);
  for (const p of active) {
    const n = m.nodes.get(p);
    if (n && isDescendant(n, domain)) out.add(n);
  }
  return out;
}

export function enterDescendants(n: Node, enter: Set<Node>): void {
  if (isCompound(n)) {
    const initial = n.children.find((ch) => ch.ir.key === n.ir.initial) ?? n.children[0];
    if (!initial) return;
    enter.add(initial);
    enterDescendants(initial, enter);
  } else if (isParallel(n)) enterRegions(n, enter);
}

function enterRegions(n: Node, enter: Set<Node>): void {
  for (const child of n.children) {
    if ([...enter].some((s) => isDescendant(s, child))) continue;
    enter.add(child);
    enterDescendants(child, enter);
  }
}

function entrySet(m: Model, t: Tx, enter: Set<Node>): void {
  const target = t.target;
  if (!target) return;
  const domain = domainOf(m, t);
  if (t.source !== target || t.source !== domain || t.reenter) enter.add(target);
  enterDescendants(target, enter);
  const ancestors: Node[] = [];
  for (let a = target.parent; a && a !== domain; a = a.parent) ancestors.push(a);
  if (isParallel(domain)) ancestors.push(domain);
  const reentry = !t.source.parent && t.reenter ? undefined : domain;
  for (const anc of ancestors) {
    if (!reentry || isDescendant(anc, reentry)) enter.add(anc);
    if (isParallel(anc)) enterRegions(anc, enter);
  }
}

function removeConflicting(m: Model, txs: Tx[], active: ReadonlySet<string>): Tx[] {
  let kept: Tx[] = [];
  for (const t1 of txs) {
    const e1 = exitSet(m, t1, active);
    const removed = new Set<Tx>();
    let preempted = false;
    for (const t2 of kept) {
      const e2 = exitSet(m, t2, active);
      if (![...e1].some((n) => e2.has(n))) continue;
      if (isDescendant(t1.source, t2.source)) removed.add(t2);
      else {
        preempted = true;
        break;
      }
    }
    if (!preempted) kept = [...kept.filter((t) => !removed.has(t)), t1];
  }
  return kept;
}

/**
 * The done events XState raises on entering `enter` (in entry order): a final child makes its
 * compound parent done; a parallel state is done (and so on up) once every region is.
 */
function doneEvents(enter: ReadonlySet<Node>, next: ReadonlySet<string>): Node[] {
  const out: Node[] = [];
  const completed = new Set<Node>();
  for (const n of [...enter].sort((a, b) => a.order - b.order)) {
    const parent = n.parent;
    if (n.ir.type !== 'final' || !parent) continue;
    if (isCompound(parent)) out.push(parent);
    let marker = isParallel(parent) ? parent : parent.parent;
    while (marker && isParallel(marker) && !completed.has(marker) && inFinalState(marker, next)) {
      completed.add(marker);
      out.push(marker);
      marker = marker.parent;
    }
  }
  return out;
}

/** One XState microstep over the abstraction (people are updated by the caller). */
function microstep(
  m: Model,
  c: Config,
  k: Knowledge,
  selected: Tx[],
  env: Env,
  timer?: TimerGroup,
): { next: Config; taken: Tx[]; done: Node[] } {
  const active = new Set(c.active);
  const txs = removeConflicting(m, selected, active);
  const exit = new Set<Node>();
  for (const t of txs) exitSet(m, t, active).forEach((n) => exit.add(n));
  const enter = new Set<Node>();
  for (const t of txs) entrySet(m, t, enter);
  const next = new Set([...active].filter((p) => ![...exit].some((n) => n.path === p)));
  enter.forEach((n) => next.add(n.path));
  const spent = timer ? [...c.spent, timer.id] : c.spent;
  const config: Config = {
    active: [...next].sort((a, b) => (m.nodes.get(a)?.order ?? 0) - (m.nodes.get(b)?.order ?? 0)),
    ...applyAssigns(m, txs, k, env),
    people: c.people,
    spent: sorted(
      spent.filter((id) => {
        const node = m.nodes.get(id.slice(0, id.lastIndexOf('|')));
        return node !== undefined && next.has(node.path) && !enter.has(node);
      }),
    ),
    done: inFinalState(m.root, next),
  };
  return { next: config, taken: txs, done: doneEvents(enter, next) };
}

// ---------------------------------------------------------------------------------------------
// Choosing transitions: XState's selection, branching on what the abstraction cannot decide.

interface Choice {
  selected: Tx[];
  known: Knowledge;
  /** Undecidable guards this choice assumes: `g` when assumed true, `!(g)` when assumed false. */
  assumed: string[];
}

/** Enabled, disabled, or either (with the context narrowed for each case). */
type Judgement = boolean | { ifTrue: Knowledge; ifFalse: Knowledge; guardOpen: boolean };

/** Can `t` be enabled: roles, the per-transition data schema (may fail), the guard. */
function judge(m: Model, t: Tx, k: Knowledge, env: Env): Judgement {
  if (t.roles && env.roles && !t.roles.some((r) => env.roles?.includes(r))) return false;
  const g = guardBranches(m, t.ir.guard, k, env);
  if (!g.t) return false;
  const ifFalse = 'data' in t.ir && t.ir.data ? k : g.f;
  if (!ifFalse) return true;
  return { ifTrue: g.t, ifFalse, guardOpen: g.f !== null };
}

/**
 * Every way XState's selection (`transitionNode`) can go for one event: depth first, each
 * parallel region on its own, a node's own transitions only when its descendants take none.
 */
function choose(m: Model, c: Config, candidates: (n: Node) => Tx[], env: Env): Choice[] {
  const active = new Set(c.active);
  const out: Choice[] = [];
  const walk = (fixed: Map<Tx, boolean>, known: Knowledge, assumed: string[]): void => {
    let pending: { t: Tx; j: Exclude<Judgement, boolean> } | undefined;
    const own = (n: Node): Tx[] | undefined => {
      for (const t of candidates(n)) {
        const j = fixed.get(t) ?? judge(m, t, known, env);
        if (typeof j !== 'boolean') {
          pending = { t, j };
          return undefined;
        }
        if (j) return [t];
      }
      return [];
    };
    const select = (n: Node): Tx[] | undefined => {
      if (isParallel(n)) {
        const all: Tx[] = [];
        for (const child of n.children) {
          const r = select(child);
          if (!r) return undefined;
          all.push(...r);
        }
        return all.length ? all : own(n);
      }
      const child = n.children.find((ch) => active.has(ch.path));
      const r = child ? select(child) : [];
      if (!r) return undefined;
      return r.length ? r : own(n);
    };
    const selected = select(m.root);
    if (selected) {
      const unique = [...new Set(selected)];
      out.push({ selected: unique, known, assumed });
      return;
    }
    if (!pending) return;
    const { t, j } = pending;
    const guard = j.guardOpen ? t.ir.guard : undefined;
    walk(new Map(fixed).set(t, true), j.ifTrue, guard ? [...assumed, guard] : assumed);
    walk(new Map(fixed).set(t, false), j.ifFalse, guard ? [...assumed, `!(${guard})`] : assumed);
  };
  walk(new Map(), { ctx: c.ctx, facts: c.facts }, []);
  return out;
}

/** Role sets that enable different subsets of `txs` (single roles first). */
function roleSets(txs: Tx[]): string[][] {
  const sig = (roles: string[]): string =>
    txs.map((t) => (t.roles?.some((r) => roles.includes(r)) ? '1' : '0')).join('');
  const found = new Map<string, string[]>();
  const roles = [...new Set(txs.flatMap((t) => t.roles ?? []))];
  for (const r of roles) {
    for (const [, rs] of [...found]) {
      const union = [...rs, r];
      if (!found.has(sig(union))) found.set(sig(union), union);
    }
    if (!found.has(sig([r]))) found.set(sig([r]), [r]);
  }
  return [...found.values()].sort((a, b) => a.length - b.length);
}

/** Data valuations worth telling apart: the finite domains of the data fields the transitions read. */
function dataValuations(m: Model, event: string, txs: Tx[]): DataValuation[] {
  const schema = m.ir.events[event]?.data;
  if (!schema) return [NO_DATA];
  const fields = new Set<string>();
  for (const t of txs)
    for (const expr of [
      t.ir.guard ?? '',
      ...t.ir.actions.flatMap((a) => (a.kind === 'assign' ? Object.values(a.fields) : [])),
    ]) {
      if (!expr) continue;
      // A malformed expression (no references) is reported by the checker; here it reads nothing known.
      for (const path of refsOf(expr) ?? []) {
        const [root, field] = path.split('.');
        if (root === 'data' && field !== undefined) fields.add(field);
      }
    }
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  const names = [...fields].sort();
  const domains = names.map((f) => {
    const p = props[f];
    if (!p) return schema.additionalProperties === false ? [ABSENT] : null;
    const d = schemaDomain(p);
    return d && !required.includes(f) ? [...d, ABSENT] : d;
  });
  const known = names.filter((_, i) => domains[i] !== null);
  const knownDomains = domains.filter((d): d is string[] => d !== null);
  const unknown = Object.fromEntries(names.filter((_, i) => domains[i] === null).map((f) => [f, null]));
  if (knownDomains.reduce((n, d) => n * d.length, 1) > MAX_COMBINATIONS)
    return [{ complete: false, values: Object.fromEntries(names.map((f) => [f, null])) }];
  return [...combinations(known, knownDomains)].map((combo) => ({
    complete: false,
    values: { ...unknown, ...combo },
  }));
}

// ---------------------------------------------------------------------------------------------
// Moves: every step the abstraction can take from a configuration.

/** How the sender of a tracked event is chosen: someone new, or someone with this history. */
type PersonChoice = { fresh: true } | { history: string };

export interface Move {
  event: string;
  roles?: string[];
  guard?: string;
  data?: Record<string, Json>;
  person?: PersonChoice;
  pointers: string[];
  next: Config;
}

export function people(m: Model, c: Config, event: string): [PersonChoice | undefined, Config['people']][] {
  if (!m.tracked.has(event)) return [[undefined, c.people]];
  const out: [PersonChoice | undefined, Config['people']][] = [
    [{ fresh: true }, bump(c.people, undefined, event)],
  ];
  for (const history of Object.keys(c.people).sort()) {
    const sent = history.split(',');
    if (m.ir.duties.some((d) => d.event === event && d.distinctFrom.some((e) => sent.includes(e)))) continue;
    out.push([{ history }, bump(c.people, history, event)]);
  }
  return out;
}

function bump(people: Config['people'], history: string | undefined, event: string): Config['people'] {
  const before = history ? history.split(',') : [];
  if (before.includes(event)) return people;
  const out: Record<string, number> = { ...people };
  if (history) {
    const n = out[history] ?? 0;
    // With "PEOPLE_CAP or more" we cannot tell whether anyone is left: assume someone is.
    if (n < PEOPLE_CAP) {
      if (n <= 1) delete out[history];
      else out[history] = n - 1;
    }
  }
  const after = sorted([...before, event]).join(',');
  out[after] = Math.min(PEOPLE_CAP, (out[after] ?? 0) + 1);
  return out;
}

function candidatesFor(m: Model, c: Config, event: string): (n: Node) => Tx[] {
  const active = new Set(c.active);
  return (n) => (active.has(n.path) ? (m.on.get(n)?.get(event) ?? []) : []);
}

export function eventMoves(m: Model, c: Config, event: string, onlyRoles?: string[]): Move[] {
  const candidates = candidatesFor(m, c, event);
  const all = c.active.flatMap((p) => {
    const n = m.nodes.get(p);
    return n ? candidates(n) : [];
  });
  const out: Move[] = [];
  const seen = new Set<string>();
  for (const roles of onlyRoles ? [onlyRoles] : roleSets(all))
    for (const data of dataValuations(m, event, all))
      for (const ch of choose(m, c, candidates, { roles, data, system: false })) {
        if (!ch.selected.length) continue;
        const step = microstep(m, c, ch.known, ch.selected, { roles, data, system: false });
        for (const settled of settle(m, step.next, step.done)) {
          const { next } = settled;
          const pointers = [...step.taken, ...settled.taken].map((t) => t.ir.pointer);
          const key = `${pointers.join(' ')}|${configKey(next)}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const assumed = [...ch.assumed, ...settled.assumed];
          for (const [person, ppl] of people(m, c, event)) {
            const move: Move = { event, roles, pointers, next: { ...next, people: ppl } };
            if (assumed.length) move.guard = assumed.join(' && ');
            const shown = Object.entries(data.values).filter(([, v]) => v !== null && v !== ABSENT);
            if (shown.length) move.data = Object.fromEntries(shown.map(([f, v]) => [f, decode(v ?? 'null')]));
            if (person) move.person = person;
            out.push(move);
          }
        }
      }
  return out;
}

function timerMoves(m: Model, c: Config): Move[] {
  const out: Move[] = [];
  const env: Env = { roles: undefined, data: NO_DATA, system: true };
  for (const p of c.active) {
    const node = m.nodes.get(p);
    for (const g of node?.timers ?? []) {
      if (c.spent.includes(g.id)) continue;
      if (node?.timers.some((o) => o.ms < g.ms && !c.spent.includes(o.id))) continue;
      const candidates = (n: Node): Tx[] => (n === node ? g.transitions : []);
      for (const ch of choose(m, c, candidates, env)) {
        const step = microstep(m, c, ch.known, ch.selected, env, g);
        for (const settled of settle(m, step.next, step.done)) {
          const pointers = [...step.taken, ...settled.taken].map((t) => t.ir.pointer);
          const move: Move = { event: `after ${g.delay}`, pointers, next: settled.next };
          const assumed = [...ch.assumed, ...settled.assumed];
          if (assumed.length) move.guard = assumed.join(' && ');
          out.push(move);
        }
      }
    }
  }
  return out;
}

function eventsOffered(m: Model, c: Config): string[] {
  const out = new Set<string>();
  for (const p of c.active) {
    const n = m.nodes.get(p);
    if (n) for (const e of Object.keys(n.ir.on)) out.add(e);
  }
  return [...out];
}

/** The event label of the moves that settle the start configuration (its `always` transitions). */
export const EVENTLESS_EVENT = '(eventless)';

export function moves(m: Model, c: Config): Move[] {
  if (c.done) return [];
  // Every configuration a move reaches is settled; the start may not be (an `always` at the top).
  const settling = m.hasAlways ? settleMoves(m, c) : undefined;
  if (settling) return settling;
  return [
    ...eventsOffered(m, c).flatMap((e) => eventMoves(m, c, e)),
    ...timerMoves(m, c),
    ...callMoves(m, c, { microstep, settle }),
  ];
}

// ---------------------------------------------------------------------------------------------
// Settling: the eventless rest of XState's macrostep (`always`, then the done events' `on_done`).

/** Most eventless microsteps explored in one macrostep before it counts as a loop. */
const MAX_SETTLE_STEPS = 64;
const EVENTLESS_ENV: Env = { roles: undefined, data: NO_DATA, system: true };

interface Settled {
  next: Config;
  taken: Tx[];
  assumed: string[];
}

/** `c` with the knowledge a choice narrowed it to. */
function narrowed(c: Config, k: Knowledge): Config {
  if (k.ctx === c.ctx && k.facts === c.facts) return c;
  const { core: _memo, ...rest } = c;
  return { ...rest, ctx: k.ctx, facts: k.facts };
}

/**
 * XState's `selectEventlessTransitions` over the abstraction: for each active leaf, the first
 * enabled `always` transition of the leaf or its nearest ancestor; branching on undecided guards.
 */
function chooseEventless(m: Model, c: Config): Choice[] {
  const leafNodes = c.active
    .map((p) => m.nodes.get(p))
    .filter((n): n is Node => n !== undefined && n.children.length === 0);
  const out: Choice[] = [];
  const walk = (fixed: Map<Tx, boolean>, known: Knowledge, assumed: string[]): void => {
    const selected = new Set<Tx>();
    for (const leaf of leafNodes)
      chain: for (let n: Node | undefined = leaf; n; n = n.parent)
        for (const t of n.always) {
          const j = fixed.get(t) ?? judge(m, t, known, EVENTLESS_ENV);
          if (typeof j !== 'boolean') {
            const guard = j.guardOpen ? t.ir.guard : undefined;
            walk(new Map(fixed).set(t, true), j.ifTrue, guard ? [...assumed, guard] : assumed);
            walk(new Map(fixed).set(t, false), j.ifFalse, guard ? [...assumed, `!(${guard})`] : assumed);
            return;
          }
          if (j) {
            selected.add(t);
            break chain;
          }
        }
    out.push({ selected: [...selected], known, assumed });
  };
  walk(new Map(), { ctx: c.ctx, facts: c.facts }, []);
  return out;
}

interface Settling extends Settled {
  queue: Node[];
  /** Keys of the configurations (with their queues) passed in this macrostep, and the steps between. */
  trail: string[];
  steps: Tx[][];
}

/**
 * Every way the rest of a macrostep can go after a microstep that reached `start` and raised the
 * done events `queue`: enabled `always` transitions first, else the next done event (its state's
 * `on_done`), until neither is left or the machine is done. A configuration that comes back (or
 * more than `MAX_SETTLE_STEPS` microsteps) is an eventless loop: recorded in `m.loops`, not followed.
 */
function settle(m: Model, start: Config, queue: Node[]): Settled[] {
  if (!m.hasAlways && !queue.some((n) => n.onDone.length)) return [{ next: start, taken: [], assumed: [] }];
  const out: Settled[] = [];
  const keyOf = (c: Config, q: Node[]): string => `${configKey(c)}|${q.map((n) => n.path).join(',')}`;
  const stack: Settling[] = [
    { next: start, queue, taken: [], assumed: [], trail: [keyOf(start, queue)], steps: [] },
  ];
  const take = (s: Settling, c: Config, k: Knowledge, selected: Tx[], rest: Node[], assumed: string[]) => {
    const r = microstep(m, c, k, selected, EVENTLESS_ENV);
    const q = [...rest, ...r.done];
    const key = keyOf(r.next, q);
    const steps = [...s.steps, r.taken];
    const back = s.trail.indexOf(key);
    if (back >= 0 || steps.length > MAX_SETTLE_STEPS) {
      recordLoop(m, steps.slice(Math.max(back, 0)), r.next);
      return;
    }
    const taken = [...s.taken, ...r.taken];
    stack.push({ next: r.next, queue: q, taken, assumed, trail: [...s.trail, key], steps });
  };
  for (let s = stack.pop(); s; s = stack.pop()) {
    if (s.next.done) {
      out.push({ next: s.next, taken: s.taken, assumed: s.assumed });
      continue;
    }
    const eventless: Choice[] = m.hasAlways
      ? chooseEventless(m, s.next)
      : [{ selected: [], known: { ctx: s.next.ctx, facts: s.next.facts }, assumed: [] }];
    for (const ch of eventless) {
      const assumed = [...s.assumed, ...ch.assumed];
      if (ch.selected.length) {
        take(s, s.next, ch.known, ch.selected, s.queue, assumed);
        continue;
      }
      const c = narrowed(s.next, ch.known);
      const [node, ...rest] = s.queue;
      if (!node) {
        out.push({ next: c, taken: s.taken, assumed });
        continue;
      }
      const done = c.active.includes(node.path) && node.onDone.length > 0;
      const choices = done ? choose(m, c, (n) => (n === node ? node.onDone : []), EVENTLESS_ENV) : [];
      if (!choices.length) stack.push({ ...s, next: c, queue: rest, assumed });
      for (const d of choices) {
        const all = [...assumed, ...d.assumed];
        if (d.selected.length) take(s, c, d.known, d.selected, rest, all);
        else stack.push({ ...s, next: narrowed(c, d.known), queue: rest, assumed: all });
      }
    }
  }
  return out;
}

function recordLoop(m: Model, steps: Tx[][], at: Config): void {
  const cycle = steps.flat().map((t) => t.ir.pointer);
  // The same cycle found from another point reads the same: it starts at its first pointer.
  const first = cycle.indexOf([...cycle].sort()[0] ?? '');
  const pointers = [...cycle.slice(first), ...cycle.slice(0, first)];
  const key = pointers.join(' ');
  if (!m.loops.has(key)) m.loops.set(key, { pointers, states: leaves(m, at) });
}

/** Moves that settle an unsettled configuration (only the start can be one); none when it is settled. */
function settleMoves(m: Model, c: Config): Move[] | undefined {
  const results = settle(m, c, []);
  // Every way loops: it never settles (the loop is reported), so nothing else happens.
  if (!results.length) return [];
  if (results.every((r) => !r.taken.length)) return undefined;
  return results.map((r) => {
    const move: Move = { event: EVENTLESS_EVENT, pointers: r.taken.map((t) => t.ir.pointer), next: r.next };
    if (r.assumed.length) move.guard = r.assumed.join(' && ');
    return move;
  });
}
