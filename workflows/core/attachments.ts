/**
 * Attachments on events: files (a signed consent letter, a courier receipt, a scan) stored
 * content-addressed (SHA-256) in the records store, referenced from an event's data so the hash
 * enters the audit chain with the transition that attached them. Pure: the engine's guard, the
 * update validator, the checker and the UI share these rules.
 *
 * - `data.attachments` is engine-owned on every event: a list of {@link AttachmentRef}. It is taken
 *   out of the data before the event's own JSON Schema sees it, so definitions never declare it.
 * - An event may declare `attachments:` — kinds of file it **requires** (or offers, `required:
 *   false`), each with the file families it accepts (`pdf`, `image`, `office`). The guard refuses
 *   a malformed reference (`BAD_ATTACHMENT`) and an event without a required kind
 *   (`ATTACHMENT_REQUIRED`).
 * - A reference is only as good as its **receipt**: an Ed25519 signature, by a key the engine
 *   trusts for actor assertions, over the instance, hash, type, size and name. The API signs one
 *   only after finding the file in the records store for that instance; the update validator
 *   verifies it (`receiptRefusal` in `attachment-receipts.ts`). So an event sent straight to Temporal with a made-up hash
 *   is refused before it enters history: no record ever claims a file the store does not hold.
 */
import type { Json, ProcedureIR, Text } from './ir.ts';
import { textIn } from './languages.ts';
import type { Rejection } from './rejections.ts';

/** The families of file a definition may ask for. */
export const FILE_FAMILIES = ['pdf', 'image', 'office'] as const;
export type FileFamily = (typeof FILE_FAMILIES)[number];

/** Every file type the engine knows (the real type, sniffed from the bytes), with its family. */
export const FILE_TYPES = {
  'application/pdf': 'pdf',
  'image/png': 'image',
  'image/jpeg': 'image',
  'image/gif': 'image',
  'image/webp': 'image',
  'image/tiff': 'image',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'office',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'office',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'office',
  'application/vnd.oasis.opendocument.text': 'office',
  'application/vnd.oasis.opendocument.spreadsheet': 'office',
  'application/msword': 'office',
  'application/vnd.ms-excel': 'office',
  'application/vnd.ms-powerpoint': 'office',
} as const satisfies Record<string, FileFamily>;
export type FileType = keyof typeof FILE_TYPES;

export function isFileType(type: unknown): type is FileType {
  return typeof type === 'string' && Object.hasOwn(FILE_TYPES, type);
}

/** A kind of file an event asks for (`events.<E>.attachments.<kind>` of a definition). */
export interface AttachmentRequirement {
  title: Text;
  description?: Text;
  /** Families accepted; absent: any the deployment accepts. */
  types?: FileFamily[];
  /** Default true: the event is refused without at least one file of this kind. */
  required?: boolean;
}

/** One attached file as an event's data carries it (and the audit chain keeps it). */
export interface AttachmentRef {
  /** SHA-256 of the content, lower-case hex. */
  sha256: string;
  /** The file name the uploader gave. */
  name: string;
  /** The real type (sniffed from the content, never the uploader's word). */
  type: FileType;
  /** Bytes. */
  size: number;
  /** Which of the event's declared kinds it is; absent: an extra file. */
  kind?: string;
  /** `<key id>.<Ed25519 signature, base64url>` over {@link receiptMessage}. */
  receipt: string;
}

/** The engine-owned key of an event's data. */
export const ATTACHMENTS_KEY = 'attachments';
/** Most files one event may carry. */
export const MAX_ATTACHMENTS_PER_EVENT = 20;
/** Longest file name kept. */
export const MAX_FILE_NAME = 255;

const SHA256 = /^[0-9a-f]{64}$/;
const KIND = /^[a-z][a-z0-9_]{0,63}$/;
// eslint-disable-next-line no-control-regex
const BAD_NAME = /[\u0000-\u001f\u007f/\\]/;
const REF_KEYS = new Set(['sha256', 'name', 'type', 'size', 'kind', 'receipt']);

/** Whether `name` is a file name the store keeps (no path, no control characters). */
export function isFileName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name.trim() !== '' &&
    name.length <= MAX_FILE_NAME &&
    !BAD_NAME.test(name) &&
    name !== '.' &&
    name !== '..'
  );
}

export function isSha256(value: unknown): value is string {
  return typeof value === 'string' && SHA256.test(value);
}

/** `data` without its attachments (what the event's own JSON Schema validates). */
export function withoutAttachments(data: Record<string, Json> | undefined): Record<string, Json> | undefined {
  if (!data || !(ATTACHMENTS_KEY in data)) return data;
  const { [ATTACHMENTS_KEY]: _dropped, ...rest } = data;
  return rest;
}

/** The attachments an event's data carries (none when absent or malformed). */
export function attachmentsOf(data: unknown): AttachmentRef[] {
  const list = (data as Record<string, unknown> | null | undefined)?.[ATTACHMENTS_KEY];
  return Array.isArray(list) ? list.filter((r): r is AttachmentRef => refProblem(r) === undefined) : [];
}

/** The kinds an event declares (`{}` when none). */
export function attachmentKinds(ir: ProcedureIR, event: string): Record<string, AttachmentRequirement> {
  return ir.events[event]?.attachments ?? {};
}

