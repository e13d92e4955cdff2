/**
 * `attachments.json` of an evidence pack: the files of the client's instances that the audit
 * segment names — uploaded in it (kind `attachment`, act `upload`) or attached to a transition in
 * it (`data.attachments`) — with their SHA-256, the events that attached them, and how often they
 * were read (downloads) in the segment. Derived from the segment alone, so `custodia evidence
 * verify` recomputes it offline and refuses a list that differs from what the chain says.
 *
 * The files themselves stay out of the pack: they are the client's confidential documents and the
 * pack travels; the hashes prove which file was attached, and an assessor who asks to see one reads
 * it through Custodia, where the read is audited.
 */
import { attachmentsOf } from '../../workflows/core/attachments.ts';
import { isSealed, type SegmentRecord } from './types.ts';

export interface PackAttachment {
  workflowId: string;
  sha256: string;
  name: string;
  type: string;
  size: number;
  /** The upload's audit record, when it lies in the segment. */
  upload?: { position: number; by: string; at: string };
  /** The transitions that attached it (their audit positions), in chain order. */
  events: { position: number; seq?: number; event: string; kind?: string }[];
  /** Downloads recorded in the segment. */
  reads: number;
}

export interface PackAttachments {
  note: string;
  attachments: PackAttachment[];
}

export const ATTACHMENTS_NOTE =
  'Files of the client attached in the period (SHA-256 of their content), derived from the audit segment: uploads, the events that attached them, reads. The files stay in Custodia; `custodia evidence verify` recomputes this list from the segment.';

/** The attachments the whole records of `segment` name, keyed by instance and content. */
export function packAttachments(segment: readonly SegmentRecord[]): PackAttachments {
  const byKey = new Map<string, PackAttachment>();
  const entry = (
    workflowId: string,
    f: { sha256: string; name: string; type: string; size: number },
  ): PackAttachment => {
    const key = `${workflowId} ${f.sha256}`;
    let a = byKey.get(key);
    if (!a) {
      a = { workflowId, sha256: f.sha256, name: f.name, type: f.type, size: f.size, events: [], reads: 0 };
      byKey.set(key, a);
    }
    return a;
  };
  for (const r of segment) {
    if (isSealed(r)) continue;
    if (r.kind === 'attachment') {
      const b = r.body as { act?: string; sha256?: string; name?: string; type?: string; size?: number };
      if (typeof b.sha256 !== 'string') continue;
      const a = entry(r.subject, {
        sha256: b.sha256,
        name: String(b.name),
        type: String(b.type),
        size: Number(b.size),
      });
      if (b.act === 'upload') a.upload = { position: r.position, by: r.actorId, at: r.at };
      else if (b.act === 'download') a.reads++;
    } else if (r.kind === 'transition')
      for (const ref of attachmentsOf(r.body.data))
        entry(r.subject, ref).events.push({
          position: r.position,
          ...(r.seq !== undefined ? { seq: r.seq } : {}),
          event: String(r.body.event),
          ...(ref.kind !== undefined ? { kind: ref.kind } : {}),
        });
  }
  return { note: ATTACHMENTS_NOTE, attachments: [...byKey.values()] };
}
