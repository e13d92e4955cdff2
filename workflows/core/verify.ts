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
 * Breadth-first search makes every counterexample a shortest path. The search is finite (the
 * abstraction is finite; a field that takes too many values is widened to unknown) and capped by
 * `maxConfigurations` / `maxDepth`; when a cap cuts it short the result says so (`exhaustive`).
 */
import { parse } from '@marcbachmann/cel-js';
import { parseDuration } from './duration.ts';
import { evaluateExpression, expressionReferences } from './expressions.ts';
import type {
  DelayedTransitionIR,
  InvariantIR,
  Json,
  JsonSchema,
  ProcedureIR,
  StateIR,
  TransitionIR,
} from './ir.ts';

/** One step of a counterexample path. */
export interface PathStep {
  /** Event type; `after P5D` for a timer; `$start` for the first step. */
  event: string;
  /** Roles of the person sending the event (a set that makes this step possible). */
  roles?: string[];
  /** Symbolic person (`A1`, `A2`, …), for events separation of duties or `distinct_actors` care about. */
  actor?: string;
  /** Guard(s) assumed true for this step (undecidable from what the verifier knows). */
  guard?: string;
  /** Event data the step depends on (values of enumerated data fields), when any. */
  data?: Record<string, Json>;
  /** Active leaf state paths after the step. */
  to: string[];
}

export interface InvariantResult {
  id: string;
  kind: InvariantIR['kind'];
  /** Proved on every path. `false` when violated, or when the search was cut short (see `note`). */
  holds: boolean;
  /** A shortest path that breaks the invariant (starts with `$start`). */
  counterexample?: PathStep[];
  /** Configurations explored. */
  explored: number;
  note?: string;
}

export interface VerifyResult {
  invariants: InvariantResult[];
  /** Every reachable configuration was explored (no cap was hit). */
  exhaustive: boolean;
  /** Configurations explored. */
  explored: number;
}

export interface VerifyOptions {
  /** Longest path explored, in events (default: unlimited). */
  maxDepth?: number;
  /** Most configurations explored (default 50,000). */
  maxConfigurations?: number;
}

const DEFAULT_MAX_CONFIGURATIONS = 50_000;
/** Largest value set kept for one field; larger sets become unknown. */
const MAX_VALUES = 16;
/** Most distinct values one field may take over the whole search before it is widened to unknown. */
const WIDEN_AFTER = 24;
/** Most value combinations enumerated to evaluate one expression. */
const MAX_COMBINATIONS = 256;
/** People with the same history are counted up to this number (then "this many or more"). */
const PEOPLE_CAP = 2;
/** Encoding of an absent field in a value set (valid JSON never starts with `~`). */
const ABSENT = '~';

// ---------------------------------------------------------------------------------------------
// The model: state nodes and transitions, indexed.

interface Node {
  ir: StateIR;
  path: string;
  parent: Node | undefined;
  children: Node[];
  order: number;
  timers: TimerGroup[];
}

interface Tx {
  ir: TransitionIR | DelayedTransitionIR;
  source: Node;
  target: Node | undefined;
  reenter: boolean;
  /** Roles that may send it; `undefined` for a timer. */
  roles: string[] | undefined;
}

/** The transitions of one state for one delay: one XState `after` event. */
interface TimerGroup {
  id: string;
  node: Node;
  delay: string;
  ms: number;
  transitions: Tx[];
}

interface Model {
  ir: ProcedureIR;
  root: Node;
  nodes: Map<string, Node>;
  on: Map<Node, Map<string, Tx[]>>;
  /** Events whose senders are tracked (duties and `distinct_actors`). */
  tracked: Set<string>;
  /** Values each field has taken so far, and the fields widened to unknown. */
  seen: Map<string, Set<string>>;
  widened: Set<string>;
  /** Context fields each remembered fact reads. */
  factFields: Map<string, string[]>;
}

