/**
 * The audit write as a local activity (`workflows/audit-commit.ts`, patch `local-audit`): an
 * acknowledged event's audit record is already committed when the update returns — read your
 * writes, no waiting — and the history holds no activity task for it (a marker instead), so a
 * transition costs one workflow task.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import proto from '@temporalio/proto';
import { sendEvent, startHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const { EventType } = proto.temporal.api.enums.v1;

describe('audit write as a local activity', () => {
  it('commits the audit record before the update is acknowledged, without activity tasks', async () => {
    const alice = { id: 'alice', roles: ['project_staff'] };
    const bob = { id: 'bob', roles: ['quality_manager'] };
    const id = await h.start('engine_review', { client: 'acme' }, alice);
    await sendEvent(h.client, id, { type: 'SUBMIT', actor: alice, data: { purpose: 'read your writes' } });
    // Read at once: the records of the start and of SUBMIT are there when the update returned.
    expect((await h.running.store.auditOf(id)).map((r) => [r.seq, r.body.event])).toEqual([
      [0, '$start'],
      [1, 'SUBMIT'],
    ]);
    await sendEvent(h.client, id, { type: 'REJECT', actor: bob });
    expect((await h.running.store.auditOf(id)).map((r) => r.body.event)).toEqual([
      '$start',
      'SUBMIT',
      'REJECT',
    ]);

    await h.client.workflow.getHandle(id).result();
    const events = (await h.client.workflow.getHandle(id).fetchHistory()).events ?? [];
    const count = (type: number): number => events.filter((e) => e.eventType === type).length;
    expect(count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toBe(0);
    expect(count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)).toBe(2);
    // One marker per committed record (3), one per patch (start-input, local-audit, upsert-changed-…).
    expect(count(EventType.EVENT_TYPE_MARKER_RECORDED)).toBe(6);
  });
});
