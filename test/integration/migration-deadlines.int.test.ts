/**
 * The migration dry run says which deadlines fire at once, on the real dev server, and the move
 * then does what it said. deadline_request 1.0.0 has no deadlines; 2.0.0 gives the compound
 * `review` a reminder 2 s after its entry and an escalation after an hour, `review.pending` an
 * `after:` timer of 2 s, `review.checking` a due time of 3 s, a reminder after 1 s and a timeout
 * after 30 minutes — all counted from the entry of the states, which the migration keeps.
 *
 * Two instances wait a few seconds (the workflow clock: entry times from their own records), then
 * the dry run (`dryRun`, the API's and the CLI's) reads their entry times (`migrationTimes`) and
 * says: the one in `review.checking` sends two reminders and is overdue at once, with the
 * escalation and the timeout due within the hour; the one in `review.pending` times out at once
 * (to `review.checking`) and sends review's reminder. Then both migrate: the reminders the dry run
 * named are sent, keyed as it said, and the timeout moved the second instance on.
 *
 * wd_request: an `after:` delay of one working day new to a state is timed in the instance's
 * business calendar from the state's entry (patch `migration-working-day-timers`); before, it was
 * due at the entry and fired the moment the instance migrated. Replay history
 * `migration-working-day-timer.json`.
 *
 * cal_request: an instance started on a version with no working-day delay pins no calendar; the
 * migration to a version due in one working day brings the current calendar (patch
 * `migration-calendar`): the due time, the search attribute and the `after:` timer count working
 * days from the state's entry, and the dry run lists them. Replay history
 * `migration-calendar-adopted.json`.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../worker/config.ts';
import { getSnapshot, startProcedure } from '../../worker/instances.ts';
import { addWorkingDays } from '../../workflows/core/calendar.ts';
import { currentCalendar } from '../../worker/calendars.ts';
import { migrationTimesQuery } from '../../workflows/migration.ts';
import { recordHistory } from './record-history.ts';
import { actorSigner } from '../../worker/actor-keys.ts';
import { loadDeployedDefinitions } from '../../worker/process.ts';
import type { LoadedDefinition } from '../../worker/definitions.ts';
import {
  VersionIndex,
  dryRun,
  migrateInstance,
  planInstance,
  type MigrationDeps,
  type MigrationTarget,
} from '../../worker/migration/migrations.ts';
import { formatDryRun } from '../../worker/cli/migrate.ts';
import { eventually, sendEvent, startHarness, type Harness } from './harness.ts';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/migration-deadlines');
const staff = { id: 'sam', roles: ['project_staff'] };
const qm = { id: 'quin', roles: ['quality_manager'] };
const ada = { id: 'ada', roles: ['admin'] };

let h: Harness;
let v2: LoadedDefinition;
let wd2: LoadedDefinition;
let cal2: LoadedDefinition;
beforeAll(async () => {
  h = await startHarness([path.join(FIXTURES, 'v1')]);
  const next = loadDeployedDefinitions([path.join(FIXTURES, 'v2')]);
  v2 = next.get('deadline_request')!;
  wd2 = next.get('wd_request')!;
  cal2 = next.get('cal_request')!;
});
afterAll(async () => {
  await h?.close();
});

/** When the record of `event` was written (the state's entry, by the workflow clock). */
async function enteredBy(id: string, event: string): Promise<number> {
  const rec = (await getSnapshot(h.client, id)).log.find((r) => r.event === event);
  return Date.parse(rec!.at);
}

