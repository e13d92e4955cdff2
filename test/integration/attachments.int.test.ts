/**
 * Attachments on the real stack. The records store part runs on both engines (PGlite and the test
 * PostgreSQL server): content-addressed and append-only, uploads and reads in the audit chain, a
 * configured folder instead of the database. The API part runs the shipped disclosure definition on
 * the dev server behind the HTTP API: the consent cannot be recorded (so nothing released on consent)
 * without the client's signed letter; bad uploads are refused with nothing stored; a user of another
 * client cannot download the letter (refusal audited); an allowed download is audited; and an event
 * sent to Temporal directly with a made-up file is refused by the engine.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AttachmentCorrupt } from '../../worker/attachments/blobs.ts';
import { actorSigner } from '../../worker/actor-keys.ts';
import { attachmentBytes, referenceTo, storeUpload } from '../../worker/attachments/service.ts';
import { attachmentLimits } from '../../worker/attachments/limits.ts';
import { createApi, SESSION_COOKIE, type Api } from '../../worker/api/server.ts';
import { EventRejected } from '../../worker/instances.ts';
import { openPgliteClient, openPostgresClient, type SqlClient } from '../../worker/records/sql.ts';
import { createRecordsStore } from '../../worker/records/store.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import { docxBytes, pdfBytes } from '../support/attachments.ts';
import { sendEvent, SHIPPED_DEFINITIONS, startHarness, type Harness } from './harness.ts';

const postgresUrl = inject('postgresUrl');
if (!postgresUrl && process.env.CI)
  throw new Error(`CI is set but there is no PostgreSQL server: ${inject('postgresSkipReason')}`);

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function embedded(): Promise<{ sql: SqlClient; store: RecordsStore }> {
  const sql = await openPgliteClient(null);
  const store = await createRecordsStore(sql);
  cleanups.push(() => store.close());
  return { sql, store };
}

async function postgres(): Promise<{ sql: SqlClient; store: RecordsStore }> {
  const admin = await openPostgresClient(postgresUrl!, { max: 1 });
  const name = `custodia_att_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(postgresUrl!);
  url.pathname = `/${name}`;
  const sql = await openPostgresClient(url.toString());
  const store = await createRecordsStore(sql);
  cleanups.push(async () => {
    await store.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.close();
  });
  return { sql, store };
}

/** One store per engine for this file (each test uses instances of its own). */
function once<T>(open: () => Promise<T>): () => Promise<T> {
  let opened: Promise<T> | undefined;
  return () => (opened ??= open());
}

const backends = [
  { name: 'embedded (PGlite)', open: once(embedded), available: true },
  { name: 'PostgreSQL', open: once(postgres), available: postgresUrl !== null },
];

for (const backend of backends)
  describe.skipIf(!backend.available)(`attachments in the records store on ${backend.name}`, () => {
    it('keeps content once by SHA-256, each instance’s file once, audits uploads and reads, and never changes them', async () => {
      const { sql, store } = await backend.open();
      const content = pdfBytes('letter one');
      const first = await store.putAttachment({
        workflowId: 'disclosure-1',
        client: 'acme',
        procedure: 'disclosure',
        name: '同意书.pdf',
        type: 'application/pdf',
        content,
        uploadedBy: 'Ada',
      });
      expect(first.created).toBe(true);
      expect(first.attachment).toMatchObject({ name: '同意书.pdf', size: content.length, uploadedBy: 'ada' });
      expect(first.attachment.sha256).toMatch(/^[0-9a-f]{64}$/);
      const again = await store.putAttachment({
        workflowId: 'disclosure-1',
        client: 'acme',
        procedure: 'disclosure',
        name: 'renamed.pdf',
        type: 'application/pdf',
        content,
        uploadedBy: 'bob',
      });
      expect(again).toEqual({ attachment: first.attachment, created: false });
      await store.putAttachment({
        workflowId: 'disclosure-2',
        client: 'globex',
        procedure: 'disclosure',
        name: 'copy.pdf',
        type: 'application/pdf',
        content,
        uploadedBy: 'gina',
      });
      const [{ n }] = (await sql.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM attachment_blobs WHERE sha256 = $1',
        [first.attachment.sha256],
      )) as [{ n: number }];
      expect(n).toBe(1);
      expect((await store.attachmentsOfClient({ client: 'acme' })).map((a) => a.workflowId)).toEqual([
        'disclosure-1',
      ]);
      expect(await store.attachmentContent(first.attachment.sha256)).toEqual(content);

      const read = await store.recordAttachmentRead(first.attachment, 'Quinn', { ip: '10.0.0.9' });
      expect(read).toMatchObject({
        kind: 'attachment',
        subject: 'disclosure-1',
        client: 'acme',
        actorId: 'quinn',
        body: { act: 'download', sha256: first.attachment.sha256, name: '同意书.pdf', ip: '10.0.0.9' },
      });
      const audit = await store.audit({ kind: 'attachment' });
      expect(audit.map((e) => `${String(e.body.act)} ${e.actorId} ${e.subject}`)).toEqual([
        'upload ada disclosure-1',
        'upload gina disclosure-2',
        'download quinn disclosure-1',
      ]);
      expect((await store.verifyAudit()).ok).toBe(true);

      for (const statement of [
        `UPDATE attachments SET name = 'x'`,
        'DELETE FROM attachments',
        `UPDATE attachment_blobs SET content = NULL`,
        'DELETE FROM attachment_blobs',
        'TRUNCATE attachment_blobs CASCADE',
      ])
        await expect(sql.exec(statement), statement).rejects.toThrow(/append-only/);
    });

    it('with CUSTODIA_ATTACHMENTS_DIR: the bytes live in the folder, checked against their hash on every read', async () => {
      const { sql, store } = await backend.open();
      const dir = mkdtempSync(path.join(tmpdir(), 'custodia-attachments-'));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      const limits = attachmentLimits({ CUSTODIA_ATTACHMENTS_DIR: dir });
      const content = pdfBytes('kept in a folder');
      const { attachment } = await storeUpload(store, limits, {
        workflowId: 'disclosure-9',
        client: 'acme',
        procedure: 'disclosure',
        name: 'letter.pdf',
        content,
        uploadedBy: 'ada',
      });
      const [row] = await sql.query<{ content: unknown }>(
        'SELECT content FROM attachment_blobs WHERE sha256 = $1',
        [attachment.sha256],
      );
      expect(row?.content).toBeNull();
      const file = path.join(dir, attachment.sha256.slice(0, 2), attachment.sha256);
      expect(new Uint8Array(readFileSync(file))).toEqual(content);
      expect(await attachmentBytes(store, limits, attachment)).toEqual(content);
      writeFileSync(file, pdfBytes('swapped on disk'));
      await expect(attachmentBytes(store, limits, attachment)).rejects.toBeInstanceOf(AttachmentCorrupt);
    });
  });

