/**
 * The verifier's model of a statechart: state nodes and transitions indexed from the IR (`Node`,
 * `Tx`, timer groups, `on_done` and `always` transitions), the mutable search bookkeeping carried
 * by `Model` (values seen per field, widened fields, the fields each remembered fact reads, the
 * eventless loops found), and the tree helpers.
 */
import { parseDuration } from '../duration.ts';
import { callOutcomes } from '../call.ts';
import type {
  DelayedTransitionIR,
  EventlessTransitionIR,
  ProcedureIR,
  StateIR,
  TransitionIR,
} from '../ir.ts';
import { parseWorkingDays } from '../calendar.ts';

export interface Node {
  ir: StateIR;
  path: string;
  parent: Node | undefined;
  children: Node[];
  order: number;
  timers: TimerGroup[];
  /** `on_done` transitions (taken on this node's done event), in order. */
  onDone: Tx[];
  /** `always` transitions, in order. */
  always: Tx[];
}

export interface Tx {
  ir: TransitionIR | DelayedTransitionIR | EventlessTransitionIR;
  source: Node;
  target: Node | undefined;
  reenter: boolean;
  /** Roles that may send it; `undefined` for a timer or an eventless transition. */
  roles: string[] | undefined;
}

/** The transitions of one state for one delay: one XState `after` event. */
export interface TimerGroup {
  id: string;
  node: Node;
  delay: string;
  ms: number;
  transitions: Tx[];
}

export interface Model {
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
  /** Some state has `always` transitions (configurations must then be settled). */
  hasAlways: boolean;
  /** Eventless loops found while settling, by the pointers of their transitions. */
  loops: Map<string, EventlessLoop>;
}

/** Eventless transitions that can follow one another forever: the instance would never settle. */
export interface EventlessLoop {
  /** Pointers of the transitions of the cycle, in the order taken. */
  pointers: string[];
  /** Active leaves where the cycle was seen. */
  states: string[];
}

export function buildModel(ir: ProcedureIR): Model {
  const nodes = new Map<string, Node>();
  const add = (s: StateIR, parent: Node | undefined): Node => {
    const node: Node = {
      ir: s,
      path: s.path,
      parent,
      children: [],
      order: nodes.size,
      timers: [],
      onDone: [],
      always: [],
    };
    nodes.set(s.path, node);
    for (const child of Object.values(s.states)) node.children.push(add(child, node));
    return node;
  };
  const root = add(ir.root, undefined);
  const tx = (t: TransitionIR | DelayedTransitionIR | EventlessTransitionIR, source: Node): Tx => {
    const target = t.target === undefined ? undefined : nodes.get(t.target);
    if (t.target !== undefined && !target)
      throw new Error(`verify: ${t.pointer} targets unknown state "${t.target}"`);
    const roles = 'roles' in t ? t.roles : undefined;
    return { ir: t, source, target, reenter: t.target === source.path, roles };
  };
  const on = new Map<Node, Map<string, Tx[]>>();
  for (const node of nodes.values()) {
    on.set(node, new Map(Object.entries(node.ir.on).map(([e, list]) => [e, list.map((t) => tx(t, node))])));
    // A call's outcomes, by their engine events (`verify/call.ts` takes them; liveness sees them).
    for (const { event, transition } of callOutcomes(node.ir))
      on.get(node)!.set(event, [tx(transition, node)]);
    const groups = new Map<string, TimerGroup>();
    for (const t of node.ir.after) {
      let g = groups.get(t.delay);
      if (!g) {
        g = {
          id: `${node.path}|${t.delay}`,
          node,
          delay: t.delay,
          // Working days have no fixed length: NaN orders them against no other timer and proves no deadline.
          ms: parseDuration(t.delay) ?? (parseWorkingDays(t.delay) === undefined ? 0 : NaN),
          transitions: [],
        };
        groups.set(t.delay, g);
      }
      g.transitions.push(tx(t, node));
    }
    node.timers = [...groups.values()];
    node.onDone = (node.ir.onDone ?? []).map((t) => tx(t, node));
    node.always = (node.ir.always ?? []).map((t) => tx(t, node));
  }
  const hasAlways = [...nodes.values()].some((n) => n.always.length > 0);
  const tracked = new Set<string>();
  for (const d of ir.duties) for (const e of [d.event, ...d.distinctFrom]) tracked.add(e);
  for (const inv of ir.invariants)
    if (inv.kind === 'distinct_actors') for (const e of inv.events) tracked.add(e);
  return {
    ir,
    root,
    nodes,
    on,
    tracked,
    seen: new Map(),
    widened: new Set(),
    factFields: new Map(),
    hasAlways,
    loops: new Map(),
  };
}

/** Is `a` a proper descendant of `b`? */
export function isDescendant(a: Node, b: Node): boolean {
  for (let p = a.parent; p; p = p.parent) if (p === b) return true;
  return false;
}

export const isCompound = (n: Node): boolean => n.children.length > 0 && n.ir.type !== 'parallel';
export const isParallel = (n: Node): boolean => n.children.length > 0 && n.ir.type === 'parallel';
