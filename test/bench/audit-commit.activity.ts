/**
 * Benchmark only: `workflows/audit-commit.ts` as it was before the `local-audit` patch — the
 * audit write as a regular activity. `npm run bench` bundles the interpreter a second time with
 * this module in its place (webpack module replacement) and runs it on a task queue of its own,
 * so the same run shows the interpreter before and after the patch.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { ProcedureActivities, TransitionCommit } from '../../workflows/api.ts';

export const PATCH_LOCAL_AUDIT = 'local-audit';

const remote = proxyActivities<ProcedureActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export function commitTransition(
  commit: TransitionCommit,
): ReturnType<ProcedureActivities['commitTransition']> {
  return remote.commitTransition(commit);
}
