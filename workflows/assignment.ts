/**
 * The `assign` update of the `procedure` workflow (rules in `core/assignment.ts`), kept out of
 * the workflow file: the workflow installs it with {@link installAssignment} and asks
 * {@link assigneeAttribute} for `CustodiaAssignee`.
 *
 * Replay: histories recorded before assignment existed have no `assign` update and no
 * `_assignees` in their context, so nothing here runs for them; the handler marks its first use
 * with `patched('assignment')` (through this run's `Patches`).
 */
import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import type { Patches } from './patches.ts';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { CompiledProcedure } from './core/compile.ts';
import type { Actor } from './core/ir.ts';
import type { Rejection } from './core/rejections.ts';
import {
  applyAssignment,
  assigneeList,
  assigneesOf,
  resolveAssignment,
  type AssignInput,
} from './core/assignment.ts';
import type { InstanceState, TransitionRecord } from './core/runtime.ts';
import { applyReminder, remindRefusal, type RemindInput, type RemindResult } from './core/reminder.ts';
import type { Effect } from './core/actions/index.ts';
import { FAILURE_TYPES, assignUpdate, remindUpdate, type AssignResult } from './api.ts';
import { CustodiaAssignee } from './search-attributes.ts';

/** Patch id of assignment (marks histories that have one). */
export const PATCH_ASSIGNMENT = 'assignment';

export interface AssignmentHooks {
  /** This run's patches (`patches.ts`). */
  patches: Patches;
  proc: CompiledProcedure;
  state(): InstanceState;
  /** Take the new state and its record (log, audit commit with its effects, search attributes). */
  record(state: InstanceState, record: TransitionRecord, effects?: Effect[]): void;
  workflowId: string;
  /** The assertion check of the `event` update, for an actor and its assertion. */
  authenticate(assertion: unknown, now: number): (actor: Actor) => Rejection | undefined;
}

/** Register the `assign` update handler and its validator. */
export function installAssignment(h: AssignmentHooks): void {
  // Only the validator authenticates: validators do not run on replay, and the keys a worker
  // trusts are in no history (as for the `event` update).
  const resolve = (input: AssignInput, now?: number) =>
    resolveAssignment(
      h.proc,
      h.state(),
      input,
      now === undefined ? undefined : (actor, assertion) => h.authenticate(assertion, now)(actor),
    );
  setHandler(
    assignUpdate,
    (input: AssignInput): AssignResult => {
      h.patches.has(PATCH_ASSIGNMENT);
      const now = Date.now();
      const out = resolve(input);
      // The validator accepted it just now; nothing can have run in between.
      if ('rejection' in out)
        throw ApplicationFailure.nonRetryable(
          out.rejection.message,
          FAILURE_TYPES.assignmentRejected,
          out.rejection.code,
        );
      const a = out.assignment;
      const changed = a.from !== a.to;
      if (changed) {
        const next = applyAssignment(h.proc, h.state(), a, input.actor, now);
        h.record(next.state, next.record);
      }
      const state = h.state();
      return { ...a, changed, seq: state.seq, assignees: { ...assigneesOf(state.context) } };
    },
    {
      validator: (input: AssignInput): void => {
        const out = resolve(input, Date.now());
        if ('rejection' in out)
          throw ApplicationFailure.nonRetryable(
            out.rejection.message,
            FAILURE_TYPES.assignmentRejected,
            out.rejection.code,
          );
      },
    },
  );
}

/** Register the `remind` update (a manager's reminder from the stalled view). */
export function installReminder(h: AssignmentHooks): void {
  const refuse = (r: Rejection): never => {
    throw ApplicationFailure.nonRetryable(r.message, FAILURE_TYPES.assignmentRejected, r.code);
  };
  setHandler(
    remindUpdate,
    (input: RemindInput): RemindResult => {
      h.patches.has(PATCH_ASSIGNMENT);
      const r = remindRefusal(h.proc, h.state(), input);
      if (r) refuse(r);
      const out = applyReminder(h.proc, h.state(), input.actor, h.workflowId, Date.now());
      h.record(out.state, out.record, out.effects);
      return out.result;
    },
    {
      validator: (input: RemindInput): void => {
        const now = Date.now();
        const r = remindRefusal(h.proc, h.state(), input, (actor, assertion) =>
          h.authenticate(assertion, now)(actor),
        );
        if (r) refuse(r);
      },
    },
  );
}

/** `CustodiaAssignee` once the instance has had an assignment (null: nobody now). */
export function assigneeAttribute(state: InstanceState): SearchAttributeUpdatePair | undefined {
  if (state.context._assignees === undefined) return undefined;
  const list = assigneeList(state);
  return { key: CustodiaAssignee, value: list.length ? list : null };
}
