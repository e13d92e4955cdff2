/**
 * Deadlock with data: a reachable configuration that has not ended, where for some context values
 * (allowed by the context schema and by what the path to it established) no event and no timer is
 * enabled — every way out is guarded, and the values make every guard false.
 *
 * The search graph cannot show this by itself: an undecided guard is explored on both branches, and
 * the branch where it is false simply takes no step, so a state whose guards do not cover every
 * value looks like any other waiting state. Here each way out is reduced to the part of its guard
 * that reads `ctx` alone (the top-level conjuncts over `ctx`; a conjunct over `data`, `actor` or
 * `now` is assumed satisfiable by some event, so the check only reports real witnesses), and
 * concrete values are tried for the fields those parts read: the values the abstraction keeps, or
 * for an unknown field a few values of its schema (its enum, bounds, the constants the guards
 * compare it with, and neighbours). A combination that respects the remembered facts and makes
 * every way out false is a witness.
 */
import { parse, serialize } from '@marcbachmann/cel-js';
import { evaluateExpression, expressionReferences } from '../expressions.ts';
import type { Json, JsonSchema } from '../ir.ts';
import type { Model, Tx } from './model.ts';
import type { Config } from './semantics.ts';
import { ABSENT, combinations, decode, factExpression, valuesOf } from './values.ts';
import type { Graph } from './search.ts';

/** Most value combinations tried in one configuration. */
const MAX_TRIES = 4096;

export interface DataDeadlock {
  /** The stuck configuration (index in the graph). */
  config: number;
  /** Values of the fields the ways out read, under which none is enabled. */
  values: Record<string, Json>;
  /** Each way out and the condition it needs (`EVENT needs …`, `after P5D needs …`). */
  needs: string[];
}

interface Ast {
  op?: string;
  args?: unknown;
}

/** The part of a guard that reads `ctx` only (its top-level conjuncts over `ctx`); `undefined`: none. */
const ctxParts = new Map<string, string | undefined>();
export function ctxPart(guard: string | undefined): string | undefined {
  if (!guard) return undefined;
  if (ctxParts.has(guard)) return ctxParts.get(guard);
  let out: string | undefined;
  try {
    const conjuncts: Ast[] = [];
    const split = (n: Ast): void => {
      const args = Array.isArray(n.args) ? (n.args as Ast[]) : [];
      if (n.op === '&&' && args.length === 2) args.forEach(split);
      else conjuncts.push(n);
    };
    split(parse(guard).ast as Ast);
    const kept = conjuncts
      .map((c) => serialize(c as Parameters<typeof serialize>[0]))
      .filter((text) => {
        const refs = expressionReferences(text).map((r) => r.path.split('.'));
        return refs.length > 0 && refs.every((r) => r[0] === 'ctx' && r[1] !== undefined);
      });
    out = kept.length ? kept.map((k) => (kept.length > 1 ? `(${k})` : k)).join(' && ') : undefined;
  } catch {
    out = undefined;
  }
  ctxParts.set(guard, out);
  return out;
}

/** The context fields an expression reads. */
export const fieldsOf = (expr: string): string[] => {
  try {
    return [
      ...new Set(
        expressionReferences(expr)
          .map((r) => r.path.split('.'))
          .filter((p) => p[0] === 'ctx' && p[1])
          .map((p) => p[1] ?? ''),
      ),
    ];
  } catch {
    return [];
  }
};

/** Literal values an expression compares with (numbers and strings). */
function constants(expr: string): Json[] {
  const out: Json[] = [];
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) n.forEach(walk);
    else if (n && typeof n === 'object') {
      const { op, args } = n as Ast;
      if (op === 'value') {
        if (typeof args === 'string' || typeof args === 'number') out.push(args);
        else if (typeof args === 'bigint') out.push(Number(args));
      } else walk(args);
    }
  };
  try {
    walk(parse(expr).ast);
  } catch {
    // Nothing to learn from an expression that does not parse (the checker reports it).
  }
  return out;
}

function allowed(v: Json, schema: JsonSchema): boolean {
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.enum)) return (s.enum as Json[]).some((e) => JSON.stringify(e) === JSON.stringify(v));
  if ('const' in s) return JSON.stringify(s.const) === JSON.stringify(v);
  switch (s.type) {
    case 'integer':
    case 'number':
      if (typeof v !== 'number' || (s.type === 'integer' && !Number.isInteger(v))) return false;
      if (typeof s.minimum === 'number' && v < s.minimum) return false;
      if (typeof s.maximum === 'number' && v > s.maximum) return false;
      return true;
    case 'string':
      if (typeof v !== 'string') return false;
      if (typeof s.minLength === 'number' && v.length < s.minLength) return false;
      if (typeof s.maxLength === 'number' && v.length > s.maxLength) return false;
      return true;
    case 'boolean':
      return typeof v === 'boolean';
    case 'array':
      return Array.isArray(v);
    default:
      return false;
  }
}

