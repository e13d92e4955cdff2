/**
 * Migration of running instances on the real stack (a harness worker on the dev server, its
 * records store, the API on a free port): 40 running instances of migration_intake 1.0.0 in six
 * situations; version 2.0.0 deployed; the dry run classifies each as the plan says; the batch moves
 * those that can (8 at a time) and nothing else; the moved ones take events of 2.0.0; their
 * histories replay; every move is a `$migrate` audit record; a non-admin and an unknown version are
 * refused with nothing changed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { createApi, SESSION_COOKIE, type Api } from '../../worker/api/server.ts';
import type { Json } from '../../workflows/core/ir.ts';
import { REPO_ROOT } from '../../worker/config.ts';
import { getSnapshot } from '../../worker/instances.ts';
import { eventually, sendEvent, sharedBundle, startHarness, type Harness } from './harness.ts';
import { recordHistory } from './record-history.ts';

const PASSWORD = 'correct horse battery';
const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/migration');
const V2 = readFileSync(path.join(FIXTURES, 'v2/intake.yaml'), 'utf8');

interface Session {
  cookie: string;
  csrf: string;
}
interface Res {
  status: number;
  body: Record<string, unknown>;
  text: string;
}

let h: Harness;
let api: Api;
let base: string;
let ada: Session; // admin
let alice: Session; // project_staff
const serverErrors: unknown[] = [];

async function call(method: string, url: string, session: Session, body?: unknown): Promise<Res> {
  const headers: Record<string, string> = {
    cookie: `${SESSION_COOKIE}=${session.cookie}`,
    'x-csrf-token': session.csrf,
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + url, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, text };
}

async function login(id: string): Promise<Session> {
  const res = await fetch(`${base}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, password: PASSWORD }),
  });
  const body = (await res.json()) as { csrfToken: string };
  const set = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? '';
  return { cookie: /^[^=]+=([^;]*)/.exec(set)?.[1] ?? '', csrf: body.csrfToken };
}

const staff = { id: 'sam', roles: ['project_staff'] };
const qm = { id: 'quin', roles: ['quality_manager'] };

/**
 * The six situations of version 1 instances, how many of each, and what the dry run must say.
 * 40 in all (200 until 2026-12-07): each instance's plan and outcome is checked one by one, so a
 * count proves nothing more per situation; 40 still exceeds the batch's 8 in flight five times
 * over, and 200 fitted one visibility page as 40 does (pages of up to 1,000).
 */
const GROUPS: {
  name: string;
  n: number;
  context: Record<string, Json>;
  events: string[];
  class: string;
  code?: string;
  to?: string[];
}[] = [
  { name: 'draft', n: 16, context: { note: 'n' }, events: [], class: 'moves', to: ['draft'] },
  { name: 'submitted', n: 12, context: {}, events: ['SUBMIT'], class: 'moves', to: ['review.pending'] },
  {
    name: 'on_hold',
    n: 4,
    context: {},
    events: ['SUBMIT', 'HOLD'],
    class: 'needs_mapping',
    code: 'UNMAPPED_STATE',
  },
  {
    name: 'escalated_high',
    n: 4,
    context: { priority: 'high' },
    events: ['SUBMIT', 'ESCALATE'],
    class: 'moves',
    to: ['review.escalated'],
  },
  {
    name: 'escalated_normal',
    n: 2,
    context: {},
    events: ['SUBMIT', 'ESCALATE'],
    class: 'cannot_move',
    code: 'NOT_COVERED',
  },
  {
    name: 'urgent',
    n: 2,
    context: { priority: 'urgent' },
    events: [],
    class: 'cannot_move',
    code: 'CONTEXT_INVALID',
  },
];
const groupOf = new Map<string, (typeof GROUPS)[number]>();
const TOTAL = 40;
const MOVES = 32;

/** Run `fn` over `items`, `n` at a time. */
async function inBatches<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

