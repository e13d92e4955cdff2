/**
 * The assessor's evidence pack of one client and period, as a zip (the PDF report inside): the
 * auditor's button in the UI. For auditors, admins and the roles that see every client — and only
 * for a client the caller may see (403 otherwise, nothing made). Gathering reads the store here;
 * the proofs, coverage and PDF run on a worker thread (`evidence/pool.ts`); the segment is bounded.
 * The export is recorded in the audit chain before the zip is sent.
 */
import { mayAccessClient } from '../../access.ts';
import {
  evidenceRequest,
  gatherEvidence,
  pdfFonts,
  recordEvidenceExport,
  sealPack,
} from '../../evidence/index.ts';
import { EvidenceBusy, EvidenceTooCostly, packFilesOffThread } from '../../evidence/pool.ts';
import { EvidenceError, type EvidenceErrorCode } from '../../evidence/types.ts';
import { ApiProblem, sendDownload } from '../http.ts';
import { KEYWORD, matching } from '../patterns.ts';
import { defineRoute, objectSchema } from '../route.ts';

/** Most audit records one pack made through the API may span (the CLI has no bound). */
export const MAX_PACK_RECORDS = 200_000;

const DATE = '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,3})?)?(Z|[+-]\\d{2}:\\d{2}))?$';

const STATUS: Record<EvidenceErrorCode, number> = {
  BAD_PERIOD: 400,
  TOO_LARGE: 422,
  NO_CHECKPOINT_KEY: 503,
  NO_FONT: 503,
};

const pack = defineRoute({
  method: 'GET',
  path: '/api/evidence',
  summary: 'The evidence pack (zip with the PDF report) of one client and period',
  auth: 'evidencePack',
  action: 'making an evidence pack',
  query: objectSchema<{ client: string; from?: string; to?: string; lang?: 'zh' | 'en' }>(
    {
      client: matching(KEYWORD),
      from: matching(DATE, 'first day (YYYY-MM-DD, UTC) or time of the period; default: the first record'),
      to: matching(DATE, 'last day (included) or end time of the period; default: now'),
      lang: { enum: ['zh', 'en'] },
    },
    ['client'],
  ),
  responses: {
    200: {
      description:
        'The pack: report.pdf, the audit segment, the signed checkpoint, proofs, logs, a signed manifest',
      alsoAs: { 'application/zip': { type: 'string', format: 'binary' } },
    },
  },
  problems: {
    400: 'BAD_PERIOD',
    403: 'CLIENT_NOT_VISIBLE',
    422: 'TOO_LARGE, EVIDENCE_TOO_COSTLY',
    503: 'EVIDENCE_BUSY, NO_FONT, NO_CHECKPOINT_KEY',
  },
  async handle({ ip, query, req, res, session }, app) {
    const { user } = session;
    if (!mayAccessClient(user, query.client))
      throw new ApiProblem(403, 'CLIENT_NOT_VISIBLE', `you may not see client "${query.client}"`);
    try {
      const request = evidenceRequest({ ...query, generatedBy: user.id });
      const fonts = pdfFonts();
      const data = await gatherEvidence(app.store, request, {
        maxRecords: MAX_PACK_RECORDS,
        loaded: app.definitions.values(),
      });
      const built = await sealPack(await packFilesOffThread(data, fonts), (m) =>
        app.store.signWithCheckpointKey(m),
      );
      const ua = req.headers['user-agent'];
      await recordEvidenceExport(app.store, request, built, { ip, ...(ua ? { userAgent: ua } : {}) });
      sendDownload(res, 'application/zip', built.zip, `${built.name}.zip`);
    } catch (err) {
      if (err instanceof EvidenceError) throw new ApiProblem(STATUS[err.code], err.code, err.message);
      if (err instanceof EvidenceBusy)
        throw new ApiProblem(503, 'EVIDENCE_BUSY', err.message, {}, { 'retry-after': '10' });
      if (err instanceof EvidenceTooCostly) throw new ApiProblem(422, 'EVIDENCE_TOO_COSTLY', err.message);
      throw err;
    }
  },
});

export const evidenceRoutes = [pack];
