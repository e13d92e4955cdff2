/**
 * The assessor's evidence pack: gather from the store (`gather.ts`), make the files (`pack.ts`,
 * off the serving thread in the API: `pool.ts`), sign and zip, and record the export in the audit
 * chain. `verify-pack.ts` re-checks a pack offline.
 */
import type { Json } from '../../workflows/core/ir.ts';
import { exportRecord, type RequestOrigin } from '../records/security-audit.ts';
import type { RecordsStore } from '../records/types.ts';
import { periodBound } from './gather.ts';
import type { BuiltPack, EvidenceLanguage, EvidenceRequest } from './types.ts';

export { gatherEvidence, periodBound } from './gather.ts';
export { packFiles, sealPack } from './pack.ts';
export { pdfFonts } from './font.ts';
export { EvidenceError, type BuiltPack, type EvidenceRequest } from './types.ts';

/** A request from the words people type: dates or times, a language. */
export function evidenceRequest(r: {
  client: string;
  from?: string;
  to?: string;
  lang?: string;
  generatedBy: string;
}): EvidenceRequest {
  return {
    client: r.client,
    ...(r.from ? { from: periodBound(r.from, false) } : {}),
    ...(r.to ? { to: periodBound(r.to, true) } : {}),
    lang: (r.lang ?? 'zh') as EvidenceLanguage,
    generatedBy: r.generatedBy,
  };
}

/**
 * The export of a pack, in the audit chain (an `export` record of the client): who, the period,
 * how many records, and the SHA-256 of the pack's manifest — which names every file's digest.
 */
export async function recordEvidenceExport(
  store: RecordsStore,
  request: EvidenceRequest,
  pack: BuiltPack,
  origin?: RequestOrigin,
): Promise<void> {
  const query: Record<string, Json> = {
    client: request.client,
    lang: request.lang,
    to: pack.manifest.period.to,
  };
  if (pack.manifest.period.from) query.from = pack.manifest.period.from;
  const record = exportRecord({
    actorId: request.generatedBy,
    what: 'evidence',
    subject: `client:${request.client}`,
    format: 'pdf+zip',
    count: pack.counts.records,
    query,
    client: request.client,
    ...(origin ? { origin } : {}),
  });
  record.body = { ...record.body, pack: pack.name, manifestSha256: pack.manifestSha256 };
  await store.appendSecurityRecord(record);
}