beforeAll(async () => {
  h = await startHarness([path.join(FIXTURES, 'v1')]);
  const store = h.running.store;
  await store.createUser(
    { id: 'ada', displayName: 'Ada', roles: ['admin'], clients: [], password: PASSWORD },
    'test',
  );
  await store.createUser(
    { id: 'alice', displayName: 'Alice', roles: ['project_staff'], clients: ['acme'], password: PASSWORD },
    'test',
  );
  api = createApi({
    client: h.client,
    store,
    definitions: h.definitions,
    taskQueue: h.config.taskQueue,
    singleAdminDeploy: true,
    onError: (err: unknown) => serverErrors.push(err),
  });
  base = await api.listen(0);
  [ada, alice] = await Promise.all([login('ada'), login('alice')]);
  // The running instances of 1.0.0, started and driven 20 at a time.
  const jobs = GROUPS.flatMap((g) => Array.from({ length: g.n }, (_, i) => ({ g, i })));
  const started = Date.now();
  await inBatches(jobs, 20, async ({ g, i }) => {
    const id = await h.start('migration_intake', { client: `c${i % 5}`, ...g.context }, staff);
    for (const type of g.events)
      await sendEvent(h.client, id, { type, actor: type === 'SUBMIT' ? staff : qm });
    groupOf.set(id, g);
  });
  expect(jobs).toHaveLength(TOTAL);
  console.log(`started and drove ${TOTAL} instances in ${Date.now() - started} ms`);
  // Visibility lists them all (it lags the starts a little).
  await eventually(async () => {
    const n = await h.client.workflow.count(
      `CustodiaProcedure = 'migration_intake' AND ExecutionStatus = 'Running' AND CustodiaVersion = '1.0.0'`,
    );
    return n.count === TOTAL;
  }, 60_000);
  // Version 2.0.0 deployed (single-admin mode: it weakens no safeguard of 1.0.0).
  const deployed = await call('POST', '/api/definitions', ada, { yaml: V2, file: 'intake.yaml' });
  expect(deployed.status, deployed.text).toBe(201);
}, 300_000);

afterAll(async () => {
  expect(serverErrors).toEqual([]);
  await api?.close();
  await h?.close();
});

interface Planned {
  workflowId: string;
  plan: { class: string; code?: string; to: string[]; added: string[]; dropped: string[] };
}

