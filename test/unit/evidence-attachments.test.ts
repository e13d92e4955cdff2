/**
 * The evidence pack's `attachments.json` (issue 17 items 3 and 4): the client's files of the period
 * as the audit segment records them (upload, the event that attached each, reads), another client's
 * files absent; `custodia evidence verify` recomputes the list from the segment and fails on a list
 * that differs — even one re-signed with the checkpoint key.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actorSigner } from '../../worker/actor-keys.ts';
import { referenceTo } from '../../worker/attachments/service.ts';
import { loadDefinitions, type LoadedDefinition } from '../../worker/definitions.ts';
import type { PackAttachments } from '../../worker/evidence/attachments.ts';
import {
  evidenceRequest,
  gatherEvidence,
  packFiles,
  pdfFonts,
  sealPack,
} from '../../worker/evidence/index.ts';
import type { BuiltPack } from '../../worker/evidence/types.ts';
import { verifyPack } from '../../worker/evidence/verify-pack.ts';
import { openPgliteClient } from '../../worker/records/sql.ts';
import { createRecordsStore } from '../../worker/records/store.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import { REPO_ROOT } from '../../worker/settings.ts';
import type { Json } from '../../workflows/core/ir.ts';
import { pdfBytes } from '../support/attachments.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'custodia-evidence-att-'));
let store: RecordsStore;
let def: LoadedDefinition;
let pack: BuiltPack;
let letterSha = '';

async function attachAndRecord(workflowId: string, client: string, seq: number): Promise<string> {
  const { attachment } = await store.putAttachment({
    workflowId,
    client,
    procedure: 'disclosure',
    name: `letter-${client}.pdf`,
    type: 'application/pdf',
    content: pdfBytes(`consent of ${client}`),
    uploadedBy: 'ada',
  });
  await store.commit(
    {
      workflowId,
      procedure: def.ir.id,
      version: def.ir.version,
      hash: def.hash,
      client,
      record: {
        seq,
        at: new Date().toISOString(),
        event: 'RECORD_CONSENT',
        actor: { id: 'ada', roles: ['quality_administrator'] },
        from: ['awaiting_consent'],
        to: ['consent_recorded'],
        clauses: ['4.2.3'],
        data: {
          consent_ref: 'C-1',
          attachments: [referenceTo(actorSigner(), attachment, 'consent_letter')] as unknown as Json,
        },
      },
      effects: [],
    },
    [],
  );
  return attachment.sha256;
}

beforeAll(async () => {
  def = loadDefinitions([path.join(REPO_ROOT, 'definitions')], REPO_ROOT, { verify: false }).definitions.get(
    'disclosure',
  )!;
  store = await createRecordsStore(await openPgliteClient(null), {
    checkpoints: { keyFile: path.join(dir, 'key.pem'), logFile: path.join(dir, 'cp.jsonl'), every: 0 },
  });
  await store.deployDefinition({
    ...def.ir,
    procedure: def.ir.id,
    version: def.ir.version,
    hash: def.hash,
    yaml: '',
    ir: def.ir,
    deployedBy: 'ops',
  });
  letterSha = await attachAndRecord('disclosure-acme1', 'acme', 2);
  await attachAndRecord('disclosure-globex1', 'globex', 2);
  const a = await store.attachmentOf('disclosure-acme1', letterSha);
  await store.recordAttachmentRead(a!, 'quinn');
  await store.recordAttachmentRead(a!, 'assessor');
  const today = new Date().toISOString().slice(0, 10);
  const data = await gatherEvidence(
    store,
    evidenceRequest({ client: 'acme', from: today, to: today, lang: 'en', generatedBy: 'auditor1' }),
  );
  pack = await sealPack(await packFiles(data, pdfFonts()), (m) => store.signWithCheckpointKey(m));
}, 120_000);

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const listOf = (zip: Uint8Array): PackAttachments =>
  JSON.parse(Buffer.from(unzipSync(zip)['attachments.json']!).toString('utf8')) as PackAttachments;

describe('evidence pack: attachments', () => {
  it('[4.2.3] lists the client’s letter with its hash, upload, the event that attached it and its reads — not another client’s', () => {
    const { attachments } = listOf(pack.zip);
    expect(attachments).toHaveLength(1);
    expect(attachments[0]).toMatchObject({
      workflowId: 'disclosure-acme1',
      sha256: letterSha,
      name: 'letter-acme.pdf',
      type: 'application/pdf',
      upload: { by: 'ada' },
      events: [{ event: 'RECORD_CONSENT', seq: 2, kind: 'consent_letter' }],
      reads: 2,
    });
    const v = verifyPack(pack.zip, pack.pdf);
    expect(v.checks.find((c) => c.name === 'attachments')).toMatchObject({
      ok: true,
      detail: '1 attachment(s) as the segment records them',
    });
    expect(v.ok).toBe(true);
  });

  it('fails verification when attachments.json differs from the segment, even re-signed with the key', async () => {
    const files = unzipSync(pack.zip);
    const list = listOf(pack.zip);
    list.attachments[0]!.sha256 = 'b'.repeat(64);
    const bytes = new TextEncoder().encode(`${JSON.stringify(list, null, 2)}\n`);
    files['attachments.json'] = bytes;
    const manifest = JSON.parse(Buffer.from(files['manifest.json']!).toString('utf8')) as {
      files: { name: string; size: number; sha256: string }[];
    };
    const entry = manifest.files.find((f) => f.name === 'attachments.json')!;
    entry.size = bytes.length;
    entry.sha256 = createHash('sha256').update(bytes).digest('hex');
    const rebuilt = await sealPack(
      {
        name: pack.name,
        files: Object.fromEntries(
          Object.entries(files).filter(([n]) => n !== 'manifest.json' && n !== 'manifest.sig.json'),
        ),
        manifest: { ...pack.manifest, files: manifest.files },
        counts: pack.counts,
      },
      (m) => store.signWithCheckpointKey(m),
    );
    const v = verifyPack(rebuilt.zip, rebuilt.pdf);
    expect(v.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['attachments']);
    expect(v.verdict).toMatch(
      /^attachments: letter-acme\.pdf \(bbbbbbbbbbbb…\) is attached to nothing in the segment; the segment attaches/,
    );
  });
});