function buildModel(ir: ProcedureIR): Model {
  const nodes = new Map<string, Node>();
  const add = (s: StateIR, parent: Node | undefined): Node => {
    const node: Node = { ir: s, path: s.path, parent, children: [], order: nodes.size, timers: [] };
    nodes.set(s.path, node);
    for (const child of Object.values(s.states)) node.children.push(add(child, node));
    return node;
  };
  const root = add(ir.root, undefined);
  const tx = (t: TransitionIR | DelayedTransitionIR, source: Node): Tx => {
    const target = t.target === undefined ? undefined : nodes.get(t.target);
    if (t.target !== undefined && !target)
      throw new Error(`verify: ${t.pointer} targets unknown state "${t.target}"`);
    const roles = 'roles' in t ? t.roles : undefined;
    return { ir: t, source, target, reenter: t.target === source.path, roles };
  };
  const on = new Map<Node, Map<string, Tx[]>>();
  for (const node of nodes.values()) {
    on.set(node, new Map(Object.entries(node.ir.on).map(([e, list]) => [e, list.map((t) => tx(t, node))])));
    const groups = new Map<string, TimerGroup>();
    for (const t of node.ir.after) {
      let g = groups.get(t.delay);
      if (!g) {
        g = {
          id: `${node.path}|${t.delay}`,
          node,
          delay: t.delay,
          ms: parseDuration(t.delay) ?? 0,
          transitions: [],
        };
        groups.set(t.delay, g);
      }
      g.transitions.push(tx(t, node));
    }
    node.timers = [...groups.values()];
  }
  const tracked = new Set<string>();
  for (const d of ir.duties) for (const e of [d.event, ...d.distinctFrom]) tracked.add(e);
  for (const inv of ir.invariants)
    if (inv.kind === 'distinct_actors') for (const e of inv.events) tracked.add(e);
  return { ir, root, nodes, on, tracked, seen: new Map(), widened: new Set(), factFields: new Map() };
}

/** Is `a` a proper descendant of `b`? */
function isDescendant(a: Node, b: Node): boolean {
  for (let p = a.parent; p; p = p.parent) if (p === b) return true;
  return false;
}

const isCompound = (n: Node): boolean => n.children.length > 0 && n.ir.type !== 'parallel';
const isParallel = (n: Node): boolean => n.children.length > 0 && n.ir.type === 'parallel';

// ---------------------------------------------------------------------------------------------
// Abstract values.

/** Encoded possible values of a field (sorted, distinct), or `null` when unknown. */
type Values = readonly string[] | null;
/** Abstract context; a field missing here is absent. */
type AbsCtx = Readonly<Record<string, Values>>;

function canon(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canon(v[k] as Json)}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

const decode = (enc: string): Json => JSON.parse(enc) as Json;
const valuesOf = (ctx: AbsCtx, field: string): Values => (field in ctx ? (ctx[field] ?? null) : [ABSENT]);
const sorted = (values: Iterable<string>): string[] => [...new Set(values)].sort();

/** Possible values allowed by a JSON Schema (enum, const, boolean), or `null` when open. */
function schemaDomain(schema: JsonSchema | undefined): string[] | null {
  if (!schema) return null;
  if (Array.isArray(schema.enum)) return sorted((schema.enum as Json[]).map(canon));
  if ('const' in schema) return [canon(schema.const as Json)];
  if (schema.type === 'boolean') return ['false', 'true'];
  return null;
}

/** What the event's data may hold for the fields the expressions read. */
interface DataValuation {
  /** Every data field is listed in `values` (absent when missing). */
  complete: boolean;
  /** Field → encoded value, `ABSENT`, or `null` (unknown). */
  values: Record<string, string | null>;
}

const NO_DATA: DataValuation = { complete: true, values: {} };

/** Who is acting, for the guards and assigns of one step. */
interface Env {
  roles: string[] | undefined;
  data: DataValuation;
  /** A timer: the actor is the system (`{id: 'system', roles: []}`), and there is no data. */
  system: boolean;
}

const FAILED = Symbol('failed');
type Evaluation = { combo: Record<string, string>; value: Json | typeof FAILED }[];

