/**
 * Attachments in the records store (schema v6): content by SHA-256 (`attachment_blobs`), which
 * instance holds which content (`attachments`), and the audit records of every upload and every
 * read (kind `attachment`). Writes are one transaction with their audit record: a file is never
 * stored without the record of who attached it, and never handed out unrecorded (the caller
 * records the read before it sends a byte).
 */
import { createHash } from 'node:crypto';
import type { Json } from '../../workflows/core/ir.ts';
import { appendAudit, lockChainHead } from './audit.ts';
import { RecordsError } from './errors.ts';
import { canonicalUserId } from './identity.ts';
import type { RequestOrigin } from './security-audit.ts';
import type { SqlClient, SqlQueryable } from './sql.ts';
import type { AuditEntry } from './types.ts';

/** One file an instance holds. */
export interface StoredAttachment {
  workflowId: string;
  sha256: string;
  name: string;
  /** The real type, sniffed from the bytes at upload. */
  type: string;
  size: number;
  client?: string;
  procedure: string;
  uploadedBy: string;
  uploadedAt: string;
  /** The audit record of the upload. */
  auditPosition: number;
}

export interface NewAttachment {
  workflowId: string;
  client?: string;
  procedure: string;
  name: string;
  type: string;
  /** The bytes; their SHA-256 and size are computed here, never taken from a caller. */
  content: Uint8Array;
  /** Keep the bytes in the database (default) or only their hash (the caller keeps the file). */
  keepContent?: boolean;
  uploadedBy: string;
  origin?: RequestOrigin;
}

/** The records store's part for attachments (`RecordsStore` extends it). */
export interface AttachmentStore {
  /**
   * Store a file for an instance (content-addressed) with the audit record of its upload; the same
   * content again for the same instance returns the row stored first (`created: false`, nothing
   * appended).
   */
  putAttachment(a: NewAttachment): Promise<{ attachment: StoredAttachment; created: boolean }>;
  /** The file `sha256` of an instance, if the instance holds it. */
  attachmentOf(workflowId: string, sha256: string): Promise<StoredAttachment | undefined>;
  /** Every file an instance holds, in upload order. */
  attachmentsOf(workflowId: string): Promise<StoredAttachment[]>;
  /** Files of one client (or of every client) uploaded in `[from, to)`, in upload order. */
  attachmentsOfClient(q: { client?: string; from?: string; to?: string }): Promise<StoredAttachment[]>;
  /** The bytes of `sha256`: from the database, or `null` when they are kept outside it. */
  attachmentContent(sha256: string): Promise<Uint8Array | null | undefined>;
  /** Append the audit record of a read (download) of an instance's file. */
  recordAttachmentRead(a: StoredAttachment, reader: string, origin?: RequestOrigin): Promise<AuditEntry>;
}

interface Row {
  workflow_id: string;
  sha256: string;
  name: string;
  type: string;
  size: number | string;
  client: string | null;
  procedure: string;
  uploaded_by: string;
  uploaded_at: Date | string;
  audit_position: number | string;
}

const COLUMNS =
  'workflow_id, sha256, name, type, size, client, procedure, uploaded_by, uploaded_at, audit_position';

function fromRow(r: Row): StoredAttachment {
  return {
    workflowId: r.workflow_id,
    sha256: r.sha256,
    name: r.name,
    type: r.type,
    size: Number(r.size),
    ...(r.client !== null ? { client: r.client } : {}),
    procedure: r.procedure,
    uploadedBy: r.uploaded_by,
    uploadedAt: new Date(r.uploaded_at).toISOString(),
    auditPosition: Number(r.audit_position),
  };
}

function originBody(o: RequestOrigin | undefined): Record<string, Json> {
  const out: Record<string, Json> = {};
  if (o?.ip !== undefined) out.ip = o.ip;
  if (o?.userAgent !== undefined) out.userAgent = o.userAgent.slice(0, 256);
  if (o?.requestId !== undefined) out.requestId = o.requestId;
  return out;
}

/** What an audit record says of a file. */
function fileBody(a: Pick<StoredAttachment, 'sha256' | 'name' | 'type' | 'size' | 'procedure'>) {
  return { sha256: a.sha256, name: a.name, type: a.type, size: a.size, procedure: a.procedure };
}

