/**
 * Called procedures on the real Temporal server (`test/fixtures/call/`): loan_application waits in
 * `checking` while a credit_check instance runs as its child workflow, and continues on its
 * outcome — approved (grade copied back), rejected, failed (its start input refused), cancelled by
 * someone; cancelling or terminating the caller cancels the callee (parent close policy
 * REQUEST_CANCEL). Each outcome is a transition of the caller: in its log and its audit.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSnapshot, instanceResult, startProcedure } from '../../worker/instances.ts';
import { REPO_ROOT } from '../../worker/config.ts';
import { eventually, startHarness, type Harness } from '../integration/harness.ts';
import { recordHistory } from '../integration/record-history.ts';
import { reaches, send } from './scenario.ts';
import type { CallLink } from '../../workflows/api.ts';

const olga = { id: 'olga', roles: ['officer'] };
const ann = { id: 'ann', roles: ['analyst'] };

let h: Harness;
beforeAll(async () => {
  h = await startHarness([path.join(REPO_ROOT, 'test/fixtures/call')]);
});
afterAll(async () => {
  await h?.close();
});

/** The caller's running call, once its child has started (and the child's snapshot). */
async function runningCall(id: string, n = 1): Promise<CallLink> {
  const link = await eventually(async () => {
    const snap = await getSnapshot(h.client, id);
    const calls = snap.calls ?? [];
    return calls.length === n && calls[n - 1]!.status === 'running' && calls[n - 1];
  });
  const child = await eventually(() => getSnapshot(h.client, link.workflowId));
  expect(child).toMatchObject({
    procedure: 'credit_check',
    leaves: ['checking'],
    parent: { workflowId: id },
  });
  return link;
}

const statusOf = async (id: string): Promise<string> =>
  (await h.client.workflow.getHandle(id).describe()).status.name;

