/**
 * Graph checks over the statechart, ignoring guards (so "reachable" means "reachable by some
 * sequence of events and timers if every guard allowed it"):
 *
 * - unreachable states: not entered from the initial configuration by any chain of transitions.
 *   Taking a transition enters the target's ancestors below the transition's domain, the other
 *   regions of any parallel state entered on the way (at their initial states) and the target's
 *   own initial descendants. Only the outermost unreachable state of a
 *   subtree is reported. So that one typo is reported once, a target that names no state counts
 *   as its "did you mean" guess, and a compound state whose `initial` names no child enters all
 *   of its children (both are reported by the reference checks).
 * - states with no way out: an atomic, non-final state with no event or timer transition in
 *   itself or any ancestor (an instance that got there could never move again).
 */
import type { StateIR } from './ir.ts';
import type { CheckContext } from './check-report.ts';
import { guessTarget } from './check-report.ts';
import { indexStates, statePaths, stateTransitions, walkStates } from './ir-walk.ts';

export function checkGraph(cx: CheckContext): void {
  checkReachability(cx);
  checkWayOut(cx);
}

/** The paths of every state that some chain of transitions can enter (root's '' included). */
export function reachableStates(root: StateIR): Set<string> {
  const paths = statePaths(root);
  const byPath = indexStates(root);
  const parentOf = new Map<string, StateIR>();
  for (const state of walkStates(root)) {
    for (const child of Object.values(state.states)) parentOf.set(child.path, state);
  }
  const reached = new Set<string>();
  const queue: StateIR[] = [];
  const mark = (state: StateIR): void => {
    if (reached.has(state.path)) return;
    reached.add(state.path);
    queue.push(state);
  };
  const enterDefault = (state: StateIR): void => {
    mark(state);
    if (state.type === 'parallel') Object.values(state.states).forEach(enterDefault);
    if (state.type !== 'compound') return;
    const initial = state.initial !== undefined ? state.states[state.initial] : undefined;
    if (initial) enterDefault(initial);
    else Object.values(state.states).forEach(enterDefault);
  };
  /**
   * Take a transition declared on `source` to `target`: states below the transition's domain
   * (the deepest ancestor-or-self of the source on the target's branch, stays active) are
   * entered, and so are the other regions of any parallel state entered on the way.
   */
  const enterTarget = (source: StateIR, target: StateIR): void => {
    const chain: StateIR[] = [];
    for (let s: StateIR | undefined = target; s; s = parentOf.get(s.path)) chain.unshift(s);
    const isAncestorOrSelfOfSource = (s: StateIR): boolean =>
      s.path === '' || source.path === s.path || source.path.startsWith(`${s.path}.`);
    const domain = chain.findLastIndex((s) => s !== target && isAncestorOrSelfOfSource(s));
    chain.forEach((state, i) => {
      if (state === target || i <= domain) return;
      mark(state);
      const next = chain[i + 1];
      if (state.type === 'parallel')
        for (const region of Object.values(state.states)) if (region !== next) enterDefault(region);
    });
    enterDefault(target);
  };
  enterDefault(root);
  for (let state = queue.shift(); state; state = queue.shift()) {
    for (const t of stateTransitions(state)) {
      const path = t.transition.target;
      if (path === undefined) continue;
      const target = byPath.get(path) ?? byPath.get(guessTarget(t, path, paths) ?? '');
      if (target) enterTarget(state, target);
    }
  }
  return reached;
}

function checkReachability({ ir, report }: CheckContext): void {
  const reached = reachableStates(ir.root);
  const visit = (state: StateIR): void => {
    for (const child of Object.values(state.states)) {
      if (!reached.has(child.path)) {
        report('PROC_UNREACHABLE_STATE', child.pointer, `state "${child.path}" can never be entered`, {
          at: 'key',
          hint: 'no transition or timer leads to it (or to a state inside it), and it is not an initial state',
        });
      } else visit(child);
    }
  };
  visit(ir.root);
}

function checkWayOut({ ir, report }: CheckContext): void {
  const visit = (state: StateIR, exitAbove: boolean): void => {
    const exits =
      exitAbove ||
      Object.keys(state.on).length > 0 ||
      state.after.length > 0 ||
      (state.always?.length ?? 0) > 0 ||
      state.call !== undefined;
    if (state.type === 'atomic' && !exits) {
      report('PROC_NO_WAY_OUT', state.pointer, `state "${state.path}" has no way out`, {
        at: 'key',
        hint: 'no event or timer leaves it or any state around it: add an "on" or "after" transition, or mark it "type: final"',
      });
    }
    for (const child of Object.values(state.states)) visit(child, exits);
  };
  visit(ir.root, false);
}
