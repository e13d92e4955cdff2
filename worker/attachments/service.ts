/**
 * Attachments, Node side: take an upload (size, real type, name — refused before anything is
 * stored), keep it (records store or folder), hand its bytes back checked against their hash, and
 * turn an event's `data.attachments` as a caller sends it (`[{ sha256, kind? }]`) into references
 * the engine accepts — each looked up in the store for that instance and given a receipt signed
 * with the actor key (`workflows/core/attachments.ts`). A hash the store does not hold for the
 * instance is refused here (422) and, sent to Temporal directly, by the engine (no receipt).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  ATTACHMENTS_KEY,
  FILE_TYPES,
  MAX_ATTACHMENTS_PER_EVENT,
  isFileName,
  isSha256,
  type AttachmentRef,
  type FileType,
} from '../../workflows/core/attachments.ts';
import { receiptMessage } from '../../workflows/core/attachment-receipts.ts';
import type { Json } from '../../workflows/core/ir.ts';
import type { ActorSigner } from '../actor-keys.ts';
import { ApiProblem } from '../api/http.ts';
import type { StoredAttachment } from '../records/attachments.ts';
import type { RequestOrigin } from '../records/security-audit.ts';
import type { RecordsStore } from '../records/types.ts';
import { readBlob, verifyContent, writeBlob } from './blobs.ts';
import type { AttachmentLimits } from './limits.ts';
import { sniffFileType } from './sniff.ts';

export interface Upload {
  workflowId: string;
  client?: string;
  procedure: string;
  name: string;
  content: Uint8Array;
  uploadedBy: string;
  origin?: RequestOrigin;
}

/** Why an upload is refused (a 4xx problem), or its real type when accepted. */
export function judgeUpload(
  limits: AttachmentLimits,
  name: string,
  content: Uint8Array,
): { type: FileType } | ApiProblem {
  if (!isFileName(name))
    return new ApiProblem(
      400,
      'BAD_FILE_NAME',
      'give the file name as ?name=… (1–255 characters, no path or control characters)',
    );
  if (content.length === 0) return new ApiProblem(400, 'EMPTY_FILE', 'the file is empty (0 bytes)');
  if (content.length > limits.maxBytes) return tooLarge(limits);
  const type = sniffFileType(content, name);
  if (!type)
    return new ApiProblem(
      415,
      'ATTACHMENT_TYPE_REFUSED',
      `${name} is none of the file types kept (PDF, PNG, JPEG, GIF, WebP, TIFF, Word, Excel, PowerPoint, OpenDocument), judged from its content`,
    );
  const family = FILE_TYPES[type];
  if (!limits.families.includes(family))
    return new ApiProblem(
      415,
      'ATTACHMENT_TYPE_REFUSED',
      `${name} is ${family} (${type}); this deployment accepts ${limits.families.join(', ')}`,
    );
  return { type };
}

function tooLarge(limits: AttachmentLimits): ApiProblem {
  return new ApiProblem(
    413,
    'ATTACHMENT_TOO_LARGE',
    `attachments are limited to ${limits.maxBytes} bytes (${(limits.maxBytes / 1048576).toFixed(1)} MiB)`,
    { limit: limits.maxBytes },
  );
}

/** Store an upload (refused with an `ApiProblem` before anything is kept). */
export async function storeUpload(
  store: RecordsStore,
  limits: AttachmentLimits,
  u: Upload,
): Promise<{ attachment: StoredAttachment; created: boolean }> {
  const judged = judgeUpload(limits, u.name, u.content);
  if (judged instanceof ApiProblem) throw judged;
  if (limits.dir)
    await writeBlob(limits.dir, createHash('sha256').update(u.content).digest('hex'), u.content);
  return store.putAttachment({
    workflowId: u.workflowId,
    ...(u.client ? { client: u.client } : {}),
    procedure: u.procedure,
    name: u.name,
    type: judged.type,
    content: u.content,
    keepContent: !limits.dir,
    uploadedBy: u.uploadedBy,
    ...(u.origin ? { origin: u.origin } : {}),
  });
}