describe('call: the caller waits for the called instance and continues on its outcome', () => {
  it('approved: the grade comes back, the outcome is a logged and audited transition', async () => {
    // The replay test runs a history under its file name as workflow id; the callee's id derives
    // from it, so this instance is started under that name.
    const id = await startProcedure(h.client, h.definitions.get('loan_application')!, {
      context: { applicant: 'Ann Lee', amount: 500 },
      starter: olga,
      taskQueue: h.config.taskQueue,
      workflowId: 'call-loan-approved',
    });
    const link = await runningCall(id);
    expect(link).toMatchObject({
      state: 'checking',
      procedure: 'credit_check',
      seq: 0,
      workflowId: `credit_check-called-by-${id}-checking-0`,
    });
    const child = await getSnapshot(h.client, link.workflowId);
    expect(child.context).toMatchObject({ applicant: 'Ann Lee', amount: 500 });
    // While it waits, the caller offers only what its calling state's own events allow.
    expect((await getSnapshot(h.client, id)).available).toEqual({ officer: ['WITHDRAW'] });

    await send(h, link.workflowId, { type: 'APPROVE', actor: ann, data: { grade: 'b' } });
    const snap = await reaches(h, id, 'offer');
    expect(snap.context).toMatchObject({ grade: 'b', outcome: 'offered', checks: 1 });
    expect(snap.calls).toEqual([{ ...link, status: 'done', outcome: 'approved' }]);
    expect(snap.log.at(-1)).toMatchObject({
      event: '$call/checking/done/approved',
      actor: { id: 'system' },
      from: ['checking'],
      to: ['offer'],
      data: { workflowId: link.workflowId, outcome: 'approved', output: { grade: 'b' } },
    });
    expect(await statusOf(link.workflowId)).toBe('COMPLETED');
    const audit = await eventually(async () => {
      const rows = await h.running.store.auditOf(id);
      return rows.some((r) => r.body.event === '$call/checking/done/approved') && rows;
    });
    expect(audit.map((r) => r.body.event)).toEqual(['$start', '$call/checking/done/approved']);
    expect(audit[1]).toMatchObject({ seq: 1, actorId: 'system', body: { to: ['offer'] } });

    await send(h, id, { type: 'SIGN', actor: olga });
    expect((await instanceResult(h.client, id)).state).toBe('signed');
    await recordHistory(h.client, id, 'call-loan-approved');
  });

  it('rejected: the caller declines', async () => {
    const id = await h.start('loan_application', { applicant: 'Bo', amount: 90 }, olga);
    const link = await runningCall(id);
    await send(h, link.workflowId, { type: 'REJECT', actor: ann });
    const result = await instanceResult(h.client, id);
    expect(result).toMatchObject({ state: 'declined', context: { outcome: 'declined' } });
  });

  it('failed: the callee refuses its start input; the caller reviews, calls again (a new instance), declines', async () => {
    const id = await h.start('loan_application', { applicant: 'Cy', amount: 0 }, olga);
    let snap = await reaches(h, id, 'manual_review');
    const first = snap.calls![0]!;
    expect(first).toMatchObject({ status: 'failed', outcome: 'failed' });
    expect(first.reason).toMatch(/start input rejected/);
    expect(await statusOf(first.workflowId)).toBe('FAILED');
    expect(snap.log.at(-1)).toMatchObject({ event: '$call/checking/failed', to: ['manual_review'] });

    await send(h, id, { type: 'RETRY', actor: olga });
    snap = await eventually(async () => {
      const s = await getSnapshot(h.client, id);
      return s.calls?.length === 2 && s.calls[1]!.status === 'failed' && s.leaves[0] === 'manual_review' && s;
    });
    expect(snap.calls![1]!.workflowId).toBe(`credit_check-called-by-${id}-checking-2`);
    await send(h, id, { type: 'DECLINE', actor: olga });
    expect((await instanceResult(h.client, id)).state).toBe('declined');
  });

  it('cancelled: someone cancels the called instance; the caller takes on_cancelled', async () => {
    const id = await h.start('loan_application', { applicant: 'Di', amount: 700 }, olga);
    const link = await runningCall(id);
    await h.client.workflow.getHandle(link.workflowId).cancel();
    const snap = await reaches(h, id, 'manual_review');
    expect(snap.calls![0]).toMatchObject({ status: 'cancelled', outcome: 'cancelled' });
    expect(snap.log.at(-1)).toMatchObject({
      event: '$call/checking/cancelled',
      data: { outcome: 'cancelled' },
    });
    expect(await statusOf(link.workflowId)).toBe('CANCELLED');
  });
});

describe('call: leaving the calling state or closing the caller cancels the called instance', () => {
  it('the caller leaves the calling state by an event: the callee is cancelled, no outcome is taken', async () => {
    const id = await h.start('loan_application', { applicant: 'Gus', amount: 300 }, olga);
    const link = await runningCall(id);
    await send(h, id, { type: 'WITHDRAW', actor: olga });
    const result = await instanceResult(h.client, id);
    expect(result.state).toBe('declined');
    expect(result.calls).toEqual([{ ...link, status: 'cancelled', reason: 'the calling state was left' }]);
    expect(result.log.map((r) => r.event)).toEqual(['$start', 'WITHDRAW']);
    await eventually(async () => (await statusOf(link.workflowId)) === 'CANCELLED');
  });

  it('the caller cancelled: the callee is cancelled too', async () => {
    const id = await h.start('loan_application', { applicant: 'Ed', amount: 300 }, olga);
    const link = await runningCall(id);
    await h.client.workflow.getHandle(id).cancel();
    await eventually(async () => (await statusOf(id)) === 'CANCELLED');
    await eventually(async () => (await statusOf(link.workflowId)) === 'CANCELLED');
  });

  it('the caller terminated (no workflow code runs): the server asks the callee to cancel', async () => {
    const id = await h.start('loan_application', { applicant: 'Flo', amount: 300 }, olga);
    const link = await runningCall(id);
    await h.client.workflow.getHandle(id).terminate('test: close policy');
    await eventually(async () => (await statusOf(link.workflowId)) === 'CANCELLED');
  });
});
