/**
 * `custodia evidence verify DIR`: re-check a pack offline — no records store, no server, only the
 * files. In order:
 *
 * 1. the zip reads, and holds a manifest of this format;
 * 2. the manifest's signature verifies with the public key it names;
 * 3. every file the manifest lists has its size and SHA-256, and the zip holds no other file;
 *    the report beside the zip is the one inside;
 * 4. the checkpoint's signature verifies with the same key (as do the earlier ones it lists);
 * 5. the audit segment: every whole record's hash recomputes, every record links to the one
 *    before, the last is the one the checkpoint signed (`segment.ts`);
 * 6. every definition's IR hashes to its hash, and every transition of the segment names one of them;
 * 7. `attachments.json` is exactly the list the segment gives (`attachments.ts`): each file's hash,
 *    name, size, upload and attaching events as the chain recorded them.
 *
 * Every check runs (a later one may say more about the same change); the first failure is the
 * pack's verdict.
 */
import { verify as verifySignature } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { hashProcedure } from '../../workflows/core/hash.ts';
import type { ProcedureIR } from '../../workflows/core/ir.ts';
import { publicKeyFromRaw } from '../records/checkpoint-key.ts';
import { checkpointSignedBy } from '../records/checkpoints.ts';
import {
  ATTACHMENTS,
  MANIFEST,
  MANIFEST_SIGNATURE,
  REPORT,
  SEGMENT,
  CHECKPOINT,
  DEFINITIONS,
  sha256Hex,
} from './pack.ts';
import { packAttachments, type PackAttachments } from './attachments.ts';
import { checkSegment, segmentFromJsonl } from './segment.ts';
import {
  isSealed,
  manifestMessage,
  PACK_FORMAT,
  type Manifest,
  type ManifestSignature,
  type PackCheckpoint,
  type SegmentRecord,
} from './types.ts';

export interface PackCheck {
  /** What was checked, e.g. `manifest signature`. */
  name: string;
  ok: boolean;
  detail: string;
}

export interface PackVerification {
  ok: boolean;
  checks: PackCheck[];
  /** The first failure, or the summary when all passed. */
  verdict: string;
}

/** The pack (zip) in `dir`, and the report beside it when there is one. */
export function findPack(target: string): { zip: string; pdf?: string } {
  const st = statSync(target);
  if (st.isFile()) return { zip: target };
  const zips = readdirSync(target).filter((f) => f.endsWith('.zip'));
  if (zips.length !== 1)
    throw new Error(
      zips.length
        ? `${target} holds ${zips.length} zip files (${zips.join(', ')}): name one`
        : `${target} holds no evidence pack (.zip)`,
    );
  const zip = path.join(target, zips[0]!);
  const pdf = zip.replace(/\.zip$/, '.pdf');
  return { zip, ...(readdirSync(target).includes(path.basename(pdf)) ? { pdf } : {}) };
}

export function verifyPackFiles(target: string): PackVerification {
  const { zip, pdf } = findPack(target);
  return verifyPack(readFileSync(zip), pdf ? readFileSync(pdf) : undefined);
}

const text = (bytes: Uint8Array | undefined): string => new TextDecoder().decode(bytes);