const PASSWORD = 'correct horse battery';

describe('attachments through the HTTP API on the real engine (shipped disclosure)', () => {
  let h: Harness;
  let api: Api;
  let base: string;
  const serverErrors: unknown[] = [];
  const sessions: Record<string, { cookie: string; csrf: string }> = {};
  const savedMax = process.env.CUSTODIA_ATTACHMENT_MAX_BYTES;

  const people = [
    { id: 'rita', roles: ['application_reviewer'], clients: ['acme'] },
    { id: 'ada', roles: ['quality_administrator'], clients: ['acme'] },
    { id: 'quinn', roles: ['quality_manager'], clients: [] },
    { id: 'dave', roles: ['project_staff', 'quality_administrator'], clients: ['globex'] },
  ];

  async function call(
    who: string,
    method: string,
    url: string,
    body?: { json?: unknown; bytes?: Uint8Array; type?: string },
  ): Promise<{ status: number; headers: Headers; json: Record<string, unknown>; bytes: Uint8Array }> {
    const s = sessions[who]!;
    const headers: Record<string, string> = {
      cookie: `${SESSION_COOKIE}=${s.cookie}`,
      'x-csrf-token': s.csrf,
    };
    let payload: string | Uint8Array | undefined;
    if (body?.json !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body.json);
    } else if (body?.bytes) {
      headers['content-type'] = body.type ?? 'application/octet-stream';
      payload = body.bytes;
    }
    const res = await fetch(base + url, {
      method,
      headers,
      ...(payload !== undefined ? { body: payload } : {}),
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
    } catch {
      /* a file */
    }
    return { status: res.status, headers: res.headers, json, bytes };
  }

  const upload = (who: string, id: string, name: string, bytes: Uint8Array, type = 'application/pdf') =>
    call(who, 'POST', `/api/instances/${id}/attachments?name=${encodeURIComponent(name)}`, { bytes, type });
  const send = (who: string, id: string, type: string, data?: Record<string, unknown>) =>
    call(who, 'POST', `/api/instances/${id}/events`, { json: { type, ...(data ? { data } : {}) } });

  const consent = {
    consent_ref: 'CONS-5',
    signed_by: 'Li Wei',
    signed_on: '2026-12-01',
    covers_recipient: true,
    covers_scope: true,
  };
  const request = {
    recipient: 'Accreditation body',
    recipient_kind: 'accreditation_body',
    scope: 'file review',
    items: ['report R-1'],
    basis: 'consent',
  };

  beforeAll(async () => {
    process.env.CUSTODIA_ATTACHMENT_MAX_BYTES = '65536';
    h = await startHarness([
      path.join(SHIPPED_DEFINITIONS, 'disclosure.yaml'),
      path.join(SHIPPED_DEFINITIONS, 'violation_case.yaml'),
    ]);
    for (const p of people)
      await h.running.store.createUser({ ...p, displayName: p.id, password: PASSWORD }, 'test');
    api = createApi({
      client: h.client,
      store: h.running.store,
      definitions: h.definitions,
      taskQueue: h.config.taskQueue,
      onError: (err) => serverErrors.push(err),
    });
    base = await api.listen(0);
    for (const p of people) {
      const res = await fetch(`${base}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: p.id, password: PASSWORD }),
      });
      const json = (await res.json()) as { csrfToken: string };
      const cookie = /^[^=]+=([^;]*)/.exec(res.headers.getSetCookie()[0] ?? '')?.[1] ?? '';
      sessions[p.id] = { cookie, csrf: json.csrfToken };
    }
  });

  afterAll(async () => {
    if (savedMax === undefined) delete process.env.CUSTODIA_ATTACHMENT_MAX_BYTES;
    else process.env.CUSTODIA_ATTACHMENT_MAX_BYTES = savedMax;
    await api?.close();
    await h?.close();
    expect(serverErrors).toEqual([]);
  });

  it('[4.2.3] no consent without the signed letter, so no release on consent; the letter’s hash enters the chain; other clients cannot read it; reads are audited', async () => {
    const started = await call('rita', 'POST', '/api/instances', {
      json: { procedure: 'disclosure', input: { client: 'acme' } },
    });
    expect(started.status).toBe(201);
    const id = String(started.json.workflowId);
    expect((await send('rita', id, 'SUBMIT', request)).json.state).toBe('awaiting_consent');

    // Without the letter: refused by the engine, with the code and the kind it needs.
    const bare = await send('ada', id, 'RECORD_CONSENT', consent);
    expect(bare.status).toBe(422);
    expect(bare.json).toMatchObject({ code: 'ATTACHMENT_REQUIRED' });
    expect(String(bare.json.detail)).toMatch(/consent_letter/);
    // And no way round it: the release is not possible before the consent is recorded.
    const early = await send('ada', id, 'RELEASE', {
      items_released: ['report R-1'],
      released_on: '2026-12-02',
      method: 'paper_copy',
    });
    expect(early.json.code).toBe('CANNOT_TAKE');

    // Bad uploads: a clear 4xx and nothing stored.
    const tooBig = await upload('ada', id, 'big.pdf', new Uint8Array(65537).fill(0x25));
    expect([tooBig.status, tooBig.json.code]).toEqual([413, 'ATTACHMENT_TOO_LARGE']);
    const fake = await upload('ada', id, 'letter.pdf', new TextEncoder().encode('<html>not a pdf</html>'));
    expect([fake.status, fake.json.code]).toEqual([415, 'ATTACHMENT_TYPE_REFUSED']);
    const noName = await upload('ada', id, '../../x.pdf', pdfBytes());
    expect([noName.status, noName.json.code]).toEqual([400, 'BAD_FILE_NAME']);
    expect(await h.running.store.attachmentsOf(id)).toEqual([]);
    // A hash this instance does not hold: refused before anything reaches the engine.
    const unknown = await send('ada', id, 'RECORD_CONSENT', {
      ...consent,
      attachments: [{ sha256: 'e'.repeat(64), kind: 'consent_letter' }],
    });
    expect([unknown.status, unknown.json.code]).toEqual([422, 'UNKNOWN_ATTACHMENT']);
    // Another client's user may not attach to this instance.
    expect((await upload('dave', id, 'letter.pdf', pdfBytes())).status).toBe(404);

    // A Word file is kept, but it is no consent letter (pdf or image).
    const word = await upload('ada', id, 'letter.docx', docxBytes(), 'application/pdf');
    expect(word.status).toBe(201);
    expect(word.json.type).toBe('application/vnd.openxmlformats-officedocument.wordprocessingml.document');
    const asWord = await send('ada', id, 'RECORD_CONSENT', {
      ...consent,
      attachments: [{ sha256: word.json.sha256, kind: 'consent_letter' }],
    });
    expect([asWord.status, asWord.json.code]).toEqual([422, 'BAD_ATTACHMENT']);

    // The signed letter (a PDF, whatever the header says).
    const letter = pdfBytes('Consent of acme to disclose report R-1');
    const up = await upload('ada', id, '客户同意书.pdf', letter, 'text/plain');
    expect(up.status).toBe(201);
    expect(up.json).toMatchObject({ name: '客户同意书.pdf', type: 'application/pdf', size: letter.length });
    const sha256 = String(up.json.sha256);
    const recorded = await send('ada', id, 'RECORD_CONSENT', {
      ...consent,
      attachments: [{ sha256, kind: 'consent_letter' }],
    });
    expect(recorded.status).toBe(200);
    expect(recorded.json.state).toBe('consent_recorded');
    expect((await send('quinn', id, 'APPROVE')).json.state).toBe('approved_with_consent');
    const released = await send('ada', id, 'RELEASE', {
      items_released: ['report R-1'],
      released_on: '2026-12-02',
      method: 'paper_copy',
    });
    expect(released.json.state).toBe('released_with_consent');

    // The hash is in the audit chain with the event that attached it.
    const transitions = await eventuallyAudit(h.running.store, id, 'RECORD_CONSENT');
    expect(transitions.body.data).toMatchObject({
      attachments: [{ sha256, name: '客户同意书.pdf', type: 'application/pdf', kind: 'consent_letter' }],
    });
    const listed = await call('ada', 'GET', `/api/instances/${id}/attachments`);
    expect((listed.json.attachments as { sha256: string }[]).map((a) => a.sha256)).toEqual([
      String(word.json.sha256),
      sha256,
    ]);

    // Another client's user: refused (as not found), and the attempt is in the chain.
    const theirs = await call('dave', 'GET', `/api/instances/${id}/attachments/${sha256}`);
    expect([theirs.status, theirs.json.code]).toEqual([404, 'NOT_FOUND']);
    expect(theirs.bytes.length).toBeLessThan(letter.length);
    const refusals = await h.running.store.audit({ kind: 'refusal', subject: id });
    expect(refusals.map((r) => [r.actorId, r.body.action, r.client])).toContainEqual([
      'dave',
      'attachment.download',
      'acme',
    ]);
    expect((await call('dave', 'GET', `/api/instances/${id}/attachments`)).status).toBe(404);

    // An allowed user: the bytes, as their real type, and a record of who read which file of which client.
    const before = (await h.running.store.audit({ kind: 'attachment', subject: id })).length;
    const mine = await call('quinn', 'GET', `/api/instances/${id}/attachments/${sha256}`);
    expect(mine.status).toBe(200);
    expect(mine.bytes).toEqual(letter);
    expect(mine.headers.get('content-type')).toBe('application/pdf');
    expect(mine.headers.get('content-disposition')).toContain(
      `filename*=UTF-8''${encodeURIComponent('客户同意书.pdf')}`,
    );
    const reads = (await h.running.store.audit({ kind: 'attachment', subject: id })).slice(before);
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({
      actorId: 'quinn',
      client: 'acme',
      body: { act: 'download', sha256, name: '客户同意书.pdf' },
    });
    expect((await h.running.store.verifyAudit()).ok).toBe(true);
  });

  it('an event sent to Temporal directly with a made-up file is refused by the engine (no receipt)', async () => {
    const id = await h.start(
      'disclosure',
      { client: 'acme' },
      { id: 'rita', roles: ['application_reviewer'] },
    );
    await sendEvent(h.client, id, {
      type: 'SUBMIT',
      actor: { id: 'rita', roles: ['application_reviewer'] },
      data: request as never,
    });
    const ada = { id: 'ada', roles: ['quality_administrator'] };
    const madeUp = {
      sha256: 'f'.repeat(64),
      name: 'forged.pdf',
      type: 'application/pdf',
      size: 1000,
      kind: 'consent_letter',
      receipt: 'AAAAAAAAAAAA.' + 'A'.repeat(86),
    };
    const refused = await sendEvent(h.client, id, {
      type: 'RECORD_CONSENT',
      actor: ada,
      data: { ...consent, attachments: [madeUp] } as never,
    }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(EventRejected);
    expect((refused as EventRejected).code).toBe('BAD_ATTACHMENT');
    expect((refused as EventRejected).message).toMatch(/no valid receipt/);
    // A real file of this instance, re-labelled with another size, is refused too.
    const up = await upload('ada', id, 'letter.pdf', pdfBytes('real letter'));
    const stored = (await h.running.store.attachmentOf(id, String(up.json.sha256)))!;
    const good = referenceTo(actorSigner(), stored, 'consent_letter');
    const altered = await sendEvent(h.client, id, {
      type: 'RECORD_CONSENT',
      actor: ada,
      data: { ...consent, attachments: [{ ...good, size: good.size + 1 }] } as never,
    }).catch((err: unknown) => err);
    expect((altered as EventRejected).code).toBe('BAD_ATTACHMENT');
    const ok = await sendEvent(h.client, id, {
      type: 'RECORD_CONSENT',
      actor: ada,
      data: { ...consent, attachments: [good] } as never,
    });
    expect(ok.state).toBe('consent_recorded');
  });
});

/** The audit record of `event` on `workflowId`, once the commit activity wrote it. */
async function eventuallyAudit(store: RecordsStore, workflowId: string, event: string) {
  for (let i = 0; i < 100; i++) {
    const found = (await store.auditOf(workflowId)).find((e) => e.body.event === event);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no audit record of ${event} on ${workflowId}`);
}
