/**
 * The worker's `custodiaCommit` sink (`worker/activities/commit-sink.ts`), which writes a commit
 * in the workflow task's own activation: it never returns before the record is written (a failed
 * write is retried, each failure logged), writes one instance's commits in the order they were
 * made even though the SDK runs an activation's sink calls concurrently, and is not called while
 * the SDK replays history. Through the real `commitTransition` over an in-memory records store;
 * the failures are thrown in front of it, as a store that cannot be reached for a moment would.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Client } from '@temporalio/client';
import type { WorkflowInfo } from '@temporalio/workflow';
import { createProcedureActivities } from '../../worker/activities/procedure.activities.ts';
import { commitSinks } from '../../worker/activities/commit-sink.ts';
import { openEmbeddedStore, type RecordsStore } from '../../worker/records/store.ts';
import type { TransitionCommit } from '../../workflows/api.ts';

let store: RecordsStore;
beforeAll(async () => {
  store = await openEmbeddedStore(null);
}, 60_000); // PGlite's first start: seconds, more on a loaded machine
afterAll(async () => {
  await store?.close();
});

const actor = { id: 'alice', roles: ['project_staff'] };
const commitOf = (workflowId: string, seq: number, event: string): TransitionCommit => ({
  workflowId,
  procedure: 'sink_review',
  version: '1.0.0',
  hash: 'sink-hash',
  record: { seq, event, actor, from: ['a'], to: ['b'], clauses: [], at: new Date(seq * 1000).toISOString() },
  effects: [],
});
const infoOf = (workflowId: string): WorkflowInfo => ({ workflowId }) as WorkflowInfo;

function activities() {
  // No effects here, so the client is never used (it connects lazily).
  return createProcedureActivities({
    store,
    client: new Client(),
    taskQueue: 'sink',
    definition: () => undefined,
  });
}

describe('the commit sink', () => {
  it('is not called while the SDK replays history', () => {
    expect(commitSinks(activities().commitTransition).custodiaCommit.commit.callDuringReplay).toBe(false);
  });

  it("writes one instance's commits in the order they were made, though called concurrently", async () => {
    const { commitTransition } = activities();
    const order: number[] = [];
    // The first write is the slowest: without the queue the second would land first.
    const slowFirst: typeof commitTransition = async (c) => {
      if (c.record.seq === 0) await new Promise((r) => setTimeout(r, 150));
      const result = await commitTransition(c);
      order.push(c.record.seq);
      return result;
    };
    const sink = commitSinks(slowFirst).custodiaCommit.commit;
    await Promise.all([
      sink.fn(infoOf('sink-order'), commitOf('sink-order', 0, '$start')),
      sink.fn(infoOf('sink-order'), commitOf('sink-order', 1, 'SUBMIT')),
      sink.fn(infoOf('sink-order'), commitOf('sink-order', 2, 'APPROVE')),
    ]);
    expect(order).toEqual([0, 1, 2]);
    expect((await store.auditOf('sink-order')).map((r) => [r.seq, r.body.event])).toEqual([
      [0, '$start'],
      [1, 'SUBMIT'],
      [2, 'APPROVE'],
    ]);
  });

  it('does not return before the record is written: a failed write is retried and logged', async () => {
    const { commitTransition } = activities();
    let attempts = 0;
    // The store refuses the first two attempts (as a database that is restarting would).
    const flaky: typeof commitTransition = async (c) => {
      attempts++;
      if (attempts <= 2) throw new Error(`the records store is not reachable (attempt ${attempts})`);
      return commitTransition(c);
    };
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const sink = commitSinks(flaky, { initialDelayMs: 20, maxDelayMs: 40 }).custodiaCommit.commit;
      await sink.fn(infoOf('sink-retry'), commitOf('sink-retry', 0, '$start'));
      expect(attempts).toBe(3);
      expect((await store.auditOf('sink-retry')).map((r) => r.body.event)).toEqual(['$start']);
      const logged = errors.mock.calls.map((c) => String(c[0]));
      expect(logged.filter((l) => l.includes('audit commit of sink-retry #0 failed'))).toHaveLength(2);
    } finally {
      errors.mockRestore();
    }
  });

  it('writes a retried commit once (idempotent by workflow and seq)', async () => {
    const sink = commitSinks(activities().commitTransition).custodiaCommit.commit;
    await sink.fn(infoOf('sink-once'), commitOf('sink-once', 0, '$start'));
    await sink.fn(infoOf('sink-once'), commitOf('sink-once', 0, '$start'));
    expect(await store.auditOf('sink-once')).toHaveLength(1);
  });
});
