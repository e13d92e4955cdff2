/**
 * Search attributes coalesced (patches `coalesce-search-attributes` and
 * `search-attributes-burst-window`), on the real dev server with the benchmark's review loop
 * (test/bench/bench-review.yaml): a change after a quiet second is in the instance's search
 * attributes when its event is answered, a single change within a second of that by the second's
 * end; a burst of transitions upserts them once per burst window
 * (`SEARCH_ATTRIBUTES_BURST_MS`) — one timer, fired only when the burst outlasts it, cancelled when
 * the run ends first — and the last change is there by the window's end; the `searchAttributes`
 * query answers them as they will be meanwhile; the instance closes at once with its final
 * attributes, and no workflow task failed on the way. A new instance records one patch marker
 * (workflows/patches.ts).
 */
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../worker/config.ts';
import { searchAttributesQuery } from '../../workflows/api.ts';
import {
  CustodiaAwaiting,
  CustodiaState,
  SEARCH_ATTRIBUTES_BURST_MS,
  SEARCH_ATTRIBUTES_EVERY_MS,
} from '../../workflows/search-attributes.ts';
import {
  eventually,
  historyEvents,
  sendEvent,
  startHarness,
  type Harness,
  type HistoryEvent,
} from './harness.ts';
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

/** The instance's history by event type (timer events with their timer). */
const eventTypes = (id: string): Promise<HistoryEvent[]> => historyEvents(h.client, id);

/** The coalescing timers among `events`, by what became of them. */
function coalescing(events: HistoryEvent[]): { started: number; fired: number; cancelled: number } {
  const count = (type: string): number => events.filter((e) => e.type === type && e.coalescing).length;
  return { started: count('TIMER_STARTED'), fired: count('TIMER_FIRED'), cancelled: count('TIMER_CANCELED') };
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

  it('a single change within a second of an upsert is there by that second’s end, not the window’s', async () => {
    const id = await h.start('bench_review', { client: 'acme' }, staff);
    await eventually(async () => (await attributes(id)).state?.[0] === 'drafting');
    // Right after the start's upsert: a person who starts an instance and acts on it at once sees
    // it in the instance list (a visibility query) a second later at most, not a burst window later.
    const t0 = Date.now();
    await sendEvent(h.client, id, SUBMIT);
    const seen = await eventually(
      async () => (await attributes(id)).state?.[0] === 'reviewing' && Date.now(),
    );
    expect(seen - t0).toBeLessThan(SEARCH_ATTRIBUTES_EVERY_MS + 1500);
    expect(coalescing(await eventTypes(id))).toEqual({ started: 1, fired: 1, cancelled: 0 });
  });

  it('a burst upserts once per window, ends with the last change, and closes with the final one', async () => {
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
    // By the burst window's end, the server has them.
    const seen = await eventually(async () => {
      const a = await attributes(id);
      return a.state?.[0] === 'reviewing' && Date.now();
    }, 15_000);
    expect(seen - t0 - burstMs).toBeLessThan(SEARCH_ATTRIBUTES_BURST_MS + 3000);

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
    await recordHistory(h.client, id, 'search-attributes-burst');
  });

  it('a paced burst upserts once per window after its first second, the window fires once the burst is over; the run closes at once', async () => {
    const id = await h.start('bench_review', { client: 'acme' }, staff);
    await eventually(async () => (await attributes(id)).state?.[0] === 'drafting');
    await delay(SEARCH_ATTRIBUTES_EVERY_MS + 200);
    // After a quiet second the first event is upserted at once, the next at that second's end; then
    // (the changes keep coming) the rest of a ~2.5 s burst waits for the window after that upsert.
    const t0 = Date.now();
    await sendEvent(h.client, id, SUBMIT);
    expect(await attributes(id)).toMatchObject({ state: ['reviewing'] });
    await sendEvent(h.client, id, RETURN);
    for (let k = 0; k < 4; k++) {
      await delay(300);
      await sendEvent(h.client, id, SUBMIT);
      await delay(300);
      await sendEvent(h.client, id, RETURN);
    }
    const burstMs = Date.now() - t0;
    const burst = await eventTypes(id);
    const upserts = (events: HistoryEvent[]): number =>
      events.filter((e) => e.type === 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES').length;
    if (burstMs < SEARCH_ATTRIBUTES_BURST_MS) {
      // The start's two upserts (its own, the SDK's beside the patch marker), the first event's and
      // the first second's end.
      expect(upserts(burst), `${burstMs} ms`).toBe(4);
      expect(coalescing(burst)).toEqual({ started: 2, fired: 1, cancelled: 0 });
    }
    // The query answers what the attributes will be.
    expect(await h.client.workflow.getHandle(id).query(searchAttributesQuery)).toMatchObject({
      CustodiaState: ['drafting'],
    });
    // The window's timer upserts the burst's last change, a window after the first second's upsert
    // (its firing is in the history before the task that upserts has completed: wait for that too).
    const seen = await eventually(async () => {
      const a = await attributes(id);
      const events = await eventTypes(id);
      const types = events.map((e) => e.type);
      return (
        a.state?.[0] === 'drafting' &&
        coalescing(events).fired === 2 &&
        types.lastIndexOf('WORKFLOW_TASK_COMPLETED') > types.lastIndexOf('TIMER_FIRED') &&
        Date.now()
      );
    }, 15_000);
    expect(seen - t0).toBeLessThan(SEARCH_ATTRIBUTES_EVERY_MS + SEARCH_ATTRIBUTES_BURST_MS + 3000);
    const fired = await eventTypes(id);
    expect(coalescing(fired)).toEqual({ started: 2, fired: 2, cancelled: 0 });
    expect(upserts(fired)).toBe(5);

    // A change right after an upsert, then the approval: the run closes in the approval's task —
    // the timer cancelled, the final state upserted — without waiting for it to fire.
    await delay(SEARCH_ATTRIBUTES_EVERY_MS + 200);
    await sendEvent(h.client, id, SUBMIT);
    await sendEvent(h.client, id, RETURN);
    await sendEvent(h.client, id, SUBMIT);
    const approved = Date.now();
    expect((await sendEvent(h.client, id, APPROVE)).done).toBe(true);
    await h.client.workflow.getHandle(id).result();
    expect(Date.now() - approved, 'closed without waiting for the timer').toBeLessThan(
      SEARCH_ATTRIBUTES_BURST_MS - 1000,
    );
    expect(await attributes(id)).toMatchObject({ status: 'COMPLETED', state: ['approved'] });
    const all = await eventTypes(id);
    expect(all.filter((e) => e.type === 'WORKFLOW_TASK_FAILED')).toEqual([]);
    expect(coalescing(all)).toEqual({ started: 3, fired: 2, cancelled: 1 });
    await recordHistory(h.client, id, 'search-attributes-burst-window');
  });
});
