/**
 * The view index's change feed over a real (embedded, in-memory) records store: which instances
 * have transition records after a chain position, with the margin before it, bounded
 * (worker/records/changed-instances.ts, worker/view-index-changes.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransitionCommit } from '../../workflows/api.ts';
import { chainHead, instancesChangedAfter } from '../../worker/records/changed-instances.ts';
import { openStore } from '../../worker/records/store.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import { ChangeFeed } from '../../worker/view-index-changes.ts';

let store: RecordsStore;

const commitOf = (workflowId: string, seq: number, at: Date, event = 'REVIEW'): TransitionCommit => ({
  workflowId,
  procedure: 'p',
  version: '1',
  hash: 'h',
  record: {
    seq,
    at: at.toISOString(),
    event,
    actor: { id: 'a', roles: [] },
    from: ['s'],
    to: ['s'],
    clauses: [],
  },
  effects: [],
});

beforeAll(async () => {
  store = await openStore({ dataDir: null });
}, 60_000);

afterAll(async () => {
  await store?.close();
});

const OLD = new Date(Date.UTC(2020, 0, 1));

describe('instancesChangedAfter', () => {
  it('names the instances with records after a position, those within the margin before it, and says when there are too many', async () => {
    const read = (q: Parameters<typeof instancesChangedAfter>[1]) =>
      store.readOnly((db) => instancesChangedAfter(db, q));
    const recent = new Date();
    await store.commit(commitOf('old', 0, OLD), []);
    await store.commit(commitOf('recent', 0, recent), []);
    const mark = await store.readOnly((db) => chainHead(db));
    expect(mark).toBe(2);
    // After the mark: an assignment of `old`, a start, an admin act (no instance), an escalation.
    await store.commit(commitOf('old', 1, OLD, '$assign'), []);
    await store.commit(commitOf('new', 0, new Date()), []);
    await store.appendAdminRecord({ kind: 'admin', subject: 'user:x', actorId: 'a', body: { act: 'test' } });
    await store.commit(commitOf('new', 1, new Date(), '$sla'), []);

    const after = await read({ after: mark, since: new Date(), lookBack: 0, limit: 100 });
    expect(after.head).toBe(6);
    expect(after.ids.sort()).toEqual(['new', 'old']);
    expect(after.truncated).toBe(false);
    // The margin: before the mark, only records at or after `since` (`recent`, not `old`'s first).
    const margin = await read({
      after: mark,
      since: new Date(recent.getTime() - 1000),
      lookBack: 10,
      limit: 100,
    });
    expect(margin.ids.sort()).toEqual(['new', 'old', 'recent']);
    // A look-back of one position reaches `recent` (position 2) but not `old`'s (position 1).
    expect((await read({ after: mark, since: OLD, lookBack: 1, limit: 100 })).ids.sort()).toEqual([
      'new',
      'old',
      'recent',
    ]);
    // No look-back: nothing before the mark, however recent.
    expect((await read({ after: mark, since: OLD, lookBack: 0, limit: 100 })).ids.sort()).toEqual([
      'new',
      'old',
    ]);
    // Bounded: four records after the mark (the admin act counts), three asked for.
    expect((await read({ after: mark, since: new Date(), lookBack: 0, limit: 3 })).truncated).toBe(true);
    expect((await read({ after: mark, since: new Date(), lookBack: 0, limit: 4 })).truncated).toBe(false);
    // Nothing since the head.
    expect(await read({ after: 6, since: new Date(), lookBack: 0, limit: 100 })).toEqual({
      head: 6,
      ids: [],
      truncated: false,
    });
  });
});

describe('ChangeFeed', () => {
  it('says nothing before a head is committed, then what changed after it', async () => {
    const feed = new ChangeFeed(store, 1000);
    const now = new Date(Date.now() + 60_000);
    expect(await feed.since(now)).toBeUndefined();
    const head = await feed.head();
    feed.advance(head);
    expect(await feed.since(now)).toEqual({ ids: [], head });
    await store.commit(commitOf('later', 0, new Date()), []);
    // Read, but not advanced (the refresh failed): asked again from the same head.
    expect(await feed.since(now)).toEqual({ ids: ['later'], head: head + 1 });
    expect(await feed.since(now)).toEqual({ ids: ['later'], head: head + 1 });
    feed.advance(head + 1);
    expect(await feed.since(now)).toEqual({ ids: [], head: head + 1 });
  });
});
