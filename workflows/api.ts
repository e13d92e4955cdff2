/**
 * The Temporal contract of the `procedure` workflow: names and payload types shared by the
 * workflow, the worker, the CLI and any client. Pure (imports only types and definers).
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Effect } from './core/compile.ts';
import type { Actor, EventInput, Json, ProcedureIR } from './core/ir.ts';
import type { InstanceState, PendingTimer, TransitionRecord } from './core/runtime.ts';
import type { StateValue } from 'xstate';

export const WORKFLOW_TYPE = 'procedure';
export const DEFAULT_TASK_QUEUE = 'custodia';

/** Input of the `procedure` workflow: the definition is pinned for the life of the instance. */
export interface ProcedureInput {
  ir: ProcedureIR;
  /** `hashProcedure(ir)`; checked by the workflow on first start. */
  hash: string;
  context: Record<string, Json>;
  starter: Actor;
  /** The instance (workflow id) that started this one, e.g. the visit that opened a violation case. */
  parent?: { workflowId: string; seq: number };
  /** Operational limits (defaults suit production; tests lower them). */
  limits?: { updatesPerRun?: number };
  /** Set on continue-as-new: everything the instance was. */
  carried?: CarriedState;
}

export interface CarriedState {
  state: InstanceState;
  log: TransitionRecord[];
  /** Transitions whose effects were not yet committed. */
  pending: TransitionCommit[];
  children: ChildLink[];
  runs: number;
}

/** A link to an instance this one started. */
export interface ChildLink {
  workflowId: string;
  procedure: string;
  seq: number;
}

/** What the `commitTransition` activity receives: one accepted transition and its effects. */
export interface TransitionCommit {
  workflowId: string;
  procedure: string;
  version: string;
  hash: string;
  client?: string;
  record: TransitionRecord;
  effects: Effect[];
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
  title: { zh: string; en: string };
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
  parent?: { workflowId: string; seq: number };
  runs: number;
}

export const eventUpdate = defineUpdate<EventResult, [EventInput]>('event');
export const snapshotQuery = defineQuery<ProcedureSnapshot>('snapshot');

export type { PendingTimer };

/** The activities the workflow calls (implemented in `worker/activities`). */
export interface ProcedureActivities {
  /**
   * Write the audit record of one transition and carry out its effects, idempotently by
   * `(workflowId, record.seq)`: a retry never duplicates a record, a notice or an instance.
   * Returns the instances it started.
   */
  commitTransition(commit: TransitionCommit): Promise<{ children: ChildLink[] }>;
}
