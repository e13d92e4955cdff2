/**
 * Temporal Schedules for definitions that declare `schedule:` — created, kept at the deployed
 * version, removed when the declaration goes — and a triggered run starts a real instance.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../worker/config.ts';
import { loadDeployedDefinitions } from '../../worker/process.ts';
import { scheduleId, syncSchedules } from '../../worker/schedules.ts';
import { listInstances } from '../../worker/visibility.ts';
import { hashProcedure } from '../../workflows/core/hash.ts';
import { eventually, startHarness, type Harness } from './harness.ts';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/schedule');
let h: Harness;

beforeAll(async () => {
  h = await startHarness([FIXTURES]);
});
afterAll(async () => {
  await h?.close();
});

describe('schedules', () => {
  it('creates, triggers, updates and removes the schedule of a scheduled procedure', async () => {
    const defs = loadDeployedDefinitions([FIXTURES]);
    const first = await syncSchedules(h.client, defs.values(), h.config.taskQueue);
    expect(first.created).toEqual([scheduleId('routine_check')]);
    expect((await syncSchedules(h.client, defs.values(), h.config.taskQueue)).created).toEqual([]);

    const handle = h.client.schedule.getHandle(scheduleId('routine_check'));
    const described = await handle.describe();
    expect(described.spec.calendars?.length ?? 0).toBeGreaterThan(0); // the cron, as calendar specs
    await handle.trigger();
    // The row appears with the schedule's own search attributes as soon as the run starts; its
    // state once the first workflow task has run: wait for that.
    const row = await eventually(async () =>
      (await listInstances(h.client, { procedure: 'routine_check' })).find((r) => r.state.length > 0),
    );
    expect(row).toMatchObject({ procedure: 'routine_check', state: ['due'], awaiting: ['quality_manager'] });
    expect(row.dueAt).toBeDefined();

    // A new version of the definition updates the schedule's pinned IR.
    const def = defs.get('routine_check')!;
    const ir = { ...def.ir, version: '1.0.1' };
    const next = { ...def, ir, hash: hashProcedure(ir) };
    expect((await syncSchedules(h.client, [next], h.config.taskQueue)).updated).toEqual([
      scheduleId('routine_check'),
    ]);

    // No longer declared: removed.
    expect((await syncSchedules(h.client, [], h.config.taskQueue)).deleted).toContain(
      scheduleId('routine_check'),
    );
    await expect(handle.describe()).rejects.toThrow();
  });
});
