/**
 * A migration to a version with `sla:` or `call:` arms them (patch `migration-arms`), on the real
 * dev server. arms_request 1.0.0 has neither; 2.0.0 gives `review` a reminder (5 s) and an
 * escalation (9 s), and makes `checking` call credit_check. Before the patch both were enabled
 * only when an instance started, so a migrated instance never reminded anyone nor called anything.
 *
 * What is armed: the points of the states the instance is in, counted from the time it entered
 * them (kept by the migration), not from the migration — the rule `after:` timers new to a state
 * already follow, and the one the new version's proof (`deadline`) speaks of. A point already
 * past at the migration is sent at once; the test migrates 6 s after entry, so the reminder
 * (entry + 5 s) fires at the migration and the escalation at entry + 9 s.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../worker/config.ts';
import { getSnapshot, startProcedure } from '../../worker/instances.ts';
import { actorSigner, EVENT_ASSERTION_TTL_MS } from '../../worker/actor-keys.ts';
import { loadDeployedDefinitions } from '../../worker/process.ts';
import type { LoadedDefinition } from '../../worker/definitions.ts';
import { migrateUpdate, type MigrateResult } from '../../workflows/migration.ts';
import type { ProcedureSnapshot } from '../../workflows/api.ts';
import { listRows } from '../../worker/visibility.ts';
import { eventually, sendEvent, startHarness, type Harness } from './harness.ts';
import { recordHistory } from './record-history.ts';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/migration-arms');
const staff = { id: 'sam', roles: ['project_staff'] };
const ann = { id: 'ann', roles: ['approver'] };
const ada = { id: 'ada', roles: ['admin'] };
const cal = { id: 'cal', roles: ['analyst'] };

let h: Harness;
let v2: LoadedDefinition;
beforeAll(async () => {
  h = await startHarness([path.join(FIXTURES, 'v1'), path.join(REPO_ROOT, 'test/fixtures/call')]);
  v2 = loadDeployedDefinitions([path.join(FIXTURES, 'v2'), path.join(REPO_ROOT, 'test/fixtures/call')]).get(
    'arms_request',
  )!;
});
afterAll(async () => {
  await h?.close();
});

/**
 * Start arms_request 1.0.0 under `workflowId`: the replay test runs a history under its file name
 * as workflow id, and the called instance's id derives from it.
 */
function start(workflowId: string, applicant: string): Promise<string> {
  return startProcedure(h.client, h.definitions.get('arms_request')!, {
    context: { client: 'acme', applicant, amount: 5 },
    starter: staff,
    taskQueue: h.config.taskQueue,
    workflowId,
  });
}

async function migrate(id: string): Promise<MigrateResult> {
  const snap = await getSnapshot(h.client, id);
  const assertion = actorSigner().sign(ada, { workflowId: id, ttlMs: EVENT_ASSERTION_TTL_MS });
  return await h.client.workflow.getHandle(id).executeUpdate(migrateUpdate, {
    args: [{ ir: v2.ir, hash: v2.hash, seq: snap.log.at(-1)!.seq, actor: ada, assertion }],
  });
}

const slaRecords = async (id: string) =>
  (await getSnapshot(h.client, id)).log.filter((r) => r.event === '$sla');

describe('a migration arms the new version’s sla: and call:', () => {
  it('arms the reminder and escalation of the state it is in, counted from its entry', async () => {
    const id = await start('migration-arms-sla', 'Wu');
    const first = await getSnapshot(h.client, id);
    const entered = Date.parse(first.stateSince);
    expect(first.sla).toBeUndefined();
    // The reminder is due 5 s after entry: migrate once it is past.
    await new Promise((r) => setTimeout(r, Math.max(0, entered + 6_000 - Date.now())));
    expect(await slaRecords(id)).toEqual([]);
    const moved = await migrate(id);
    expect(moved.to.version).toBe('2.0.0');
    const migratedAt = Date.parse(
      (await getSnapshot(h.client, id)).log.find((r) => r.event === '$migrate')!.at,
    );

    const reminders = await eventually(async () => {
      const r = await slaRecords(id);
      return r.length >= 1 ? r : undefined;
    }, 15_000);
    // Keyed by the entry time, sent at once (not 5 s after the migration).
    expect(reminders[0]!.data).toMatchObject({
      key: `review@${entered}/remind/0`,
      kind: 'remind',
      roles: ['approver'],
    });
    expect(Date.parse(reminders[0]!.at)).toBeGreaterThanOrEqual(migratedAt);
    expect(Date.parse(reminders[0]!.at)).toBeLessThan(migratedAt + 5_000);

    const both = await eventually(async () => {
      const r = await slaRecords(id);
      return r.length >= 2 ? r : undefined;
    }, 15_000);
    expect(both[1]!.data).toMatchObject({
      key: `review@${entered}/escalate/0`,
      kind: 'escalate',
      roles: ['quality_manager'],
      level: 1,
    });
    expect(Date.parse(both[1]!.at)).toBeGreaterThanOrEqual(entered + 9_000);
    const snap = await getSnapshot(h.client, id);
    expect(snap.sla).toEqual({ level: 1 });
    const rows = await eventually(async () => {
      const r = await listRows(h.client, `WorkflowId = '${id}' AND CustodiaEscalation = 1`);
      return r.length ? r : undefined;
    }, 10_000);
    expect(rows).toHaveLength(1);
    // The notifications went out through the outbox like any others.
    await eventually(async () => (await h.running.store.notificationsOf(id)).length >= 2, 10_000);

    // Deciding leaves the state: no more points; the next state calls credit_check (armed too).
    await sendEvent(h.client, id, { type: 'APPROVE', actor: ann });
    await approveCall(id);
    await recordHistory(h.client, id, 'migration-arms-sla');
  }, 60_000);

  it('starts the called procedure of the state it migrates into, and takes its outcome', async () => {
    const id = await start('migration-arms-call', 'Li');
    await sendEvent(h.client, id, { type: 'APPROVE', actor: ann });
    expect((await getSnapshot(h.client, id)).leaves).toEqual(['checking']);
    await migrate(id);
    await approveCall(id);
    const snap = await getSnapshot(h.client, id);
    expect(snap.context).toMatchObject({ grade: 'b' });
    expect(snap.log.map((r) => r.event)).toEqual(['$start', 'APPROVE', '$migrate', expect.any(String)]);
    await recordHistory(h.client, id, 'migration-arms-call');
  }, 60_000);
});

/** The instance in `checking` has called credit_check: approve it; the caller ends `done`. */
async function approveCall(id: string): Promise<void> {
  const link = await eventually(async () => {
    const s: ProcedureSnapshot = await getSnapshot(h.client, id);
    return s.calls?.find((c) => c.status === 'running');
  }, 15_000);
  expect(link).toMatchObject({ state: 'checking', procedure: 'credit_check' });
  await eventually(async () => (await getSnapshot(h.client, link.workflowId)).leaves[0] === 'checking');
  await sendEvent(h.client, link.workflowId, { type: 'APPROVE', actor: cal, data: { grade: 'b' } });
  await eventually(async () => (await getSnapshot(h.client, id)).done, 15_000);
  expect((await getSnapshot(h.client, id)).leaves).toEqual(['done']);
}