/** Check a pack's bytes (and the report beside it, when given). */
export function verifyPack(zipBytes: Uint8Array, besidePdf?: Uint8Array): PackVerification {
  const checks: PackCheck[] = [];
  const check = (name: string, ok: boolean, detail: string): boolean => {
    checks.push({ name, ok, detail });
    return ok;
  };
  const done = (): PackVerification => {
    const failed = checks.find((c) => !c.ok);
    return {
      ok: !failed,
      checks,
      verdict: failed ? `${failed.name}: ${failed.detail}` : checks.map((c) => c.detail).join('; '),
    };
  };
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(new Uint8Array(zipBytes));
  } catch (err) {
    check('zip', false, `the zip cannot be read: ${(err as Error).message}`);
    return done();
  }
  let manifest: Manifest;
  let signature: ManifestSignature;
  try {
    manifest = JSON.parse(text(files[MANIFEST])) as Manifest;
    signature = JSON.parse(text(files[MANIFEST_SIGNATURE])) as ManifestSignature;
    if (manifest.format !== PACK_FORMAT || !Array.isArray(manifest.files))
      throw new Error(`not a ${PACK_FORMAT} manifest`);
  } catch (err) {
    check(
      'manifest',
      false,
      `${MANIFEST} or ${MANIFEST_SIGNATURE} is missing or unreadable: ${(err as Error).message}`,
    );
    return done();
  }
  checkManifestSignature(files[MANIFEST]!, signature, check);
  checkFiles(files, manifest, besidePdf, check);
  const cp = parse<PackCheckpoint>(files[CHECKPOINT]);
  const signedCheckpoint = cp
    ? checkCheckpoint(cp, signature, check)
    : check('checkpoint', false, `${CHECKPOINT} is unreadable`);
  let segment: SegmentRecord[] = [];
  try {
    segment = segmentFromJsonl(text(files[SEGMENT]));
  } catch (err) {
    check('audit segment', false, (err as Error).message);
  }
  if (cp) {
    const problems = checkSegment(segment, signedCheckpoint ? cp.checkpoint : undefined, cp.within ?? []);
    const sealed = segment.filter(isSealed).length;
    check(
      'audit segment',
      problems.length === 0,
      problems.length
        ? problems.map((p) => p.message).join('; ')
        : segment.length
          ? `${segment.length} records at positions ${segment[0]!.position}–${segment.at(-1)!.position} link (${segment.length - sealed} whole and recomputed, ${sealed} sealed), ending at the signed checkpoint`
          : 'empty (no record of the client in the period)',
    );
  }
  checkDefinitions(
    parse<{ hash: string; procedure: string; version: string; ir: ProcedureIR }[]>(files[DEFINITIONS]),
    segment,
    check,
  );
  checkAttachments(parse<PackAttachments>(files[ATTACHMENTS]), segment, check);
  return done();
}

function parse<T>(bytes: Uint8Array | undefined): T | undefined {
  try {
    return bytes ? (JSON.parse(text(bytes)) as T) : undefined;
  } catch {
    return undefined;
  }
}

type Check = (name: string, ok: boolean, detail: string) => boolean;

function checkManifestSignature(manifestBytes: Uint8Array, s: ManifestSignature, check: Check): void {
  const sha = sha256Hex(manifestBytes);
  if (s.manifestSha256 !== sha) {
    check(
      'manifest signature',
      false,
      `${MANIFEST} was changed after it was signed (SHA-256 ${sha.slice(0, 12)}…, signed ${String(s.manifestSha256).slice(0, 12)}…)`,
    );
    return;
  }
  let ok = false;
  try {
    const key = publicKeyFromRaw(s.publicKey);
    ok =
      key.keyId === s.keyId &&
      verifySignature(null, manifestMessage(sha), key.publicKey, Buffer.from(s.signature, 'base64'));
  } catch {
    ok = false;
  }
  check(
    'manifest signature',
    ok,
    ok
      ? `manifest signed with key ${s.keyId}`
      : `the signature of ${MANIFEST} does not verify with key ${String(s.keyId)}`,
  );
}

function checkFiles(
  files: Record<string, Uint8Array>,
  manifest: Manifest,
  besidePdf: Uint8Array | undefined,
  check: Check,
): void {
  const listed = new Set(manifest.files.map((f) => f.name));
  const bad: string[] = [];
  for (const f of manifest.files) {
    const bytes = files[f.name];
    if (!bytes) bad.push(`${f.name} is missing`);
    else if (bytes.length !== f.size || sha256Hex(bytes) !== f.sha256)
      bad.push(
        `${f.name}: SHA-256 ${sha256Hex(bytes).slice(0, 12)}… differs from the manifest's ${f.sha256.slice(0, 12)}…`,
      );
  }
  for (const name of Object.keys(files))
    if (!listed.has(name) && name !== MANIFEST && name !== MANIFEST_SIGNATURE)
      bad.push(`${name} is not in the manifest`);
  check(
    'manifest',
    bad.length === 0,
    bad.length ? bad.join('; ') : `${manifest.files.length} files match their SHA-256`,
  );
  if (besidePdf) {
    const want = manifest.files.find((f) => f.name === REPORT)?.sha256;
    const ok = sha256Hex(besidePdf) === want;
    check(
      'report',
      ok,
      ok
        ? 'the PDF beside the zip is the one in the manifest'
        : 'the PDF beside the zip differs from the one in the manifest',
    );
  }
}

