/**
 * `custodia_transitions_total` counts transitions — the start, accepted events, fired timers —
 * not the engine's assignment (`$assign`) and reminder (`$remind`) records, which change no state.
 * Through the real `commitTransition` activity over an in-memory embedded records store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@temporalio/client';
import { createProcedureActivities } from '../../worker/activities/procedure.activities.ts';
import { openEmbeddedStore, type RecordsStore } from '../../worker/records/store.ts';
import { transitions } from '../../worker/metrics.ts';
import { ASSIGN_EVENT } from '../../workflows/core/assignment.ts';
import { REMIND_EVENT } from '../../workflows/core/reminder.ts';
import type { TransitionCommit } from '../../workflows/api.ts';

let store: RecordsStore;
beforeAll(async () => {
  store = await openEmbeddedStore(null);
}, 60_000); // PGlite's first start: seconds, more on a loaded machine
afterAll(async () => {
  await store?.close();
});

const actor = { id: 'alice', roles: ['project_staff'] };
const commit = (event: string, seq: number): TransitionCommit => ({
  workflowId: 'count-1',
  procedure: 'count_review',
  version: '1.0.0',
  hash: 'count-hash',
  record: {
    seq,
    event,
    actor,
    from: ['drafting'],
    to: ['drafting'],
    clauses: [],
    at: new Date(seq * 1000).toISOString(),
  },
  effects: [],
});

describe('custodia_transitions_total', () => {
  it('counts the start, events and timers, not assignments or reminders', async () => {
    // No effects here, so the client is never used (it connects lazily).
    const { commitTransition } = createProcedureActivities({
      store,
      client: new Client(),
      taskQueue: 'count',
      definition: () => undefined,
    });
    const events = ['$start', 'SUBMIT', ASSIGN_EVENT, 'after PT2S', REMIND_EVENT, 'APPROVE'];
    const count = (event: string): number => transitions.get({ procedure: 'count_review', event });
    const before = events.map(count);
    for (const [i, event] of events.entries()) await commitTransition(commit(event, i + 1));
    expect((await store.auditOf('count-1')).map((r) => r.body.event)).toEqual(events);
    expect(events.map((e, i) => count(e) - before[i]!)).toEqual([1, 1, 0, 1, 0, 1]);
  });
});