/** A few values of an unknown field that its schema allows, chosen to tell guards apart. */
export function sample(m: Model, field: string, exprs: string[]): Json[] | null {
  const def = m.ir.context[field];
  if (!def) return null;
  const schema: JsonSchema = { type: def.type, ...(def.schema ?? {}) };
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.enum)) return s.enum as Json[];
  if ('const' in s) return [s.const as Json];
  const lits = exprs.flatMap(constants);
  let candidates: Json[];
  switch (def.type) {
    case 'boolean':
      candidates = [false, true];
      break;
    case 'integer':
    case 'number': {
      const nums = lits.filter((x): x is number => typeof x === 'number');
      const base = [0, 1, 2, -1, ...nums.flatMap((n) => [n - 1, n, n + 1])];
      if (typeof s.minimum === 'number') base.push(s.minimum, s.minimum + 1);
      if (typeof s.maximum === 'number') base.push(s.maximum, s.maximum - 1);
      candidates = base;
      break;
    }
    case 'string':
      candidates = [...lits.filter((x) => typeof x === 'string'), 'a', 'b', ''];
      break;
    case 'array':
      candidates = [[], ['a'], ['a', 'b']];
      break;
    default:
      return null;
  }
  const seen = new Set<string>();
  const out: Json[] = [];
  for (const v of candidates) {
    const key = JSON.stringify(v);
    if (seen.has(key) || !allowed(v, schema)) continue;
    seen.add(key);
    out.push(v);
  }
  return out.length ? out.slice(0, 8) : null;
}

/** Does `expr` evaluate to true on these context values (no data, no actor)? */
export const truthy = (expr: string, ctx: Record<string, unknown>): boolean => {
  try {
    return (
      evaluateExpression(expr, {
        ctx: ctx as Record<string, Json>,
        data: {},
        actor: { id: '', roles: [] },
        now: 0,
      }) === true
    );
  } catch {
    return false;
  }
};

/** Does a transition lead anywhere (a target, or assignments that may enable another)? */
const moves = (t: Tx): boolean => t.target !== undefined || t.ir.actions.some((a) => a.kind === 'assign');

/** The ways out of a configuration: `[label, ctx condition]`; `null` when one needs no ctx condition. */
function waysOut(m: Model, c: Config): [string, string][] | null {
  const out: [string, string][] = [];
  for (const p of c.active) {
    const node = m.nodes.get(p);
    if (!node) continue;
    for (const [event, txs] of m.on.get(node) ?? [])
      for (const t of txs) {
        if (!moves(t)) continue;
        const cond = ctxPart(t.ir.guard);
        if (cond === undefined) return null;
        out.push([event, cond]);
      }
    // Only an unsettled configuration (the start) has an `always` that can still act.
    for (const t of node.always) {
      if (!moves(t)) continue;
      const cond = ctxPart(t.ir.guard);
      if (cond === undefined) return null;
      out.push(['always', cond]);
    }
    for (const g of node.timers) {
      if (c.spent.includes(g.id)) continue;
      for (const t of g.transitions) {
        if (!moves(t)) continue;
        const cond = ctxPart(t.ir.guard);
        if (cond === undefined) return null;
        out.push([`after ${g.delay}`, cond]);
      }
    }
  }
  return out;
}

/** Values under which configuration `c` is stuck, or `undefined` when none was found. */
export function stuckValues(
  m: Model,
  c: Config,
): { values: Record<string, Json>; needs: string[] } | undefined {
  if (c.done) return undefined;
  const ways = waysOut(m, c);
  if (!ways) return undefined;
  const conds = ways.map(([, cond]) => cond);
  const fields = new Set(conds.flatMap(fieldsOf));
  const facts = c.facts
    .map(factExpression)
    .filter(
      (f): f is { expr: string; truth: boolean } =>
        f !== undefined && fieldsOf(f.expr).some((x) => fields.has(x)),
    );
  facts.forEach((f) => fieldsOf(f.expr).forEach((x) => fields.add(x)));
  const names = [...fields].sort();
  const domains: string[][] = [];
  for (const f of names) {
    const known = valuesOf(c.ctx, f);
    if (known) domains.push([...known]);
    else {
      const s = sample(m, f, [...conds, ...facts.map((x) => x.expr)]);
      if (!s) return undefined;
      domains.push(s.map((v) => JSON.stringify(v)));
    }
  }
  let tries = 0;
  for (const combo of combinations(names, domains)) {
    if (++tries > MAX_TRIES) return undefined;
    const ctx: Record<string, unknown> = {};
    for (const [f, v] of Object.entries(combo)) if (v !== ABSENT) ctx[f] = decode(v);
    if (facts.some((f) => truthy(f.expr, ctx) !== f.truth)) continue;
    if (conds.some((cond) => truthy(cond, ctx))) continue;
    const values: Record<string, Json> = {};
    for (const f of names) if (f in ctx) values[f] = ctx[f] as Json;
    return { values, needs: ways.map(([label, cond]) => `${label} needs ${cond}`) };
  }
  return undefined;
}

/** The first configuration (breadth-first, so on a shortest path) stuck for some values. */
export function findDataDeadlock(m: Model, g: Graph): DataDeadlock | undefined {
  for (let i = 0; i < g.configs.length; i++) {
    if (g.cut.has(i)) continue;
    const found = stuckValues(m, g.configs[i] as Config);
    if (found) return { config: i, ...found };
  }
  return undefined;
}