/** Evaluate an expression on every combination of possible values; `undefined` when it reads something unknown. */
function evaluateAbstract(expr: string, ctx: AbsCtx, env: Env): Evaluation | undefined {
  let refs: string[];
  try {
    refs = expressionReferences(expr).map((r) => r.path);
  } catch {
    return undefined;
  }
  const fields = new Set<string>();
  for (const path of refs) {
    const [root, field] = path.split('.');
    if (root === 'ctx') {
      if (field === undefined) Object.keys(ctx).forEach((f) => fields.add(f));
      else fields.add(field);
    } else if (root === 'data') {
      if (field === undefined ? !env.data.complete : dataValue(env.data, field) === null) return undefined;
    } else if ((root === 'actor' && !env.system) || root === 'now') return undefined;
  }
  const names = [...fields].sort();
  const domains = names.map((f) => valuesOf(ctx, f));
  if (domains.some((d) => d === null)) return undefined;
  if (domains.reduce((n, d) => n * (d?.length ?? 1), 1) > MAX_COMBINATIONS) return undefined;
  const data: Record<string, unknown> = {};
  for (const [f, v] of Object.entries(env.data.values)) if (v !== null && v !== ABSENT) data[f] = decode(v);
  const actor = env.system ? { id: 'system', roles: [] } : { id: '', roles: [] };
  const out: Evaluation = [];
  for (const combo of combinations(names, domains as string[][])) {
    const scopeCtx: Record<string, unknown> = {};
    for (const [f, v] of Object.entries(combo)) if (v !== ABSENT) scopeCtx[f] = decode(v);
    let value: Json | typeof FAILED;
    try {
      value = evaluateExpression(expr, { ctx: scopeCtx, data, actor, now: 0 });
    } catch {
      value = FAILED;
    }
    out.push({ combo, value });
  }
  return out;
}

function dataValue(data: DataValuation, field: string): string | null {
  const v = data.values[field];
  return v !== undefined ? v : data.complete ? ABSENT : null;
}

function* combinations(names: string[], domains: string[][]): Generator<Record<string, string>> {
  const pick = (i: number, acc: Record<string, string>): Record<string, string>[] => {
    if (i === names.length) return [acc];
    return (domains[i] ?? []).flatMap((v) => pick(i + 1, { ...acc, [names[i] ?? '']: v }));
  };
  yield* pick(0, {});
}

/** Narrow the fields a guard read to the values seen in `combos` (`null`: no such combination). */
function narrow(ctx: AbsCtx, combos: Evaluation): AbsCtx | null {
  if (!combos.length) return null;
  const out: Record<string, Values> = { ...ctx };
  for (const f of Object.keys(combos[0]?.combo ?? {}))
    out[f] = sorted(combos.map((c) => c.combo[f] ?? ABSENT));
  return sortKeys(out);
}

// ---------------------------------------------------------------------------------------------
// Facts: undecided guards over `ctx`, remembered (as canonical CEL syntax trees) until changed.

/** What is known of the context: value sets per field, and facts (sorted canonical predicates). */
interface Knowledge {
  ctx: AbsCtx;
  facts: readonly string[];
}

interface Ast {
  op?: string;
  args?: unknown;
}

const predicates = new Map<string, Ast | null>();

/** The syntax tree of an expression that reads `ctx` only (else `null`). */
function predicate(expr: string): Ast | null {
  let ast = predicates.get(expr);
  if (ast !== undefined) return ast;
  try {
    const refs = expressionReferences(expr).map((r) => r.path.split('.'));
    ast = refs.every((r) => r[0] === 'ctx' && r[1] !== undefined) ? (parse(expr).ast as Ast) : null;
  } catch {
    ast = null;
  }
  predicates.set(expr, ast);
  return ast;
}

/** Canonical text of a syntax tree: positions dropped, operands of `==` / `!=` ordered. */
function canonAst(node: unknown): string {
  if (typeof node === 'bigint') return `${node}n`;
  if (Array.isArray(node)) return `[${node.map(canonAst).join(',')}]`;
  if (!node || typeof node !== 'object') return JSON.stringify(node) ?? 'undefined';
  const { op, args } = node as Ast;
  if ((op === '==' || op === '!=') && Array.isArray(args))
    return `${op}(${args.map(canonAst).sort().join(',')})`;
  return `${op ?? ''}(${canonAst(args)})`;
}

/** `a == b` ↔ `a != b`. */
function flip(ast: Ast): Ast {
  return { ...ast, op: ast.op === '==' ? '!=' : '==' };
}

/**
 * The facts that follow from `ast` evaluating to `true` (`truth`), or to anything else (false or
 * an error: a missing field makes a guard not true without making its negation true). Keys are
 * `T:` (evaluates to true) or `F:` (does not evaluate to true) plus the canonical tree.
 */
