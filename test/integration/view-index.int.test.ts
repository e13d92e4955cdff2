/**
 * The views' index (worker/view-index.ts) against the real stack: an API answering from it agrees
 * with one answering by live visibility queries — the stalled counts and the inbox, per user (client
 * isolation) — says how old its answer is, and catches up with a transition on its next reading.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi, SESSION_COOKIE, type Api } from '../../worker/api/server.ts';
import { REPO_ROOT } from '../../worker/config.ts';
import { CSRF_HEADER } from '../../worker/api/sessions.ts';
import { eventually, startHarness, type Harness } from './harness.ts';

const PASSWORD = 'view index password';
const PROCEDURE = 'view_index_check';
const ROLE = 'index_reviewer';

/** bench-stalled.yaml under its own id and role: only this file's instances await the role. */
const yaml = readFileSync(path.join(REPO_ROOT, 'test/bench/bench-stalled.yaml'), 'utf8')
  .replace('id: bench_stalled', `id: ${PROCEDURE}`)
  .replaceAll('quality_manager', ROLE);

let dir: string;
let h: Harness;
let live: Api;
let indexed: Api;
const bases: { live?: string; indexed?: string } = {};
const cookies = new Map<string, string>();
const csrfTokens = new Map<string, string>();

async function get(which: 'live' | 'indexed', user: string, url: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${bases[which]}${url}`, {
    headers: { cookie: `${SESSION_COOKIE}=${cookies.get(`${which}:${user}`)}` },
  });
  expect(res.status, url).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

async function signIn(which: 'live' | 'indexed', user: string): Promise<void> {
  const res = await fetch(`${bases[which]}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: user, password: PASSWORD }),
  });
  expect(res.status).toBeLessThan(300);
  const set = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
  cookies.set(`${which}:${user}`, set.split(';')[0]!.slice(SESSION_COOKIE.length + 1));
  csrfTokens.set(`${which}:${user}`, String(((await res.json()) as { csrfToken: string }).csrfToken));
}

interface Counts {
  total: number;
  groups: { procedure: string; state: string; count: number; overdue: number }[];
  method?: string;
  indexedAt?: string;
  fullyIndexedAt?: string;
  fullReadingAt?: string;
  ageMs?: number;
}
interface Inbox {
  tasks: { workflowId: string }[];
  total: number;
  counts: Record<string, number>;
  method?: string;
  indexedAt?: string;
}

const mineOnly = (c: Counts) =>
  c.groups.filter((g) => g.procedure === PROCEDURE).map((g) => [g.state, g.count, g.overdue]);

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'custodia-view-index-'));
  writeFileSync(path.join(dir, `${PROCEDURE}.yaml`), yaml);
  h = await startHarness([dir]);
  const opts = { client: h.client, store: h.running.store, definitions: h.definitions };
  live = createApi({ ...opts, taskQueue: h.config.taskQueue, viewIndex: { from: Infinity } });
  // From one running instance, and read again at every request (maxAgeMs 0).
  indexed = createApi({ ...opts, taskQueue: h.config.taskQueue, viewIndex: { from: 1, maxAgeMs: 0 } });
  bases.live = await live.listen(0);
  bases.indexed = await indexed.listen(0);
  await h.running.store.createUser(
    { id: 'rita', displayName: 'Rita', roles: [ROLE], clients: ['Alpha', 'Beta'], password: PASSWORD },
    'test',
  );
  await h.running.store.createUser(
    { id: 'alf', displayName: 'Alf', roles: [ROLE], clients: ['Alpha'], password: PASSWORD },
    'test',
  );
  for (const which of ['live', 'indexed'] as const) for (const u of ['rita', 'alf']) await signIn(which, u);
}, 60_000);

