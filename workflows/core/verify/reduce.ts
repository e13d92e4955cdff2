/**
 * Reductions that make the search smaller without changing what it proves.
 *
 * **People that no longer matter.** A configuration remembers, per history of tracked events, how
 * many people sent exactly those events (`Config.people`): separation of duties and
 * `distinct_actors` need it. Once no tracked event can be sent any more — the machine is done, or
 * no state reachable from the active ones (over the state graph, guards ignored) offers one — the
 * histories can never change again and are read only by `distinct_actors` (does one person hold
 * two of its events?). So there only the histories that already break such an invariant are kept:
 * configurations that differed in nothing else become one. They are bisimilar (the same moves, in
 * the same order, to configurations that again differ only there), so every invariant gets the same
 * answer and the same shortest counterexample; only fewer configurations are explored.
 */
import { stateTransitions } from '../ir-walk.ts';
import type { Model, Node } from './model.ts';

export interface PeopleReduction {
  /** `people` as the search keeps it for a configuration with these active states. */
  reduce(
    active: readonly string[],
    done: boolean,
    people: Readonly<Record<string, number>>,
  ): Readonly<Record<string, number>>;
}

/** Every node a transition declared on `n` (any kind: events, timers, completion, eventless) enters. */
function targetsOf(m: Model, n: Node): Node[] {
  const out: Node[] = [];
  for (const { transition } of stateTransitions(n.ir)) {
    const target = transition.target === undefined ? undefined : m.nodes.get(transition.target);
    if (target) out.push(target);
  }
  return out;
}

function addSubtree(n: Node, into: Set<Node>): void {
  into.add(n);
  for (const child of n.children) addSubtree(child, into);
}

/** Nodes that may become active after entering `target`: it, its ancestors, every descendant of those (over-approximated). */
function entered(target: Node): Node[] {
  const out = new Set<Node>();
  addSubtree(target, out);
  for (let a = target.parent; a; a = a.parent) {
    out.add(a);
    // Entering into a parallel state enters its other regions too.
    if (a.ir.type === 'parallel') addSubtree(a, out);
  }
  return [...out];
}

export function peopleReduction(m: Model): PeopleReduction {
  const tracked = m.tracked;
  const sharing = m.ir.invariants.flatMap((inv) => (inv.kind === 'distinct_actors' ? [inv.events] : []));
  if (!tracked.size) return { reduce: (_a, _d, people) => people };
  const step = new Map<Node, Node[]>();
  for (const n of m.nodes.values()) step.set(n, targetsOf(m, n).flatMap(entered));
  const offers = (n: Node): boolean => Object.keys(n.ir.on).some((e) => tracked.has(e));
  const stillTracked = new Map<string, boolean>();
  const future = (active: readonly string[]): boolean => {
    const key = active.join('\n');
    let out = stillTracked.get(key);
    if (out === undefined) {
      out = false;
      const seen = new Set<Node>();
      const queue: Node[] = [];
      for (const p of active) {
        const n = m.nodes.get(p);
        if (n && !seen.has(n)) {
          seen.add(n);
          queue.push(n);
        }
      }
      for (let i = 0; i < queue.length && !out; i++) {
        const n = queue[i] as Node;
        if (offers(n)) out = true;
        for (const next of step.get(n) ?? [])
          if (!seen.has(next)) {
            seen.add(next);
            queue.push(next);
          }
      }
      stillTracked.set(key, out);
    }
    return out;
  };
  const shares = (history: string): boolean => {
    const sent = history.split(',');
    return sharing.some((events) => events.filter((e) => sent.includes(e)).length >= 2);
  };
  return {
    reduce(active, done, people) {
      if (!done && future(active)) return people;
      let kept: Record<string, number> | undefined;
      for (const h of Object.keys(people))
        if (!shares(h)) {
          kept ??= { ...people };
          delete kept[h];
        }
      return kept ?? people;
    },
  };
}
