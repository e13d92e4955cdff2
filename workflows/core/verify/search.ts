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
  people,
} from './semantics.ts';
import { type PeopleReduction, peopleReduction } from './reduce.ts';

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
  const successors = new Successors(m, opts.reduce !== false);
  const configs = [first];
  const depth = [0];
  const index = new Map([[successors.key(first), 0]]);
  const edges: Edge[][] = [];
  const cut = new Set<number>();
  for (let i = 0; i < configs.length; i++) {
    const c = configs[i] as Config;
    const out: Edge[] = [];
    edges.push(out);
    // One edge per target and event (so every event taken anywhere shows in the graph).
    const targets = new Set<string>();
    for (const { key, move, next } of successors.of(c)) {
      let j = index.get(key);
      if (j === undefined) {
        if ((depth[i] ?? 0) >= maxDepth || configs.length >= maxConfigurations) {
          cut.add(i);
          continue;
        }
        j = configs.length;
        configs.push(next());
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

type People = Config['people'];

/**
 * `moves(m, c)` for the search, computed once per configuration without its people
 * (`Config.core`): the moves depend on the people only through who may send a tracked event
 * (`people`), so those choices are expanded per configuration, in the order `moves` gives them.
 * Configurations that differ only in their people — most of them where duties are tracked —
 * share the work. The memo is dropped when a field is widened (a move computed before would now
 * see the field as unknown), so the moves are exactly `moves(m, c)`; the people of each successor
 * are then reduced (`reduce.ts`). Keys are short: the core's number and the people's text.
 */
class Successors {
  private readonly memo = new Map<string, Move[]>();
  private widened: number;
  private readonly cores = new Map<string, number>();
  private readonly peopleKeys = new WeakMap<People, string>();
  private readonly choices = new Map<string, [Move['person'], People][]>();
  private readonly reduced = new Map<string, { key: string; people: People }>();
  private readonly reduction: PeopleReduction;

  constructor(
    private readonly m: Model,
    private readonly reduce: boolean,
  ) {
    this.widened = m.widened.size;
    this.reduction = reduce ? peopleReduction(m) : { reduce: (_a, _d, people) => people };
  }

  private coreKey(c: Config): number {
    if (c.core === undefined) configKey(c);
    const core = c.core as string;
    let id = this.cores.get(core);
    if (id === undefined) {
      id = this.cores.size;
      this.cores.set(core, id);
    }
    return id;
  }

  private peopleKey(p: People): string {
    let out = this.peopleKeys.get(p);
    if (out === undefined) {
      out = Object.keys(p)
        .sort()
        .map((h) => `${h}=${p[h] ?? 0}`)
        .join(';');
      this.peopleKeys.set(p, out);
    }
    return out;
  }

  /** The configuration's identity in the search (`configKey`'s content, shorter). */
  key(c: Config): string {
    return `${this.coreKey(c)}|${this.peopleKey(c.people)}`;
  }

  private shared(c: Config): Move[] {
    const m = this.m;
    if (!this.reduce) return moves(m, { ...c, people: {} });
    if (m.widened.size !== this.widened) {
      this.memo.clear();
      this.widened = m.widened.size;
    }
    configKey(c);
    let out = this.memo.get(c.core as string);
    if (!out) {
      out = moves(m, { ...c, people: {} });
      for (const mv of out) configKey(mv.next);
      this.memo.set(c.core as string, out);
    }
    return out;
  }

  private choicesFor(c: Config, event: string): [Move['person'], People][] {
    const k = `${this.peopleKey(c.people)}\n${event}`;
    let out = this.choices.get(k);
    if (!out) {
      out = people(this.m, c, event);
      this.choices.set(k, out);
    }
    return out;
  }

  /** The successors of `c`, each with its key; `next()` builds the configuration (for new ones only). */
  of(c: Config): { key: string; move: Omit<Move, 'next'>; next: () => Config }[] {
    const out: { key: string; move: Omit<Move, 'next'>; next: () => Config }[] = [];
    for (const mv of this.shared(c)) {
      const { next: base, ...rest } = mv;
      const core = this.coreKey(base);
      for (const [person, ppl] of mv.person
        ? this.choicesFor(c, mv.event)
        : [[undefined, c.people] as const]) {
        const raw = `${core}|${this.peopleKey(ppl)}`;
        let r = this.reduced.get(raw);
        if (!r) {
          const people = this.reduction.reduce(base.active, base.done, ppl);
          r = { key: people === ppl ? raw : `${core}|${this.peopleKey(people)}`, people };
          this.reduced.set(raw, r);
        }
        const { people } = r;
        const move: Omit<Move, 'next'> = person ? { ...rest, person } : rest;
        out.push({ key: r.key, move, next: () => ({ ...base, people }) });
      }
    }
    return out;
  }
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
