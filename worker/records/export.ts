/**
 * Audit entries for people and spreadsheets: a one-line summary, CSV (RFC 4180) and JSON.
 * Shared by `custodia audit show` and the HTTP API's export.
 *
 * Every CSV cell goes through `csvCell`: a value a spreadsheet would run as a formula (starting
 * with `=`, `+`, `-`, `@`, tab or carriage return — e.g. a client named `=HYPERLINK(…)`) is
 * prefixed with `'`, which spreadsheets show as text (OWASP "CSV injection").
 */
import type { AuditCheckpoint, AuditEntry } from './types.ts';

/** What happened, in a few words: `APPROVE submitted → approved`, `user.assign`, `deploy <hash>`. */
export function auditSummary(e: AuditEntry): string {
  const b = e.body;
  switch (e.kind) {
    case 'transition': {
      const list = (v: unknown): string => (Array.isArray(v) ? v.join(',') : '');
      return `${String(b.event)} ${list(b.from) || '∅'} → ${list(b.to) || '∅'}`;
    }
    case 'deployment':
      return `deploy ${String(b.procedure)}@${String(b.version)} ${String(b.hash).slice(0, 12)}`;
    case 'admin':
      return String(b.act ?? 'admin');
    case 'sign_in':
      return `sign-in ${String(b.method ?? '')}`.trimEnd();
    case 'sign_in_failed':
      return `failed sign-in (${String(b.reason ?? 'refused')})`;
    case 'sign_out':
      return `sign-out ${String(b.reason ?? '')}`.trimEnd();
    case 'refusal':
      return `refused ${String(b.event ?? b.action ?? '')}: ${String(b.code ?? '')}`.trimEnd();
    case 'export':
      return `export ${String(b.what ?? '')} ${String(b.format ?? '')} (${String(b.count ?? '?')})`;
    case 'attachment':
      return `attachment ${String(b.act ?? '')} ${String(b.name ?? '')} ${String(b.sha256 ?? '').slice(0, 12)}`;
  }
}

export const AUDIT_CSV_COLUMNS = [
  'position',
  'at',
  'kind',
  'subject',
  'seq',
  'client',
  'actor',
  'summary',
  'body',
  'prev_hash',
  'hash',
] as const;

/**
 * CSV with a header row; `body` as JSON. Values are exact except that a cell a spreadsheet would
 * evaluate as a formula gets a leading `'` (`csvCell`).
 */
export function auditToCsv(entries: readonly AuditEntry[]): string {
  const rows = entries.map((e) =>
    [
      e.position,
      e.at,
      e.kind,
      e.subject,
      e.seq ?? '',
      e.client ?? '',
      e.actorId,
      auditSummary(e),
      JSON.stringify(e.body),
      e.prevHash,
      e.hash,
    ].map(csvCell),
  );
  return [AUDIT_CSV_COLUMNS.join(','), ...rows.map((r) => r.join(','))].join('\r\n') + '\r\n';
}

/** Characters that make a spreadsheet read a cell as a formula when they come first. */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell (RFC 4180 quoting), safe to open in a spreadsheet: a string starting with
 * `= + - @`, tab or CR gets a leading `'` so it stays text. Numbers are written as they are.
 */
export function csvCell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(v);
  const s = FORMULA_START.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows of cells as CSV (header first, CRLF line ends), every cell through `csvCell`. */
export function toCsv(
  header: readonly string[],
  rows: readonly (readonly (string | number | null | undefined)[])[],
): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

export const CHECKPOINT_CSV_COLUMNS = ['store_id', 'position', 'hash', 'at', 'key_id', 'signature'] as const;

/** The signed checkpoints as CSV (goes beside an audit CSV export). */
export function checkpointsToCsv(checkpoints: readonly AuditCheckpoint[]): string {
  return toCsv(
    CHECKPOINT_CSV_COLUMNS,
    checkpoints.map((c) => [c.storeId, c.position, c.hash, c.at, c.keyId, c.signature]),
  );
}

/** An audit export: the entries, and the signed checkpoints with the key that verifies them. */
export interface AuditExport {
  format: 'custodia-audit-export/1';
  exportedAt: string;
  entries: AuditEntry[];
  /** Every checkpoint of the store (not only those the entries reach), oldest first. */
  checkpoints: AuditCheckpoint[];
  /** Raw Ed25519 public key (base64) the checkpoints are signed with; absent when there is no key. */
  publicKey?: string;
  keyId?: string;
}

/** The JSON export document (entries, checkpoints, public key). */
export function auditExport(
  entries: readonly AuditEntry[],
  signed: { publicKey?: string; keyId?: string; checkpoints: readonly AuditCheckpoint[] },
): AuditExport {
  const doc: AuditExport = {
    format: 'custodia-audit-export/1',
    exportedAt: new Date().toISOString(),
    entries: [...entries],
    checkpoints: [...signed.checkpoints],
  };
  if (signed.publicKey) doc.publicKey = signed.publicKey;
  if (signed.keyId) doc.keyId = signed.keyId;
  return doc;
}

/** Aligned text lines: position, time, kind, subject[#seq], actor, summary. */
export function auditToText(entries: readonly AuditEntry[]): string {
  const rows = entries.map((e) => [
    String(e.position),
    e.at,
    e.kind,
    e.seq === undefined ? e.subject : `${e.subject}#${e.seq}`,
    e.client ?? '-',
    e.actorId,
    auditSummary(e),
  ]);
  const header = ['#', 'at', 'kind', 'subject', 'client', 'actor', 'what'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
