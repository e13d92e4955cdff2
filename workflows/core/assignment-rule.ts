/**
 * The assignment part of the acceptance rule (`checkTransition` asks it): while a state's task is
 * assigned to a person, only that person sends the events declared on that state; a state with
 * `assignment: required` takes none until someone is assigned. Events declared on an enclosing
 * compound or parallel state (e.g. "report a loss" from anywhere inside) belong to no single task
 * and are not governed by it.
 *
 * Assignments live in the machine context's reserved `_assignees` (leaf state path → user id), so
 * the machine's guard, the update validator and the lists of available events all see them.
 */
import type { DelayedTransitionIR, ProcedureIR, StateIR, TransitionIR } from './ir.ts';
import { stateAt } from './ir-walk.ts';
import type { Rejection } from './rejections.ts';

/** Who assigns when a definition names no `assigners:` (those of them it declares). */
export const DEFAULT_ASSIGNERS: readonly string[] = ['quality_manager', 'general_manager'];

/** The roles that may assign tasks to others in `ir` (its `assigners:`, else the defaults it declares). */
export function assignersOf(ir: ProcedureIR): string[] {
  return ir.assigners ?? DEFAULT_ASSIGNERS.filter((r) => ir.roles[r]);
}

/** Leaf state path → the user id it is assigned to. */
export type Assignees = Record<string, string>;

/** The assignments in a machine context (none when it never had one). */
export function assigneesOf(context: Record<string, unknown>): Assignees {
  const value = context._assignees;
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Assignees) : {};
}

/** The dotted path of the state a transition is declared on, from its pointer (`/states/a/states/b/on/GO/0` → `a.b`). */
export function sourcePathOf(pointer: string): string {
  // RFC 6901 segments (inlined: `positions.ts` brings the YAML parser into the workflow bundle).
  const segments = pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const keys: string[] = [];
  for (let i = 0; i + 1 < segments.length && segments[i] === 'states'; i += 2) keys.push(segments[i + 1]!);
  return keys.join('.');
}

/** Why `actorId` may not send `type` by `transition` under the current assignments, or `undefined`. */
export function assignmentRefusal(
  ir: ProcedureIR,
  context: Record<string, unknown>,
  transition: TransitionIR | DelayedTransitionIR,
  type: string,
  actorId: string,
): Rejection | undefined {
  const source = sourcePathOf(transition.pointer);
  const node: StateIR | undefined = stateAt(ir, source);
  if (!node || Object.keys(node.states).length || node.assignment === 'none') return undefined;
  const assignee = assigneesOf(context)[source];
  if (assignee === undefined) {
    if (node.assignment !== 'required') return undefined;
    return {
      code: 'NOT_ASSIGNEE',
      message: `the task of state ${source} must be assigned before ${type} is sent: claim it, or ask a manager to assign it`,
      zh: `发送 ${type} 之前，状态 ${source} 的任务必须先分派：请领取，或请经理分派`,
    };
  }
  if (assignee === actorId) return undefined;
  return {
    code: 'NOT_ASSIGNEE',
    message: `the task of state ${source} is assigned to ${assignee}: only ${assignee} may send ${type} (or a manager may reassign it)`,
    zh: `状态 ${source} 的任务已分派给 ${assignee}：只有 ${assignee} 可以发送 ${type}（或由经理重新分派）`,
  };
}
