/**
 * Audit entries for people and spreadsheets: a one-line summary, CSV (RFC 4180) and JSON.
 * Shared by `custodia audit show` and the HTTP API's export.
 */
import type { AuditEntry } from './types.ts';

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

/** CSV with a header row; `body` as JSON. Values are exact (no spreadsheet-formula escaping). */
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
    ].map(csvField),
  );
  return [AUDIT_CSV_COLUMNS.join(','), ...rows.map((r) => r.join(','))].join('\r\n') + '\r\n';
}

function csvField(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
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
