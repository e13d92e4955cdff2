/**
 * The worker's side of a commit written in the activation (`workflows/audit-commit.ts`, patch
 * `commit-in-activation`): the `custodiaCommit` sink. The SDK calls it after the workflow code of
 * an activation ran and awaits it before it hands the activation's completion to the Temporal core,
 * so the workflow task — and the update it answers — completes only once this returned.
 *
 * - **Never returns without the record.** The SDK only logs a sink that throws and completes the
 *   activation anyway, so a failed write is retried here (backoff from `initialDelayMs` doubling to
 *   `maxDelayMs`), each failure logged, until it is written: meanwhile the instance's workflow task
 *   is not completed (the server retries it after its timeout, and the write is idempotent by
 *   `(workflowId, seq)`), exactly as a local activity that keeps failing holds it.
 * - **In order.** The SDK runs an activation's sink calls concurrently; the commits of one instance
 *   are written one after the other, in the order the workflow made them (its audit chain).
 * - Not called while the SDK replays history (`callDuringReplay: false`): a replayed task's
 *   records were written before it completed.
 *
 * Every worker that runs the `procedure` workflow must register it (`createCustodiaWorker` does);
 * without it the SDK would drop the call with an error line.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { InjectedSinks } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import type { CommitSinks } from '../../workflows/audit-commit.ts';
import type { ProcedureActivities, TransitionCommit } from '../../workflows/api.ts';
import { log } from '../log.ts';

export interface CommitSinkOptions {
  /** First wait after a failed write (ms). */
  initialDelayMs?: number;
  /** Longest wait between attempts (ms). */
  maxDelayMs?: number;
}

/** The `custodiaCommit` sink over `commitTransition` (the activity's own function: same masking, metrics, effects). */
export function commitSinks(
  commitTransition: ProcedureActivities['commitTransition'],
  opts: CommitSinkOptions = {},
): InjectedSinks<CommitSinks> {
  const initialDelayMs = opts.initialDelayMs ?? 200;
  const maxDelayMs = opts.maxDelayMs ?? 10_000;
  // The last write queued per instance; removed when it is the last and done.
  const queues = new Map<string, Promise<void>>();

  const write = async (commit: TransitionCommit): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await commitTransition(commit);
        return;
      } catch (err) {
        const waitMs = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
        log().error(
          `audit commit of ${commit.workflowId} #${commit.record.seq} failed (attempt ${attempt}), ` +
            `retrying in ${waitMs} ms: ${err instanceof Error ? err.message : String(err)}`,
          { workflowId: commit.workflowId, seq: commit.record.seq, attempt },
        );
        await sleep(waitMs);
      }
    }
  };

  return {
    custodiaCommit: {
      commit: {
        fn: (info: WorkflowInfo, commit: TransitionCommit): Promise<void> => {
          const key = info.workflowId;
          const next = (queues.get(key) ?? Promise.resolve()).then(() => write(commit));
          queues.set(key, next);
          void next.then(() => {
            if (queues.get(key) === next) queues.delete(key);
          });
          return next;
        },
        callDuringReplay: false,
      },
    },
  };
}
