/**
 * The interpreter workflow on the real Temporal dev server: updates, validation, timers,
 * effects, search attributes, continue-as-new.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { EventRejected, getSnapshot, instanceResult } from '../../worker/instances.ts';
import { listInstances } from '../../worker/visibility.ts';
import { recordDeployments } from '../../worker/process.ts';
import { hashProcedure } from '../../workflows/core/hash.ts';
import { eventually, historyLength, sendEvent, startHarness, type Harness } from './harness.ts';
import { recordHistory } from './record-history.ts';

const alice = { id: 'alice', roles: ['project_staff'] };
const bob = { id: 'bob', roles: ['quality_manager'] };
const carol = { id: 'carol', roles: ['project_staff'] };

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** Update-related events in an instance's history. */
async function updateEvents(workflowId: string): Promise<number> {
  const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
  const UPDATE_TYPES = new Set([41, 42, 43]); // UpdateAccepted, UpdateRejected, UpdateCompleted
  return (history.events ?? []).filter((e) => UPDATE_TYPES.has(Number(e.eventType))).length;
}

async function refusal(workflowId: string, event: Parameters<typeof sendEvent>[2]): Promise<EventRejected> {
  const err = await sendEvent(h.client, workflowId, event).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EventRejected);
  return err as EventRejected;
}

