/**
 * A row changed through this process (`applyRow`, worker/view-index.ts) leaves the snapshot as a new
 * reading of the same rows would be: same rows in the same inbox order, same parsed times; and the
 * classification of failed view queries (`viewQueryFailure`, `viewQuery`, worker/visibility.ts).
 */
import { describe, expect, it } from 'vitest';
import { applyRow, snapshotOf, type Snapshot } from '../../worker/view-index.ts';
import {
  viewQuery,
  viewQueryFailure,
  ViewQueryUnavailable,
  type InstanceRow,
} from '../../worker/visibility.ts';

const BASE = Date.UTC(2026, 11, 7, 3, 0);
const t = (m: number): string => new Date(BASE + m * 60_000).toISOString();

/** A row with a due time and/or state entry picked by `seed` (some undated, some equal keys). */
function row(id: string, seed: number, assignee?: string): InstanceRow {
  const due = seed % 3 === 0 ? undefined : t(seed % 7);
  const since = seed % 5 === 0 ? undefined : t(seed % 4);
  return {
    workflowId: id,
    status: 'RUNNING',
    state: ['waiting'],
    awaiting: ['quality_manager'],
    overdue: false,
    ...(due ? { dueAt: due } : {}),
    ...(since ? { stateSince: since } : {}),
    ...(assignee ? { assignees: [assignee] } : {}),
  };
}

const view = (s: Snapshot) => ({
  ids: s.rows.map((r) => r.workflowId),
  rows: s.rows,
  due: [...s.dueMs],
  since: [...s.sinceMs],
  byId: [...s.byId.keys()].sort(),
});

describe('applyRow', () => {
  it('keeps the snapshot equal to a fresh reading of the same rows, change after change', () => {
    // A deterministic walk: assignments (same place), moves (new times), starts and ends.
    const id = (n: number): string => `i-${String(n).padStart(2, '0')}`;
    const rows = new Map<string, InstanceRow>();
    for (let i = 0; i < 60; i++) rows.set(id(i), row(id(i), i));
    const s = snapshotOf([...rows.values()], new Date(BASE), 1);
    let x = 7;
    const next = (): number => (x = (x * 1103515245 + 12345) % 2 ** 31);
    for (let step = 0; step < 400; step++) {
      const k = id(next() % 80);
      const kind = next() % 4;
      let r: InstanceRow | undefined;
      if (kind === 0)
        r = undefined; // closed
      else if (kind === 1 && rows.has(k)) r = { ...rows.get(k)!, assignees: [`u${next() % 3}`] };
      else r = row(k, next() % 50);
      applyRow(s, k, r);
      if (r) rows.set(k, r);
      else rows.delete(k);
      expect(view(s)).toEqual(view(snapshotOf([...rows.values()], new Date(BASE), 1)));
    }
  });

  it('replaces an assignment in place and drops a closed instance', () => {
    const s = snapshotOf([row('a', 1), row('b', 2), row('c', 4)], new Date(BASE), 1);
    const order = s.rows.map((r) => r.workflowId);
    applyRow(s, 'b', row('b', 2, 'rita'));
    expect(s.rows.map((r) => r.workflowId)).toEqual(order);
    expect(s.byId.get('b')?.assignees).toEqual(['rita']);
    applyRow(s, 'a', undefined);
    expect(s.rows.map((r) => r.workflowId)).toEqual(order.filter((id) => id !== 'a'));
    expect(s.dueMs.length).toBe(2);
    applyRow(s, 'nobody', undefined);
    expect(s.rows.length).toBe(2);
  });
});

/** An error shaped as the SDK's gRPC service errors are (code, details, metadata). */
function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
}

describe('viewQueryFailure', () => {
  it.each([
    ['deadline exceeded', grpcError(4, 'deadline exceeded'), 'retry'],
    ['the namespace "not found" (NOT_FOUND)', grpcError(5, 'Namespace default is not found.'), 'retry'],
    [
      'the SDK’s NamespaceNotFoundError',
      Object.assign(new Error("Namespace not found: 'default'"), { name: 'NamespaceNotFoundError' }),
      'retry',
    ],
    [
      'NOT_FOUND as the SDK’s WorkflowNotFoundError',
      Object.assign(new Error('Namespace default is not found.'), { name: 'WorkflowNotFoundError' }),
      'retry',
    ],
    [
      'wrapped (a ServiceError’s cause)',
      new Error('Failed to count workflows', { cause: grpcError(5, 'Namespace default is not found.') }),
      'retry',
    ],
    ['unavailable (the SDK retried)', grpcError(14, 'connection refused'), 'unavailable'],
    ['resource exhausted (the SDK retried)', grpcError(8, 'rate limit'), 'unavailable'],
    ['an instance not found', grpcError(5, 'workflow not found for ID: x'), undefined],
    [
      'an instance not found (SDK)',
      Object.assign(new Error('workflow not found for ID: x'), { name: 'WorkflowNotFoundError' }),
      undefined,
    ],
    ['a bad query', grpcError(3, 'invalid query'), undefined],
    ['a bad page token (UNKNOWN)', grpcError(2, 'bad token'), undefined],
    ['anything else', new TypeError('x is undefined'), undefined],
  ] as const)('%s: %s', (_name, err, kind) => {
    expect(viewQueryFailure(err)).toBe(kind);
  });
});

describe('viewQuery', () => {
  it('tries a transient failure again after each pause, then gives up as ViewQueryUnavailable', async () => {
    let calls = 0;
    const err = await viewQuery(() => {
      calls++;
      return Promise.reject(grpcError(5, 'Namespace default is not found.'));
    }, [1, 1, 1]).catch((e: unknown) => e);
    expect(calls).toBe(4);
    expect(err).toBeInstanceOf(ViewQueryUnavailable);
    expect((err as Error).message).toMatch(/Namespace default is not found.*after 4 tries/);
  });

  it('answers once a try succeeds; never repeats what is not transient, nor what the SDK retried', async () => {
    let calls = 0;
    const ok = await viewQuery(() => {
      calls++;
      return calls < 3 ? Promise.reject(grpcError(4, 'deadline')) : Promise.resolve(42);
    }, [1, 1, 1]);
    expect([ok, calls]).toEqual([42, 3]);

    calls = 0;
    const bad = grpcError(3, 'invalid query');
    await expect(
      viewQuery(() => {
        calls++;
        return Promise.reject(bad);
      }, [1, 1, 1]),
    ).rejects.toBe(bad);
    expect(calls).toBe(1);

    calls = 0;
    const down = await viewQuery(() => {
      calls++;
      return Promise.reject(grpcError(14, 'unavailable'));
    }, [1, 1, 1]).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(ViewQueryUnavailable);
    expect(calls).toBe(1);
  });
});
