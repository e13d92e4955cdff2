/**
 * A commit written in the workflow task's own activation (`workflows/audit-commit.ts`, patch
 * `commit-in-activation`; the worker's sink `worker/activities/commit-sink.ts`). What the product
 * relies on, shown on a real server and worker:
 * - the update is not acknowledged while its audit record is not written — the SDK hands the
 *   activation's completion to the server only after the sink returned (held here: the write
 *   waits on a gate); once it is written the update returns and the record is there;
 * - no activity task and no marker per record: a transition is one activation of one workflow task.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeConnection, Worker } from '@temporalio/worker';
import proto from '@temporalio/proto';
import { randomUUID } from 'node:crypto';
import { connectClient } from '../../worker/config.ts';
import { createProcedureActivities } from '../../worker/activities/procedure.activities.ts';
import { commitSinks } from '../../worker/activities/commit-sink.ts';
import { loadDeployedDefinitions } from '../../worker/process.ts';
import { openEmbeddedStore, type RecordsStore } from '../../worker/records/store.ts';
import { startProcedure } from '../../worker/instances.ts';
import type { Client } from '@temporalio/client';
import { ENGINE_FIXTURES, sendEvent, sharedBundle, testConfig } from './harness.ts';

const { EventType } = proto.temporal.api.enums.v1;
const { config, address } = testConfig(`commit-${randomUUID().slice(0, 8)}`);
const definitions = loadDeployedDefinitions([ENGINE_FIXTURES]);
let client: Client;
let store: RecordsStore;
let worker: Worker;
let running: Promise<void>;

/** The write waits while the gate is closed. */
let gate: { open: Promise<void>; release: () => void } | undefined;
/** The seq of each commit the sink was called with, before the gate. */
const reached: number[] = [];

beforeAll(async () => {
  client = await connectClient(config, address);
  store = await openEmbeddedStore(null);
  const activities = createProcedureActivities({
    store,
    client,
    taskQueue: config.taskQueue,
    definition: (id) => definitions.get(id),
  });
  worker = await Worker.create({
    connection: await NativeConnection.connect({ address }),
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    workflowBundle: sharedBundle(),
    activities,
    sinks: commitSinks(async (commit) => {
      reached.push(commit.record.seq);
      await gate?.open;
      return activities.commitTransition(commit);
    }),
  });
  running = worker.run();
}, 120_000);

afterAll(async () => {
  gate?.release();
  worker?.shutdown();
  await running;
  await store?.close();
});

function closeGate(): void {
  let release = (): void => {};
  const open = new Promise<void>((r) => (release = r));
  gate = { open, release };
}

describe('a commit written in the activation', () => {
  it('holds the update until its audit record is written, then returns with it written', async () => {
    const alice = { id: 'alice', roles: ['project_staff'] };
    const bob = { id: 'bob', roles: ['quality_manager'] };
    const def = definitions.get('engine_review')!;
    const id = await startProcedure(client, def, {
      context: { client: 'acme' },
      starter: alice,
      taskQueue: config.taskQueue,
    });
    await sendEvent(client, id, { type: 'SUBMIT', actor: alice, data: { purpose: 'gated' } });
    expect((await store.auditOf(id)).map((r) => r.body.event)).toEqual(['$start', 'SUBMIT']);

    closeGate();
    let answered = false;
    const reject = sendEvent(client, id, { type: 'REJECT', actor: bob }).then((r) => {
      answered = true;
      return r;
    });
    // The worker has run the handler and reached the write (the gate), and waits there.
    await expect.poll(() => reached.at(-1), { timeout: 10_000 }).toBe(2);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(answered).toBe(false);
    expect((await store.auditOf(id)).map((r) => r.body.event)).toEqual(['$start', 'SUBMIT']);
    const pending = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
    // Nor is the update in history: its workflow task has not completed.
    expect(
      pending.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED),
    ).toHaveLength(1);

    gate!.release();
    const result = await reject;
    expect(result.done).toBe(true);
    // Read your writes: the record is there when the update returned.
    expect((await store.auditOf(id)).map((r) => r.body.event)).toEqual(['$start', 'SUBMIT', 'REJECT']);

    await client.workflow.getHandle(id).result();
    const events = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
    const count = (type: number): number => events.filter((e) => e.eventType === type).length;
    expect(count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toBe(0);
    expect(count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)).toBe(2);
    // Markers only for the patches (start-input, local-audit, commit-in-activation, upsert-changed-…), none per record.
    const markers = events
      .filter((e) => e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED)
      .map((e) => e.markerRecordedEventAttributes?.markerName);
    expect(markers.every((m) => m === 'core_patch')).toBe(true);
  });
});
