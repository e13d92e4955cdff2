/**
 * Activities of the `procedure` workflow. `commitTransition` writes one accepted transition's
 * audit record and carries out its effects, idempotently by `(workflowId, seq)`:
 * records and notifications are inserted with ON CONFLICT DO NOTHING in one transaction, and a
 * started instance has a deterministic workflow id with REJECT_DUPLICATE, so a retry finds it.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type {
  ChildLink,
  ProcedureActivities,
  ProcedureInput,
  TransitionCommit,
} from '../../workflows/api.ts';
import { WORKFLOW_TYPE } from '../../workflows/api.ts';
import type { LoadedDefinition } from '../definitions.ts';
import type { RecordsStore } from '../records/store.ts';
import { startSearchAttributes } from '../instances.ts';

export interface ActivityDeps {
  store: RecordsStore;
  client: Client;
  taskQueue: string;
  /** The deployed definitions, by procedure id (for `start` effects). */
  definition(id: string): LoadedDefinition | undefined;
}

export function createProcedureActivities(deps: ActivityDeps): ProcedureActivities {
  return {
    async commitTransition(commit: TransitionCommit) {
      const children: ChildLink[] = [];
      let idx = 0;
      for (const effect of commit.effects) {
        idx++;
        if (effect.kind !== 'start') continue;
        const def = deps.definition(effect.procedure);
        // Retryable on purpose: the instance must not fail; the start happens once it is deployed.
        // (Loading refuses definitions that start unknown procedures, so this is a deployment race.)
        if (!def)
          throw ApplicationFailure.retryable(
            `procedure "${effect.procedure}" (started by ${commit.procedure}) is not deployed on this worker`,
            'ProcedureNotDeployed',
          );
        const workflowId = `${effect.procedure}-from-${commit.workflowId}-${commit.record.seq}-${idx}`;
        const input: ProcedureInput = {
          ir: def.ir,
          hash: def.hash,
          context: effect.input,
          starter: commit.record.actor,
          parent: { workflowId: commit.workflowId, seq: commit.record.seq },
        };
        try {
          await deps.client.workflow.start(WORKFLOW_TYPE, {
            taskQueue: deps.taskQueue,
            workflowId,
            args: [input],
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            typedSearchAttributes: startSearchAttributes(def.ir, effect.input),
          });
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        }
        children.push({ workflowId, procedure: effect.procedure, seq: commit.record.seq });
      }
      await deps.store.commit(commit, children);
      return { children };
    },
  };
}
