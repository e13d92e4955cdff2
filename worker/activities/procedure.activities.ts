/**
 * Activities of the `procedure` workflow. `commitTransition` writes one accepted transition's
 * audit record and carries out its effects (`effects.ts`, one executor per kind), idempotently by
 * `(workflowId, seq)`: records and notifications are inserted with ON CONFLICT DO NOTHING in one
 * transaction, and a started instance has a deterministic workflow id with REJECT_DUPLICATE, so a
 * retry finds it. Each commit is timed (`custodia_audit_append_seconds`) and each transition
 * counted (`custodia_transitions_total`) in this process's metrics registry.
 */
import type { ChildLink, ProcedureActivities, TransitionCommit } from '../../workflows/api.ts';
import { auditAppendSeconds, transitions } from '../metrics.ts';
import { beforeCommit, type ActivityDeps } from './effects.ts';
import type { CallActivities } from '../../workflows/call.ts';
import { createCallActivities } from './call.activities.ts';
import { masked, maskedCommit } from '../sensitive/mask.ts';

export type { ActivityDeps } from './effects.ts';

export function createProcedureActivities(deps: ActivityDeps): ProcedureActivities & CallActivities {
  return {
    ...createCallActivities(deps),
    async commitTransition(received: TransitionCommit) {
      // The one place sensitive fields are masked (worker/sensitive/mask.ts): what is written and
      // logged is `commit`; only a linked start gets its input unmasked (the child masks its own).
      const commit = maskedCommit(received);
      const children: ChildLink[] = [];
      let index = 0;
      for (const effect of received.effects) {
        const child = await beforeCommit(effect, { commit, index: ++index, deps });
        if (child) children.push(masked(received, child));
      }
      // A procedure without a client field (definitions-level work): its notifications reach admins.
      const def = deps.definition(commit.procedure);
      const clientless = def !== undefined && !def.ir.clientField;
      await auditAppendSeconds.time({}, () => deps.store.commit(commit, children, { clientless }));
      // Counted once committed (a retry after a lost answer may count a transition twice).
      if (isTransition(commit.record.event))
        transitions.inc({ procedure: commit.procedure, event: commit.record.event });
      return { children };
    },
  };
}

/**
 * Whether a committed record is a transition: the start (`$start`), an accepted event, a fired
 * timer. The engine's other `$` records (an assignment `$assign`, a reminder `$remind`) change no
 * state: they are in the audit log, not in `custodia_transitions_total`.
 */
export function isTransition(event: string): boolean {
  return event === '$start' || !event.startsWith('$');
}
