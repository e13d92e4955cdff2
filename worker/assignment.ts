/**
 * Client-side assignment (the `assign` update): who the assignee is in the directory, the signed
 * argument, sending it. Shared by the HTTP API (one instance or many from the stalled view) and
 * `custodia assign`.
 *
 * The directory is asked here, not in the workflow (which cannot read it): an unknown or disabled
 * assignee is refused before the update is sent; the assignee's roles go to the engine signed
 * (`assigneeAssertion`), so it checks qualification and separation of duties against what the
 * directory said.
 */
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  FAILURE_TYPES,
  assignUpdate,
  remindUpdate,
  type AssignInput,
  type AssignResult,
  type RemindResult,
} from '../workflows/api.ts';
import type { Actor } from '../workflows/core/ir.ts';
import { EVENT_ASSERTION_TTL_MS, type ActorSigner } from './actor-keys.ts';
import { canonicalUserId } from './records/identity.ts';
import type { RecordsStore, User } from './records/types.ts';

/** An assignment the engine (or the directory) refused; `code` is a rejection code or one below. */
export class AssignmentRejected extends Error {
  override name = 'AssignmentRejected';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** Refusals made before the engine is asked: the assignee is not a user who can act. */
export const DIRECTORY_REFUSALS = ['ASSIGNEE_UNKNOWN', 'ASSIGNEE_DISABLED'] as const;

/** The directory user `id` names, enabled; else `AssignmentRejected` saying which. */
export async function directoryAssignee(store: RecordsStore, id: string): Promise<User> {
  const user = await store.getUser(canonicalUserId(id));
  if (!user) throw new AssignmentRejected(`no user "${id}" in the directory`, 'ASSIGNEE_UNKNOWN');
  if (user.disabled)
    throw new AssignmentRejected(`user "${user.id}" is disabled and can take no task`, 'ASSIGNEE_DISABLED');
  return user;
}

/**
 * The `assign` argument signed for `actor` on `workflowId`; when the assignee is someone else,
 * with their roles (`assignee`, as the directory has them) signed too.
 */
export function signedAssignment(
  signer: ActorSigner,
  workflowId: string,
  req: { state?: string; assignee: string | null; actor: Actor },
  assignee?: Actor,
): AssignInput {
  const opts = { workflowId, ttlMs: EVENT_ASSERTION_TTL_MS };
  const input: AssignInput = {
    ...(req.state !== undefined ? { state: req.state } : {}),
    assignee: req.assignee,
    actor: req.actor,
    assertion: signer.sign(req.actor, opts),
  };
  if (assignee && assignee.id !== req.actor.id) {
    input.assigneeRoles = [...assignee.roles];
    input.assigneeAssertion = signer.sign(assignee, opts);
  }
  return input;
}

/** Send the `assign` update; a refusal throws `AssignmentRejected` with the engine's code and reason. */
export function assignTask(client: Client, workflowId: string, input: AssignInput): Promise<AssignResult> {
  return refusalsAsErrors(() =>
    client.workflow.getHandle(workflowId).executeUpdate(assignUpdate, { args: [input] }),
  );
}

/** Send a manager's reminder (the `remind` update) signed for `actor`; refusals as for `assignTask`. */
export function remindTask(
  client: Client,
  signer: ActorSigner,
  workflowId: string,
  actor: Actor,
): Promise<RemindResult> {
  const assertion = signer.sign(actor, { workflowId, ttlMs: EVENT_ASSERTION_TTL_MS });
  return refusalsAsErrors(() =>
    client.workflow.getHandle(workflowId).executeUpdate(remindUpdate, { args: [{ actor, assertion }] }),
  );
}

async function refusalsAsErrors<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
      const code =
        err.cause.type === FAILURE_TYPES.assignmentRejected
          ? String(err.cause.details?.[0] ?? 'REJECTED')
          : (err.cause.type ?? 'REJECTED');
      throw new AssignmentRejected(err.cause.message, code);
    }
    throw err;
  }
}
