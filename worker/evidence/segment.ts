/**
 * The audit chain segment of a pack: a contiguous stretch of the chain, positions `first … last`,
 * where `last` is a signed checkpoint's position. The client's records of the period (and
 * deployments, which name no client) are kept whole; every other record is **sealed** — its
 * position, `prev_hash` and `hash` only — so another client's data never leaves with the pack while
 * the links stay continuous.
 *
 * Checked offline (`checkSegment`): every whole record's hash recomputes from its content and its
 * `prev_hash` (`auditHash`, the chain's own rule); every record links to the one before it; the
 * positions have no gap; the last record is the one the checkpoint signed, and every earlier
 * checkpoint inside the segment matches its record. A sealed record's hash cannot be recomputed
 * without its content: the manifest signature (`manifest.sig.json`) covers it instead.
 */
import { auditHash } from '../records/audit.ts';
import type { AuditCheckpoint, AuditEntry } from '../records/types.ts';
import { isSealed, type SegmentRecord } from './types.ts';

/** Whether a record is kept whole in the pack for `client` and the period `[from, to)`. */
export function isOpenRecord(e: AuditEntry, client: string, from: string | undefined, to: string): boolean {
  if (e.kind === 'deployment') return true;
  return e.client === client && (from === undefined || e.at >= from) && e.at < to;
}

/** The record as it goes into the pack: whole, or sealed. */
export function sealUnless(open: boolean, e: AuditEntry): SegmentRecord {
  return open ? e : { position: e.position, prevHash: e.prevHash, hash: e.hash, sealed: true };
}

/** One problem found in a segment, at a chain position. */
export interface SegmentProblem {
  position: number;
  message: string;
}

/** Recompute and link every record; compare the end with the checkpoints. Empty: intact. */
export function checkSegment(
  records: readonly SegmentRecord[],
  checkpoint: AuditCheckpoint | undefined,
  within: readonly AuditCheckpoint[] = [],
): SegmentProblem[] {
  const problems: SegmentProblem[] = [];
  let prev: SegmentRecord | undefined;
  for (const r of records) {
    if (prev) {
      if (r.position !== prev.position + 1)
        problems.push({
          position: r.position,
          message: `record ${r.position} follows record ${prev.position}: records are missing or out of order`,
        });
      else if (r.prevHash !== prev.hash)
        problems.push({
          position: r.position,
          message: `record ${r.position} does not link to record ${prev.position} (its prev_hash is not that record's hash)`,
        });
    }
    if (!isSealed(r) && auditHash(r.prevHash, r.position, r) !== r.hash)
      problems.push({
        position: r.position,
        message: `record ${r.position}: content does not match its hash`,
      });
    prev = r;
  }
  const byPosition = new Map(records.map((r) => [r.position, r]));
  if (checkpoint && records.length) {
    const last = records.at(-1)!;
    if (last.position !== checkpoint.position || last.hash !== checkpoint.hash)
      problems.push({
        position: last.position,
        message: `the segment ends at record ${last.position} (hash ${last.hash.slice(0, 12)}…), the signed checkpoint is at ${checkpoint.position} (hash ${checkpoint.hash.slice(0, 12)}…)`,
      });
  }
  for (const c of within) {
    const r = byPosition.get(c.position);
    if (!r || r.hash !== c.hash)
      problems.push({
        position: c.position,
        message: `the checkpoint signed ${c.at} at position ${c.position} does not match the segment's record there`,
      });
  }
  return problems;
}

/** `audit-segment.jsonl`: one record per line, in chain order. */
export function segmentToJsonl(records: readonly SegmentRecord[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : '');
}

/** Parse `audit-segment.jsonl`; throws naming the line that is not a record. */
export function segmentFromJsonl(text: string): SegmentRecord[] {
  const out: SegmentRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new Error(`audit-segment.jsonl line ${i + 1} is not JSON`);
    }
    const r = v as Partial<AuditEntry> | null;
    if (
      !r ||
      typeof r !== 'object' ||
      !Number.isSafeInteger(r.position) ||
      typeof r.prevHash !== 'string' ||
      typeof r.hash !== 'string'
    )
      throw new Error(`audit-segment.jsonl line ${i + 1} is not an audit record`);
    out.push(v as SegmentRecord);
  });
  return out;
}