function factsOf(ast: Ast, truth: boolean): string[] {
  const [a, b] = Array.isArray(ast.args) ? (ast.args as Ast[]) : [];
  if (a && b && ((ast.op === '&&' && truth) || (ast.op === '||' && !truth)))
    return [...factsOf(a, truth), ...factsOf(b, truth)];
  const key = canonAst(ast);
  if (!truth) return [`F:${key}`];
  const out = [`T:${key}`];
  // `!x` true: x is exactly false. `a == b` true: both sides evaluate, so `a != b` is false.
  if (ast.op === '!_') out.push(...factsOf(ast.args as Ast, false));
  if (ast.op === '==' || ast.op === '!=') out.push(`F:${canonAst(flip(ast))}`);
  return out;
}

/** Does `ast` evaluate to true (`true`), surely not to true (`false`), or is it unknown? */
function lookup(ast: Ast, facts: ReadonlySet<string>): boolean | undefined {
  const key = canonAst(ast);
  if (facts.has(`T:${key}`)) return true;
  if (facts.has(`F:${key}`)) return false;
  const [a, b] = Array.isArray(ast.args) ? (ast.args as Ast[]) : [];
  if (ast.op === '!_') return lookup(ast.args as Ast, facts) === true ? false : undefined;
  if ((ast.op === '&&' || ast.op === '||') && a && b) {
    // CEL's && and || absorb errors: false && error is false, true || error is true.
    const [x, y] = [lookup(a, facts), lookup(b, facts)];
    const absorbing = ast.op === '||';
    if (x === absorbing || y === absorbing) return absorbing;
    return x === !absorbing && y === !absorbing ? !absorbing : undefined;
  }
  return undefined;
}

function ctxFieldsOf(node: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => ctxFieldsOf(n, out));
  else if (node && typeof node === 'object') {
    const { op, args } = node as Ast;
    const [obj, key] = Array.isArray(args) ? (args as unknown[]) : [];
    const base = obj as Ast | undefined;
    if (op === '.' && base?.op === 'id' && base.args === 'ctx' && typeof key === 'string') out.add(key);
    else ctxFieldsOf(args, out);
  }
  return out;
}

function withFacts(m: Model, k: Knowledge, ast: Ast, truth: boolean): Knowledge {
  const fields = [...ctxFieldsOf(ast)];
  const added = factsOf(ast, truth);
  for (const key of added) if (!m.factFields.has(key)) m.factFields.set(key, fields);
  return { ctx: k.ctx, facts: sorted([...k.facts, ...added]) };
}

/** What is known when a guard is true / false (`null`: it cannot be). */
function guardBranches(
  m: Model,
  guard: string | undefined,
  k: Knowledge,
  env: Env,
): { t: Knowledge | null; f: Knowledge | null } {
  if (!guard) return { t: k, f: null };
  const ast = predicate(guard);
  const known = ast ? lookup(ast, new Set(k.facts)) : undefined;
  if (known !== undefined) return known ? { t: k, f: null } : { t: null, f: k };
  const ev = evaluateAbstract(guard, k.ctx, env);
  if (!ev) return ast ? { t: withFacts(m, k, ast, true), f: withFacts(m, k, ast, false) } : { t: k, f: k };
  const branch = (combos: Evaluation): Knowledge | null => {
    const ctx = narrow(k.ctx, combos);
    return ctx ? { ctx, facts: k.facts } : null;
  };
  return { t: branch(ev.filter((e) => e.value === true)), f: branch(ev.filter((e) => e.value !== true)) };
}

/** The start context: defaults, or anything the start input may give. */
function initialContext(m: Model): AbsCtx {
  const ctx: Record<string, Values> = {};
  for (const [name, field] of Object.entries(m.ir.context)) {
    const domain = schemaDomain({ type: field.type, ...(field.schema ?? {}) });
    const omitted = field.default !== undefined ? canon(field.default) : ABSENT;
    ctx[name] = domain === null ? null : field.required ? domain : sorted([...domain, omitted]);
    remember(m, name, ctx[name] ?? null);
  }
  return sortKeys(ctx);
}

