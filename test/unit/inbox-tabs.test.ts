/**
 * The inbox's tabs as visibility clauses (`inboxClause`), and the bulk runner's bound on
 * concurrency, progress and a result per instance (`BulkJobs`).
 */
import { describe, expect, it } from 'vitest';
import { inboxClause } from '../../worker/inbox.ts';
import { BulkBusy, BulkJobs } from '../../worker/bulk.ts';

const rita = { id: 'rita', roles: ['reviewer', 'project_staff'] };

describe('inbox tabs', () => {
  it('assigned to me: my id in CustodiaAssignee', () => {
    expect(inboxClause('mine', rita)).toBe("CustodiaAssignee = 'rita'");
  });

  it('my roles — unassigned: awaiting one of my roles and nobody assigned', () => {
    expect(inboxClause('unassigned', rita)).toBe(
      "(CustodiaAwaiting IN ('reviewer', 'project_staff') AND CustodiaAssignee IS NULL)",
    );
  });

  it('all I can act on: either', () => {
    expect(inboxClause('all', rita)).toBe(
      "(CustodiaAssignee = 'rita' OR (CustodiaAwaiting IN ('reviewer', 'project_staff') AND CustodiaAssignee IS NULL))",
    );
  });

  it('without roles: only what is assigned to me; nothing unassigned', () => {
    const nobody = { id: 'nora', roles: [] };
    expect(inboxClause('all', nobody)).toBe("CustodiaAssignee = 'nora'");
    expect(inboxClause('unassigned', nobody)).toBe("WorkflowId = ''");
  });

  it('refuses ids a visibility query cannot hold', () => {
    expect(() => inboxClause('mine', { id: "o'brien", roles: [] })).toThrow(/quotes/);
    expect(() => inboxClause('mine', { id: 'a"b', roles: [] })).toThrow(/double quotes/);
  });
});

describe('bulk jobs', () => {
  it('runs every target at most `concurrency` at a time, with a result each and progress', async () => {
    const jobs = new BulkJobs({ concurrency: 3 });
    let active = 0;
    let peak = 0;
    const ids = Array.from({ length: 20 }, (_, i) => `wf-${i}`);
    const job = jobs.start('bob', 'reassign', ids, async (id) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      active--;
      if (id === 'wf-7') throw new Error('boom');
      return id === 'wf-3'
        ? { workflowId: id, ok: false, code: 'ASSIGNMENT_CONFLICT', message: 'held by rita' }
        : { workflowId: id, ok: true };
    });
    expect(job.total).toBe(20);
    expect(job.done).toBeLessThan(20);
    while (!job.finishedAt) await new Promise((r) => setTimeout(r, 5));
    expect(peak).toBe(3);
    expect(job).toMatchObject({ done: 20, ok: 18, refused: 2 });
    expect(new Set(job.results.map((r) => r.workflowId))).toEqual(new Set(ids));
    expect(job.results.find((r) => r.workflowId === 'wf-7')).toMatchObject({
      code: 'FAILED',
      message: 'boom',
    });
    expect(jobs.get(job.id, 'bob')).toBe(job);
    expect(jobs.get(job.id, 'rita')).toBeUndefined();
  });

  it('refuses more running jobs than allowed', () => {
    const jobs = new BulkJobs({ maxRunning: 1 });
    jobs.start('bob', 'remind', ['a'], () => new Promise(() => {}));
    expect(() =>
      jobs.start('bob', 'remind', ['b'], () => Promise.resolve({ workflowId: 'b', ok: true })),
    ).toThrow(BulkBusy);
  });
});
