/**
 * The Temporal contract of the `procedure` workflow: names and payload types shared by the
 * workflow, the worker, the CLI and any client. Pure (imports only types and definers). The
 * shapes clients read without Temporal (the UI) are in `contract.ts`, re-exported here.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Effect } from './core/actions/index.ts';
import type { Actor, Json, ProcedureIR } from './core/ir.ts';
import type { BusinessCalendar } from './core/calendar.ts';
import type { InstanceState, PendingTimer, TransitionRecord } from './core/runtime.ts';
import type { AssignInput } from './core/assignment.ts';
import type { RemindInput, RemindResult } from './core/reminder.ts';
import type { AttributeValues } from './search-attributes.ts';
import type {
  AssignResult,
  CallLink,
  ChildLink,
  EventResult,
  ProcedureSnapshot,
  SignedEventInput,
} from './contract.ts';

export type { RemindInput, RemindResult } from './core/reminder.ts';
export type {
  AssignInput,
  AssignResult,
  CallLink,
  ChildLink,
  EventResult,
  InstanceRow,
  ProcedureSnapshot,
  Rejection,
  RejectionCode,
  SignedEventInput,
} from './contract.ts';

export const WORKFLOW_TYPE = 'procedure';

/**
 * Type names of the failures the workflow and its activities raise: clients classify them by this
 * name (`ApplicationFailure.type`), never by `instanceof` across the sandbox.
 */
export const FAILURE_TYPES = {
  /** The pinned definition does not hash to its hash, or does not compile: the instance cannot run. */
  definition: 'DefinitionError',
  /** The start input does not match the declared context (`InputError` in `runtime.ts`). */
  input: 'InputError',
  /** The update validator refused an event; the failure's details are `[RejectionCode, Chinese message]`. */
  eventRejected: 'EventRejected',
  /** The `assign` validator refused an assignment; details `[RejectionCode]`. */
  assignmentRejected: 'AssignmentRejected',
  /** A `start` effect names a procedure this worker has not deployed (retried until it is). */
  procedureNotDeployed: 'ProcedureNotDeployed',
} as const;

export type FailureType = (typeof FAILURE_TYPES)[keyof typeof FAILURE_TYPES];

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
  /**
   * The business calendar working days (`P2WD`) are counted in, pinned at start like the IR
   * (present when the definition counts in working days; `worker/calendars.ts`).
   */
  calendar?: BusinessCalendar;
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
  /** The instances it called so far (`call:`; none running at continue-as-new). */
  calls?: CallLink[];
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
  /**
   * The texts of the instance's `sensitive: true` fields (core/start-fields.ts), which the activity
   * masks in everything it writes; absent when the definition has none.
   */
  sensitive?: string[];
}

export const eventUpdate = defineUpdate<EventResult, [SignedEventInput]>('event');
export const snapshotQuery = defineQuery<ProcedureSnapshot>('snapshot');
/**
 * The search attributes as the instance is now, which its next upsert sets: they may lag it by up
 * to `SEARCH_ATTRIBUTES_EVERY_MS` (`search-attributes.ts`). Asked by the view index for an instance
 * this process just changed.
 */
export const searchAttributesQuery = defineQuery<AttributeValues>('searchAttributes');
/** Assign an active state's task to a person, or leave it unassigned (contract, `core/assignment.ts`). */
export const assignUpdate = defineUpdate<AssignResult, [AssignInput]>('assign');
/** A manager's reminder to the roles the active tasks await (`core/reminder.ts`). */
export const remindUpdate = defineUpdate<RemindResult, [RemindInput]>('remind');

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
