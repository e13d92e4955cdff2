/**
 * A migration never ends a running called instance (`workflows/core/migration-calls.ts`), on the
 * real dev server. screened_request 1.0.0's `checking` calls credit_check; 2.0.0 calls score_check
 * there instead; 1.1.0 keeps the call. Before the rule, a migration to 2.0.0 while credit_check ran
 * went through and left the old called instance running: its outcome then came back through the
 * `on_done` of a call to score_check. Now the dry run says `CALL_RUNNING` for that instance and the
 * `migrate` update refuses it (nothing changes; the call runs on and its outcome is taken by the
 * version that called it); a migration to 1.1.0 keeps the call, whose outcome the new version takes.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { REPO_ROOT } from '../../worker/config.ts';
import { getSnapshot, startProcedure } from '../../worker/instances.ts';
import { actorSigner, EVENT_ASSERTION_TTL_MS } from '../../worker/actor-keys.ts';
import { loadDeployedDefinitions } from '../../worker/process.ts';
import type { LoadedDefinition } from '../../worker/definitions.ts';
import { planInstance, VersionIndex, type MigrationDeps } from '../../worker/migration/migrations.ts';
import { MIGRATION_REFUSED, migrateUpdate, type MigrateResult } from '../../workflows/migration.ts';
import type { CallLink } from '../../workflows/api.ts';
import { eventually, sendEvent, startHarness, type Harness } from './harness.ts';
import { recordHistory } from './record-history.ts';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/migration-calls');
const CALLEES = [path.join(REPO_ROOT, 'test/fixtures/call'), path.join(FIXTURES, 'callees')];
const staff = { id: 'sam', roles: ['project_staff'] };
const ann = { id: 'ann', roles: ['approver'] };
const ada = { id: 'ada', roles: ['admin'] };
const cal = { id: 'cal', roles: ['analyst'] };

let h: Harness;
let deps: MigrationDeps;
const version = (dir: string): LoadedDefinition =>
  loadDeployedDefinitions([path.join(FIXTURES, dir), ...CALLEES]).get('screened_request')!;
const target = (d: LoadedDefinition) => ({ ir: d.ir, hash: d.hash, version: d.ir.version });
beforeAll(async () => {
  h = await startHarness([path.join(FIXTURES, 'v1'), ...CALLEES]);
  deps = { client: h.client, store: h.running.store, definitions: h.definitions };
});
afterAll(async () => {
  await h?.close();
});

/** Start 1.0.0 under `workflowId` (the replay test runs a history under its file name) and approve it. */
async function inChecking(workflowId: string): Promise<{ id: string; call: CallLink }> {
  const id = await startProcedure(h.client, h.definitions.get('screened_request')!, {
    context: { client: 'acme', applicant: 'Li', amount: 5 },
    starter: staff,
    taskQueue: h.config.taskQueue,
    workflowId,
  });
  await sendEvent(h.client, id, { type: 'APPROVE', actor: ann });
  const call = await eventually(
    async () => (await getSnapshot(h.client, id)).calls?.find((c) => c.status === 'running'),
    15_000,
  );
  expect(call).toMatchObject({ state: 'checking', procedure: 'credit_check' });
  await eventually(async () => (await getSnapshot(h.client, call.workflowId)).leaves[0] === 'checking');
  return { id, call };
}

async function migrate(id: string, to: LoadedDefinition): Promise<MigrateResult> {
  const snap = await getSnapshot(h.client, id);
  const assertion = actorSigner().sign(ada, { workflowId: id, ttlMs: EVENT_ASSERTION_TTL_MS });
  return await h.client.workflow.getHandle(id).executeUpdate(migrateUpdate, {
    args: [{ ir: to.ir, hash: to.hash, seq: snap.log.at(-1)!.seq, actor: ada, assertion }],
  });
}

/** The analyst approves the called credit check; the caller takes the outcome and ends `done`. */
async function approveCall(id: string, call: CallLink): Promise<void> {
  await sendEvent(h.client, call.workflowId, { type: 'APPROVE', actor: cal, data: { grade: 'b' } });
  await eventually(async () => (await getSnapshot(h.client, id)).done, 15_000);
}

describe('a migration and a running call', () => {
  it('refuses to re-point a calling state whose call runs, in the dry run and in the engine', async () => {
    const { id, call } = await inChecking('migration-calls-refused');
    const v2 = version('v2');
    const planned = await planInstance(deps, new VersionIndex(deps), target(v2), id);
    expect(planned.plan).toMatchObject({ class: 'cannot_move', code: 'CALL_RUNNING', from: ['checking'] });
    expect(planned.plan.message).toContain(call.workflowId);
    expect(planned.plan.message).toContain('calls score_check');

    const err = await migrate(id, v2).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (err as WorkflowUpdateFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe(MIGRATION_REFUSED);
    expect(cause.details?.[0]).toBe('CALL_RUNNING');
    // Nothing changed: same version, no `$migrate`, the call still runs and is taken as 1.0.0 says.
    const snap = await getSnapshot(h.client, id);
    expect(snap.version).toBe('1.0.0');
    expect(snap.log.map((r) => r.event)).toEqual(['$start', 'APPROVE']);
    expect(snap.calls).toEqual([expect.objectContaining({ workflowId: call.workflowId, status: 'running' })]);
    await approveCall(id, call);
    const done = await getSnapshot(h.client, id);
    expect(done.context).toMatchObject({ grade: 'b' });
    expect(done.log.at(-1)).toMatchObject({
      event: '$call/checking/done/approved',
      data: { procedure: 'credit_check', workflowId: call.workflowId },
    });
  }, 60_000);

  it('keeps a running call whose state and callee the new version keeps', async () => {
    const { id, call } = await inChecking('migration-calls-kept');
    const v1b = version('v1b');
    const planned = await planInstance(deps, new VersionIndex(deps), target(v1b), id);
    expect(planned.plan).toMatchObject({ class: 'moves', to: ['checking'] });
    expect((await migrate(id, v1b)).to.version).toBe('1.1.0');
    const moved = await getSnapshot(h.client, id);
    expect(moved.version).toBe('1.1.0');
    // The same called instance, still running: not cancelled, no second one started.
    expect(moved.calls).toEqual([
      expect.objectContaining({ workflowId: call.workflowId, status: 'running' }),
    ]);
    expect((await getSnapshot(h.client, call.workflowId)).done).toBe(false);
    await approveCall(id, call);
    const done = await getSnapshot(h.client, id);
    expect(done.context).toMatchObject({ grade: 'b' });
    expect(done.log.map((r) => r.event)).toEqual([
      '$start',
      'APPROVE',
      '$migrate',
      '$call/checking/done/approved',
    ]);
    await recordHistory(h.client, id, 'migration-calls-kept');
  }, 60_000);
});
