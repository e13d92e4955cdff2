/**
 * Benchmark only (`test/bench/visibility-cost.ts`): the raw update of `raw.workflow.ts`, plus, by
 * `mode`, what a Custodia transition adds on the server's side besides the audit write — the
 * search-attribute upsert of a state change (the four attributes that change on every transition
 * of bench-review.yaml: state, awaited roles, state entry, due time) and/or the P2D timer started
 * on entering `reviewing` and cancelled on leaving it.
 */
import {
  CancellationScope,
  condition,
  isCancellation,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { eventUpdate, type EventResult } from '../../workflows/api.ts';
import {
  CustodiaAwaiting,
  CustodiaDueAt,
  CustodiaState,
  CustodiaStateSince,
} from '../../workflows/search-attributes.ts';

export const VISIBILITY_COST_WORKFLOW_TYPE = 'visibilityCost';

/** What each update does besides answering. */
export type VisibilityCostMode = 'raw' | 'search-attributes' | 'timer' | 'both';

const NEXT: Record<string, string> = { SUBMIT: 'reviewing', RETURN: 'drafting', APPROVE: 'approved' };
const DAY_MS = 86_400_000;

export async function visibilityCost(mode: VisibilityCostMode): Promise<number> {
  let state = 'drafting';
  let seq = 0;
  let timer: CancellationScope | undefined;
  setHandler(eventUpdate, (event): EventResult => {
    state = NEXT[event.type] ?? state;
    seq++;
    if (mode === 'search-attributes' || mode === 'both')
      upsertSearchAttributes([
        { key: CustodiaState, value: [state] },
        { key: CustodiaAwaiting, value: [state === 'reviewing' ? 'quality_manager' : 'project_staff'] },
        { key: CustodiaStateSince, value: new Date() },
        { key: CustodiaDueAt, value: state === 'reviewing' ? new Date(Date.now() + DAY_MS) : null },
      ]);
    if (mode === 'timer' || mode === 'both') {
      if (state === 'reviewing') {
        const scope = new CancellationScope();
        timer = scope;
        scope
          .run(() => sleep(2 * DAY_MS))
          .catch((err: unknown) => {
            if (!isCancellation(err)) throw err;
          });
      } else {
        timer?.cancel();
        timer = undefined;
      }
    }
    return { state, leaves: [state], seq, done: state === 'approved', available: [] };
  });
  await condition(() => state === 'approved');
  return seq;
}
