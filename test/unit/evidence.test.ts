/**
 * The assessor's evidence pack (issue 17 item 4), on an in-memory records store with a checkpoint
 * key: what goes into the pack (the client's records whole, every other record sealed), the PDF's
 * text, and the offline verification — which passes on the pack as made and fails when one byte
 * of the audit segment, the manifest or a sealed record's link is changed.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransitionCommit } from '../../workflows/api.ts';
import type { Effect } from '../../workflows/core/actions/index.ts';
import { loadDefinitions, type LoadedDefinition } from '../../worker/definitions.ts';
import {
  evidenceRequest,
  gatherEvidence,
  packFiles,
  pdfFonts,
  sealPack,
  type BuiltPack,
} from '../../worker/evidence/index.ts';
import { isSealed, type EvidenceData, type SegmentRecord } from '../../worker/evidence/types.ts';
import { verifyPack } from '../../worker/evidence/verify-pack.ts';
import { openPgliteClient } from '../../worker/records/sql.ts';
import { createRecordsStore } from '../../worker/records/store.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import { REPO_ROOT } from '../../worker/settings.ts';
import { pdfText } from '../support/pdf-text.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'custodia-evidence-'));
let store: RecordsStore;
let def: LoadedDefinition;
let data: EvidenceData;
let pack: BuiltPack;

let tick = 0;
function commit(
  workflowId: string,
  client: string,
  seq: number,
  event: string,
  effects: Effect[] = [],
): TransitionCommit {
  return {
    workflowId,
    procedure: def.ir.id,
    version: def.ir.version,
    hash: def.hash,
    client,
    record: {
      seq,
      at: new Date(Date.UTC(2026, 2, 1, 9, 0, tick++)).toISOString(),
      event,
      actor: { id: seq === 1 ? 'li' : 'zhao', roles: [seq === 1 ? 'project_staff' : 'general_affairs_head'] },
      from: seq === 1 ? [] : ['submitted'],
      to: seq === 1 ? ['submitted'] : ['approved'],
      clauses: ['4.2.2'],
    },
    effects,
  };
}

const sign = (m: Uint8Array) => store.signWithCheckpointKey(m);

beforeAll(async () => {
  def = loadDefinitions([path.join(REPO_ROOT, 'definitions')], REPO_ROOT, { verify: false }).definitions.get(
    'file_access',
  )!;
  store = await createRecordsStore(await openPgliteClient(null), {
    checkpoints: { keyFile: path.join(dir, 'key.pem'), logFile: path.join(dir, 'cp.jsonl'), every: 0 },
  });
  await store.deployDefinition({
    procedure: def.ir.id,
    version: def.ir.version,
    hash: def.hash,
    yaml: '',
    ir: def.ir,
    deployedBy: 'ops',
  });
  // Two clients' instances interleaved in the chain, and an administrative act between them.
  await store.commit(commit('file_access-acme1', 'acme', 1, '$start'), []);
  await store.commit(commit('file_access-globex1', 'globex', 1, '$start'), []);
  await store.appendAdminRecord({
    kind: 'admin',
    subject: 'user:wang',
    actorId: 'admin',
    body: { act: 'user.create' },
  });
  await store.commit(
    commit('file_access-acme1', 'acme', 2, 'APPROVE', [
      { kind: 'record', record: 'lending_log', fields: { file_id: 'F-2026-118', borrower: 'li' } },
      { kind: 'notify', to: 'client', message: { zh: '已批准查阅', en: 'Access approved' } },
    ]),
    [],
  );
  await store.commit(
    commit('file_access-globex1', 'globex', 2, 'APPROVE', [
      { kind: 'record', record: 'lending_log', fields: { file_id: 'GLOBEX-SECRET-7' } },
    ]),
    [],
  );
  data = await gatherEvidence(
    store,
    evidenceRequest({
      client: 'acme',
      from: '2026-03-01',
      to: '2026-03-31',
      lang: 'zh',
      generatedBy: 'auditor1',
    }),
  );
  pack = await sealPack(await packFiles(data, pdfFonts()), sign);
}, 120_000);

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('evidence pack', () => {
  it('[4.2.2] keeps the client’s records whole and seals every other record of the segment', () => {
    const seg = data.segment;
    // From the client's first record to the checkpoint signed at the end, without a gap.
    expect(seg.map((r) => r.position)).toEqual(seg.map((_, i) => seg[0]!.position + i));
    expect(seg.at(-1)!.position).toBe(data.checkpoint.checkpoint.position);
    const whole = seg.filter((r): r is Exclude<SegmentRecord, { sealed: true }> => !isSealed(r));
    expect(whole.map((r) => r.client)).toEqual(['acme', 'acme']);
    expect(seg.filter(isSealed)).toHaveLength(3); // globex ×2, the admin act
    const zipText = Object.values(unzipSync(pack.zip))
      .map((b) => Buffer.from(b).toString('latin1'))
      .join('');
    expect(zipText).not.toContain('globex');
    expect(zipText).not.toContain('GLOBEX-SECRET-7');
    expect(zipText).not.toContain('user.create');
  });

  it('writes a PDF whose text names the client, the instance, the definition hash and the lending log', () => {
    const text = pdfText(Buffer.from(pack.pdf));
    expect(Buffer.from(pack.pdf).subarray(0, 5).toString()).toBe('%PDF-');
    const hash = [def.hash.slice(0, 32), def.hash.slice(32)];
    for (const s of [
      'acme',
      'file_access-acme1',
      ...hash,
      'lending_log',
      'F-2026-118',
      '已批准查阅',
      '条款覆盖',
    ])
      expect(text).toContain(s);
    expect(text).not.toContain('globex');
  });

  it('verifies offline as made', () => {
    const v = verifyPack(pack.zip, pack.pdf);
    expect(v.checks.filter((c) => !c.ok)).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.checks.map((c) => c.name)).toEqual([
      'manifest signature',
      'manifest',
      'report',
      'checkpoint',
      'audit segment',
      'definitions',
      'attachments',
    ]);
  });

  it('fails when one byte of the audit segment in the zip is changed', () => {
    const zip = Buffer.from(pack.zip);
    // The segment is stored uncompressed: its text is in the zip as it is.
    const at = zip.indexOf('"event":"APPROVE"');
    expect(at).toBeGreaterThan(0);
    zip[at + 10] = 'B'.charCodeAt(0); // APPROVE → BPPROVE
    const v = verifyPack(zip, pack.pdf);
    expect(v.ok).toBe(false);
    const failed = v.checks.filter((c) => !c.ok).map((c) => c.name);
    expect(failed).toEqual(['manifest', 'audit segment']);
    expect(v.verdict).toMatch(/^manifest: audit-segment\.jsonl: SHA-256/);
    expect(v.checks.find((c) => c.name === 'audit segment')!.detail).toMatch(
      /content does not match its hash/,
    );
  });

  it('fails when a sealed record is relinked, even with the manifest updated (the signature no longer holds)', () => {
    const files = unzipSync(pack.zip);
    const lines = Buffer.from(files['audit-segment.jsonl']!).toString('utf8').trimEnd().split('\n');
    const records = lines.map((l) => JSON.parse(l) as SegmentRecord);
    const i = records.findIndex(isSealed);
    const forged = 'f'.repeat(64);
    records[i]!.hash = forged;
    records[i + 1]!.prevHash = forged;
    const segment = new TextEncoder().encode(records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const manifest = JSON.parse(Buffer.from(files['manifest.json']!).toString('utf8'));
    const entry = manifest.files.find((f: { name: string }) => f.name === 'audit-segment.jsonl');
    entry.size = segment.length;
    entry.sha256 = createHash('sha256').update(segment).digest('hex');
    files['audit-segment.jsonl'] = segment;
    files['manifest.json'] = new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n');
    const v = verifyPack(zipSync(files));
    expect(v.ok).toBe(false);
    expect(v.verdict).toMatch(/^manifest signature: manifest\.json was changed after it was signed/);
  });

  it('fails when the PDF beside the zip is not the one in it, or a file is added', () => {
    const other = Buffer.from(pack.pdf);
    const i = other.length - 10;
    other[i] = other[i]! ^ 1;
    expect(verifyPack(pack.zip, other).verdict).toMatch(/^report: the PDF beside the zip differs/);
    const files = unzipSync(pack.zip);
    files['extra.txt'] = new TextEncoder().encode('x');
    expect(verifyPack(zipSync(files)).verdict).toMatch(/extra\.txt is not in the manifest/);
  });

  it('makes a pack for a client with no record in the period: empty segment, still signed and verified', async () => {
    const none = await gatherEvidence(store, evidenceRequest({ client: 'initech', generatedBy: 'auditor1' }));
    expect(none.segment).toEqual([]);
    const empty = await sealPack(await packFiles(none, pdfFonts()), sign);
    const v = verifyPack(empty.zip, empty.pdf);
    expect(v.ok, v.verdict).toBe(true);
    expect(v.checks.find((c) => c.name === 'audit segment')!.detail).toMatch(/^empty/);
    expect(pdfText(Buffer.from(empty.pdf))).toContain('本期间内该客户无审计记录');
  }, 60_000);

  it('refuses without a checkpoint key, with an empty period, and names the package when the font is missing', async () => {
    const bare = await createRecordsStore(await openPgliteClient(null));
    try {
      await bare.commit(commit('file_access-x', 'acme', 1, '$start'), []);
      await expect(
        gatherEvidence(bare, evidenceRequest({ client: 'acme', generatedBy: 'a' })),
      ).rejects.toMatchObject({ code: 'NO_CHECKPOINT_KEY' });
    } finally {
      await bare.close();
    }
    await expect(
      gatherEvidence(
        store,
        evidenceRequest({ client: 'acme', from: '2026-04-01', to: '2026-03-01', generatedBy: 'a' }),
      ),
    ).rejects.toMatchObject({ code: 'BAD_PERIOD' });
    expect(() => evidenceRequest({ client: 'acme', from: 'yesterday', generatedBy: 'a' })).toThrow(
      /not a date/,
    );
    expect(() => pdfFonts({ CUSTODIA_PDF_FONT: path.join(dir, 'none.ttc') })).toThrow(/no such font file/);
  }, 60_000);
});
