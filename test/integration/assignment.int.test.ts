/**
 * Assignment on the real Temporal dev server: the `assign` update's validator (claim race,
 * unqualified and duty-barred assignees), only the assignee sends, `CustodiaAssignee`, the audit
 * record of each assignment, the assignment cleared when the state is left; a recorded history.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../worker/config.ts';
import { createApi, SESSION_COOKIE, type Api } from '../../worker/api/server.ts';
import { openStore } from '../../worker/records/store.ts';
import { actorSigner } from '../../worker/actor-keys.ts';
import { AssignmentRejected, assignTask, remindTask, signedAssignment } from '../../worker/assignment.ts';
import { EventRejected, getSnapshot } from '../../worker/instances.ts';
import { listRows } from '../../worker/visibility.ts';
import type { AssignResult } from '../../workflows/api.ts';
import type { Actor } from '../../workflows/core/ir.ts';
import { eventually, historyLength, sendEvent, startHarness, type Harness } from './harness.ts';
import { recordHistory } from './record-history.ts';
import { tempDir } from '../temp-dir.ts';

const alice = { id: 'alice', roles: ['project_staff'] };
const bob = { id: 'bob', roles: ['quality_manager'] };
const carol = { id: 'carol', roles: ['project_staff'] };
const rita = { id: 'rita', roles: ['reviewer'] };
const remy = { id: 'remy', roles: ['reviewer'] };

let h: Harness;
beforeAll(async () => {
  h = await startHarness([path.join(REPO_ROOT, 'test/fixtures/assignment')]);
});
afterAll(async () => {
  await h?.close();
});

function assign(
  workflowId: string,
  actor: Actor,
  assignee: string | null,
  opts: { state?: string; assigneeActor?: Actor } = {},
): Promise<AssignResult> {
  const req = { ...(opts.state ? { state: opts.state } : {}), assignee, actor };
  return assignTask(
    h.client,
    workflowId,
    signedAssignment(actorSigner(), workflowId, req, opts.assigneeActor),
  );
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err instanceof AssignmentRejected || err instanceof EventRejected).toBe(true);
  return err as AssignmentRejected;
}

async function submitted(client: string): Promise<string> {
  const id = await h.start('assign_review', { client }, alice);
  await sendEvent(h.client, id, { type: 'SUBMIT', actor: alice });
  return id;
}

describe('assign update', () => {
  it('two claims at once: exactly one wins, the other is told who holds the task', async () => {
    const id = await submitted('acme-assign');
    const results = await Promise.allSettled([assign(id, rita, 'rita'), assign(id, remy, 'remy')]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    const winner = (won[0] as PromiseFulfilledResult<AssignResult>).value.to!;
    const err = lost[0]!.reason as AssignmentRejected;
    expect(err).toBeInstanceOf(AssignmentRejected);
    expect(err.code).toBe('ASSIGNMENT_CONFLICT');
    expect(err.message).toContain(`already held by ${winner}`);
    const snap = await getSnapshot(h.client, id);
    expect(snap.assignees).toEqual({ submitted: winner });
    expect(snap.tasks).toEqual([
      {
        state: 'submitted',
        assignment: 'optional',
        roles: ['project_staff', 'reviewer'],
        events: ['APPROVE'],
        assignee: winner,
      },
    ]);
  });

  it('refuses unqualified and duty-barred assignees, and events by a non-assignee, leaving history unchanged', async () => {
    const id = await submitted('acme-assign');
    await assign(id, rita, 'rita');
    // Once the assignment's commit has run, the history stands still (no timers here).
    const before = await eventually(async () => {
      const n = await historyLength(h.client, id);
      await new Promise((r) => setTimeout(r, 300));
      return (
        (await h.running.store.auditOf(id)).length === 3 && n === (await historyLength(h.client, id)) && n
      );
    });

    const eve = { id: 'eve', roles: ['auditor'] };
    const unqualified = await refusal(assign(id, bob, 'eve', { assigneeActor: eve }));
    expect(unqualified.code).toBe('ASSIGNEE_NOT_QUALIFIED');
    expect(unqualified.message).toContain('project_staff, reviewer');

    // alice submitted: APPROVE must come from someone else, so she may not hold the task.
    const barred = await refusal(assign(id, bob, 'alice', { assigneeActor: alice }));
    expect(barred.code).toBe('DUTY_CONFLICT');
    expect(barred.message).toContain('The approver is never the submitter');

    // remy holds the role but not the task.
    const notMine = await refusal(sendEvent(h.client, id, { type: 'APPROVE', actor: remy }));
    expect(notMine.code).toBe('NOT_ASSIGNEE');
    expect(notMine.message).toContain('assigned to rita');
    expect((await refusal(assign(id, remy, 'remy'))).code).toBe('ASSIGNMENT_CONFLICT');
    expect((await refusal(assign(id, remy, null))).code).toBe('ASSIGNMENT_NOT_ALLOWED');
    expect((await refusal(assign(id, remy, 'carol', { assigneeActor: carol }))).code).toBe(
      'ASSIGNMENT_NOT_ALLOWED',
    );
    expect(await historyLength(h.client, id)).toBe(before);

    // A manager reassigns; the new assignee approves; leaving the state clears the assignment.
    const moved = await assign(id, bob, 'remy', { assigneeActor: remy });
    expect(moved).toMatchObject({ from: 'rita', to: 'remy', act: 'assign', changed: true });
    const r = await sendEvent(h.client, id, { type: 'APPROVE', actor: remy });
    expect(r.leaves).toEqual(['checks.a.pending', 'checks.b.pending']);
    let snap = await getSnapshot(h.client, id);
    expect(snap.assignees).toEqual({});

    // Parallel regions: each leaf has its own assignee, so the state must be named;
    // `assignment: required` takes no event before someone is assigned.
    expect((await refusal(assign(id, carol, 'carol'))).code).toBe('BAD_ASSIGNMENT');
    const unclaimed = await refusal(sendEvent(h.client, id, { type: 'CHECK_A', actor: carol }));
    expect(unclaimed.code).toBe('NOT_ASSIGNEE');
    expect(unclaimed.message).toContain('must be assigned');
    await assign(id, carol, 'carol', { state: 'checks.a.pending' });
    await assign(id, rita, 'rita', { state: 'checks.b.pending' });
    expect((await getSnapshot(h.client, id)).assignees).toEqual({
      'checks.a.pending': 'carol',
      'checks.b.pending': 'rita',
    });
    expect((await refusal(sendEvent(h.client, id, { type: 'CHECK_B', actor: remy }))).code).toBe(
      'NOT_ASSIGNEE',
    );
    // A manager's reminder: a `$remind` record notifying the awaited roles; nothing else changes.
    expect((await refusal(remindTask(h.client, actorSigner(), id, rita))).code).toBe(
      'ASSIGNMENT_NOT_ALLOWED',
    );
    expect(await remindTask(h.client, actorSigner(), id, bob)).toMatchObject({
      roles: ['project_staff', 'reviewer'],
      states: ['checks.a.pending', 'checks.b.pending'],
    });
    await sendEvent(h.client, id, { type: 'CHECK_A', actor: carol });
    await sendEvent(h.client, id, { type: 'CHECK_B', actor: rita });
    // An event of the enclosing state is nobody's task.
    const done = await sendEvent(h.client, id, { type: 'ARCHIVE', actor: bob });
    expect(done.done).toBe(true);
    snap = await getSnapshot(h.client, id);
    expect(snap.assignees).toEqual({});
    expect(snap.log.map((l) => [l.event, l.actor.id, l.data?.from ?? null, l.data?.to ?? null])).toEqual([
      ['$start', 'alice', null, null],
      ['SUBMIT', 'alice', null, null],
      ['$assign', 'rita', null, 'rita'],
      ['$assign', 'bob', 'rita', 'remy'],
      ['APPROVE', 'remy', null, null],
      ['$assign', 'carol', null, 'carol'],
      ['$assign', 'rita', null, 'rita'],
      ['$remind', 'bob', null, null],
      ['CHECK_A', 'carol', null, null],
      ['CHECK_B', 'rita', null, null],
      ['ARCHIVE', 'bob', null, null],
    ]);
    await recordHistory(h.client, id, 'assign-review-assignment');

    // Each assignment is an audit record with old → new.
    const audit = await eventually(async () => {
      const rows = await h.running.store.auditOf(id);
      return rows.length === 11 && rows;
    });
    const assigns = audit.filter((a) => a.body.event === '$assign');
    expect(assigns.map((a) => [a.actorId, a.body.data])).toEqual([
      ['rita', { state: 'submitted', from: null, to: 'rita', act: 'claim' }],
      ['bob', { state: 'submitted', from: 'rita', to: 'remy', act: 'assign' }],
      ['carol', { state: 'checks.a.pending', from: null, to: 'carol', act: 'claim' }],
      ['rita', { state: 'checks.b.pending', from: null, to: 'rita', act: 'claim' }],
    ]);
  });

  it('a state with `assignment: none` cannot be assigned', async () => {
    const id = await h.start('assign_review', { client: 'acme-assign' }, alice);
    const r = await refusal(assign(id, alice, 'alice'));
    expect(r.code).toBe('BAD_ASSIGNMENT');
    expect((await refusal(assign(id, alice, 'alice', { state: 'draft' }))).code).toBe(
      'ASSIGNMENT_NOT_ALLOWED',
    );
  });

  it('keeps CustodiaAssignee current: visibility finds my tasks and the unassigned ones', async () => {
    const client = `assignee-${Date.now()}`;
    const mine = await submitted(client);
    const free = await submitted(client);
    await assign(mine, rita, 'rita');
    const base = `CustodiaClient = '${client}' AND ExecutionStatus = 'Running'`;
    await eventually(async () => {
      const rows = await listRows(h.client, `${base} AND CustodiaAssignee = 'rita'`);
      return rows.length === 1 && rows[0]!.workflowId === mine && rows[0]!.assignees?.[0] === 'rita';
    });
    await eventually(async () => {
      const rows = await listRows(h.client, `${base} AND CustodiaAssignee IS NULL`);
      return rows.length === 1 && rows[0]!.workflowId === free;
    });
    // Released: unassigned again.
    await assign(mine, rita, null);
    await eventually(
      async () => (await listRows(h.client, `${base} AND CustodiaAssignee IS NULL`)).length === 2,
    );
  });
});

describe('assignment over HTTP and the inbox tabs', () => {
  const PASSWORD = 'correct horse battery';
  let api: Api;
  let base: string;
  const serverErrors: unknown[] = [];
  const cookies = new Map<string, { cookie: string; csrf: string }>();

  async function call(
    method: string,
    url: string,
    as: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const s = cookies.get(as)!;
    const headers: Record<string, string> = {
      cookie: `${SESSION_COOKIE}=${s.cookie}`,
      'x-csrf-token': s.csrf,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(base + url, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  beforeAll(async () => {
    const store = h.running.store;
    const people: [string, string[], string[]][] = [
      ['alice', ['project_staff'], ['acme-http']],
      ['rita', ['reviewer'], ['acme-http']],
      ['remy', ['reviewer'], ['acme-http']],
      ['gus', ['reviewer'], ['globex']],
      ['dora', ['reviewer'], ['acme-http']],
      ['bob', ['quality_manager'], []],
    ];
    for (const [id, roles, clients] of people)
      await store.createUser(
        { id, displayName: id.toUpperCase(), roles, clients, password: PASSWORD },
        'test',
      );
    await store.setDisabled('dora', true, 'test');
    api = createApi({
      client: h.client,
      store,
      definitions: h.definitions,
      taskQueue: h.config.taskQueue,
      onError: (err) => serverErrors.push(err),
    });
    base = await api.listen(0);
    for (const id of ['alice', 'rita', 'remy', 'bob']) {
      const res = await fetch(`${base}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id, password: PASSWORD }),
      });
      const cookie = /^[^=]+=([^;]*)/.exec(res.headers.getSetCookie()[0] ?? '')?.[1] ?? '';
      cookies.set(id, { cookie, csrf: String(((await res.json()) as { csrfToken: string }).csrfToken) });
    }
  });
  afterAll(async () => {
    await api?.close();
    expect(serverErrors).toEqual([]);
  });

  it('refuses unknown, disabled and client-less assignees before the engine is asked, naming why', async () => {
    const id = await submitted('acme-http');
    const unknown = await call('POST', `/api/instances/${id}/assignment`, 'bob', { assignee: 'nobody' });
    expect(unknown).toMatchObject({ status: 422, body: { code: 'ASSIGNEE_UNKNOWN' } });
    const disabled = await call('POST', `/api/instances/${id}/assignment`, 'bob', { assignee: 'dora' });
    expect(disabled).toMatchObject({ status: 422, body: { code: 'ASSIGNEE_DISABLED' } });
    const elsewhere = await call('POST', `/api/instances/${id}/assignment`, 'bob', { assignee: 'gus' });
    expect(elsewhere).toMatchObject({ status: 422, body: { code: 'ASSIGNEE_NOT_QUALIFIED' } });
    expect(String(elsewhere.body.detail)).toContain('acme-http');
    const barred = await call('POST', `/api/instances/${id}/assignment`, 'bob', { assignee: 'alice' });
    expect(barred).toMatchObject({ status: 403, body: { code: 'DUTY_CONFLICT' } });
    expect((await getSnapshot(h.client, id)).assignees).toEqual({});
    // Refusals are audited.
    const refusals = await h.running.store.audit({ kind: 'refusal', subject: id });
    expect(refusals.map((r) => r.body.code)).toEqual([
      'ASSIGNEE_UNKNOWN',
      'ASSIGNEE_DISABLED',
      'ASSIGNEE_NOT_QUALIFIED',
      'DUTY_CONFLICT',
    ]);
  });

  it('claim, reassign and the tabs: assigned to me, my roles — unassigned, all I can act on', async () => {
    const a = await submitted('acme-http');
    const b = await submitted('acme-http');
    const claimed = await call('POST', `/api/instances/${a}/assignment`, 'rita', { assignee: 'rita' });
    expect(claimed).toMatchObject({ status: 200, body: { state: 'submitted', to: 'rita', act: 'claim' } });
    const lost = await call('POST', `/api/instances/${a}/assignment`, 'remy', { assignee: 'remy' });
    expect(lost).toMatchObject({ status: 409, body: { code: 'ASSIGNMENT_CONFLICT' } });
    expect(String(lost.body.detail)).toContain('held by rita');
    // remy's page shows no APPROVE: rita holds it.
    const seen = await call('GET', `/api/instances/${a}`, 'remy');
    expect(seen.body).toMatchObject({ assignees: { submitted: 'rita' }, availableToMyRoles: [] });
    const ritaSees = await call('GET', `/api/instances/${a}`, 'rita');
    expect(ritaSees.body.availableToMyRoles).toEqual(['APPROVE']);

    type Tabs = { mine?: string[]; unassigned?: string[]; all?: string[]; counts?: unknown };
    const tabs = async (who: string): Promise<Tabs> => {
      const out: Record<string, string[]> = {};
      let counts: unknown;
      for (const tab of ['mine', 'unassigned', 'all']) {
        const res = await call('GET', `/api/inbox?tab=${tab}`, who);
        out[tab] = (res.body.tasks as { workflowId: string }[])
          .map((t) => t.workflowId)
          .filter((w) => w === a || w === b)
          .sort();
        counts = res.body.counts;
      }
      return { ...out, counts };
    };
    await eventually(async () => {
      const r = await tabs('rita');
      return r.mine?.join() === a && r.unassigned?.join() === b && r.all?.length === 2;
    });
    await eventually(async () => {
      const r = await tabs('remy');
      return r.mine?.length === 0 && r.unassigned?.join() === b && r.all?.join() === b;
    });
    const r = await tabs('rita');
    expect(r.counts).toMatchObject({ mine: 1 });

    // A manager hands it to remy: now in his "assigned to me".
    const moved = await call('POST', `/api/instances/${a}/assignment`, 'bob', { assignee: 'remy' });
    expect(moved).toMatchObject({ status: 200, body: { from: 'rita', to: 'remy', act: 'assign' } });
    await eventually(async () => (await tabs('remy')).mine?.join() === a);
    const approve = await call('POST', `/api/instances/${a}/events`, 'rita', { type: 'APPROVE' });
    expect(approve).toMatchObject({ status: 403, body: { code: 'NOT_ASSIGNEE' } });
    expect((await call('POST', `/api/instances/${a}/events`, 'remy', { type: 'APPROVE' })).status).toBe(200);
  });

  it('bulk from the stalled view: preview, reassign 50 with a result each, remind through the outbox', async () => {
    const ids = await Promise.all(Array.from({ length: 50 }, () => submitted('acme-http')));
    // One of them is held by rita already, one finished: a result each, whatever happens.
    await call('POST', `/api/instances/${ids[0]}/assignment`, 'rita', { assignee: 'rita' });
    const picked = { workflowIds: ids, filter: undefined };
    const body = {
      action: 'reassign',
      assignee: 'remy',
      workflowIds: picked.workflowIds,
      filter: { idle: 'PT0S' },
    };
    expect((await call('POST', '/api/stalled/bulk/preview', 'bob', body)).status).toBe(422);
    const stalled = { idle: 'PT0S', procedure: 'assign_review' };
    const preview = await eventually(async () => {
      const p = await call('POST', '/api/stalled/bulk/preview', 'bob', {
        action: 'reassign',
        assignee: 'remy',
        workflowIds: [...ids, 'assign_review-nope'],
      });
      // The preview reads the visibility rows (CustodiaAssignee), which follow rita's claim a moment later.
      const held = (p.body.instances as { workflowId: string; plan: string }[] | undefined)?.find(
        (x) => x.workflowId === ids[0],
      );
      return p.status === 200 && p.body.total === 50 && held?.plan === 'rita → remy' && p;
    });
    expect(preview.body.missing).toEqual(['assign_review-nope']);
    const plans = preview.body.instances as { workflowId: string; plan: string }[];
    expect(plans.find((p) => p.workflowId === ids[0])?.plan).toBe('rita → remy');
    expect(plans.find((p) => p.workflowId === ids[1])?.plan).toBe('(nobody) → remy');
    // A preview changes nothing.
    expect((await getSnapshot(h.client, ids[1]!)).assignees).toEqual({});
    const byFilter = await call('POST', '/api/stalled/bulk/preview', 'bob', {
      action: 'remind',
      filter: stalled,
    });
    expect(byFilter.status).toBe(200);
    expect(Number(byFilter.body.total)).toBeGreaterThanOrEqual(50);

    const started = await call('POST', '/api/stalled/bulk', 'bob', {
      action: 'reassign',
      assignee: 'remy',
      workflowIds: ids,
    });
    expect(started.status).toBe(202);
    const job = await eventually(async () => {
      const j = await call('GET', `/api/stalled/bulk/${String(started.body.jobId)}`, 'bob');
      return j.body.finishedAt !== undefined && j.body;
    }, 60_000);
    expect(job).toMatchObject({ total: 50, done: 50, ok: 50, refused: 0 });
    const results = job.results as { workflowId: string; ok: boolean; detail: string }[];
    expect(results.find((r) => r.workflowId === ids[0])?.detail).toBe('rita → remy');
    expect(new Set(results.map((r) => r.workflowId))).toEqual(new Set(ids));
    for (const id of ids.slice(0, 5))
      expect((await getSnapshot(h.client, id)).assignees).toEqual({ submitted: 'remy' });
    // Not bob's job for anyone else.
    expect((await call('GET', `/api/stalled/bulk/${String(started.body.jobId)}`, 'rita')).status).toBe(404);
    // The summary of the act is audited too.
    const summary = await eventually(async () => {
      const rows = await h.running.store.audit({
        kind: 'admin',
        subject: `bulk:${String(started.body.jobId)}`,
      });
      return rows[0];
    });
    expect(summary.body).toMatchObject({ act: 'bulk.reassign', total: 50, ok: 50, refused: 0 });

    // A reviewer may not remind; a manager's reminder is a `$remind` record and a notification.
    const notAllowed = await call('POST', '/api/stalled/bulk', 'rita', {
      action: 'remind',
      workflowIds: ids.slice(0, 2),
    });
    const denied = await eventually(async () => {
      const j = await call('GET', `/api/stalled/bulk/${String(notAllowed.body.jobId)}`, 'rita');
      return j.body.finishedAt !== undefined && j.body;
    });
    expect(denied).toMatchObject({ ok: 0, refused: 2 });
    expect((denied.results as { code: string }[])[0]?.code).toBe('ASSIGNMENT_NOT_ALLOWED');
    const remind = await call('POST', '/api/stalled/bulk', 'bob', {
      action: 'remind',
      workflowIds: ids.slice(0, 3),
    });
    const reminded = await eventually(async () => {
      const j = await call('GET', `/api/stalled/bulk/${String(remind.body.jobId)}`, 'bob');
      return j.body.finishedAt !== undefined && j.body;
    });
    expect(reminded).toMatchObject({ ok: 3, refused: 0 });
    const notes = await eventually(async () => {
      const n = await h.running.store.notificationsOf(ids[0]!);
      return n.length === 2 && n;
    });
    expect(notes.map((n) => n.recipient).sort()).toEqual(['project_staff', 'reviewer']);
    expect(notes[0]!.en).toContain('assigned to remy');
    const remyInbox = await call('GET', '/api/notifications', 'remy');
    expect(JSON.stringify(remyInbox.body)).toContain(ids[0]!);
  });
});

describe('custodia assign', () => {
  const run = promisify(execFile);
  let recordsDir: string;

  async function custodia(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(
        process.execPath,
        [path.join(REPO_ROOT, 'bin/custodia.mjs'), ...args],
        {
          cwd: REPO_ROOT,
          env: {
            ...process.env,
            TEMPORAL_ADDRESS: h.address,
            CUSTODIA_TASK_QUEUE: h.config.taskQueue,
            CUSTODIA_RECORDS_DIR: recordsDir,
          },
        },
      );
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  beforeAll(async () => {
    recordsDir = path.join(tempDir('custodia-assign-cli-'), 'records');
    const store = await openStore({ dataDir: recordsDir });
    try {
      const password = 'correct horse battery staple';
      for (const [id, roles] of [
        ['rita', ['reviewer']],
        ['remy', ['reviewer']],
        ['bob', ['quality_manager']],
      ] as const)
        await store.createUser({ id, displayName: id, roles: [...roles], password }, 'test');
    } finally {
      await store.close();
    }
  });
  afterAll(() => rmSync(path.dirname(recordsDir), { recursive: true, force: true }));

  it('claims, refuses a second claim naming the holder, and refuses an unknown assignee', async () => {
    const id = await submitted('acme-cli');
    let r = await custodia('assign', id, 'rita', '--as', 'rita:reviewer');
    expect(r.stdout.trim(), r.stderr).toBe('submitted: (nobody) → rita (claim)');
    r = await custodia('assign', id, 'remy', '--as', 'remy:reviewer');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'refused (ASSIGNMENT_CONFLICT): the task of state submitted is already held by rita',
    );
    r = await custodia('assign', id, 'nobody', '--as', 'bob:quality_manager');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('refused: no user "nobody" in the directory');
    r = await custodia('assign', id, 'remy', '--state', 'submitted', '--as', 'bob:quality_manager');
    expect(r.stdout.trim(), r.stderr).toBe('submitted: rita → remy (assign)');
    expect((await getSnapshot(h.client, id)).assignees).toEqual({ submitted: 'remy' });
  });
});
