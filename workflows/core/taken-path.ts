/**
 * The path an instance took, from its transition records: the states it has been in and one edge
 * per move. The instance page and the simulator draw it on the same diagram, so they compute it
 * here, the same way.
 */
import type { TransitionRecord } from './runtime.ts';

/** One move: a leaf left and the leaf entered, by the event (`after P2D` for a timer). */
export interface TakenEdge {
  from: string;
  to: string;
  event?: string;
}

export interface TakenPath {
  /** Every leaf state the instance has been in, in first-visit order. */
  visited: string[];
  taken: TakenEdge[];
}

/**
 * Edges go from the leaves a transition left to those it entered; in a parallel state the regions
 * that did not move are not drawn as moving. A transition that re-enters its own state is drawn
 * as a loop. The start record (no `from`) adds no edge.
 */
export function takenPath(log: readonly TransitionRecord[]): TakenPath {
  const visited = new Set<string>();
  const taken: TakenEdge[] = [];
  for (const r of log) {
    r.from.forEach((x) => visited.add(x));
    r.to.forEach((x) => visited.add(x));
    const left = r.from.filter((x) => !r.to.includes(x));
    const entered = r.to.filter((x) => !r.from.includes(x));
    for (const from of left.length ? left : r.from)
      for (const to of entered.length ? entered : r.to) taken.push({ from, to, event: r.event });
  }
  return { visited: [...visited], taken };
}