describe('procedure workflow', () => {
  it('runs a definition to its final state through updates, with parallel regions and effects', async () => {
    const id = await h.start('engine_review', { client: 'acme' }, alice);
    let r = await sendEvent(h.client, id, { type: 'SUBMIT', actor: alice, data: { purpose: 'audit prep' } });
    expect(r.state).toBe('submitted');
    expect(r.available).toEqual([]); // alice submitted: she may not approve (SoD)

    r = await sendEvent(h.client, id, { type: 'APPROVE', actor: bob, data: { window_hours: 24 } });
    expect(r.state).toEqual({ checks: { a: 'pending', b: 'pending' } });
    expect(r.available).toEqual(['CHECK_B', 'REPORT_LOSS']);
    await sendEvent(h.client, id, { type: 'CHECK_A', actor: carol });
    await sendEvent(h.client, id, { type: 'CHECK_B', actor: bob });

    const snap = await getSnapshot(h.client, id);
    expect(snap.context).toMatchObject({ client: 'acme', approver: 'bob', window_hours: 24 });
    expect(snap.log.map((l) => [l.seq, l.event, l.actor.id])).toEqual([
      [0, '$start', 'alice'],
      [1, 'SUBMIT', 'alice'],
      [2, 'APPROVE', 'bob'],
      [3, 'CHECK_A', 'carol'],
      [4, 'CHECK_B', 'bob'],
    ]);
    expect(snap.log[2]).toMatchObject({ from: ['submitted'], to: ['checks.a.pending', 'checks.b.pending'] });

    // The parallel state's regions both reached final, but `checks` itself is not final:
    // the instance waits there; REPORT_LOSS is still possible.
    expect(snap.leaves).toEqual(['checks.a.ok', 'checks.b.ok']);
    await recordHistory(h.client, id, 'engine-review-parallel');

    // Effects were committed by the activity: audit records, the record and the notice.
    const audit = await eventually(async () => {
      const rows = await h.running.store.auditOf(id);
      return rows.length === 5 && rows;
    });
    expect(audit.map((a) => a.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(audit[2]).toMatchObject({ actorId: 'bob', body: { event: 'APPROVE', clauses: ['4.2.2'] } });
    const notices = await h.running.store.notificationsOf(id);
    expect(notices).toEqual([{ seq: 2, recipient: 'client', en: 'Request approved' }]);
  });

  it('refuses events before anything enters history, with the reason', async () => {
    const id = await h.start('engine_review', { client: 'acme' }, alice);
    await sendEvent(h.client, id, { type: 'SUBMIT', actor: alice, data: { purpose: 'audit prep' } });
    // `submitted` has timers (they add history on their own): count update events there.
    const updatesBefore = await updateEvents(id);

    expect((await refusal(id, { type: 'APPROVE', actor: alice, data: { window_hours: 4 } })).code).toBe(
      'DUTY_CONFLICT',
    );
    expect((await refusal(id, { type: 'REJECT', actor: carol })).code).toBe('ROLE_NOT_ALLOWED');
    expect((await refusal(id, { type: 'SUBMIT', actor: alice, data: { purpose: 'again' } })).code).toBe(
      'CANNOT_TAKE',
    );
    const bad = await refusal(id, { type: 'APPROVE', actor: bob, data: { window_hours: 'soon' } as never });
    expect(bad.code).toBe('INVALID_DATA');
    expect(bad.message).toContain('/window_hours');
    expect((await refusal(id, { type: 'APPROVE', actor: bob, data: { window_hours: 60 } })).code).toBe(
      'GUARD_FALSE',
    );
    expect((await refusal(id, { type: 'NOPE', actor: bob })).code).toBe('UNKNOWN_EVENT');
    expect((await refusal(id, { type: 'APPROVE', actor: { id: '', roles: [] } })).code).toBe('BAD_ACTOR');
    expect(await updateEvents(id)).toBe(updatesBefore);
    expect((await getSnapshot(h.client, id)).log).toHaveLength(2);

    // In a state without timers, the whole history stays exactly as it was.
    await sendEvent(h.client, id, { type: 'APPROVE', actor: bob, data: { window_hours: 4 } });
    const before = await eventually(async () => {
      const n = await historyLength(h.client, id);
      await new Promise((r) => setTimeout(r, 300));
      return n === (await historyLength(h.client, id)) && n;
    });
    expect((await refusal(id, { type: 'CHECK_A', actor: bob })).code).toBe('ROLE_NOT_ALLOWED');
    expect((await refusal(id, { type: 'APPROVE', actor: bob, data: { window_hours: 4 } })).code).toBe(
      'CANNOT_TAKE',
    );
    expect((await refusal(id, { type: 'CHECK_A', actor: carol, data: { extra: 1 } })).code).toBe(
      'INVALID_DATA',
    );
    expect(await historyLength(h.client, id)).toBe(before);
    const snap = await getSnapshot(h.client, id);
    expect(snap.leaves).toEqual(['checks.a.pending', 'checks.b.pending']);
    expect(snap.log).toHaveLength(3);

    // And the instance still works.
    const r = await sendEvent(h.client, id, { type: 'REPORT_LOSS', actor: bob });
    expect(r).toMatchObject({ state: 'lost', done: true });
    await expect(h.client.workflow.getHandle(id).result()).resolves.toMatchObject({
      done: true,
      leaves: ['lost'],
    });
    await recordHistory(h.client, id, 'engine-review-refusals-and-child');
  });

  it('keeps search attributes current and lists instances by them', async () => {
    const id = await h.start('engine_review', { client: 'globex' }, alice);
    await sendEvent(h.client, id, { type: 'SUBMIT', actor: alice, data: { purpose: 'listing' } });
    const row = await eventually(async () => {
      const rows = await listInstances(h.client, {
        procedure: 'engine_review',
        state: 'submitted',
        client: 'globex',
      });
      return rows.find((r) => r.workflowId === id);
    });
    expect(row).toMatchObject({ procedure: 'engine_review', version: '1.0.0', client: 'globex' });
    expect(row.awaiting).toEqual(['project_staff', 'quality_manager']);
    expect(row.dueAt).toBeDefined();
    expect(Date.parse(row.dueAt!) - Date.parse(row.stateSince!)).toBe(3_600_000);
    const awaitingQm = await listInstances(h.client, {
      awaiting: 'quality_manager',
      procedure: 'engine_review',
    });
    expect(awaitingQm.map((r) => r.workflowId)).toContain(id);
  });

  it('fires delayed transitions as durable timers; a state left leaves none to fire', async () => {
    // Reminder after 2 s (re-enters `submitted`, re-arming both timers), then expiry 4 s later.
    const expiring = await h.start('engine_review', { client: 'acme' }, alice);
    await sendEvent(h.client, expiring, { type: 'SUBMIT', actor: alice, data: { purpose: 'will expire' } });
    const result = await instanceResult(h.client, expiring);
    expect(result.leaves).toEqual(['expired']);
    expect(result.context.reminders).toBe(1);
    expect(result.log.map((l) => l.event)).toEqual(['$start', 'SUBMIT', 'after PT2S', 'after PT4S']);
    expect(result.log[2]).toMatchObject({ actor: { id: 'timer' }, from: ['submitted'], to: ['submitted'] });
    await recordHistory(h.client, expiring, 'engine-review-timers');

    // Deciding in time leaves nothing pending: no reminder, no expiry afterwards. The run's one
    // wake (patch `lazy-timers`, workflows/timers.ts), due at the reminder's time, is not
    // cancelled: it fires, finds nothing due and starts no other (before the patch each timer
    // was cancelled, which this test counted).
    const decided = await h.start('engine_review', { client: 'acme' }, alice);
    const submitted = Date.now();
    await sendEvent(h.client, decided, { type: 'SUBMIT', actor: alice, data: { purpose: 'decided' } });
    await sendEvent(h.client, decided, { type: 'APPROVE', actor: bob, data: { window_hours: 2 } });
    expect((await getSnapshot(h.client, decided)).timers).toEqual([]);
    const timers = async () => {
      const events = (await h.client.workflow.getHandle(decided).fetchHistory()).events ?? [];
      const count = (type: number) => events.filter((e) => e.eventType === type).length;
      return { started: count(17), fired: count(18), cancelled: count(19) }; // TIMER_STARTED, _FIRED, _CANCELED
    };
    // Past the reminder's time, every timer the run started (the wake, and any burst window's
    // search-attribute upsert, at most 5 s after the start's) has fired: none was cancelled, none is left.
    await eventually(async () => {
      const t = await timers();
      return Date.now() - submitted > 2_500 && t.started === t.fired;
    }, 20_000);
    expect((await timers()).cancelled).toBe(0);
    const snap = await getSnapshot(h.client, decided);
    expect(snap.leaves).toEqual(['checks.a.pending', 'checks.b.pending']);
    expect(snap.timers).toEqual([]);
    expect(snap.log.map((l) => l.event)).toEqual(['$start', 'SUBMIT', 'APPROVE']);
  });

  it('starts a linked instance as an effect, once', async () => {
    const id = await h.start('engine_review', { client: 'initech' }, alice);
    await sendEvent(h.client, id, { type: 'SUBMIT', actor: alice, data: { purpose: 'lossy' } });
    await sendEvent(h.client, id, { type: 'APPROVE', actor: bob, data: { window_hours: 2 } });
    const r = await sendEvent(h.client, id, { type: 'REPORT_LOSS', actor: carol });
    expect(r).toMatchObject({ state: 'lost', done: true });
    const final = await instanceResult(h.client, id);
    expect(final.children).toEqual([
      { workflowId: `engine_case-from-${id}-3-1`, procedure: 'engine_case', seq: 3 },
    ]);
    const child = await getSnapshot(h.client, final.children[0]!.workflowId);
    expect(child).toMatchObject({
      procedure: 'engine_case',
      leaves: ['open'],
      context: { client: 'initech', reason: 'loss' },
      parent: { workflowId: id, seq: 3 },
    });
    expect(child.log[0]!.actor.id).toBe('carol');
    await sendEvent(h.client, final.children[0]!.workflowId, { type: 'CLOSE', actor: bob });
    await h.client.workflow.getHandle(final.children[0]!.workflowId).result();
    await recordHistory(h.client, final.children[0]!.workflowId, 'engine-case-child');
  });

  it('continues as new before the history limits, carrying state, log and timers', async () => {
    const def = h.definitions.get('engine_review')!;
    const id = `engine-can-${Date.now()}`;
    await h.client.workflow.start('procedure', {
      taskQueue: h.config.taskQueue,
      workflowId: id,
      args: [
        {
          ir: def.ir,
          hash: def.hash,
          context: { client: 'acme' },
          starter: alice,
          limits: { updatesPerRun: 2 },
        },
      ],
    });
    await sendEvent(h.client, id, { type: 'SUBMIT', actor: alice, data: { purpose: 'long one' } });
    await sendEvent(h.client, id, { type: 'APPROVE', actor: bob, data: { window_hours: 2 } });
    await eventually(async () => (await getSnapshot(h.client, id)).runs === 2);
    await sendEvent(h.client, id, { type: 'CHECK_A', actor: carol });
    const snap = await getSnapshot(h.client, id);
    expect(snap.runs).toBe(2);
    expect(snap.log.map((l) => l.event)).toEqual(['$start', 'SUBMIT', 'APPROVE', 'CHECK_A']);
    expect(snap.context._actors).toBeUndefined();
    // Separation of duties still holds in the new run (the actors were carried).
    expect(snap.available.quality_manager).toEqual(['CHECK_B', 'REPORT_LOSS']);
    const audit = await eventually(async () => {
      const rows = await h.running.store.auditOf(id);
      return rows.length === 4 && rows;
    });
    expect(audit.map((a) => a.seq)).toEqual([0, 1, 2, 3]);
    await recordHistory(h.client, id, 'engine-review-continued');
  });

  it('records the definitions it runs as immutable deployed versions', async () => {
    const versions = await h.running.store.definitionVersions('engine_review');
    expect(versions.map((v) => [v.version, v.hash])).toEqual([
      ['1.0.0', h.definitions.get('engine_review')!.hash],
    ]);
    expect(versions[0]!.yaml).toContain('id: engine_review');
    // Changed content under the same version is refused: a new version is needed.
    const def = h.definitions.get('engine_review')!;
    const changed = { ...def, ir: { ...def.ir, title: { zh: '改', en: 'changed' } } };
    changed.hash = hashProcedure(changed.ir);
    await expect(recordDeployments(h.running.store, [changed])).rejects.toThrow(/version/);
  });

  it('refuses a definition whose hash does not match', async () => {
    const def = h.definitions.get('engine_case')!;
    const handle = await h.client.workflow.start('procedure', {
      taskQueue: h.config.taskQueue,
      workflowId: `engine-badhash-${Date.now()}`,
      args: [{ ir: def.ir, hash: 'f'.repeat(64), context: { client: 'x' }, starter: alice }],
    });
    const err: unknown = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.message).toMatch(/definition hash mismatch/);
  });
});
