/**
 * The view index (worker/view-index.ts) catches a change that moves no state: an assignment made
 * through another process reaches it at its next refresh (the change feed from the audit log,
 * worker/view-index-changes.ts), an escalation too, and an assignment made through this process
 * shows in the very next answer (`touch`). No full reading happens meanwhile (every 10 minutes).
 * The refresh's margin is one second here (two minutes by default), so that instances which entered
 * their state a few seconds ago are no longer re-read by the state window: only the feed can tell.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi, SESSION_COOKIE, type Api } from '../../worker/api/server.ts';
import { CSRF_HEADER } from '../../worker/api/sessions.ts';
import { describeRow } from '../../worker/view-index-changes.ts';
import { countOf, ViewQueryUnavailable } from '../../worker/visibility.ts';
import { eventually, startHarness, type Harness } from './harness.ts';

const PASSWORD = 'index fresh password';
const PROCEDURE = 'index_fresh_check';
const ROLE = 'fresh_reviewer';

/** Waits for the reviewer, due in a day, escalated to the reviewer ten seconds after entry. */
const YAML = `
id: ${PROCEDURE}
version: 1.0.0
title: { zh: 索引刷新测试, en: Index freshness test }
description: { zh: 测试用, en: For tests }
roles:
  project_staff: { zh: 项目人员, en: Project Staff }
  ${ROLE}: { zh: 评审人, en: Reviewer }
client_field: client
context:
  client: { type: string, title: { zh: 客户, en: Client }, required: true }
events:
  REVIEW: { title: { zh: 评审, en: Review } }
initial: waiting
states:
  waiting:
    title: { zh: 等待, en: Waiting }
    task: { zh: 开始评审, en: Start the review }
    sla: { due: P1D, escalate: [{ after: PT10S, to: ${ROLE} }] }
    on:
      REVIEW: { target: done, roles: [${ROLE}] }
  done: { title: { zh: 完成, en: Done }, type: final }
`;

let dir: string;
let h: Harness;
/** Another API process (its writes never touch the index of the first). */
let other: Api;
let indexed: Api;
const bases: Record<'other' | 'indexed', string> = { other: '', indexed: '' };
const sessions = new Map<string, { cookie: string; csrf: string }>();

type Which = 'other' | 'indexed';

