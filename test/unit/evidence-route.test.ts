/**
 * `GET /api/evidence` (the auditor's button): client isolation — a client the caller may not see
 * is 403 and nothing is made (no export recorded); a role that is neither auditor, admin nor
 * all-client is 403; an auditor of the client gets a zip that verifies offline, and the export is
 * an audit record of the client naming the pack's manifest digest. The pack is made on a worker
 * thread (`evidence/pool.ts`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi, type Api } from '../../worker/api/server.ts';
import { SESSION_COOKIE } from '../../worker/api/sessions.ts';
import { loadDefinitions } from '../../worker/definitions.ts';
import { verifyPack } from '../../worker/evidence/verify-pack.ts';
import { openPgliteClient } from '../../worker/records/sql.ts';
import { createRecordsStore } from '../../worker/records/store.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import { REPO_ROOT } from '../../worker/settings.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'custodia-evidence-route-'));
let store: RecordsStore;
let api: Api;
let base: string;
const PASSWORD = 'correct horse battery';

beforeAll(async () => {
  const definitions = loadDefinitions([path.join(REPO_ROOT, 'definitions')], REPO_ROOT, {
    verify: false,
  }).definitions;
  const def = definitions.get('file_access')!;
  store = await createRecordsStore(await openPgliteClient(null), {
    checkpoints: { keyFile: path.join(dir, 'key.pem'), logFile: path.join(dir, 'cp.jsonl'), every: 0 },
  });
  let tick = 0;
  for (const client of ['acme', 'globex'])
    await store.commit(
      {
        workflowId: `file_access-${client}`,
        procedure: def.ir.id,
        version: def.ir.version,
        hash: def.hash,
        client,
        record: {
          seq: 1,
          at: new Date(Date.UTC(2026, 2, 2, 8, 0, tick++)).toISOString(),
          event: '$start',
          actor: { id: 'li', roles: ['project_staff'] },
          from: [],
          to: ['draft'],
          clauses: ['4.2.2'],
        },
        effects: [],
      },
      [],
    );
  await store.createUser(
    { id: 'aud', displayName: 'Auditor', roles: ['auditor'], clients: ['acme'], password: PASSWORD },
    'test',
  );
  await store.createUser(
    { id: 'staff', displayName: 'Staff', roles: ['project_staff'], clients: ['acme'], password: PASSWORD },
    'test',
  );
  await store.createUser(
    { id: 'qm', displayName: 'QM', roles: ['quality_manager'], password: PASSWORD },
    'test',
  );
  api = createApi({ client: {} as Client, store, definitions, taskQueue: 'none' });
  base = await api.listen(0);
}, 120_000);

afterAll(async () => {
  await api?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function get(userId: string, query: string): Promise<Response> {
  const session = await store.createSession(userId, 3600_000);
  return fetch(new URL(`/api/evidence?${query}`, base), {
    headers: { cookie: `${SESSION_COOKIE}=${session.id}` },
  });
}

const exports = async (): Promise<number> => (await store.audit({ kind: 'export' })).length;

describe('GET /api/evidence', () => {
  it('refuses a client the auditor may not see (403), and makes nothing', async () => {
    const before = await exports();
    const res = await get('aud', 'client=globex');
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'CLIENT_NOT_VISIBLE' });
    expect(await exports()).toBe(before);
  });

  it('refuses staff who are neither auditor, admin nor all-client, even for their own client', async () => {
    const res = await get('staff', 'client=acme');
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'NOT_ALLOWED' });
  });

  it('refuses a malformed period', async () => {
    const res = await get('aud', 'client=acme&from=March');
    expect(res.status).toBe(400);
    const empty = await get('aud', 'client=acme&from=2026-04-01&to=2026-03-01');
    expect([empty.status, ((await empty.json()) as { code: string }).code]).toEqual([400, 'BAD_PERIOD']);
  });

  it('gives the auditor of the client a pack that verifies, and records the export', async () => {
    const res = await get('aud', 'client=acme&from=2026-03-01&to=2026-03-31&lang=en');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(res.headers.get('content-disposition')).toBe(
      'attachment; filename="evidence-acme-2026-03-01-2026-03-31.zip"',
    );
    const zip = new Uint8Array(await res.arrayBuffer());
    const v = verifyPack(zip);
    expect(v.checks.filter((c) => !c.ok)).toEqual([]);
    const files = unzipSync(zip);
    expect(Object.keys(files)).toContain('report.pdf');
    expect(Buffer.from(files['audit-segment.jsonl']!).toString()).not.toContain('globex');
    const [record] = (await store.audit({ kind: 'export' })).slice(-1);
    expect(record).toMatchObject({
      client: 'acme',
      actorId: 'aud',
      subject: 'client:acme',
      body: { what: 'evidence', format: 'pdf+zip', pack: 'evidence-acme-2026-03-01-2026-03-31' },
    });
    expect(record!.body.manifestSha256).toMatch(/^[0-9a-f]{64}$/);
  }, 120_000);
});
