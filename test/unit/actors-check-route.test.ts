/**
 * `POST /api/actors/check`, a public route (no session; the signature with a trusted actor key is
 * the credential): for a tool that signs actor assertions outside the API and cannot open the
 * records store itself, is the assertion's actor a directory user who is enabled and holds its
 * roles? Real API server, real records store (PGlite in memory); no Temporal (the route never
 * reaches it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actorSigner, loadActorSigner } from '../../worker/actor-keys.ts';
import { createApi, type Api } from '../../worker/api/server.ts';
import { openPgliteClient } from '../../worker/records/sql.ts';
import { createRecordsStore } from '../../worker/records/store.ts';
import type { RecordsStore } from '../../worker/records/types.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'custodia-actors-check-'));
let store: RecordsStore;
let api: Api;
let base: string;

beforeAll(async () => {
  store = await createRecordsStore(await openPgliteClient(null), {
    checkpoints: { keyFile: path.join(dir, 'key.pem'), logFile: path.join(dir, 'cp.jsonl'), every: 0 },
  });
  const password = 'correct horse battery';
  await store.createUser(
    { id: 'li', displayName: 'Li', roles: ['project_staff', 'approver'], password },
    'test',
  );
  await store.createUser({ id: 'wu', displayName: 'Wu', roles: ['project_staff'], password }, 'test');
  await store.setDisabled('wu', true, 'test');
  api = createApi({ client: {} as Client, store, definitions: new Map(), taskQueue: 'none' });
  base = await api.listen(0);
}, 120_000);

afterAll(async () => {
  await api?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function check(body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(new URL('/api/actors/check', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}
const signed = (id: string, roles: string[], opts: { now?: number; ttlMs?: number } = {}) =>
  actorSigner().sign({ id, roles }, opts);

describe('POST /api/actors/check (public)', () => {
  it('answers the actor as the directory knows it, without a session', async () => {
    expect(await check({ assertion: signed('li', ['approver']) })).toEqual({
      status: 200,
      json: { id: 'li', roles: ['approver'] },
    });
    // Bound to an instance: still the same check of the person.
    const bound = actorSigner().sign({ id: 'li', roles: ['project_staff'] }, { workflowId: 'w-1' });
    expect((await check({ assertion: bound })).json).toEqual({ id: 'li', roles: ['project_staff'] });
  });

  it('refuses (403) an unknown user, a disabled one, a role the user does not hold', async () => {
    for (const [id, roles, why] of [
      ['nobody', ['approver'], 'no user "nobody"'],
      ['wu', ['project_staff'], 'disabled'],
      ['li', ['quality_manager'], 'does not hold the role(s) quality_manager'],
    ] as const) {
      const out = await check({ assertion: signed(id, [...roles]) });
      expect(out.status).toBe(403);
      expect(out.json).toMatchObject({ code: 'NOT_A_DIRECTORY_ACTOR' });
      expect(String(out.json.detail ?? out.json.message ?? JSON.stringify(out.json))).toContain(why);
    }
  });

  it('refuses (401) an assertion not signed with a trusted key, an expired one, a malformed one', async () => {
    const stranger = loadActorSigner(path.join(dir, 'stranger.pem')).sign({ id: 'li', roles: ['approver'] });
    const expired = signed('li', ['approver'], { now: Date.now() - 2 * 3600_000, ttlMs: 60_000 });
    for (const assertion of [stranger, expired, 'not-an-assertion'])
      expect(await check({ assertion })).toMatchObject({ status: 401, json: { code: 'BAD_ASSERTION' } });
  });

  it('refuses (400) a body without an assertion, or with anything else', async () => {
    expect((await check({})).status).toBe(400);
    expect(await check({ assertion: signed('li', []), actor: { id: 'li' } })).toMatchObject({
      status: 400,
      json: { code: 'UNKNOWN_FIELD' },
    });
  });
});
