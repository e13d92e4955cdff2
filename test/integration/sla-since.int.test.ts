/**
 * The workflow keeps the entries a visibility row cannot tell (memo `CustodiaSlaSince`,
 * `workflows/core/sla-since.ts`), on the real dev server: staged_review's `review` (remind PT1H,
 * escalate PT2H) outlives its first stage, so once the instance is in the second stage the memo
 * holds the review's entry, the visibility list returns it with the row (both the SDK's list and
 * the raw page the stalled view reads), and the stalled view's next reminder counts the review's
 * points from the review's entry — not from the stage's, as it did (or not at all, before that).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../worker/config.ts';
import { getSnapshot } from '../../worker/instances.ts';
import { slaOfRow } from '../../worker/sla-rows.ts';
import { listPage, listRows } from '../../worker/visibility.ts';
import { eventually, sendEvent, startHarness, type Harness } from './harness.ts';
import { recordHistory } from './record-history.ts';

const reviewer = { id: 'rita', roles: ['reviewer'] };
const MIN = 60_000;

let h: Harness;
beforeAll(async () => {
  h = await startHarness([path.join(REPO_ROOT, 'test/fixtures/sla-parent')]);
});
afterAll(async () => {
  await h?.close();
});

describe('the stalled view’s next reminder sees a compound parent’s plan', () => {
  it('keeps the parent’s entry in the memo and counts its points from there', async () => {
    const id = await h.start('staged_review', { client: 'acme' }, { id: 'sam', roles: ['project_staff'] });
    const query = `WorkflowId = '${id}'`;
    // Entered together: nothing earlier than the leaf, no memo.
    const first = await eventually(async () => (await listRows(h.client, query))[0]);
    expect(first.slaSince).toBeUndefined();
    await sendEvent(h.client, id, { type: 'NEXT', actor: reviewer });
    const snap = await getSnapshot(h.client, id);
    const t0 = Date.parse(snap.log[0]!.at);
    expect(Date.parse(snap.stateSince)).toBeGreaterThan(t0);

    const row = await eventually(async () => {
      const r = (await listPage(h.client, query, 10)).rows[0];
      return r?.slaSince && r.state[0] === 'review.second_look' ? r : undefined;
    }, 10_000);
    expect(row.slaSince).toEqual({ review: new Date(t0).toISOString() });
    expect((await listRows(h.client, query))[0]!.slaSince).toEqual(row.slaSince);
    const def = h.definitions.get('staged_review');
    // Past the stage's reminder (its entry + 45 min): the review's, an hour after the review began.
    expect(slaOfRow(row, def, t0 + 50 * MIN)?.next).toEqual({
      kind: 'remind',
      state: 'review',
      at: new Date(t0 + 60 * MIN).toISOString(),
    });
    // Now, the workflow's own view (the snapshot's `sla`) and the row's agree.
    expect(slaOfRow(row, def, Date.now())?.next).toEqual(snap.sla?.next);

    await sendEvent(h.client, id, { type: 'APPROVE', actor: reviewer });
    await eventually(async () => (await getSnapshot(h.client, id)).done);
    await recordHistory(h.client, id, 'sla-since-staged-review');
  }, 60_000);
});