describe('the dry run says which deadlines a migration sets off', () => {
  it('lists those already past and those due within the hour, and the move sends them', async () => {
    const checking = await h.start('deadline_request', { client: 'acme' }, staff);
    await sendEvent(h.client, checking, { type: 'SUBMIT', actor: staff });
    await sendEvent(h.client, checking, { type: 'CHECK', actor: qm });
    const pending = await h.start('deadline_request', { client: 'acme' }, staff);
    await sendEvent(h.client, pending, { type: 'SUBMIT', actor: staff });
    const reviewA = await enteredBy(checking, 'SUBMIT');
    const checkA = await enteredBy(checking, 'CHECK');
    const reviewB = await enteredBy(pending, 'SUBMIT');
    // Past checking's due time (entry + 3 s) and pending's timeout (entry + 2 s).
    await new Promise((r) => setTimeout(r, Math.max(0, checkA + 3_300 - Date.now())));

    const target: MigrationTarget = { ir: v2.ir, hash: v2.hash, version: v2.ir.version };
    const deps: MigrationDeps = { client: h.client, store: h.running.store, definitions: h.definitions };
    const scope = `(WorkflowId = '${checking}' OR WorkflowId = '${pending}')`;
    const out = await eventually(async () => {
      const d = await dryRun(deps, 'deadline_request', target, scope);
      return d.total === 2 ? d : undefined;
    }, 15_000);
    expect(out.counts).toEqual({ moves: 2, needs_mapping: 0, cannot_move: 0 });
    const a = out.instances.find((i) => i.workflowId === checking)!;
    const b = out.instances.find((i) => i.workflowId === pending)!;
    const brief = (list: { kind: string; state: string }[]) => list.map((d) => `${d.kind} ${d.state}`).sort();

    expect(brief(a.deadlines!.atOnce)).toEqual([
      'due review.checking',
      'remind review',
      'remind review.checking',
    ]);
    // The compound parent's point counts from the parent's entry, not the leaf's.
    expect(a.deadlines!.atOnce.find((d) => d.state === 'review')).toMatchObject({
      key: `review@${reviewA}/remind/0`,
      since: new Date(reviewA).toISOString(),
      at: new Date(reviewA + 2_000).toISOString(),
      to: 'quality_manager',
    });
    expect(a.deadlines!.atOnce.find((d) => d.kind === 'due')).toMatchObject({
      at: new Date(checkA + 3_000).toISOString(),
    });
    expect(brief(a.deadlines!.soon)).toEqual(['after review.checking', 'escalate review']);
    expect(brief(b.deadlines!.atOnce)).toEqual(['after review.pending', 'remind review']);
    expect(b.deadlines!.atOnce.find((d) => d.kind === 'after')).toMatchObject({
      moves: ['review.checking'],
      at: new Date(reviewB + 2_000).toISOString(),
    });
    expect(out.deadlines).toMatchObject({
      withinMs: 3_600_000,
      atOnce: { instances: 2, due: 1, remind: 3, escalate: 0, after: 1 },
      soon: { instances: 2, escalate: 2, after: 1 },
      unknown: 0,
    });
    const text = formatDryRun(out);
    expect(text[1]).toBe(
      'WARNING: migrating sets off at once, for 2 instances: 3 reminders, 1 after: timer, 1 due time ' +
        '(deadlines of 2.0.0 already past, counted from the entry of the state)',
    );
    expect(text).toContain(
      `  at once: remind review (PT2S after entry at ${new Date(reviewA).toISOString()}, due ${new Date(reviewA + 2_000).toISOString()}) → quality_manager`,
    );

    // Migrate: what the dry run named fires at once.
    const migratedAt = Date.now();
    for (const i of [a, b]) await migrateInstance(h.client, actorSigner(), target, i, ada);
    const keysOf = async (id: string) =>
      (await getSnapshot(h.client, id)).log.filter((r) => r.event === '$sla').map((r) => String(r.data?.key));
    const sentA = await eventually(async () => {
      const k = await keysOf(checking);
      return k.length >= 2 ? k : undefined;
    }, 10_000);
    expect(sentA.sort()).toEqual(
      a
        .deadlines!.atOnce.filter((d) => d.key)
        .map((d) => d.key)
        .sort(),
    );
    const snapA = await getSnapshot(h.client, checking);
    expect(snapA.dueAt).toBe(new Date(checkA + 3_000).toISOString());
    expect(Date.parse(snapA.log.find((r) => r.event === '$sla')!.at)).toBeLessThan(migratedAt + 5_000);
    // The second timed out to review.checking, and review's reminder went out.
    const snapB = await eventually(async () => {
      const s = await getSnapshot(h.client, pending);
      return s.leaves[0] === 'review.checking' &&
        s.log.some((r) => r.data?.key === `review@${reviewB}/remind/0`)
        ? s
        : undefined;
    }, 10_000);
    expect(snapB.log.map((r) => r.event)).toContain('$migrate');
    // Nothing the dry run put in `soon` was sent: the escalation is an hour away.
    expect((await getSnapshot(h.client, checking)).log.some((r) => r.data?.kind === 'escalate')).toBe(false);
  }, 60_000);
});

describe('an after: delay in working days new to a state (patch migration-working-day-timers)', () => {
  it('is due one working day after the entry in the instance’s calendar, not at the migration', async () => {
    // The replay test runs a history under its file name as workflow id.
    const id = await startProcedure(h.client, h.definitions.get('wd_request')!, {
      context: { client: 'acme' },
      starter: staff,
      taskQueue: h.config.taskQueue,
      workflowId: 'migration-working-day-timer',
    });
    const entered = await enteredBy(id, '$start');
    const times = await h.client.workflow.getHandle(id).query(migrationTimesQuery);
    expect(times.calendar).toBeDefined();
    const due = addWorkingDays(entered, 1, times.calendar!).at;
    expect(due - entered).toBeGreaterThanOrEqual(86_400_000);

    const target: MigrationTarget = { ir: wd2.ir, hash: wd2.hash, version: wd2.ir.version };
    const deps: MigrationDeps = { client: h.client, store: h.running.store, definitions: h.definitions };
    const out = await eventually(async () => {
      const d = await dryRun(deps, 'wd_request', target, `WorkflowId = '${id}'`);
      return d.total === 1 ? d : undefined;
    }, 15_000);
    expect(out.instances[0]!.deadlines).toEqual({ atOnce: [], soon: [] });
    expect(out.deadlines.atOnce.instances).toBe(0);
    expect(formatDryRun(out)[1]).toBe('no deadline of the new version fires at once');
    await migrateInstance(h.client, actorSigner(), target, out.instances[0]!, ada);

    const snap = await getSnapshot(h.client, id);
    expect(snap.version).toBe('2.0.0');
    expect(snap.timers).toEqual([
      { event: 'xstate.after.after_P1WD.wd_request.waiting', dueAt: new Date(due).toISOString() },
    ]);
    // Not fired at the migration (before the patch it was due at the entry and fired at once).
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await getSnapshot(h.client, id)).leaves).toEqual(['waiting']);
    await sendEvent(h.client, id, { type: 'DONE', actor: qm });
    await eventually(async () => (await getSnapshot(h.client, id)).done);
    await recordHistory(h.client, id, 'migration-working-day-timer');
  }, 60_000);
});