describe('migration of running instances', () => {
  it('refuses a non-admin and an unknown version, changing nothing', async () => {
    const staffTry = await call('POST', '/api/definitions/migration_intake/migrations/dry-run', alice, {});
    expect(staffTry.status, staffTry.text).toBe(403);
    const batchTry = await call('POST', '/api/definitions/migration_intake/migrations', alice, {});
    expect(batchTry.status, batchTry.text).toBe(403);
    const unknown = await call('POST', '/api/definitions/migration_intake/migrations', ada, { to: '9.0.0' });
    expect(unknown.status, unknown.text).toBe(404);
    expect(unknown.body.code).toBe('UNKNOWN_VERSION');
    const n = await h.client.workflow.count(
      `CustodiaProcedure = 'migration_intake' AND CustodiaVersion = '1.0.0'`,
    );
    expect(n.count).toBe(TOTAL);
  });

  it('dry run: every instance classified as its situation says (moves 32, needs mapping 4, cannot move 4)', async () => {
    const t0 = Date.now();
    const res = await call('POST', '/api/definitions/migration_intake/migrations/dry-run', ada, {});
    console.log(`dry run of ${TOTAL} instances: ${Date.now() - t0} ms`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      to: { version: '2.0.0' },
      proof: { exhaustive: true },
      total: TOTAL,
      counts: { moves: MOVES, needs_mapping: 4, cannot_move: 4 },
    });
    for (const i of res.body.instances as Planned[]) {
      const g = groupOf.get(i.workflowId)!;
      expect(i.plan.class, `${g.name} ${i.workflowId}`).toBe(g.class);
      if (g.code) expect(i.plan.code).toBe(g.code);
      if (g.to) expect(i.plan.to).toEqual(g.to);
    }
    const draft = (res.body.instances as Planned[]).find((i) => groupOf.get(i.workflowId)?.name === 'draft')!;
    expect(draft.plan).toMatchObject({ added: ['checked'], dropped: ['note'] });
    // Nothing changed.
    const n = await h.client.workflow.count(
      `CustodiaProcedure = 'migration_intake' AND CustodiaVersion = '1.0.0'`,
    );
    expect(n.count).toBe(TOTAL);
  });

  it('batch: the 32 that can move to 2.0.0 and take its events; the 8 others stay on 1.0.0; histories replay', async () => {
    const t0 = Date.now();
    const start = await call('POST', '/api/definitions/migration_intake/migrations', ada, {});
    expect(start.status, start.text).toBe(202);
    expect(start.body.total).toBe(TOTAL);
    const jobUrl = `/api/definitions/migration_intake/migrations/${String(start.body.jobId)}`;
    const job = await eventually(async () => {
      const r = await call('GET', jobUrl, ada);
      return r.body.finishedAt ? r.body : undefined;
    }, 120_000);
    console.log(`migrated ${TOTAL} instances (${MOVES} moved) in ${Date.now() - t0} ms`);
    expect(job).toMatchObject({
      action: 'migrate',
      total: TOTAL,
      done: TOTAL,
      ok: MOVES,
      refused: TOTAL - MOVES,
    });
    const results = job.results as { workflowId: string; ok: boolean; code?: string; detail?: string }[];
    for (const r of results) {
      const g = groupOf.get(r.workflowId)!;
      expect(r.ok, `${g.name}: ${r.code}`).toBe(g.class === 'moves');
      if (!r.ok) expect(r.code).toBe(g.code);
    }
    // Someone else's view of the job: not found.
    expect((await call('GET', jobUrl, alice)).status).toBe(403);

    await eventually(async () => {
      const n = await h.client.workflow.count(
        `CustodiaProcedure = 'migration_intake' AND ExecutionStatus = 'Running' AND CustodiaVersion = '2.0.0'`,
      );
      return n.count === MOVES;
    }, 30_000);

    // A moved submitted instance: in review.pending of 2.0.0, with the new field; v2 events accepted.
    const sub = results.find((r) => groupOf.get(r.workflowId)?.name === 'submitted')!.workflowId;
    const snap = await getSnapshot(h.client, sub);
    expect(snap).toMatchObject({ version: '2.0.0', leaves: ['review.pending'], context: { checked: false } });
    expect(snap.log.at(-1)?.event).toBe('$migrate');
    await sendEvent(h.client, sub, { type: 'CHECK', actor: qm });
    const done = await sendEvent(h.client, sub, { type: 'APPROVE', actor: qm });
    expect(done.state).toBe('approved');
    // A moved draft: SUBMIT now leads to 2.0.0's review.
    const draft = results.find((r) => groupOf.get(r.workflowId)?.name === 'draft')!.workflowId;
    expect((await sendEvent(h.client, draft, { type: 'SUBMIT', actor: staff })).leaves).toEqual([
      'review.pending',
    ]);
    // One left behind still runs 1.0.0: HOLD's RESUME is still its event.
    const held = results.find((r) => groupOf.get(r.workflowId)?.name === 'on_hold')!.workflowId;
    expect((await sendEvent(h.client, held, { type: 'RESUME', actor: qm })).leaves).toEqual(['submitted']);

    // The audit chain has the move, old → new version.
    const audit = await h.running.store.auditOf(sub);
    const moved = audit.find((e) => e.body.event === '$migrate');
    expect(moved?.body, JSON.stringify(audit)).toMatchObject({
      version: '2.0.0',
      actorRoles: ['admin'],
      from: ['submitted'],
      to: ['review.pending'],
      data: { fromVersion: '1.0.0', toVersion: '2.0.0', mapped: { submitted: 'review.pending' } },
    });

    // Histories of moved instances replay against the workflow code.
    const histories = await Promise.all(
      [sub, draft].map(async (workflowId) => ({
        workflowId,
        history: await h.client.workflow.getHandle(workflowId).fetchHistory(),
      })),
    );
    for await (const r of Worker.runReplayHistories({ workflowBundle: sharedBundle() }, histories))
      expect(r.error, r.workflowId).toBeUndefined();
    await recordHistory(h.client, sub, 'migration-intake-migrated');

    // Dry-run again: the moved are SAME_VERSION (one has finished — closed within a second of its
    // last event, when its coalesced search attributes are upserted); the resumed one now moves.
    await h.client.workflow.getHandle(sub).result();
    const again = await call('POST', '/api/definitions/migration_intake/migrations/dry-run', ada, {});
    expect(again.body).toMatchObject({
      total: TOTAL - 1,
      counts: { moves: 1, needs_mapping: 3, cannot_move: TOTAL - 1 - 1 - 3 },
    });
    const resumed = (again.body.instances as Planned[]).find((i) => i.workflowId === held)!;
    expect(resumed.plan).toMatchObject({ class: 'moves', to: ['review.pending'] });
  });
});
