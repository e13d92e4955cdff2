/**
 * Registers on the real engine and both stores (issue #18): a worker running the shipped
 * `disclosure` definition writes its register rows with the instance's client and procedure (read
 * back through the registers API with the transition that wrote them), on PGlite and on
 * PostgreSQL through DATABASE_URL; schema 5 fills client and procedure in for rows written before
 * it; on PostgreSQL the service role may add corrections but never change one.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import type { TransitionCommit } from '../../workflows/api.ts';
import { appendAudit, lockChainHead } from '../../worker/records/audit.ts';
import { serviceRoleGrants } from '../../worker/records/postgres-roles.ts';
import { MIGRATIONS } from '../../worker/records/schema.ts';
import { openPgliteClient, openPostgresClient } from '../../worker/records/sql.ts';
import { createRecordsStore, openStore } from '../../worker/records/store.ts';
import { createApi, SESSION_COOKIE } from '../../worker/api/server.ts';
import { startProcedure } from '../../worker/instances.ts';
import { loadDeployedDefinitions, runWorker } from '../../worker/process.ts';
import { sendEvent, sharedBundle, SHIPPED_DEFINITIONS, testConfig } from './harness.ts';
import { withAttachment } from '../support/attachments.ts';

const postgresUrl = inject('postgresUrl');
if (!postgresUrl && process.env.CI)
  throw new Error(`CI is set but there is no PostgreSQL server: ${inject('postgresSkipReason')}`);

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch((e: unknown) => console.error(e));
});

async function freshDatabase(owner?: string): Promise<string> {
  const admin = await openPostgresClient(postgresUrl!, { max: 1 });
  const name = `custodia_reg_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await admin.query(`CREATE DATABASE ${name}${owner ? ` OWNER ${owner}` : ''}`);
  cleanups.push(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.close();
  });
  const url = new URL(postgresUrl!);
  url.pathname = `/${name}`;
  return url.toString();
}

const rita = { id: 'rita', roles: ['application_reviewer'] };
const quinn = { id: 'quinn', roles: ['quality_manager'] };
const ada = { id: 'ada', roles: ['quality_administrator'] };

const backends = [
  { name: 'embedded (PGlite)', url: async (): Promise<string | undefined> => undefined },
  ...(postgresUrl ? [{ name: 'PostgreSQL', url: () => freshDatabase() }] : []),
];

describe.each(backends)('registers on the real engine: $name', ({ url }) => {
  it('[4.2.3] a released disclosure’s rows carry client and procedure, and the registers API shows them with their transition', async () => {
    const databaseUrl = await url();
    const { config, address } = testConfig();
    const definitions = loadDeployedDefinitions([
      path.join(SHIPPED_DEFINITIONS, 'disclosure.yaml'),
      path.join(SHIPPED_DEFINITIONS, 'violation_case.yaml'),
    ]);
    const saved = process.env.DATABASE_URL;
    if (databaseUrl) process.env.DATABASE_URL = databaseUrl;
    const running = await runWorker(config, {
      address,
      ...(databaseUrl ? {} : { records: null }),
      definitions,
      bundle: sharedBundle(),
    }).finally(() => {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    });
    cleanups.push(() => running.shutdown());
    expect(running.store.backend).toBe(databaseUrl ? 'postgres' : 'embedded');

    const def = definitions.get('disclosure')!;
    const id = await startProcedure(running.client, def, {
      context: { client: 'acme' },
      starter: rita,
      taskQueue: config.taskQueue,
    });
    const send = (actor: typeof rita, type: string, data?: Record<string, unknown>) =>
      sendEvent(running.client, id, { type, actor, ...(data ? { data: data as never } : {}) });
    await send(rita, 'SUBMIT', {
      request_ref: 'REQ-1',
      recipient: 'Accreditation body',
      recipient_kind: 'accreditation_body',
      scope: 'file review',
      items: ['report R-1'],
      basis: 'consent',
    });
    await send(
      ada,
      'RECORD_CONSENT',
      await withAttachment(
        running.store,
        id,
        'consent_letter',
        {
          consent_ref: 'C-1',
          signed_by: 'Li',
          signed_on: '2026-12-01',
          covers_recipient: true,
          covers_scope: true,
        },
        { client: 'acme' },
      ),
    );
    await send(quinn, 'APPROVE');
    await send(ada, 'RELEASE', {
      items_released: ['report R-1'],
      released_on: '2026-12-02',
      method: 'paper_copy',
    });

    const api = createApi({
      client: running.client as Client,
      store: running.store,
      definitions,
      taskQueue: config.taskQueue,
    });
    const base = await api.listen(0);
    cleanups.push(() => api.close());
    await running.store.createUser(
      { id: 'qm', displayName: 'QM', roles: ['quality_manager'], password: 'registers int password' },
      'test',
    );
    await running.store.createUser(
      {
        id: 'gina',
        displayName: 'Gina',
        roles: ['project_staff'],
        clients: ['globex'],
        password: 'registers int password',
      },
      'test',
    );
    const cookie = async (user: string) =>
      `${SESSION_COOKIE}=${(await running.store.createSession(user, 60_000)).id}`;
    const get = async (user: string, p: string) =>
      (await fetch(base + p, { headers: { cookie: await cookie(user) } })).json() as Promise<
        Record<string, unknown>
      >;

    const log = await get('qm', `/api/records/disclosure_log?workflowId=${id}`);
    expect(log.total).toBe(1);
    expect(log.rows).toMatchObject([
      {
        workflowId: id,
        client: 'acme',
        procedure: 'disclosure',
        version: def.ir.version,
        event: 'RELEASE',
        actor: 'ada',
        fields: {
          recipient: 'Accreditation body',
          basis: 'consent',
          approver: 'quinn',
          items: ['report R-1'],
        },
      },
    ]);
    const consent = await get('qm', `/api/records/consent_log?client=acme&field.consent_ref=C-1`);
    expect(consent.rows).toMatchObject([
      { workflowId: id, event: 'RECORD_CONSENT', fields: { signed_by: 'Li' } },
    ]);
    expect((await get('gina', `/api/records/disclosure_log?workflowId=${id}`)).total).toBe(0);
  });
});

function commitOf(workflowId: string, seq: number, client: string): TransitionCommit {
  return {
    workflowId,
    procedure: 'file_access',
    version: '1.1.0',
    hash: 'b'.repeat(64),
    client,
    record: {
      seq,
      at: new Date().toISOString(),
      event: 'ISSUE',
      actor: { id: 'wang', roles: ['quality_administrator'] },
      from: ['approved'],
      to: ['access_active'],
      clauses: ['4.2.2'],
    },
    effects: [{ kind: 'record', record: 'lending_log', fields: { file_id: 'F-9', copies_issued: 1 } }],
  };
}

describe('schema 5', () => {
  it('fills in client and procedure of the rows written before it, from their transitions', async () => {
    const sql = await openPgliteClient(null);
    cleanups.push(() => sql.close());
    // A store at schema 4, with a transition and its named record written the way 4 wrote them.
    await sql.exec(
      `CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    for (const m of MIGRATIONS.filter((x) => x.version < 5))
      await sql.transaction(async (tx) => {
        await m.up(tx);
        await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      });
    const c = commitOf('fa-old', 3, 'acme');
    await sql.transaction(async (tx) => {
      await appendAudit(tx, await lockChainHead(tx), {
        kind: 'transition',
        subject: c.workflowId,
        seq: 3,
        client: 'acme',
        actorId: 'wang',
        at: c.record.at,
        body: { procedure: 'file_access', version: '1.1.0', event: 'ISSUE' },
      });
      await tx.query(
        `INSERT INTO procedure_records (workflow_id, seq, idx, name, fields, at) VALUES ($1, 3, 1, 'lending_log', '{"file_id":"F-1"}', $2)`,
        [c.workflowId, c.record.at],
      );
    });
    const store = await createRecordsStore(sql); // migrates to 5
    const { rows } = await store.registerRows(
      'lending_log',
      { scope: { clients: ['acme'], clientless: [] } },
      { limit: 10 },
    );
    expect(rows).toMatchObject([
      {
        workflowId: 'fa-old',
        client: 'acme',
        procedure: 'file_access',
        event: 'ISSUE',
        fields: { file_id: 'F-1' },
      },
    ]);
    await expect(sql.query(`UPDATE procedure_records SET client = 'globex'`)).rejects.toThrow(/append-only/);
  });
});

describe.skipIf(!postgresUrl)('PostgreSQL service role and registers', () => {
  it('adds corrections (audited) but cannot change or remove one', async () => {
    const suffix = randomUUID().replace(/-/g, '').slice(0, 10);
    const owner = `custodia_regown_${suffix}`;
    const service = `custodia_regapp_${suffix}`;
    const admin = await openPostgresClient(postgresUrl!, { max: 1 });
    await admin.exec(`CREATE ROLE ${owner} LOGIN; CREATE ROLE ${service} LOGIN`);
    const url = await freshDatabase(owner);
    cleanups.push(async () => {
      await admin.exec(`DROP ROLE IF EXISTS ${service}; DROP ROLE IF EXISTS ${owner}`).catch(() => undefined);
      await admin.close();
    });
    const as = (role: string): string => {
      const u = new URL(url);
      u.username = role;
      return u.toString();
    };
    await (await openStore({ databaseUrl: as(owner) })).close();
    const ownerSql = await openPostgresClient(as(owner), { max: 1 });
    await ownerSql.exec(serviceRoleGrants(service));
    await ownerSql.close();

    const sql = await openPostgresClient(as(service));
    const store = await createRecordsStore(sql);
    cleanups.push(() => store.close());
    await store.commit(commitOf('fa-svc', 1, 'acme'), []);
    const correction = await store.correctRecord({
      name: 'lending_log',
      workflowId: 'fa-svc',
      seq: 1,
      idx: 1,
      fields: { copies_issued: 2 },
      reason: 'two copies were issued',
      by: 'qm',
    });
    const { rows } = await store.registerRows('lending_log', { scope: { all: true } }, { limit: 5 });
    expect(rows[0]?.corrections).toEqual([correction]);
    expect((await store.verifyAudit()).ok).toBe(true);
    for (const statement of [
      `UPDATE record_corrections SET reason = 'x'`,
      'DELETE FROM record_corrections',
      'TRUNCATE record_corrections',
      `UPDATE procedure_records SET client = NULL`,
    ])
      await expect(sql.query(statement), statement).rejects.toThrow(/permission denied/);
  });
});
