/**
 * Which way each commit takes (`workflows/audit-commit.ts`): a transition whose effects are all
 * written by the commit's own transaction (none, `notify`) is committed in the activation — no
 * activity task, no marker — and a `start` effect, whose result (the started instance) the
 * workflow keeps, goes through the local activity: one marker, still no activity task. Either way
 * an acknowledged event's audit record is already committed when the update returns — read your
 * writes, no waiting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import proto from '@temporalio/proto';
import { getSnapshot } from '../../worker/instances.ts';
import { sendEvent, startHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const { EventType } = proto.temporal.api.enums.v1;

describe('the audit write: in the activation, or a local activity for a start', () => {
  it('commits each record before its update is acknowledged, without activity tasks', async () => {
    const alice = { id: 'alice', roles: ['project_staff'] };
    const bob = { id: 'bob', roles: ['quality_manager'] };
    const id = await h.start('engine_review', { client: 'acme' }, alice);
    await sendEvent(h.client, id, { type: 'SUBMIT', actor: alice, data: { purpose: 'read your writes' } });
    // Read at once: the records of the start and of SUBMIT are there when the update returned.
    expect((await h.running.store.auditOf(id)).map((r) => [r.seq, r.body.event])).toEqual([
      [0, '$start'],
      [1, 'SUBMIT'],
    ]);
    // APPROVE notifies the client (an effect of the commit's own transaction).
    await sendEvent(h.client, id, { type: 'APPROVE', actor: bob, data: { window_hours: 4 } });
    expect((await h.running.store.auditOf(id)).map((r) => r.body.event)).toEqual([
      '$start',
      'SUBMIT',
      'APPROVE',
    ]);
    // REPORT_LOSS starts an instance: the local activity, whose result the snapshot shows.
    await sendEvent(h.client, id, { type: 'REPORT_LOSS', actor: bob });
    expect((await h.running.store.auditOf(id)).map((r) => r.body.event)).toEqual([
      '$start',
      'SUBMIT',
      'APPROVE',
      'REPORT_LOSS',
    ]);
    expect((await getSnapshot(h.client, id)).children.map((c) => c.procedure)).toEqual(['engine_case']);

    await h.client.workflow.getHandle(id).result();
    const events = (await h.client.workflow.getHandle(id).fetchHistory()).events ?? [];
    const count = (type: number): number => events.filter((e) => e.eventType === type).length;
    expect(count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toBe(0);
    expect(count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)).toBe(3);
    const markers = events
      .filter((e) => e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED)
      .map((e) => e.markerRecordedEventAttributes?.markerName);
    // One patch marker, the generation's (workflows/patches.ts: start-input, local-audit,
    // commit-in-activation, … without a marker each), and the local activity's of REPORT_LOSS.
    expect(markers.filter((m) => m === 'core_patch')).toHaveLength(1);
    expect(markers.filter((m) => m !== 'core_patch')).toEqual(['core_local_activity']);
  });
});
