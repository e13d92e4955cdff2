/**
 * The shapes clients read, as pure types with no Temporal import: the `event` update's result, the
 * `snapshot` query's answer, an instance row of the lists, a transition record, a refusal. The
 * worker, the CLI and the UI all import them from here (`api.ts` re-exports them beside the
 * Temporal definitions), so the UI never keeps a copy that can drift.
 */
import type { StateValue } from 'xstate';
import type { EventInput, Json, Text } from './core/ir.ts';
import type { AssignAct, TaskView } from './core/assignment.ts';
import type { TransitionRecord } from './core/runtime.ts';

export type { Actor, EventInput, JsonSchema, Text } from './core/ir.ts';
export type { AssignAct, AssignInput, TaskView } from './core/assignment.ts';
export type { Rejection, RejectionCode } from './core/rejections.ts';
export type { TransitionRecord };

/**
 * Argument of the `event` update (contract): the event, and beside its actor the assertion that
 * signs it (`workflows/core/assertion.ts`) — issued by the API for the signed-in user, by
 * `custodia send`, or by `custodia token` for any other Temporal client. The engine refuses an
 * actor it cannot verify (`BAD_ACTOR`).
 */
export interface SignedEventInput extends EventInput {
  assertion?: string;
}

/** A link to an instance this one started. */
export interface ChildLink {
  workflowId: string;
  procedure: string;
  seq: number;
  /** The instance was not started: why (its start input refused). No instance has `workflowId`. */
  failed?: string;
}

/** An instance this one called (`call:` of a state) and waited for: a child workflow. */
export interface CallLink {
  /** The calling state. */
  state: string;
  workflowId: string;
  procedure: string;
  /** The transition that entered the calling state. */
  seq: number;
  status: 'running' | 'done' | 'failed' | 'cancelled';
  /** Its final state (done), or failed / cancelled. */
  outcome?: string;
  reason?: string;
}

/** Result of the `event` update (contract: at least `state` and `available`). */
export interface EventResult {
  state: StateValue;
  leaves: string[];
  seq: number;
  done: boolean;
  /** Event types this actor may send now. */
  available: string[];
}

/** Result of the `snapshot` query (contract). */
export interface ProcedureSnapshot {
  procedure: string;
  version: string;
  hash: string;
  title: Text;
  state: StateValue;
  leaves: string[];
  done: boolean;
  context: Record<string, Json>;
  available: Record<string, string[]>;
  awaiting: string[];
  stateSince: string;
  dueAt?: string;
  timers: { event: string; dueAt: string }[];
  log: TransitionRecord[];
  children: ChildLink[];
  /** The instances it called (`call:`), when any. */
  calls?: CallLink[];
  parent?: { workflowId: string; seq: number };
  runs: number;
  /** Active leaf state → the user its task is assigned to (contract). */
  assignees: Record<string, string>;
  /** Each active leaf that awaits someone: its assignment mode, roles, events and assignee. */
  tasks: TaskView[];
  /** Escalation level and next reminder (definitions with `sla: { remind | escalate }`). */
  sla?: SlaView;
}

/** Where an instance stands in its states' reminders and escalations (`workflows/sla.ts`). */
export interface SlaView {
  /** Highest escalation sent since the active states were entered (0: none). */
  level: number;
  /** The next reminder or escalation not yet sent, if any. */
  next?: { kind: 'remind' | 'escalate'; state: string; at: string; to?: string };
}

/** Result of the `assign` update. */
export interface AssignResult {
  /** The leaf state whose task it is. */
  state: string;
  /** Who held it before, who holds it now (null: nobody). */
  from: string | null;
  to: string | null;
  act: AssignAct;
  /** False when it was so already (nothing recorded). */
  changed: boolean;
  seq: number;
  assignees: Record<string, string>;
}

/** One instance in a list (from the search attributes: no history read). */
export interface InstanceRow {
  workflowId: string;
  status: string;
  procedure?: string;
  version?: string;
  client?: string;
  /** Active leaf states (`CustodiaState`). */
  state: string[];
  /** Roles that can act (`CustodiaAwaiting`). */
  awaiting: string[];
  stateSince?: string;
  dueAt?: string;
  overdue: boolean;
  /** Who the tasks are assigned to (`CustodiaAssignee`; absent: nobody). */
  assignees?: string[];
  /** Escalation level (`CustodiaEscalation`; absent or 0: not escalated). */
  escalation?: number;
  /**
   * Entry times of active states with `sla:` plans entered before `stateSince` (a compound parent
   * before its leaf; memo `CustodiaSlaSince`, `core/sla-since.ts`); absent: none.
   */
  slaSince?: Record<string, string>;
}
