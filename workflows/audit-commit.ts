/**
 * How the `procedure` workflow commits an accepted transition (audit record + effects,
 * `commitTransition`). Three ways, newest first:
 *
 * **In the activation** (patch `commit-in-activation`), for a commit whose effects are all written
 * by the commit's own records-store transaction (`inCommitTransaction`: named records,
 * notifications — and a commit without effects). The workflow hands the commit to the worker
 * through the `custodiaCommit` sink; the worker writes it after the workflow code of the
 * activation ran and before it returns the activation's completion to the Temporal core — the SDK
 * awaits sink calls first (`Worker.processSinkCalls`, in the activation's `finally`). So the
 * workflow task's completion, which carries the update's acceptance and result to the server, is
 * sent only once the record is committed: an acknowledged event's record is always there (read
 * your writes). The worker's sink retries a failed write until it succeeds (it never lets the
 * activation complete without the record; `worker/activities/commit-sink.ts`). If the worker dies
 * before the task completes, nothing of it is in history: the next worker runs the task again and
 * writes again; the write is idempotent by `(workflowId, seq)`. A replayed task makes no sink call
 * (the SDK drops them while replaying history): its record was written before it completed.
 * Compared with a local activity: one activation per transition instead of two (the local
 * activity's result needs a second one) and no marker event.
 *
 * **A local activity** (patch `local-audit`), for the other commits: it runs in the worker inside
 * the workflow task, whose completion waits for it; a marker records its result (the instances a
 * `start` effect started). Except a commit with an effect that reports back to this instance (a
 * register lookup, a deployment: `reportsToInstance`, patch `reports-remote`): its executor sends
 * an update to this workflow, which only the next workflow task can take — a local activity holds
 * the current one — so such a commit is **the regular activity**, as every commit was on histories
 * recorded before `local-audit` (`patched` is false on them: they replay as they ran).
 */
import { proxyActivities, proxyLocalActivities, proxySinks, type Sinks } from '@temporalio/workflow';
import type { Patches } from './patches.ts';
import type { ChildLink, ProcedureActivities, TransitionCommit } from './api.ts';
import { inCommitTransaction, reportsToInstance } from './core/actions/index.ts';

/** Patch id: the audit write is a local activity. */
export const PATCH_LOCAL_AUDIT = 'local-audit';

/** Patch id: a commit whose effects report back to this instance is the regular activity. */
export const PATCH_REPORTS_REMOTE = 'reports-remote';

/** Patch id: a commit whose effects are all in its own transaction is written in the activation. */
export const PATCH_COMMIT_IN_ACTIVATION = 'commit-in-activation';

/** The sink through which the worker writes a commit before the activation completes. */
export interface CommitSinks extends Sinks {
  custodiaCommit: {
    /** Write `commit` (audit record and in-transaction effects); the worker retries until it is written. */
    commit(commit: TransitionCommit): void;
  };
}

/** What a commit returns to the workflow: the instances its `start` effects started. */
export interface CommitResult {
  children: ChildLink[];
}

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

const { custodiaCommit } = proxySinks<CommitSinks>();

const NOTHING_STARTED: CommitResult = Object.freeze({ children: [] }) as CommitResult;

/**
 * Which way `commit` goes on this history: the patches are asked in the order older histories
 * recorded their markers (`local-audit`, `reports-remote` for a reporting effect, then
 * `commit-in-activation` for a commit written in its own transaction).
 */
function routeOf(commit: TransitionCommit, patches: Patches): 'remote' | 'local' | 'activation' {
  if (!patches.has(PATCH_LOCAL_AUDIT)) return 'remote';
  if (commit.effects.some((e) => reportsToInstance(e.kind)) && patches.has(PATCH_REPORTS_REMOTE))
    return 'remote';
  if (commit.effects.every((e) => inCommitTransaction(e.kind)) && patches.has(PATCH_COMMIT_IN_ACTIVATION))
    return 'activation';
  return 'local';
}

/**
 * Hand `commit` to the worker to be written in this activation, if it may be (every effect in its
 * own transaction, and the patches on this history): true when handed over. The workflow calls it
 * directly as it accepts a transition with no earlier commit pending, once the main loop has
 * written one commit this way in the run (so the patches are first decided where older histories
 * recorded their markers) — then the main loop does not even wake for the commit.
 */
export function commitInActivation(commit: TransitionCommit, patches: Patches): boolean {
  if (routeOf(commit, patches) !== 'activation') return false;
  custodiaCommit.commit(commit);
  return true;
}

/**
 * Commit one transition. Written in the activation: returns at once (no promise, so no await and
 * no further activation); otherwise the promise of the local or regular activity.
 */
export function commitTransition(
  commit: TransitionCommit,
  patches: Patches,
): CommitResult | Promise<CommitResult> {
  const route = routeOf(commit, patches);
  if (route === 'remote') return remote.commitTransition(commit);
  if (route === 'local') return local.commitTransition(commit);
  custodiaCommit.commit(commit);
  return NOTHING_STARTED;
}
