/**
 * The activity of called procedures (`workflows/call.ts`): the callee's current deployed version,
 * recorded in the caller's history so the child it starts is the same on every replay.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { FAILURE_TYPES } from '../../workflows/api.ts';
import type { CallActivities } from '../../workflows/call.ts';
import type { ActivityDeps } from './effects.ts';

export function createCallActivities(deps: Pick<ActivityDeps, 'definition'>): CallActivities {
  return {
    resolveCallee(procedure: string) {
      const def = deps.definition(procedure);
      // Not retried: the caller takes its on_failed (deploy refuses calls to unknown procedures,
      // so this is a procedure withdrawn since).
      if (!def)
        return Promise.reject(
          ApplicationFailure.nonRetryable(
            `procedure "${procedure}" is not deployed on this worker`,
            FAILURE_TYPES.procedureNotDeployed,
          ),
        );
      return Promise.resolve({ ir: def.ir, hash: def.hash });
    },
  };
}
