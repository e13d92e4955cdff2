/**
 * Assignment of a state's task to a named person: the pure rules of the `assign` update.
 *
 * - Per active leaf state (parallel regions have their own); the state may be left out when one
 *   leaf can be assigned.
 * - *claim* (assignee = actor) by a holder of an awaited role, when nobody else holds it;
 *   *unclaim* (null) by the assignee; *delegate* (to another) by the assignee; *assign* / take
 *   back / reassign by an assigner (`assigners:` of the definition, else {@link DEFAULT_ASSIGNERS}).
 * - The assignee must hold a role the state awaits and must not be barred by a separation-of-duties
 *   rule from any event of the state their roles could send (only the assignee sends them, so a
 *   barred assignee would leave the step undoable): refused at assignment, naming the rule.
 * - An accepted assignment is a record `$assign` in the instance log (seq like a transition, state
 *   unchanged, `data: {state, from, to, act}`), committed to the audit log like a transition.
 * - Assignments of states left for another are dropped after each transition
 *   ({@link withoutStaleAssignees}); re-entering the same state (a reminder loop) keeps it.
 *
 * Everything here is synchronous and pure: the workflow's update validator and handler call it.
 */
import { checkTransition, dutyConflict } from './acceptance.ts';
import { assigneesOf, assignersOf, type Assignees } from './assignment-rule.ts';
import type { CompiledProcedure } from './compile.ts';
import type { Actor, AssignmentMode, Json, StateIR } from './ir.ts';
import type { MachineEvent } from './machine-context.ts';
import { textIn } from './languages.ts';
import type { Rejection } from './rejections.ts';
import { leafPaths, type InstanceState, type TransitionRecord } from './runtime.ts';

export { DEFAULT_ASSIGNERS, assigneesOf, assignersOf, type Assignees } from './assignment-rule.ts';

/** The event type of an assignment's record in the instance log and the audit log. */
export const ASSIGN_EVENT = '$assign';

/** Argument of the `assign` update (contract `{ state?, assignee, actor }` plus assertions). */
export interface AssignInput {
  /** The active leaf state; optional when one leaf can be assigned. */
  state?: string;
  /** The user id to assign, or `null` to leave the task unassigned. */
  assignee: string | null;
  actor: Actor;
  /** The actor's assertion (as for `event`). */
  assertion?: string;
  /**
   * The assignee's roles, vouched for by `assigneeAssertion` (signed for the assignee by the API
   * from the directory, or `custodia token --as ASSIGNEE`); needed when the assignee is not the actor.
   */
  assigneeRoles?: string[];
  assigneeAssertion?: string;
}

/** What kind of act an accepted assignment is. */
export type AssignAct = 'claim' | 'unclaim' | 'delegate' | 'assign' | 'unassign';

/** One active leaf's task as the snapshot and the UI show it. */
export interface TaskView {
  state: string;
  /** `optional` when the definition says nothing. */
  assignment: AssignmentMode | 'optional';
  /** Roles that can act in this state now. */
  roles: string[];
  /** Events declared on this state that some role can send now. */
  events: string[];
  assignee?: string;
}

/** The leaf's task: which roles and events it awaits now (whoever it is assigned to). */
export function taskOf(proc: CompiledProcedure, state: InstanceState, leaf: string): TaskView {
  const node = proc.nodes.get(leaf);
  const roles = new Set<string>();
  const events = new Set<string>();
  for (const [type, list] of Object.entries(node?.on ?? {}))
    for (const role of Object.keys(proc.ir.roles)) {
      const event: MachineEvent = { type, actor: { id: '', roles: [role] } };
      const opts = { withoutData: true, anyAssignee: true };
      if (list.some((t) => !checkTransition(proc, state.context, event, t, opts))) {
        roles.add(role);
        events.add(type);
      }
    }
  const view: TaskView = {
    state: leaf,
    assignment: node?.assignment ?? 'optional',
    roles: [...roles].sort(),
    events: [...events].sort(),
  };
  const assignee = assigneesOf(state.context)[leaf];
  if (assignee !== undefined) view.assignee = assignee;
  return view;
}

/** The tasks of every active leaf that awaits someone. */
export function tasksOf(proc: CompiledProcedure, state: InstanceState): TaskView[] {
  if (state.done) return [];
  return leafPaths(proc, state.value)
    .map((leaf) => taskOf(proc, state, leaf))
    .filter((t) => t.roles.length > 0);
}

/** An accepted assignment, resolved: which leaf, from whom to whom, what act. */
export interface ResolvedAssignment {
  state: string;
  from: string | null;
  to: string | null;
  act: AssignAct;
}

/** Authenticates an actor (the workflow checks its assertion); undefined when it is who it says. */
export type Authenticate = (actor: Actor, assertion: unknown) => Rejection | undefined;

