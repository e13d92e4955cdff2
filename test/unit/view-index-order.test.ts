/**
 * The view index's snapshot (worker/view-index.ts): its rows come sorted once in the inbox's order
 * (times parsed once per row), the same order as `inboxOrder`; and the refresh's queries.
 */
import { describe, expect, it } from 'vitest';
import { changedSince, inboxOrder, snapshotOf } from '../../worker/view-index.ts';
import type { InstanceRow } from '../../worker/visibility.ts';

const row = (workflowId: string, dueAt?: string, stateSince?: string): InstanceRow => ({
  workflowId,
  status: 'RUNNING',
  state: ['waiting'],
  awaiting: ['quality_manager'],
  overdue: false,
  ...(dueAt ? { dueAt } : {}),
  ...(stateSince ? { stateSince } : {}),
});

describe('snapshotOf', () => {
  it('sorts in inbox order — due first (earliest first), then undated by state entry, then id — and parses times once', () => {
    const t = (m: number): string => new Date(Date.UTC(2026, 11, 7, 3, m)).toISOString();
    const rows = [
      row('u-late', undefined, t(30)),
      row('d-2b', t(2), t(1)),
      row('u-none'),
      row('d-9', t(9), t(0)),
      row('d-2a', t(2), t(5)),
      row('u-early', undefined, t(10)),
      row('d-1', t(1)),
    ];
    const expected = [...rows].sort(inboxOrder).map((r) => r.workflowId);
    expect(expected).toEqual(['d-1', 'd-2a', 'd-2b', 'd-9', 'u-early', 'u-late', 'u-none']);
    const s = snapshotOf([...rows].reverse(), new Date(), 5);
    expect(s.rows.map((r) => r.workflowId)).toEqual(expected);
    expect(s.dueMs[0]).toBe(Date.parse(t(1)));
    expect(Number.isNaN(s.dueMs[6]!)).toBe(true);
    expect(s.sinceMs[4]).toBe(Date.parse(t(10)));
    expect(s.fullAt).toBe(s.at);
  });

  it('agrees with inboxOrder on many rows with ties', () => {
    const rows = Array.from({ length: 2000 }, (_, i) =>
      row(
        `w-${(i * 7919) % 2000}`,
        i % 3 ? new Date(Date.UTC(2026, 0, 1, 0, (i * 31) % 50)).toISOString() : undefined,
        i % 5 ? new Date(Date.UTC(2026, 0, 1, 0, (i * 17) % 40)).toISOString() : undefined,
      ),
    );
    const expected = [...rows].sort(inboxOrder).map((r) => r.workflowId);
    expect(snapshotOf([...rows], new Date(), 0).rows.map((r) => r.workflowId)).toEqual(expected);
  });
});

describe('changedSince', () => {
  it('asks for the instances closed since, and those running that started or moved since', () => {
    const since = new Date('2026-12-07T03:00:00.000Z');
    const { closed, running } = changedSince(since, new Date('2026-12-07T03:02:00.000Z'));
    expect(closed).toBe(
      "WorkflowType = 'procedure' AND ExecutionStatus != 'Running' AND CloseTime >= '2026-12-07T03:00:00.000Z'",
    );
    expect(running).toBe(
      "WorkflowType = 'procedure' AND ExecutionStatus = 'Running' AND CustodiaStateSince >= '2026-12-07T03:00:00.000Z'",
    );
  });
});
