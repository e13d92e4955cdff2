/**
 * Making a pack from gathered material (`gather.ts`) in two steps:
 *
 * 1. `packFiles` — the costly part, pure CPU (the API runs it on a worker thread, `pool.ts`): the
 *    proofs, the coverage, the PDF and every machine-readable file, and the manifest of their SHA-256.
 * 2. `sealPack` — signs the manifest with the records store's checkpoint key and zips everything
 *    (fflate's asynchronous zip compresses off the calling thread).
 *
 * The file layout is documented in `types.ts` and in the `README.txt` inside the zip.
 */
import { createHash } from 'node:crypto';
import { zip, type AsyncZippable } from 'fflate';
import type { KeySignature } from '../records/types.ts';
import { packCoverage, proveDefinition } from './analysis.ts';
import { packAttachments } from './attachments.ts';
import { packContent } from './content.ts';
import type { PdfFonts } from './font.ts';
import { renderReport } from './pdf.ts';
import { segmentToJsonl } from './segment.ts';
import {
  isSealed,
  manifestMessage,
  PACK_FORMAT,
  type BuiltPack,
  type EvidenceData,
  type Manifest,
  type ManifestSignature,
} from './types.ts';

export const MANIFEST = 'manifest.json';
export const MANIFEST_SIGNATURE = 'manifest.sig.json';
export const REPORT = 'report.pdf';
export const SEGMENT = 'audit-segment.jsonl';
export const CHECKPOINT = 'checkpoint.json';
export const DEFINITIONS = 'definitions.json';
export const ATTACHMENTS = 'attachments.json';

/** The files of a pack before it is signed and zipped. */
export interface PackFiles {
  name: string;
  files: Record<string, Uint8Array>;
  manifest: Manifest;
  counts: BuiltPack['counts'];
}

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const json = (v: unknown): Uint8Array => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`);

/** `evidence-<client>-<first day>-<last day>`, safe as a file name. */
export function packName(data: Pick<EvidenceData, 'request' | 'period'>): string {
  const safe = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 64);
  // The last day the period includes (its end is exclusive): `--to 2026-03-31` names 2026-03-31.
  const last = new Date(Date.parse(data.period.to) - 1).toISOString().slice(0, 10);
  return `evidence-${safe(data.request.client)}-${data.period.from?.slice(0, 10) ?? 'start'}-${last}`;
}

export async function packFiles(data: EvidenceData, fonts: PdfFonts, compress = true): Promise<PackFiles> {
  const name = packName(data);
  const content = packContent(data.segment, data.request.client);
  const proofs = data.definitions.map(proveDefinition);
  const coverage = packCoverage(data);
  const pdf = await renderReport({ data, content, proofs, coverage, name }, fonts, compress);
  const files: Record<string, Uint8Array> = {
    [REPORT]: pdf,
    [SEGMENT]: new TextEncoder().encode(segmentToJsonl(data.segment)),
    [CHECKPOINT]: json(data.checkpoint),
    [DEFINITIONS]: json(data.definitions),
    'proofs.json': json(proofs),
    'coverage.json': json(coverage),
    'instances.json': json(content.instances),
    'logs.json': json({ logs: content.logs, notifications: content.notifications }),
    [ATTACHMENTS]: json(packAttachments(data.segment)),
    'README.txt': new TextEncoder().encode(README),
  };
  const manifest: Manifest = {
    format: PACK_FORMAT,
    client: data.request.client,
    period: data.period,
    generatedAt: data.generatedAt,
    generatedBy: data.request.generatedBy,
    storeId: data.checkpoint.storeId,
    files: Object.entries(files).map(([file, bytes]) => ({
      name: file,
      size: bytes.length,
      sha256: sha256Hex(bytes),
    })),
  };
  return {
    name,
    files,
    manifest,
    counts: {
      records: data.segment.length,
      sealed: data.segment.filter(isSealed).length,
      instances: content.instances.length,
      logRows: content.logs.reduce((n, l) => n + l.rows.length, 0),
    },
  };
}

/** Sign the manifest with `sign` (the checkpoint key) and zip the pack. */
export async function sealPack(
  p: PackFiles,
  sign: (message: Uint8Array) => Promise<KeySignature | undefined>,
): Promise<BuiltPack> {
  const manifestBytes = json(p.manifest);
  const manifestSha256 = sha256Hex(manifestBytes);
  const signed = await sign(manifestMessage(manifestSha256));
  if (!signed) throw new Error('the records store has no checkpoint key to sign the manifest with');
  const signature: ManifestSignature = { algorithm: 'Ed25519', ...signed, manifestSha256 };
  const entries: AsyncZippable = {};
  for (const [name, bytes] of Object.entries(p.files))
    // The PDF is compressed already; the segment is stored as it is, so a byte changed in the zip is
    // a byte changed in the segment (and found by `verify`).
    entries[name] = [bytes, { level: name === REPORT || name === SEGMENT ? 0 : 6 }];
  entries[MANIFEST] = [manifestBytes, { level: 6 }];
  entries[MANIFEST_SIGNATURE] = [json(signature), { level: 6 }];
  const zipped = await new Promise<Uint8Array>((resolve, reject) =>
    zip(entries, { mtime: new Date(p.manifest.generatedAt) }, (err, out) =>
      err ? reject(err) : resolve(out),
    ),
  );
  return {
    name: p.name,
    pdf: p.files[REPORT]!,
    zip: zipped,
    manifest: p.manifest,
    manifestSha256,
    counts: p.counts,
  };
}

const README = `Custodia evidence pack (format ${PACK_FORMAT})

report.pdf           the report for the assessor (the same file lies beside this zip)
audit-segment.jsonl  a contiguous stretch of the audit chain, one record per line, in chain order:
                     this client's records of the period and deployment records whole
                     {position, kind, subject, seq?, client?, actorId, at, body, prevHash, hash};
                     every other record sealed {position, prevHash, hash, sealed: true} (its content
                     belongs to another client or to the system and does not leave with the pack).
                     hash = sha256_hex(prevHash + canonicalJson({position, kind, subject, seq, client,
                     actor, at, body})) with object keys sorted, absent seq/client as null.
checkpoint.json      the signed checkpoint at the segment's last position ("store S had hash H at
                     position P", Ed25519 over "custodia-audit-checkpoint/1\\nS\\nP\\nH\\nT"), earlier
                     checkpoints inside the segment, the store id and the raw public key (base64)
definitions.json     the definition versions in force at the end of the period or run in it, with IR
proofs.json          their invariants, proved on every path
coverage.json        the clause coverage of the versions in force
instances.json       the instances of the period and their timelines (from the segment)
logs.json            the named logs and notifications (from the segment)
attachments.json     the files attached in the period, from the segment: SHA-256, name, type, size, the
                     upload record, the events that attached them, reads (the files stay in Custodia)
manifest.json        SHA-256 and size of every file above
manifest.sig.json    Ed25519 signature, with the checkpoint key, of
                     "custodia-evidence-manifest/1\\n" + sha256_hex(manifest.json)

Verify offline: custodia evidence verify <folder holding this zip and report.pdf's copy>
`;
