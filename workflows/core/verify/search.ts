/**
 * The search: breadth-first exploration of the configurations reachable from the start (capped),
 * shortest paths in the explored graph, and their conversion into counterexample steps.
 */
import type { PathStep, VerifyOptions } from './types.ts';
import type { Model, Node } from './model.ts';
import { initialContext, sorted } from './values.ts';
import {
  type Config,
  configKey,
  enterDescendants,
  inFinalState,
  leaves,
  type Move,
  moves,
} from './semantics.ts';

const DEFAULT_MAX_CONFIGURATIONS = 50_000;

export interface Edge {
  to: number;
  move: Omit<Move, 'next'>;
}

export interface Graph {
  configs: Config[];
  edges: Edge[][];
  /** Configurations whose moves were not all followed (a cap was hit there). */
  cut: Set<number>;
  exhaustive: boolean;
}

export function explore(m: Model, opts: VerifyOptions): Graph {
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
    // One edge per target and event (so every event taken anywhere shows in the graph).
    const targets = new Set<string>();
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
      const edgeKey = `${j}|${move.event}`;
      if (!targets.has(edgeKey)) out.push({ to: j, move });
      targets.add(edgeKey);
    }
  }
  return { configs, edges, cut, exhaustive: cut.size === 0 };
}

/** Shortest path from the start to a configuration satisfying `goal`, through configurations satisfying `pass`. */
export function shortestPath(
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
export function toSteps(m: Model, g: Graph, path: Edge[], extra?: Move): PathStep[] {
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