/** Canonical form: keys sorted, fields that can only be absent left out. */
function sortKeys(ctx: Readonly<Record<string, Values>>): AbsCtx {
  return Object.fromEntries(
    Object.entries(ctx)
      .filter(([, v]) => !(v?.length === 1 && v[0] === ABSENT))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

/** Record the values a field took; a field that takes too many is widened to unknown from now on. */
function remember(m: Model, field: string, values: Values): Values {
  if (m.widened.has(field)) return null;
  if (values === null) return null;
  const seen = m.seen.get(field) ?? new Set<string>();
  m.seen.set(field, seen);
  values.forEach((v) => seen.add(v));
  if (seen.size <= WIDEN_AFTER) return values;
  m.widened.add(field);
  return null;
}

function applyAssigns(m: Model, txs: Tx[], k: Knowledge, env: Env): Knowledge {
  let current = k.ctx;
  let facts = k.facts;
  for (const t of txs)
    for (const action of t.ir.actions) {
      if (action.kind !== 'assign') continue;
      const next: Record<string, Values> = { ...current };
      for (const [field, expr] of Object.entries(action.fields)) {
        const ev = evaluateAbstract(expr, current, env);
        const ok = ev?.filter((e) => e.value !== FAILED).map((e) => canon(e.value as Json));
        const values = ok?.length ? sorted(ok) : null;
        next[field] = remember(m, field, values && values.length <= MAX_VALUES ? values : null);
        facts = facts.filter((f) => !m.factFields.get(f)?.includes(field));
      }
      current = sortKeys(next);
    }
  return { ctx: current, facts };
}

// ---------------------------------------------------------------------------------------------
// Configurations and the XState step rules.

interface Config {
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

function configKey(c: Config): string {
  c.core ??= JSON.stringify([c.active, c.ctx, c.facts, c.spent, c.done]);
  const people = Object.keys(c.people)
    .sort()
    .map((h) => `${h}=${c.people[h] ?? 0}`);
  return `${c.core}|${people.join(';')}`;
}

function leaves(m: Model, c: Config): string[] {
  return c.active.filter((p) => m.nodes.get(p)?.children.length === 0);
}

function inFinalState(n: Node, active: ReadonlySet<string>): boolean {
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

function enterDescendants(n: Node, enter: Set<Node>): void {
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

/** One XState microstep over the abstraction (people are updated by the caller). */
function microstep(
  m: Model,
  c: Config,
  k: Knowledge,
  selected: Tx[],
  env: Env,
  timer?: TimerGroup,
): { next: Config; taken: Tx[] } {
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
  return { next: config, taken: txs };
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
  const ifFalse = t.ir.data ? k : g.f;
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
      try {
        for (const r of expressionReferences(expr)) {
          const [root, field] = r.path.split('.');
          if (root === 'data' && field !== undefined) fields.add(field);
        }
      } catch {
        // A malformed expression is reported by the checker; here it simply reads nothing known.
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

interface Move {
  event: string;
  roles?: string[];
  guard?: string;
  data?: Record<string, Json>;
  person?: PersonChoice;
  pointers: string[];
  next: Config;
}

function people(m: Model, c: Config, event: string): [PersonChoice | undefined, Config['people']][] {
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

function eventMoves(m: Model, c: Config, event: string, onlyRoles?: string[]): Move[] {
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
        const { next, taken } = microstep(m, c, ch.known, ch.selected, { roles, data, system: false });
        const pointers = taken.map((t) => t.ir.pointer);
        const key = `${pointers.join(' ')}|${configKey(next)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        for (const [person, ppl] of people(m, c, event)) {
          const move: Move = { event, roles, pointers, next: { ...next, people: ppl } };
          if (ch.assumed.length) move.guard = ch.assumed.join(' && ');
          const shown = Object.entries(data.values).filter(([, v]) => v !== null && v !== ABSENT);
          if (shown.length) move.data = Object.fromEntries(shown.map(([f, v]) => [f, decode(v ?? 'null')]));
          if (person) move.person = person;
          out.push(move);
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
        const { next, taken } = microstep(m, c, ch.known, ch.selected, env, g);
        const move: Move = { event: `after ${g.delay}`, pointers: taken.map((t) => t.ir.pointer), next };
        if (ch.assumed.length) move.guard = ch.assumed.join(' && ');
        out.push(move);
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

function moves(m: Model, c: Config): Move[] {
  if (c.done) return [];
  return [...eventsOffered(m, c).flatMap((e) => eventMoves(m, c, e)), ...timerMoves(m, c)];
}

// ---------------------------------------------------------------------------------------------
// The search.

interface Edge {
  to: number;
  move: Omit<Move, 'next'>;
}

interface Graph {
  configs: Config[];
  edges: Edge[][];
  /** Configurations whose moves were not all followed (a cap was hit there). */
  cut: Set<number>;
  exhaustive: boolean;
}

function explore(m: Model, opts: VerifyOptions): Graph {
  const maxConfigurations = opts.maxConfigurations ?? DEFAULT_MAX_CONFIGURATIONS;
  const maxDepth = opts.maxDepth ?? Infinity;
  const enter = new Set<Node>([m.root]);
  enterDescendants(m.root, enter);
  const active = [...enter].sort((a, b) => a.order - b.order).map((n) => n.path);
  const done = inFinalState(m.root, new Set(active));
  const first: Config = { active, ctx: initialContext(m), facts: [], people: {}, spent: [], done };
  const configs = [first];
  const depth = [0];
  const index = new Map([[configKey(first), 0]]);
  const edges: Edge[][] = [];
  const cut = new Set<number>();
  for (let i = 0; i < configs.length; i++) {
    const c = configs[i] as Config;
    const out: Edge[] = [];
    edges.push(out);
    const targets = new Set<number>();
    for (const { next, ...move } of moves(m, c)) {
      const key = configKey(next);
      let j = index.get(key);
      if (j === undefined) {
        if ((depth[i] ?? 0) >= maxDepth || configs.length >= maxConfigurations) {
          cut.add(i);
          continue;
        }
        j = configs.length;
        configs.push(next);
        depth.push((depth[i] ?? 0) + 1);
        index.set(key, j);
      }
      if (!targets.has(j)) out.push({ to: j, move });
      targets.add(j);
    }
  }
  return { configs, edges, cut, exhaustive: cut.size === 0 };
}

/** Shortest path from the start to a configuration satisfying `goal`, through configurations satisfying `pass`. */
function shortestPath(
  g: Graph,
  goal: (i: number) => boolean,
  pass: (i: number) => boolean = () => true,
): Edge[] | undefined {
  if (!pass(0)) return undefined;
  const via = new Map<number, { from: number; edge: Edge } | null>([[0, null]]);
  const queue = [0];
  for (let k = 0; k < queue.length; k++) {
    const i = queue[k] as number;
    if (goal(i)) {
      const path: Edge[] = [];
      for (let at = via.get(i); at; at = via.get(at.from)) path.unshift(at.edge);
      return path;
    }
    for (const e of g.edges[i] ?? []) {
      if (via.has(e.to) || !pass(e.to)) continue;
      via.set(e.to, { from: i, edge: e });
      queue.push(e.to);
    }
  }
  return undefined;
}

/** Turn graph edges into steps, naming the people A1, A2, … as they first act. */
function toSteps(m: Model, g: Graph, path: Edge[], extra?: Move): PathStep[] {
  const steps: PathStep[] = [{ event: '$start', to: leaves(m, g.configs[0] as Config) }];
  const persons: { label: string; history: string }[] = [];
  const moves = [
    ...path.map((e) => ({ ...e.move, next: g.configs[e.to] as Config })),
    ...(extra ? [extra] : []),
  ];
  for (const mv of moves) {
    const step: PathStep = { event: mv.event, to: leaves(m, mv.next) };
    if (mv.roles) step.roles = mv.roles;
    if (mv.person) {
      const choice = mv.person;
      let who = 'fresh' in choice ? undefined : persons.find((p) => p.history === choice.history);
      if (!who) {
        who = { label: `A${persons.length + 1}`, history: '' };
        persons.push(who);
      }
      who.history = sorted([...who.history.split(',').filter(Boolean), mv.event]).join(',');
      step.actor = who.label;
    }
    if (mv.guard) step.guard = mv.guard;
    if (mv.data) step.data = mv.data;
    steps.push(step);
  }
  return steps;
}

// ---------------------------------------------------------------------------------------------
// Invariants.

interface Check {
  counterexample?: PathStep[];
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
  }
}

function statesOf(inv: InvariantIR): string[] {
  switch (inv.kind) {
    case 'must_pass':
      return [inv.to, ...inv.via];
    case 'unreachable':
    case 'never_when':
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
  const ev = evaluateAbstract(when, c.ctx, {
    roles: undefined,
    data: { complete: false, values: {} },
    system: false,
  });
  return !ev || ev.some((e) => e.value === true);
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
  if (!path) return {};
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
    const undecided =
      !holds && !check.counterexample && check.proved === undefined && check.note === undefined
        ? `undecided: the search stopped after ${explored} configurations without finding a violation (raise maxConfigurations or maxDepth)`
        : undefined;
    const note = check.note ?? undecided;
    if (note) result.note = note;
    return result;
  });
  return { invariants, exhaustive: g.exhaustive, explored };
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