const refuse = (code: Rejection['code'], message: string, zh: string): { rejection: Rejection } => ({
  rejection: { code, message, zh },
});

/**
 * Why `input` may not be applied now, or the assignment it makes. Checks, in order: shape,
 * finished, the actor (authenticated), the state, the state's opt-out, who may make this
 * assignment, the assignee's roles (authenticated) and separation of duties.
 */
export function resolveAssignment(
  proc: CompiledProcedure,
  state: InstanceState,
  input: AssignInput,
  authenticate?: Authenticate,
): { rejection: Rejection } | { assignment: ResolvedAssignment } {
  const shape = input as Partial<AssignInput> | null | undefined;
  if (
    !shape ||
    typeof shape !== 'object' ||
    !(shape.assignee === null || (typeof shape.assignee === 'string' && shape.assignee !== '')) ||
    (shape.state !== undefined && typeof shape.state !== 'string')
  )
    return refuse(
      'BAD_ASSIGNMENT',
      'an assignment needs { state?, assignee: user id or null, actor }',
      '分派需要 { state?, assignee: 用户标识或 null, actor }',
    );
  if (state.done)
    return refuse(
      'INSTANCE_FINISHED',
      'this instance has finished; it has no tasks',
      '此实例已结束，没有待办任务',
    );
  const actor = shape.actor as Partial<Actor> | undefined;
  if (!actor || typeof actor.id !== 'string' || !actor.id || !Array.isArray(actor.roles))
    return refuse(
      'BAD_ACTOR',
      'an assignment needs an actor { id, roles[] }',
      '分派需要操作人 { id, roles[] }',
    );
  const unauthenticated = authenticate?.(actor as Actor, input.assertion);
  if (unauthenticated) return { rejection: unauthenticated };

  const tasks = tasksOf(proc, state);
  const leaves = leafPaths(proc, state.value);
  let task: TaskView | undefined;
  if (input.state !== undefined) {
    if (!leaves.includes(input.state))
      return refuse(
        'BAD_ASSIGNMENT',
        `${input.state} is not an active state of this instance; active: ${leaves.join(', ') || 'none'}`,
        `${input.state} 不是此实例当前的状态；当前：${leaves.join('、') || '无'}`,
      );
    task = tasks.find((t) => t.state === input.state);
    if (!task)
      return refuse(
        'ASSIGNMENT_NOT_ALLOWED',
        `nobody is awaited in state ${input.state}: no task to assign`,
        `状态 ${input.state} 不等待任何人：没有可分派的任务`,
      );
  } else {
    const assignable = tasks.filter((t) => t.assignment !== 'none');
    if (assignable.length !== 1)
      return refuse(
        'BAD_ASSIGNMENT',
        assignable.length
          ? `name the state: ${assignable.map((t) => t.state).join(', ')} can each be assigned`
          : `no active state of this instance can be assigned (active: ${leaves.join(', ') || 'none'})`,
        assignable.length
          ? `请指明状态：${assignable.map((t) => t.state).join('、')} 都可以分派`
          : `此实例当前没有可分派的状态（当前：${leaves.join('、') || '无'}）`,
      );
    task = assignable[0]!;
  }
  if (task.assignment === 'none')
    return refuse(
      'ASSIGNMENT_NOT_ALLOWED',
      `state ${task.state} opts out of assignment (assignment: none)`,
      `状态 ${task.state} 不使用分派（assignment: none）`,
    );

  const from = task.assignee ?? null;
  const to = input.assignee;
  const who = actor as Actor;
  const assigners = assignersOf(proc.ir);
  const isAssigner = who.roles.some((r) => assigners.includes(r));
  const act = actOf(who.id, from, to);
  // Asking for what already is: nothing changes (a repeated claim, a retry).
  if (from === to && (to === null || to === who.id || isAssigner))
    return { assignment: { state: task.state, from, to, act } };
  if (!isAssigner) {
    // Without an assigner's role: claim a free task, release or hand on one's own.
    if (act === 'claim' && from !== null)
      return refuse(
        'ASSIGNMENT_CONFLICT',
        `the task of state ${task.state} is already held by ${from}`,
        `状态 ${task.state} 的任务已由 ${from} 领取`,
      );
    if (act === 'assign' || act === 'unassign')
      return refuse(
        'ASSIGNMENT_NOT_ALLOWED',
        `only ${from ? `${from} (the assignee) or ` : ''}an assigner (${assigners.join(', ') || 'none declared'}) may give the task of state ${task.state} to someone else or take it away`,
        `只有${from ? `${from}（受派人）或` : ''}分派人（${assigners.join('、') || '未声明'}）可以把状态 ${task.state} 的任务交给他人或收回`,
      );
  }
  if (to === null) return { assignment: { state: task.state, from, to, act } };

  let roles: string[];
  if (to === who.id) roles = who.roles;
  else {
    if (!Array.isArray(input.assigneeRoles) || !input.assigneeRoles.every((r) => typeof r === 'string'))
      return refuse(
        'BAD_ASSIGNMENT',
        `assigning to ${to} needs their roles vouched for: send through the API, or pass "assigneeRoles" and "assigneeAssertion" from \`custodia token --as ${to} --workflow ID\``,
        `分派给 ${to} 需要其角色的证明：请通过 API 发送，或附上 \`custodia token --as ${to} --workflow ID\` 给出的 "assigneeRoles" 与 "assigneeAssertion"`,
      );
    roles = input.assigneeRoles;
    const unvouched = authenticate?.({ id: to, roles }, input.assigneeAssertion);
    if (unvouched)
      return refuse(
        'BAD_ASSIGNMENT',
        `the assignee's assertion does not hold: ${unvouched.message}`,
        `受派人的身份证明无效：${unvouched.zh}`,
      );
  }
  if (!roles.some((r) => task.roles.includes(r)))
    return refuse(
      'ASSIGNEE_NOT_QUALIFIED',
      `${to} (${roles.join(', ') || 'no role'}) holds none of the roles state ${task.state} awaits: ${task.roles.join(', ')}`,
      `${to}（${roles.join('、') || '无角色'}）不具有状态 ${task.state} 所等待的任何角色：${task.roles.join('、')}`,
    );
  const barred = dutyBar(proc, state, task.state, { id: to, roles });
  if (barred) return { rejection: barred };
  return { assignment: { state: task.state, from, to, act } };
}

