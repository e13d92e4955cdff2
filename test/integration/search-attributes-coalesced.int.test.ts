/**
 * Search attributes coalesced (patch `coalesce-search-attributes`, `SEARCH_ATTRIBUTES_EVERY_MS`),
 * on the real dev server with the benchmark's review loop (test/bench/bench-review.yaml): a change
 * after a quiet second is in the instance's search attributes when its event is answered; a burst
 * of transitions upserts them at most about once a second, and the last change is there a second
 * later; the `searchAttributes` query answers them as they will be meanwhile; the instance closes
 * with its final attributes, and no workflow task failed on the way. A new instance records one
 * patch marker (workflows/patches.ts).
 */
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../worker/config.ts';
import { searchAttributesQuery } from '../../workflows/api.ts';
import {
  CustodiaAwaiting,
  CustodiaState,
  SEARCH_ATTRIBUTES_EVERY_MS,
} from '../../workflows/search-attributes.ts';
import { eventTypeName, eventually, sendEvent, startHarness, type Harness } from './harness.ts';
import { recordHistory } from './record-history.ts';

const staff = { id: 'sam', roles: ['project_staff'] };
const manager = { id: 'quinn', roles: ['quality_manager'] };
const SUBMIT = { type: 'SUBMIT', actor: staff, data: { summary: 'the summary' } };
const RETURN = { type: 'RETURN', actor: manager, data: { comment: 'again' } };
const APPROVE = { type: 'APPROVE', actor: manager };

let h: Harness;
beforeAll(async () => {
  h = await startHarness([path.join(REPO_ROOT, 'test/bench')]);
}, 60_000);
afterAll(async () => {
  await h?.close();
});

/** The instance's search attributes as the server holds them. */
async function attributes(id: string): Promise<{ state?: string[]; awaiting?: string[]; status: string }> {
  const d = await h.client.workflow.getHandle(id).describe();
  const state = d.typedSearchAttributes.get(CustodiaState);
  const awaiting = d.typedSearchAttributes.get(CustodiaAwaiting);
  return { status: d.status.name, ...(state ? { state } : {}), ...(awaiting ? { awaiting } : {}) };
}

/** The event types of the instance's history, by name without the prefix. */
async function eventTypes(id: string): Promise<{ type: string }[]> {
  const history = await h.client.workflow.getHandle(id).fetchHistory();
  return (history.events ?? []).map((e) => ({
    type: eventTypeName(e),
  }));
}

describe('search attributes coalesced', () => {
  it('a change after a quiet second is in the search attributes when its event is answered', async () => {
    const id = await h.start('bench_review', { client: 'acme' }, staff);
    await eventually(async () => (await attributes(id)).state?.[0] === 'drafting');
    await delay(SEARCH_ATTRIBUTES_EVERY_MS + 200);
    await sendEvent(h.client, id, SUBMIT);
    expect(await attributes(id)).toMatchObject({ state: ['reviewing'], awaiting: ['quality_manager'] });
    // A new instance records one patch marker (the generation, workflows/patches.ts), and the
    // SDK's one upsert of TemporalChangeVersion beside it: not one of each per patch.
    const events = await eventTypes(id);
    expect(events.filter((e) => e.type === 'MARKER_RECORDED')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES')).toHaveLength(3);
  });

  it('a burst upserts about once a second, ends with the last change, and closes with the final one', async () => {
    const id = await h.start('bench_review', { client: 'acme' }, staff);
    await eventually(async () => (await attributes(id)).state?.[0] === 'drafting');
    const t0 = Date.now();
    // 21 transitions as fast as they are answered, ending in review.
    for (let k = 0; k < 10; k++) {
      await sendEvent(h.client, id, SUBMIT);
      await sendEvent(h.client, id, RETURN);
    }
    await sendEvent(h.client, id, SUBMIT);
    const burstMs = Date.now() - t0;
    // Meanwhile the query answers what the attributes will be.
    expect(await h.client.workflow.getHandle(id).query(searchAttributesQuery)).toMatchObject({
      CustodiaState: ['reviewing'],
      CustodiaAwaiting: ['quality_manager'],
    });
    // Within about a second, the server has them.
    const seen = await eventually(async () => {
      const a = await attributes(id);
      return a.state?.[0] === 'reviewing' && Date.now();
    }, 10_000);
    expect(seen - t0 - burstMs).toBeLessThan(SEARCH_ATTRIBUTES_EVERY_MS + 3000);

    const running = await eventTypes(id);
    const upserts = running.filter((e) => e.type === 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES');
    // One at the start, then at most one a second (a second of slack for task timing).
    expect(upserts.length, `${upserts.length} upserts in ${burstMs} ms`).toBeLessThanOrEqual(
      2 + Math.ceil((burstMs + SEARCH_ATTRIBUTES_EVERY_MS) / SEARCH_ATTRIBUTES_EVERY_MS),
    );
    expect(upserts.length).toBeLessThan(21);

    // The approval closes it; its attributes say where it ended.
    const result = await sendEvent(h.client, id, APPROVE);
    expect(result.done).toBe(true);
    await h.client.workflow.getHandle(id).result();
    expect(await attributes(id)).toMatchObject({ status: 'COMPLETED', state: ['approved'] });
    const all = await eventTypes(id);
    expect(all.filter((e) => e.type === 'WORKFLOW_TASK_FAILED')).toEqual([]);
    await recordHistory(h.client, id, 'coalesce-search-attributes-burst');
  });
});