/** The bytes of a stored attachment, checked against its hash. */
export async function attachmentBytes(
  store: RecordsStore,
  limits: AttachmentLimits,
  a: StoredAttachment,
): Promise<Uint8Array> {
  const content = await store.attachmentContent(a.sha256);
  if (content === undefined) throw new Error(`the records store has no content for ${a.sha256}`);
  if (content !== null) {
    verifyContent(a.sha256, content);
    return content;
  }
  if (!limits.dir)
    throw new Error(
      `${a.sha256} is kept outside the records store, and CUSTODIA_ATTACHMENTS_DIR names no folder`,
    );
  return readBlob(limits.dir, a.sha256);
}

/** The engine's reference to a stored attachment, with a receipt signed now. */
export function referenceTo(signer: ActorSigner, a: StoredAttachment, kind?: string): AttachmentRef {
  const ref = { sha256: a.sha256, name: a.name, type: a.type as FileType, size: a.size };
  return {
    ...ref,
    ...(kind !== undefined ? { kind } : {}),
    receipt: signer.signMessage(receiptMessage(a.workflowId, ref)),
  };
}

/**
 * `data` with its `attachments` (`[{ sha256, kind? }]` from the caller) replaced by the engine's
 * references: 422 `BAD_ATTACHMENT` for a malformed list, `UNKNOWN_ATTACHMENT` for a hash the
 * store does not hold for this instance. `data` without attachments is returned as it is.
 */
export async function resolveAttachments(
  store: RecordsStore,
  signer: ActorSigner,
  workflowId: string,
  data: Record<string, Json> | undefined,
): Promise<Record<string, Json> | undefined> {
  if (!data || !(ATTACHMENTS_KEY in data)) return data;
  const list = data[ATTACHMENTS_KEY];
  const malformed = (why: string): ApiProblem =>
    new ApiProblem(422, 'BAD_ATTACHMENT', `data.attachments: ${why}`);
  if (!Array.isArray(list)) throw malformed('must be a list of { sha256, kind? }');
  if (list.length > MAX_ATTACHMENTS_PER_EVENT)
    throw malformed(`at most ${MAX_ATTACHMENTS_PER_EVENT} files per event`);
  const refs: AttachmentRef[] = [];
  for (const [i, item] of list.entries()) {
    const r = item as Record<string, Json> | null;
    if (!r || typeof r !== 'object' || Array.isArray(r) || !isSha256(r.sha256))
      throw malformed(`#${i + 1} needs the sha256 of an uploaded file (64 lower-case hex digits)`);
    if (r.kind !== undefined && typeof r.kind !== 'string') throw malformed(`#${i + 1}: kind must be a name`);
    const stored = await store.attachmentOf(workflowId, r.sha256);
    if (!stored)
      throw new ApiProblem(
        422,
        'UNKNOWN_ATTACHMENT',
        `data.attachments #${i + 1}: this instance holds no file ${r.sha256}; upload it first (POST /api/instances/${workflowId}/attachments)`,
      );
    refs.push(referenceTo(signer, stored, r.kind));
  }
  return { ...data, [ATTACHMENTS_KEY]: refs as unknown as Json };
}

/**
 * The raw body of an upload, at most `limits.maxBytes` (413 `ATTACHMENT_TOO_LARGE` by its
 * Content-Length up front, or once more arrives — the rest is drained up to a cap, then the
 * connection closed).
 */
export async function readUploadBody(req: IncomingMessage, limits: AttachmentLimits): Promise<Uint8Array> {
  const length = Number(req.headers['content-length'] ?? NaN);
  const hardCap = limits.maxBytes * 2 + 1024 * 1024;
  const problem = (close: boolean): ApiProblem => {
    const p = tooLarge(limits);
    return close ? new ApiProblem(p.status, p.code, p.message, p.extra, { connection: 'close' }) : p;
  };
  if (Number.isFinite(length) && length > limits.maxBytes) throw problem(true);
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  await new Promise<void>((resolve, reject) => {
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > hardCap) {
        req.pause();
        resolve();
      } else if (size > limits.maxBytes) over = true;
      else chunks.push(chunk);
    });
    req.on('end', resolve);
    req.on('error', reject);
  });
  if (size > hardCap) throw problem(true);
  if (over) throw problem(false);
  return new Uint8Array(Buffer.concat(chunks));
}