function actOf(actorId: string, from: string | null, to: string | null): AssignAct {
  if (to === null) return from === actorId ? 'unclaim' : 'unassign';
  if (to === actorId) return 'claim';
  return from === actorId ? 'delegate' : 'assign';
}

/** The separation-of-duties refusal of `assignee` for an event of `leaf` their roles could send. */
function dutyBar(
  proc: CompiledProcedure,
  state: InstanceState,
  leaf: string,
  assignee: Actor,
): Rejection | undefined {
  const node: StateIR | undefined = proc.nodes.get(leaf);
  for (const [type, list] of Object.entries(node?.on ?? {})) {
    if (!list.some((t) => t.roles.some((r) => assignee.roles.includes(r)))) continue;
    const other = dutyConflict(proc.ir, state.context._actors, type, assignee.id);
    if (!other) continue;
    const rule = proc.ir.duties.find((d) => d.event === type && d.distinctFrom.includes(other));
    const en = textIn(rule?.message, 'en', proc.ir.languages);
    const zh = textIn(rule?.message, 'zh', proc.ir.languages);
    return {
      code: 'DUTY_CONFLICT',
      message: `separation of duties: ${type} must not come from whoever sent ${other}; ${assignee.id} sent ${other}, so ${assignee.id} may not be assigned state ${leaf}${en ? ` (${en})` : ''}`,
      zh: `职责分离：${type} 不得由发送 ${other} 的人发送；${assignee.id} 发送过 ${other}，因此不能被分派状态 ${leaf}${zh ? `（${zh}）` : ''}`,
    };
  }
  return undefined;
}

/** The instance after an accepted assignment, and its record (seq after the last). */
export function applyAssignment(
  proc: CompiledProcedure,
  state: InstanceState,
  a: ResolvedAssignment,
  actor: Actor,
  now: number,
): { state: InstanceState; record: TransitionRecord } {
  const assignees: Assignees = { ...assigneesOf(state.context) };
  if (a.to === null) delete assignees[a.state];
  else assignees[a.state] = a.to;
  const next: InstanceState = {
    ...state,
    context: { ...state.context, _assignees: assignees },
    seq: state.seq + 1,
  };
  const leaves = leafPaths(proc, state.value);
  const data: Record<string, Json> = { state: a.state, from: a.from, to: a.to, act: a.act };
  const record: TransitionRecord = {
    seq: next.seq,
    at: new Date(now).toISOString(),
    event: ASSIGN_EVENT,
    actor,
    from: leaves,
    to: leaves,
    clauses: [],
    data,
  };
  return { state: next, record };
}

/** `state` without assignments of leaves no longer active (itself when there are none to drop). */
export function withoutStaleAssignees(proc: CompiledProcedure, state: InstanceState): InstanceState {
  if (state.context._assignees === undefined) return state;
  const current = assigneesOf(state.context);
  const leaves = new Set(state.done ? [] : leafPaths(proc, state.value));
  const kept = Object.fromEntries(Object.entries(current).filter(([leaf]) => leaves.has(leaf)));
  if (Object.keys(kept).length === Object.keys(current).length) return state;
  return { ...state, context: { ...state.context, _assignees: kept } };
}

/** The distinct assignees of an instance (what `CustodiaAssignee` holds), sorted. */
export function assigneeList(state: InstanceState): string[] {
  return [...new Set(Object.values(assigneesOf(state.context)))].sort();
}