/** The checkpoint's signature (and the earlier ones'), with the manifest's key. */
function checkCheckpoint(cp: PackCheckpoint, s: ManifestSignature, check: Check): boolean {
  let ok = false;
  let why = '';
  try {
    const key = publicKeyFromRaw(cp.publicKey);
    if (cp.publicKey !== s.publicKey) why = 'it names another key than the manifest signature';
    else if (!checkpointSignedBy(cp.checkpoint, key))
      why = `its signature does not verify with key ${key.keyId}`;
    else if (cp.checkpoint.storeId !== cp.storeId) why = 'it belongs to another store';
    else {
      const forged = (cp.within ?? []).find((c) => !checkpointSignedBy(c, key));
      if (forged) why = `the earlier checkpoint at position ${forged.position} does not verify`;
      else ok = true;
    }
  } catch (err) {
    why = (err as Error).message;
  }
  return check(
    'checkpoint',
    ok,
    ok
      ? `checkpoint at position ${cp.checkpoint.position} signed ${cp.checkpoint.at} by key ${cp.keyId}`
      : `the checkpoint at position ${cp.checkpoint?.position}: ${why}`,
  );
}

function checkDefinitions(
  defs: { hash: string; procedure: string; version: string; ir: ProcedureIR }[] | undefined,
  segment: readonly SegmentRecord[],
  check: Check,
): void {
  if (!Array.isArray(defs)) {
    check('definitions', false, `${DEFINITIONS} is unreadable`);
    return;
  }
  const bad = defs
    .filter((d) => hashProcedure(d.ir) !== d.hash)
    .map((d) => `${d.procedure}@${d.version}: its IR does not hash to ${d.hash.slice(0, 12)}…`);
  const known = new Set(defs.map((d) => d.hash));
  for (const r of segment)
    if (!isSealed(r) && r.kind === 'transition' && !known.has(String(r.body.definitionHash)))
      bad.push(
        `record ${r.position} ran definition ${String(r.body.definitionHash).slice(0, 12)}…, which the pack does not hold`,
      );
  check(
    'definitions',
    bad.length === 0,
    bad.length ? bad.join('; ') : `${defs.length} definition version(s) hash to their hashes`,
  );
}

function checkAttachments(
  listed: PackAttachments | undefined,
  segment: readonly SegmentRecord[],
  check: Check,
): void {
  if (!listed || !Array.isArray(listed.attachments)) {
    check('attachments', false, `${ATTACHMENTS} is unreadable`);
    return;
  }
  const expected = packAttachments(segment).attachments;
  const key = (a: { workflowId: string; sha256: string }): string => `${a.workflowId} ${a.sha256}`;
  const want = new Map(expected.map((a) => [key(a), JSON.stringify(a)]));
  const bad: string[] = [];
  for (const a of listed.attachments) {
    const k = key(a);
    if (!want.has(k))
      bad.push(`${a.name} (${String(a.sha256).slice(0, 12)}…) is attached to nothing in the segment`);
    else if (want.get(k) !== JSON.stringify(a))
      bad.push(`${a.name} (${a.sha256.slice(0, 12)}…) differs from what the segment records`);
    want.delete(k);
  }
  for (const k of want.keys())
    bad.push(
      `the segment attaches ${k.split(' ')[1]!.slice(0, 12)}… to ${k.split(' ')[0]}, which ${ATTACHMENTS} omits`,
    );
  check(
    'attachments',
    bad.length === 0,
    bad.length ? bad.join('; ') : `${expected.length} attachment(s) as the segment records them`,
  );
}
