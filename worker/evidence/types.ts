/**
 * The assessor's evidence pack (`custodia evidence`, `GET /api/evidence`): what is gathered from the
 * records store (plain JSON, so it can cross to a worker thread) and what the pack holds.
 *
 * Layout of the zip (`pack.ts` writes it, `verify-pack.ts` re-checks it offline):
 *
 * | file                  | what                                                                   |
 * |-----------------------|------------------------------------------------------------------------|
 * | `report.pdf`          | the report the assessor reads (the same file is written beside the zip) |
 * | `audit-segment.jsonl` | the contiguous stretch of the audit chain from the client's first record of the period to the signed checkpoint: the client's records (and deployments) in full, every other record sealed (position, prev_hash, hash only) |
 * | `checkpoint.json`     | the signed checkpoint at the segment's end, earlier ones inside it, the store id and the Ed25519 public key |
 * | `definitions.json`    | the definition versions (id, version, hash, IR) in force or run in the period |
 * | `proofs.json`         | the invariants proved per definition version                           |
 * | `coverage.json`       | clause coverage of the definitions in force                            |
 * | `instances.json`      | the instances of the period with their timelines                       |
 * | `logs.json`           | the named logs (lending, disclosure, visitors, …) and notifications     |
 * | `attachments.json`    | the files attached in the period (SHA-256, upload, events, reads), derived from the segment (`attachments.ts`) |
 * | `README.txt`          | this layout and how to verify                                          |
 * | `manifest.json`       | SHA-256 and size of every file above                                   |
 * | `manifest.sig.json`   | Ed25519 signature of `manifest.json` with the checkpoint key           |
 */
import type { Clause } from '../../workflows/core/clauses.ts';
import type { ProcedureIR, Text } from '../../workflows/core/ir.ts';
import type { TestRef } from '../cli/coverage.ts';
import type { AuditCheckpoint, AuditEntry } from '../records/types.ts';

/** Report language: headings are bilingual, content in this one. */
export type EvidenceLanguage = 'zh' | 'en';

/** What a pack is asked for. */
export interface EvidenceRequest {
  client: string;
  /** Inclusive start (ISO-8601 UTC); absent: from the first record. */
  from?: string;
  /** Exclusive end (ISO-8601 UTC); absent: now. */
  to?: string;
  lang: EvidenceLanguage;
  /** Who asked: a user id, or `cli:<os user>`. */
  generatedBy: string;
}

/** A record of the segment whose content belongs to someone else: only its place in the chain. */
export interface SealedRecord {
  position: number;
  prevHash: string;
  hash: string;
  sealed: true;
}

/** One line of `audit-segment.jsonl`. */
export type SegmentRecord = AuditEntry | SealedRecord;

export function isSealed(r: SegmentRecord): r is SealedRecord {
  return (r as SealedRecord).sealed === true;
}

/** A definition version listed in the pack. */
export interface PackDefinition {
  procedure: string;
  version: string;
  title: Text;
  hash: string;
  /** When and by whom it was deployed (absent: known only from the definition files). */
  deployedAt?: string;
  deployedBy?: string;
  /** The latest version deployed by the end of the period (its clauses are the coverage). */
  inForce: boolean;
  /** Instances of the period that ran it. */
  instances: number;
  ir: ProcedureIR;
}

/** The signed statement the segment ends at, and the key that verifies it. */
export interface PackCheckpoint {
  storeId: string;
  /** Raw Ed25519 public key, base64. */
  publicKey: string;
  keyId: string;
  /** Signed at the segment's last position. */
  checkpoint: AuditCheckpoint;
  /** Earlier checkpoints whose position lies inside the segment (each must match its record). */
  within: AuditCheckpoint[];
}

/** Everything the pack is made from, gathered from the store (plain JSON). */
export interface EvidenceData {
  request: EvidenceRequest;
  /** When the pack was made (ISO-8601 UTC). */
  generatedAt: string;
  /** The period as applied: `to` is always set. */
  period: { from?: string; to: string };
  segment: SegmentRecord[];
  checkpoint: PackCheckpoint;
  definitions: PackDefinition[];
  clauses: Clause[];
  coverageNotes: Record<string, Text>;
  tests: TestRef[];
}

/** One file of the pack and its digest. */
export interface ManifestFile {
  name: string;
  size: number;
  sha256: string;
}

export const PACK_FORMAT = 'custodia-evidence-pack/1';

export interface Manifest {
  format: typeof PACK_FORMAT;
  client: string;
  period: { from?: string; to: string };
  generatedAt: string;
  generatedBy: string;
  storeId: string;
  files: ManifestFile[];
}

/** `manifest.sig.json`: the manifest's SHA-256 signed with the checkpoint key. */
export interface ManifestSignature {
  algorithm: 'Ed25519';
  keyId: string;
  publicKey: string;
  /** SHA-256 (hex) of `manifest.json`'s bytes; the signed message is `manifestMessage(this)`. */
  manifestSha256: string;
  signature: string;
}

/** The bytes a manifest signature covers (distinct from a checkpoint's `custodia-audit-checkpoint/1`). */
export function manifestMessage(manifestSha256: string): Buffer {
  return Buffer.from(`custodia-evidence-manifest/1\n${manifestSha256}`, 'utf8');
}

/** A pack as built: the PDF (also inside the zip), the zip, and its manifest. */
export interface BuiltPack {
  /** File name stem, e.g. `evidence-acme-2026-01-01-2026-12-06`. */
  name: string;
  pdf: Uint8Array;
  zip: Uint8Array;
  manifest: Manifest;
  manifestSha256: string;
  /** Counts for messages and the export's audit record. */
  counts: { records: number; sealed: number; instances: number; logRows: number };
}

/** Why a pack cannot be made (the CLI prints it, the API answers 4xx/5xx). */
export type EvidenceErrorCode = 'NO_CHECKPOINT_KEY' | 'NO_FONT' | 'TOO_LARGE' | 'BAD_PERIOD';

export class EvidenceError extends Error {
  override name = 'EvidenceError';
  constructor(
    readonly code: EvidenceErrorCode,
    message: string,
  ) {
    super(message);
  }
}