export const bad = (event: string, en: string, zh: string): Rejection => ({
  code: 'BAD_ATTACHMENT',
  message: `${event} attachments rejected: ${en}`,
  zh: `${event} 的附件被拒绝：${zh}`,
});

/** What is wrong with one reference's shape, or undefined. */
export function refProblem(ref: unknown): string | undefined {
  if (!ref || typeof ref !== 'object' || Array.isArray(ref)) return 'not an object';
  const r = ref as Record<string, unknown>;
  const extra = Object.keys(r).filter((k) => !REF_KEYS.has(k));
  if (extra.length) return `unknown field(s) ${extra.join(', ')}`;
  if (!isSha256(r.sha256)) return 'sha256 must be 64 lower-case hex digits';
  if (!isFileName(r.name)) return 'name must be a file name (1–255 characters, no path)';
  if (!isFileType(r.type)) return `type ${JSON.stringify(r.type)} is not a file type the engine keeps`;
  if (typeof r.size !== 'number' || !Number.isSafeInteger(r.size) || r.size <= 0)
    return 'size must be a positive integer';
  if (r.kind !== undefined && (typeof r.kind !== 'string' || !KIND.test(r.kind)))
    return 'kind must be a snake_case name';
  if (typeof r.receipt !== 'string' || r.receipt.length > 200) return 'receipt missing';
  return undefined;
}

/**
 * Why an event's attachments are refused, or undefined: the shape of every reference, each
 * reference's kind (declared by the event) and family (accepted by the kind), then the kinds the
 * event requires. Pure (the compiled guard asks it); receipts are the validator's
 * (`attachment-receipts.ts`).
 */
export function attachmentRefusal(
  ir: ProcedureIR,
  event: string,
  data: Record<string, Json> | undefined,
): Rejection | undefined {
  const kinds = attachmentKinds(ir, event);
  const raw = data?.[ATTACHMENTS_KEY];
  if (raw !== undefined && !Array.isArray(raw))
    return bad(event, 'attachments must be a list', 'attachments 必须是列表');
  const list = (raw ?? []) as unknown[];
  if (list.length > MAX_ATTACHMENTS_PER_EVENT)
    return bad(
      event,
      `at most ${MAX_ATTACHMENTS_PER_EVENT} files per event`,
      `每个操作最多 ${MAX_ATTACHMENTS_PER_EVENT} 个文件`,
    );
  const seen = new Set<string>();
  for (const [i, ref] of list.entries()) {
    const problem = refProblem(ref);
    if (problem) return bad(event, `#${i + 1}: ${problem}`, `第 ${i + 1} 个：${problem}`);
    const r = ref as AttachmentRef;
    if (seen.has(r.sha256))
      return bad(event, `#${i + 1}: the same file twice`, `第 ${i + 1} 个：同一文件重复附加`);
    seen.add(r.sha256);
    if (r.kind === undefined) continue;
    const req = kinds[r.kind];
    if (!req) {
      const known = Object.keys(kinds).join(', ') || 'none';
      return bad(
        event,
        `#${i + 1}: ${event} asks for no file of kind ${r.kind} (its kinds: ${known})`,
        `第 ${i + 1} 个：${event} 没有 ${r.kind} 类附件（其附件类别：${known}）`,
      );
    }
    const family = FILE_TYPES[r.type];
    if (req.types && !req.types.includes(family))
      return bad(
        event,
        `#${i + 1}: ${r.kind} must be ${req.types.join(' or ')}, ${r.name} is ${family}`,
        `第 ${i + 1} 个：${r.kind} 须为 ${req.types.join(' 或 ')}，${r.name} 是 ${family}`,
      );
  }
  const present = new Set((list as AttachmentRef[]).map((r) => r.kind));
  const missing = Object.entries(kinds)
    .filter(([kind, req]) => req.required !== false && !present.has(kind))
    .map(([kind, req]) => ({ kind, req }));
  if (!missing.length) return undefined;
  const names = (lang: 'zh' | 'en'): string =>
    missing.map((m) => `${m.kind} (${textIn(m.req.title, lang, ir.languages)})`).join(', ');
  return {
    code: 'ATTACHMENT_REQUIRED',
    message: `${event} needs an attached file: ${names('en')}`,
    zh: `${event} 须附上文件：${names('zh')}`,
  };
}

/** The first file type of each family (what a simulated file of that family is). */
const SAMPLE_TYPE: Record<FileFamily, FileType> = {
  pdf: 'application/pdf',
  image: 'image/png',
  office: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

/**
 * Placeholder files for the event's required kinds, for the definition editor's simulator (which
 * runs the pure rule; receipts are only the live engine's): `{}` when the event requires none.
 */
export function sampleAttachments(ir: ProcedureIR, event: string): Record<string, Json> {
  const required = Object.entries(attachmentKinds(ir, event)).filter(([, r]) => r.required !== false);
  if (!required.length) return {};
  const refs = required.map(([kind, r], i) => ({
    sha256: String(i + 1).repeat(64),
    name: `${kind}.${r.types?.[0] === 'image' ? 'png' : r.types?.[0] === 'office' ? 'docx' : 'pdf'}`,
    type: SAMPLE_TYPE[r.types?.[0] ?? 'pdf'],
    size: 1024,
    kind,
    receipt: 'simulated',
  }));
  return { [ATTACHMENTS_KEY]: refs };
}