async function signIn(which: Which, user: string): Promise<void> {
  const res = await fetch(`${bases[which]}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: user, password: PASSWORD }),
  });
  expect(res.status).toBeLessThan(300);
  const set = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  sessions.set(`${which}:${user}`, { cookie: set.split(';')[0]!, csrf: csrfToken });
}

async function get<T>(which: Which, user: string, url: string): Promise<T> {
  const res = await fetch(`${bases[which]}${url}`, {
    headers: { cookie: sessions.get(`${which}:${user}`)!.cookie },
  });
  expect(res.status, url).toBe(200);
  return (await res.json()) as T;
}

/** `user` assigns the instance's task to `assignee` (themselves by default: a claim). */
async function claim(which: Which, user: string, workflowId: string, assignee = user): Promise<void> {
  const s = sessions.get(`${which}:${user}`)!;
  const res = await fetch(`${bases[which]}/api/instances/${encodeURIComponent(workflowId)}/assignment`, {
    method: 'POST',
    headers: { cookie: s.cookie, 'content-type': 'application/json', [CSRF_HEADER]: s.csrf },
    body: JSON.stringify({ assignee }),
  });
  expect(res.status, await res.text()).toBe(200);
}

interface Counts {
  total: number;
  groups: { procedure: string; state: string; count: number }[];
  method?: string;
  indexedAt?: string;
  fullyIndexedAt?: string;
  fullReadingAt?: string;
}
interface Inbox {
  tasks: { workflowId: string; assignees?: string[]; escalation?: number }[];
  counts: Record<'mine' | 'unassigned' | 'all', number>;
  method?: string;
  fullReadingAt?: string;
}

const stalledHere = (c: Counts): number =>
  c.groups.filter((g) => g.procedure === PROCEDURE).reduce((n, g) => n + g.count, 0);

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'custodia-index-fresh-'));
  writeFileSync(path.join(dir, `${PROCEDURE}.yaml`), YAML);
  h = await startHarness([dir]);
  const opts = {
    client: h.client,
    store: h.running.store,
    definitions: h.definitions,
    taskQueue: h.config.taskQueue,
  };
  other = createApi({ ...opts, viewIndex: { from: Infinity } });
  // From one running instance, refreshed at every request, a margin of one second.
  indexed = createApi({ ...opts, viewIndex: { from: 1, maxAgeMs: 0, changeMarginMs: 1000 } });
  bases.other = await other.listen(0);
  bases.indexed = await indexed.listen(0);
  for (const [id, clients] of [
    ['rita', ['Alpha']],
    ['alf', ['Alpha']],
  ] as const)
    await h.running.store.createUser(
      { id, displayName: id, roles: [ROLE], clients: [...clients], password: PASSWORD },
      'test',
    );
  for (const which of ['other', 'indexed'] as const) for (const u of ['rita', 'alf']) await signIn(which, u);
}, 60_000);

afterAll(async () => {
  await other?.close();
  await indexed?.close();
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('changes that move no state reach the view index', () => {
  it('an assignment elsewhere at the next refresh, an escalation too, an assignment here at once', async () => {
    const started = Date.now();
    const [a, b] = [
      await h.start(PROCEDURE, { client: 'Alpha' }, { id: 's', roles: ['project_staff'] }),
      await h.start(PROCEDURE, { client: 'Alpha' }, { id: 's', roles: ['project_staff'] }),
    ];
    // Both in the index, unassigned, not stalled (due in a day, not escalated yet).
    await get('indexed', 'rita', '/api/inbox');
    const first = await eventually(async () => {
      const inbox = await get<Inbox>('indexed', 'rita', '/api/inbox');
      return inbox.method === 'index' && inbox.counts.unassigned === 2 && inbox;
    });
    const before = await get<Counts>('indexed', 'rita', '/api/stalled/counts?idle=P1D');
    expect(before.method).toBe('index');
    // Still before the escalation (10 s after entry): otherwise this run proves nothing about it.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(stalledHere(before)).toBe(0);

    // Past the margin, readings going on meanwhile (a refresh looks back from the reading before
    // it): the state window no longer re-reads them.
    for (const end = Date.now() + 2500; Date.now() < end;)
      await get<Counts>('indexed', 'rita', '/api/stalled/counts?idle=P1D');
    // Rita claims A through the other process: the index learns it from the audit log.
    await claim('other', 'rita', a);
    const claimed = await eventually(async () => {
      const inbox = await get<Inbox>('indexed', 'rita', '/api/inbox');
      return inbox.counts.mine === 1 && inbox.counts.unassigned === 1 && inbox;
    });
    expect(claimed.fullReadingAt).toBe(first.fullReadingAt);
    const alf = await get<Inbox>('indexed', 'alf', '/api/inbox');
    expect(alf.counts).toEqual({ mine: 0, unassigned: 1, all: 1 });

    // Both escalate (ten seconds after entry): stalled at once, without a full reading.
    const escalated = await eventually(async () => {
      const c = await get<Counts>('indexed', 'rita', '/api/stalled/counts?idle=P1D');
      return stalledHere(c) === 2 && c;
    }, 30_000);
    expect(escalated.fullReadingAt).toBe(first.fullReadingAt);
    // Every kind of change is read at each refresh: nothing waits for the full reading.
    expect(escalated.fullyIndexedAt).toBe(escalated.indexedAt);

    // Alf claims B through this process: the very next answer shows it.
    await claim('indexed', 'alf', b);
    const now = await get<Inbox>('indexed', 'alf', '/api/inbox');
    expect(now.method).toBe('index');
    expect(now.counts).toEqual({ mine: 1, unassigned: 0, all: 1 });
    const ritaNow = await get<Inbox>('indexed', 'rita', '/api/inbox');
    expect(ritaNow.counts).toEqual({ mine: 1, unassigned: 0, all: 1 });
    expect(ritaNow.fullReadingAt).toBe(first.fullReadingAt);

    // Alf hands B on to Rita at once: a second change within a second of the last upsert, whose
    // search attributes wait for the second's end (SEARCH_ATTRIBUTES_EVERY_MS) — the very next
    // answer shows it all the same (`touch` reads them as the instance holds them).
    await claim('indexed', 'alf', b, 'rita');
    const handed = await get<Inbox>('indexed', 'rita', '/api/inbox');
    expect(handed.counts).toEqual({ mine: 2, unassigned: 0, all: 2 });
    expect((await get<Inbox>('indexed', 'alf', '/api/inbox')).counts).toEqual({
      mine: 0,
      unassigned: 0,
      all: 0,
    });
    // And still after the readings of the next seconds, once the upsert is made.
    for (const end = Date.now() + 2500; Date.now() < end;) {
      const later = await get<Inbox>('indexed', 'rita', '/api/inbox');
      expect(later.counts).toEqual({ mine: 2, unassigned: 0, all: 2 });
    }
  }, 90_000);
});

describe('a view query Temporal does not answer', () => {
  it('is tried again briefly, then answered 503 with Retry-After (a real "namespace not found")', async () => {
    // The server's own error: a namespace it does not have (what the dev server answered count
    // queries with under load at 100,000 instances, while its namespace existed).
    const lost = new Client({ connection: h.client.connection, namespace: 'custodia-no-such-namespace' });
    const t0 = Date.now();
    const err = await countOf(lost, `WorkflowType = 'procedure'`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ViewQueryUnavailable);
    expect((err as Error).message).toMatch(/after 4 tries/);
    expect(((err as Error).cause as Error).message).toMatch(/namespace/i);
    // Three pauses (100, 300, 900 ms, ±25 %), not the SDK's long retries.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(Date.now() - t0).toBeLessThan(10_000);

    // Not transient: an instance that does not exist is no row, at once (not a namespace error).
    const t1 = Date.now();
    expect(await describeRow(h.client, 'no-such-instance-here', new Date())).toBeUndefined();
    expect(Date.now() - t1).toBeLessThan(900);

    const api = createApi({
      client: lost,
      store: h.running.store,
      definitions: h.definitions,
      taskQueue: h.config.taskQueue,
      viewIndex: { from: Infinity },
      onError: () => undefined,
    });
    try {
      const base = await api.listen(0);
      const res = await fetch(`${base}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'rita', password: PASSWORD }),
      });
      const cookie = res.headers
        .getSetCookie()
        .find((c) => c.startsWith(`${SESSION_COOKIE}=`))!
        .split(';')[0]!;
      for (const url of ['/api/stalled/counts', '/api/inbox', '/api/instances', '/api/stalled']) {
        const r = await fetch(`${base}${url}`, { headers: { cookie } });
        const body = (await r.json()) as { code?: string; detail?: string };
        expect(r.status, url).toBe(503);
        expect(r.headers.get('retry-after'), url).toBe('5');
        expect(body.code, url).toBe('UNAVAILABLE');
        expect(body.detail, url).toMatch(/did not answer a view query .*try again/);
      }
    } finally {
      await api.close();
    }
  }, 60_000);
});
