/**
 * How the `procedure` workflow commits an accepted transition (audit record + effects,
 * `commitTransition`): as a **local activity** since the patch `local-audit`, before it as a
 * regular activity.
 *
 * A local activity runs in the worker that runs the workflow task, inside that task: no
 * ActivityTaskScheduled/Started/Completed events and no second workflow task per transition
 * (a marker records its result). The workflow task that accepts an `event` update also commits
 * it: its completion — which carries the update's acceptance and result to the server — waits
 * for the local activity, so an update is acknowledged only once its audit record is committed.
 * If the worker dies before the task completes, nothing of it is in history: the server hands
 * the update (or the history up to it) to the next worker, which runs the handler and the commit
 * again; `commitTransition` is idempotent by `(workflowId, seq)`, so the record is written once.
 *
 * Histories recorded before the patch replay with the regular activity (`patched` is false on
 * them); running instances switch at their next commit.
 *
 * Except a commit with an effect that reports back to this instance (a register lookup, a
 * deployment: `reportsToInstance`, patch `reports-remote`): its executor sends an update to this
 * workflow, which only the next workflow task can take — a local activity holds the current one, so
 * the update waited until the task's heartbeat (~8 s). Such a commit is the regular activity.
 */
import { patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { ProcedureActivities, TransitionCommit } from './api.ts';
import { reportsToInstance } from './core/actions/index.ts';

/** Patch id: the audit write is a local activity. */
export const PATCH_LOCAL_AUDIT = 'local-audit';

/** Patch id: a commit whose effects report back to this instance is the regular activity. */
export const PATCH_REPORTS_REMOTE = 'reports-remote';

/** Every failure of commitTransition is worth retrying: its only typed one, ProcedureNotDeployed, heals when the procedure is deployed. */
const RETRY = { initialInterval: '1 second', maximumInterval: '1 minute' } as const;

const remote = proxyActivities<ProcedureActivities>({
  // One DB transaction (+ maybe a workflow start): a lost worker's attempt is retried after 10 s.
  startToCloseTimeout: '10 seconds',
  retry: RETRY,
});

const local = proxyLocalActivities<ProcedureActivities>({
  // One DB transaction (+ maybe a workflow start). An attempt that outlives the workflow task's
  // timeout keeps the task alive (the SDK heartbeats it); a lost worker's task times out and the
  // next worker commits again (idempotent).
  startToCloseTimeout: '10 seconds',
  retry: RETRY,
  // Retries wait in the worker up to this backoff, longer ones as a durable timer.
  localRetryThreshold: '10 seconds',
});

/** Commit one transition: a local activity under the patch, the regular activity on older histories. */
export function commitTransition(
  commit: TransitionCommit,
): ReturnType<ProcedureActivities['commitTransition']> {
  if (!patched(PATCH_LOCAL_AUDIT)) return remote.commitTransition(commit);
  if (commit.effects.some((e) => reportsToInstance(e.kind)) && patched(PATCH_REPORTS_REMOTE))
    return remote.commitTransition(commit);
  return local.commitTransition(commit);
}