afterAll(async () => {
  await live?.close();
  await indexed?.close();
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the views from the index', () => {
  it('agree with the live queries, say how old they are, and catch up', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(
        await h.start(PROCEDURE, { client: i < 3 ? 'Alpha' : 'Beta' }, { id: 's', roles: ['project_staff'] }),
      );
    // All five waiting, stalled and overdue (SLA one second), as visibility shows them.
    await eventually(async () => {
      const c = (await get('live', 'rita', '/api/stalled/counts?idle=PT0S')) as unknown as Counts;
      return mineOnly(c).some(([s, n, o]) => s === 'waiting' && n === 5 && o === 5);
    }, 30_000);

    // The first answer is live (nothing read yet) and starts the reading; then from the index.
    const first = (await get('indexed', 'rita', '/api/stalled/counts?idle=PT0S')) as unknown as Counts;
    expect(first.method).not.toBe('index');
    const fromIndex = await eventually(async () => {
      const c = (await get('indexed', 'rita', '/api/stalled/counts?idle=PT0S')) as unknown as Counts;
      return c.method === 'index' && c;
    });
    expect(Date.parse(fromIndex.indexedAt!)).toBeLessThanOrEqual(Date.now());
    expect(fromIndex.fullyIndexedAt).toBe(fromIndex.indexedAt);
    expect(fromIndex.fullReadingAt).toBe(fromIndex.indexedAt);
    expect(fromIndex.ageMs).toBeGreaterThanOrEqual(0);
    const liveCounts = (await get('live', 'rita', '/api/stalled/counts?idle=PT0S')) as unknown as Counts;
    expect(liveCounts.method).not.toBe('index');
    expect(mineOnly(fromIndex)).toEqual(mineOnly(liveCounts));
    expect(mineOnly(fromIndex)).toEqual([['waiting', 5, 5]]);
    // Idle for a day: none of them (just started, but overdue: stalled all the same).
    const day = (await get('indexed', 'rita', '/api/stalled/counts?idle=P1D')) as unknown as Counts;
    expect(mineOnly(day)).toEqual([['waiting', 5, 5]]);

    // The overdue list (its query carries a planner hint that matches nothing: still these five).
    const overdue = async (): Promise<string[]> => {
      const body = await get('live', 'rita', `/api/instances?overdue=true&procedure=${PROCEDURE}&limit=100`);
      return (body.instances as { workflowId: string }[]).map((r) => r.workflowId).sort();
    };
    expect(await overdue()).toEqual([...ids].sort());

    // Client isolation: Alf sees Alpha's three only, in both.
    const alfIndexed = (await get('indexed', 'alf', '/api/stalled/counts?idle=PT0S')) as unknown as Counts;
    const alfLive = (await get('live', 'alf', '/api/stalled/counts?idle=PT0S')) as unknown as Counts;
    expect(mineOnly(alfIndexed)).toEqual([['waiting', 3, 3]]);
    expect(mineOnly(alfLive)).toEqual(mineOnly(alfIndexed));

    // The inbox: the same tasks in the same order (earliest due first), the same counts.
    for (const user of ['rita', 'alf']) {
      const a = (await get('indexed', user, '/api/inbox')) as unknown as Inbox;
      const b = (await get('live', user, '/api/inbox')) as unknown as Inbox;
      expect(a.method).toBe('index');
      expect(b.method).toBeUndefined();
      expect(a.tasks.map((t) => t.workflowId)).toEqual(b.tasks.map((t) => t.workflowId));
      expect(a.counts).toEqual(b.counts);
      expect(a.total).toBe(b.total);
    }
    // This file's instances (another file on this Temporal server may have left tasks assigned to
    // a user of the same id: the inbox shows tasks assigned to a user, whatever the procedure).
    const rita = (await get('indexed', 'rita', '/api/inbox')) as unknown as Inbox;
    expect(
      rita.tasks
        .map((t) => t.workflowId)
        .filter((id) => id.startsWith(`${PROCEDURE}-`))
        .sort(),
    ).toEqual([...ids].sort());

    // A transition: the index answers from its last reading, then catches up (read at each request).
    const review = await fetch(`${bases.live}/api/instances/${encodeURIComponent(ids[0]!)}/events`, {
      method: 'POST',
      headers: {
        cookie: `${SESSION_COOKIE}=${cookies.get('live:rita')}`,
        'content-type': 'application/json',
        [CSRF_HEADER]: csrfTokens.get('live:rita')!,
      },
      body: JSON.stringify({ type: 'REVIEW' }),
    });
    expect(review.status, await review.text()).toBeLessThan(300);
    await eventually(async () => {
      const c = (await get('live', 'rita', '/api/stalled/counts?idle=PT0S')) as unknown as Counts;
      return mineOnly(c).some(([s, n]) => s === 'reviewing' && n === 1);
    }, 30_000);
    const caughtUp = await eventually(async () => {
      const c = (await get('indexed', 'rita', '/api/stalled/counts?idle=PT0S')) as unknown as Counts;
      return mineOnly(c).some(([s, n]) => s === 'reviewing' && n === 1) && c;
    }, 30_000);
    expect(Date.parse(caughtUp.indexedAt!)).toBeGreaterThan(Date.parse(fromIndex.indexedAt!));
    expect(await overdue()).toEqual(ids.slice(1).sort());
    // Reviewing has no SLA: stalled (idle PT0S) but not overdue.
    expect(mineOnly(caughtUp)).toEqual([
      ['waiting', 4, 4],
      ['reviewing', 1, 0],
    ]);
    // That was a refresh of what changed, not a full reading (one every 10 minutes by default).
    expect(caughtUp.fullReadingAt).toBe(fromIndex.fullReadingAt);
    // The change feed answered: every kind of change is as of this refresh.
    expect(caughtUp.fullyIndexedAt).toBe(caughtUp.indexedAt);

    // Two instances started and one closed since: the refresh adds the two and drops the one
    // (waiting: 4 + 2 - 1; 6 or 3 if it missed either).
    const added: string[] = [];
    for (const c of ['Alpha', 'Beta'])
      added.push(await h.start(PROCEDURE, { client: c }, { id: 's', roles: ['project_staff'] }));
    await h.client.workflow.getHandle(ids[4]!).terminate('view index test');
    const expected = [
      ['waiting', 5, 5],
      ['reviewing', 1, 0],
    ];
    await eventually(async () => {
      const c = (await get('live', 'rita', '/api/stalled/counts?idle=PT0S')) as unknown as Counts;
      return JSON.stringify(mineOnly(c)) === JSON.stringify(expected);
    }, 30_000);
    const refreshed = await eventually(async () => {
      const c = (await get('indexed', 'rita', '/api/stalled/counts?idle=PT0S')) as unknown as Counts;
      return JSON.stringify(mineOnly(c)) === JSON.stringify(expected) && c;
    }, 30_000);
    expect(refreshed.fullReadingAt).toBe(fromIndex.fullReadingAt);
    for (const user of ['rita', 'alf']) {
      const a = (await get('indexed', user, '/api/inbox')) as unknown as Inbox;
      const b = (await get('live', user, '/api/inbox')) as unknown as Inbox;
      expect(a.tasks.map((t) => t.workflowId)).toEqual(b.tasks.map((t) => t.workflowId));
      expect(a.counts).toEqual(b.counts);
    }
    const ritaNow = (await get('indexed', 'rita', '/api/inbox')) as unknown as Inbox;
    expect(ritaNow.tasks.map((t) => t.workflowId)).toEqual(expect.arrayContaining(added));
    expect(ritaNow.tasks.map((t) => t.workflowId)).not.toContain(ids[4]);
  }, 120_000);
});
