/**
 * Vacuity: invariants that hold but prove little. Reported as warnings, not failures.
 *
 * - The premise is never met: `never_when` / `deadline` on a state no path enters, `must_pass` to a
 *   state no path enters, `actor_is` / `distinct_actors` on an event no path takes.
 * - `never_when` only restates the guard(s) into its state: every way into the state passes a
 *   transition whose guard alone (its conjuncts over `ctx`) already makes `when` false, and which
 *   assigns none of the fields `when` reads. Such an invariant proves what the guard says, no more.
 *   Checked on concrete values: the fields' known values, or a few values of their schemas.
 * - `never_when` reads a field no transition on any path assigns (and that has no default): it can
 *   only come from the start input — usually a misspelt or stale field name.
 */
import type { InvariantIR, Json } from '../ir.ts';
import type { Model, Tx } from './model.ts';
import type { Graph } from './search.ts';
import type { Config } from './semantics.ts';
import { ctxPart, fieldsOf, sample, truthy } from './liveness.ts';
import type { InvariantResult, Warning } from './types.ts';
import { ABSENT, combinations, decode, valuesOf } from './values.ts';

const MAX_TRIES = 4096;

function pointerIndex(m: Model): Map<string, Tx> {
  const out = new Map<string, Tx>();
  for (const node of m.nodes.values()) {
    for (const list of m.on.get(node)?.values() ?? []) for (const t of list) out.set(t.ir.pointer, t);
    for (const group of node.timers) for (const t of group.transitions) out.set(t.ir.pointer, t);
    for (const t of [...node.onDone, ...node.always]) out.set(t.ir.pointer, t);
  }
  return out;
}

const assigned = (t: Tx): string[] => [
  ...t.ir.actions.flatMap((a) => (a.kind === 'assign' ? Object.keys(a.fields) : [])),
  // A call's outcome sets its `output` fields (`call.ts`).
  ...Object.keys((t.ir as { output?: Record<string, string> }).output ?? {}),
];

/**
 * Is the ctx part of `guard` what makes `when` false in configuration `c`: `when` holds for some
 * values tried, and for none of those the guard allows?
 */
function refutes(m: Model, c: Config, guard: string, when: string): 'refuted' | 'impossible' | 'no' {
  const names = [...new Set([...fieldsOf(guard), ...fieldsOf(when)])].sort();
  const domains: string[][] = [];
  for (const f of names) {
    const known = valuesOf(c.ctx, f);
    if (known) domains.push([...known]);
    else {
      const s = sample(m, f, [guard, when]);
      if (!s) return 'no';
      domains.push(s.map((v) => JSON.stringify(v)));
    }
  }
  let tries = 0;
  let possible = false;
  for (const combo of combinations(names, domains)) {
    if (++tries > MAX_TRIES) return 'no';
    const ctx: Record<string, Json> = {};
    for (const [f, v] of Object.entries(combo)) if (v !== ABSENT) ctx[f] = decode(v);
    if (!truthy(when, ctx)) continue;
    if (truthy(guard, ctx)) return 'no';
    possible = true;
  }
  // The guard is what refutes `when` only where `when` could hold without it.
  return possible ? 'refuted' : 'impossible';
}

function restatesGuards(m: Model, g: Graph, state: string, when: string): string[] | undefined {
  if ((g.configs[0] as Config).active.includes(state)) return undefined;
  const byPointer = pointerIndex(m);
  const read = new Set(fieldsOf(when));
  const guards = new Set<string>();
  let entries = 0;
  for (let i = 0; i < g.configs.length; i++) {
    const from = g.configs[i] as Config;
    if (from.active.includes(state)) continue;
    for (const e of g.edges[i] ?? []) {
      const to = g.configs[e.to] as Config;
      if (!to.active.includes(state)) continue;
      let impossible = false;
      const refuting = e.move.pointers
        .map((p) => byPointer.get(p))
        .find((t): t is Tx => {
          if (!t?.ir.guard || assigned(t).some((f) => read.has(f))) return false;
          const part = ctxPart(t.ir.guard);
          const r = part === undefined ? 'no' : refutes(m, from, part, when);
          if (r === 'impossible') impossible = true;
          return r === 'refuted';
        });
      if (refuting) {
        entries++;
        guards.add(refuting.ir.guard ?? '');
      } else if (!impossible) return undefined;
    }
  }
  return entries ? [...guards] : undefined;
}

function everAssigned(m: Model, g: Graph): Set<string> {
  const byPointer = pointerIndex(m);
  const out = new Set<string>();
  for (const edges of g.edges)
    for (const e of edges)
      for (const p of e.move.pointers) {
        const t = byPointer.get(p);
        if (t) assigned(t).forEach((f) => out.add(f));
      }
  return out;
}

const entered = (g: Graph, state: string): boolean => g.configs.some((c) => c.active.includes(state));
const taken = (g: Graph, event: string): boolean =>
  g.edges.some((out) => out.some((e) => e.move.event === event));

/** Warnings for the invariants that hold (`results` in the order of `invariants`). */
export function vacuityWarnings(
  m: Model,
  g: Graph,
  invariants: InvariantIR[],
  results: InvariantResult[],
): Warning[] {
  const out: Warning[] = [];
  const warn = (inv: InvariantIR, code: Warning['code'], message: string): void => {
    out.push({ invariant: inv.id, code, message });
  };
  let assignedFields: Set<string> | undefined;
  invariants.forEach((inv, k) => {
    if (!results[k]?.holds) return;
    switch (inv.kind) {
      case 'never_when': {
        if (!entered(g, inv.state)) {
          warn(inv, 'vacuous', `${inv.state} is never entered: the invariant cannot fail`);
          return;
        }
        const guards = restatesGuards(m, g, inv.state, inv.when);
        if (guards)
          warn(
            inv,
            'vacuous',
            `only restates the guard${guards.length > 1 ? 's' : ''} into ${inv.state} (${guards.join('; ')}): every way in already makes ${inv.when} false`,
          );
        assignedFields ??= everAssigned(m, g);
        for (const f of fieldsOf(inv.when)) {
          const def = m.ir.context[f];
          if (def?.default !== undefined || assignedFields.has(f)) continue;
          warn(
            inv,
            'never_assigned',
            `ctx.${f} is assigned by no transition on any path${def ? ' and has no default (only the start input could set it)' : ' and is not a context field'}`,
          );
        }
        return;
      }
      case 'deadline':
        if (!entered(g, inv.state))
          warn(inv, 'vacuous', `${inv.state} is never entered: the invariant cannot fail`);
        return;
      case 'must_pass':
        if (!entered(g, inv.to))
          warn(inv, 'vacuous', `${inv.to} is never entered: the invariant cannot fail`);
        return;
      case 'actor_is':
        if (!taken(g, inv.event))
          warn(inv, 'vacuous', `${inv.event} is never taken: the invariant cannot fail`);
        return;
      case 'distinct_actors': {
        const never = inv.events.filter((e) => !taken(g, e));
        if (never.length)
          warn(
            inv,
            'vacuous',
            `${never.join(', ')} ${never.length > 1 ? 'are' : 'is'} never taken: the invariant cannot fail`,
          );
        return;
      }
      default:
        return;
    }
  });
  return out;
}