describe('a migration to a version that counts working days brings the calendar (patch migration-calendar)', () => {
  it('arms the due time and the timer in the current calendar, as the dry run said', async () => {
    const id = await startProcedure(h.client, h.definitions.get('cal_request')!, {
      context: { client: 'acme' },
      starter: staff,
      taskQueue: h.config.taskQueue,
      workflowId: 'migration-calendar-adopted',
    });
    const entered = await enteredBy(id, '$start');
    const handle = h.client.workflow.getHandle(id);
    // Version 1 counts no working days: no calendar pinned.
    expect((await handle.query(migrationTimesQuery)).calendar).toBeUndefined();
    const cal = currentCalendar().calendar;
    const due = addWorkingDays(entered, 1, cal).at;
    const lapses = addWorkingDays(entered, 2, cal).at;

    const target: MigrationTarget = { ir: cal2.ir, hash: cal2.hash, version: cal2.ir.version };
    const deps: MigrationDeps = { client: h.client, store: h.running.store, definitions: h.definitions };
    const out = await eventually(async () => {
      const d = await dryRun(deps, 'cal_request', target, `WorkflowId = '${id}'`, {
        withinMs: 30 * 86_400_000,
      });
      return d.total === 1 ? d : undefined;
    }, 15_000);
    // Counted with the calendar the move brings (before: no calendar, in neither list).
    const d = out.instances[0]!.deadlines!;
    expect(d.atOnce).toEqual([]);
    expect(d.soon.map((x) => `${x.kind} ${x.state} ${x.at}`).sort()).toEqual([
      `after waiting ${new Date(lapses).toISOString()}`,
      `due waiting ${new Date(due).toISOString()}`,
    ]);
    await migrateInstance(h.client, actorSigner(), target, out.instances[0]!, ada);

    const snap = await getSnapshot(h.client, id);
    expect(snap.version).toBe('2.0.0');
    expect(snap.dueAt).toBe(new Date(due).toISOString());
    expect(snap.timers).toEqual([
      { event: 'xstate.after.after_P2WD.cal_request.waiting', dueAt: new Date(lapses).toISOString() },
    ]);
    expect(snap.log.find((r) => r.event === '$migrate')?.data?.calendar).toBe(cal.id);
    expect((await handle.query(migrationTimesQuery)).calendar).toEqual(cal);
    const attr = await eventually(async () => {
      const v = (await handle.describe()).searchAttributes.CustodiaDueAt as Date[] | undefined;
      return v?.length ? v[0] : undefined;
    }, 10_000);
    expect(new Date(attr).toISOString()).toBe(new Date(due).toISOString());
    await sendEvent(h.client, id, { type: 'DONE', actor: qm });
    await eventually(async () => (await getSnapshot(h.client, id)).done);
    await recordHistory(h.client, id, 'migration-calendar-adopted');
  }, 60_000);

  it('keeps the adopted calendar over continue-as-new', async () => {
    const def = h.definitions.get('cal_request')!;
    const id = `migration-calendar-can-${Date.now()}`;
    // One update per run: the migration itself makes the instance continue as new.
    await h.client.workflow.start('procedure', {
      taskQueue: h.config.taskQueue,
      workflowId: id,
      args: [
        {
          ir: def.ir,
          hash: def.hash,
          context: { client: 'acme' },
          starter: staff,
          limits: { updatesPerRun: 1 },
        },
      ],
    });
    const entered = await eventually(async () => {
      const s = await getSnapshot(h.client, id);
      return s.log.length ? Date.parse(s.log[0]!.at) : undefined;
    });
    const cal = currentCalendar().calendar;
    const target: MigrationTarget = { ir: cal2.ir, hash: cal2.hash, version: cal2.ir.version };
    const deps: MigrationDeps = { client: h.client, store: h.running.store, definitions: h.definitions };
    const planned = await planInstance(deps, new VersionIndex(deps), target, id);
    await migrateInstance(h.client, actorSigner(), target, planned, ada);
    const snap = await eventually(async () => {
      const s = await getSnapshot(h.client, id);
      return s.runs === 2 ? s : undefined;
    }, 10_000);
    expect(snap.version).toBe('2.0.0');
    expect(snap.dueAt).toBe(new Date(addWorkingDays(entered, 1, cal).at).toISOString());
    expect((await h.client.workflow.getHandle(id).query(migrationTimesQuery)).calendar).toEqual(cal);
    await sendEvent(h.client, id, { type: 'DONE', actor: qm });
    await eventually(async () => (await getSnapshot(h.client, id)).done);
  }, 30_000);
});
