/**
 * Benchmark only: `workflows/audit-commit.ts` as it was before the `commit-in-activation` patch —
 * every audit write a local activity (a second activation per transition and a marker event).
 * `npm run bench -- --before commit-in-activation` bundles the interpreter a second time with
 * this module in its place and runs it on a task queue of its own, so the same run shows the
 * interpreter before and after the patch.
 */
import { proxyLocalActivities } from '@temporalio/workflow';
import type { ProcedureActivities, TransitionCommit } from '../../workflows/api.ts';

export const PATCH_LOCAL_AUDIT = 'local-audit';
export const PATCH_REPORTS_REMOTE = 'reports-remote';
export const PATCH_COMMIT_IN_ACTIVATION = 'commit-in-activation';

const local = proxyLocalActivities<ProcedureActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
  localRetryThreshold: '10 seconds',
});

export function commitTransition(
  commit: TransitionCommit,
): ReturnType<ProcedureActivities['commitTransition']> {
  return local.commitTransition(commit);
}