export async function putAttachment(
  sql: SqlClient,
  a: NewAttachment,
): Promise<{ attachment: StoredAttachment; created: boolean }> {
  const size = a.content.length;
  if (size === 0) throw new RecordsError('INVALID_INPUT', 'an attachment needs content (0 bytes given)');
  const sha256 = createHash('sha256').update(a.content).digest('hex');
  const by = canonicalUserId(a.uploadedBy);
  return sql.transaction(async (tx) => {
    const existing = await rowOf(tx, a.workflowId, sha256);
    if (existing) return { attachment: existing, created: false };
    const now = new Date().toISOString();
    // The bytes travel as base64 text (decoded by the database): PGlite binds a 10 MiB bytea
    // parameter in ~10 s here, the same as base64 in ~2 s (and reads it back 10× faster).
    await tx.query(
      `INSERT INTO attachment_blobs (sha256, size, content, created_at)
       VALUES ($1, $2, decode($3, 'base64'), $4) ON CONFLICT (sha256) DO NOTHING`,
      [sha256, size, a.keepContent === false ? null : Buffer.from(a.content).toString('base64'), now],
    );
    const head = await lockChainHead(tx);
    // Re-check under the chain lock: a concurrent upload of the same file may have just committed.
    const raced = await rowOf(tx, a.workflowId, sha256);
    if (raced) return { attachment: raced, created: false };
    const entry = await appendAudit(tx, head, {
      kind: 'attachment',
      subject: a.workflowId,
      ...(a.client ? { client: a.client } : {}),
      actorId: by,
      at: now,
      body: { act: 'upload', ...fileBody({ ...a, sha256, size }), ...originBody(a.origin) },
    });
    const [row] = await tx.query<Row>(
      `INSERT INTO attachments (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${COLUMNS}`,
      [a.workflowId, sha256, a.name, a.type, size, a.client ?? null, a.procedure, by, now, entry.position],
    );
    return { attachment: fromRow(row!), created: true };
  });
}

async function rowOf(
  db: SqlQueryable,
  workflowId: string,
  sha256: string,
): Promise<StoredAttachment | undefined> {
  const [row] = await db.query<Row>(
    `SELECT ${COLUMNS} FROM attachments WHERE workflow_id = $1 AND sha256 = $2`,
    [workflowId, sha256],
  );
  return row ? fromRow(row) : undefined;
}

export function attachmentOf(sql: SqlQueryable, workflowId: string, sha256: string) {
  return rowOf(sql, workflowId, sha256);
}

export async function attachmentsOf(sql: SqlQueryable, workflowId: string): Promise<StoredAttachment[]> {
  const rows = await sql.query<Row>(
    `SELECT ${COLUMNS} FROM attachments WHERE workflow_id = $1 ORDER BY audit_position`,
    [workflowId],
  );
  return rows.map(fromRow);
}

export async function attachmentsOfClient(
  sql: SqlQueryable,
  q: { client?: string; from?: string; to?: string },
): Promise<StoredAttachment[]> {
  const rows = await sql.query<Row>(
    `SELECT ${COLUMNS} FROM attachments
     WHERE ($1::text IS NULL OR client = $1) AND ($2::timestamptz IS NULL OR uploaded_at >= $2)
       AND ($3::timestamptz IS NULL OR uploaded_at < $3)
     ORDER BY audit_position`,
    [q.client ?? null, q.from ?? null, q.to ?? null],
  );
  return rows.map(fromRow);
}

export async function attachmentContent(
  sql: SqlQueryable,
  sha256: string,
): Promise<Uint8Array | null | undefined> {
  const [row] = await sql.query<{ content: string | null }>(
    `SELECT encode(content, 'base64') AS content FROM attachment_blobs WHERE sha256 = $1`,
    [sha256],
  );
  if (!row) return undefined;
  return row.content === null ? null : new Uint8Array(Buffer.from(row.content, 'base64'));
}

export async function recordAttachmentRead(
  sql: SqlClient,
  a: StoredAttachment,
  reader: string,
  origin?: RequestOrigin,
): Promise<AuditEntry> {
  return sql.transaction(async (tx) =>
    appendAudit(tx, await lockChainHead(tx), {
      kind: 'attachment',
      subject: a.workflowId,
      ...(a.client ? { client: a.client } : {}),
      actorId: canonicalUserId(reader),
      at: new Date().toISOString(),
      body: {
        act: 'download',
        ...fileBody(a),
        uploadedBy: a.uploadedBy,
        uploadPosition: a.auditPosition,
        ...originBody(origin),
      },
    }),
  );
}
