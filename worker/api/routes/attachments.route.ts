/**
 * Attachments of an instance: upload a file (raw body, its name in `?name=`), list the files, and
 * download one. Client isolation is the instance routes' (`access.ts`): a file is visible to whoever
 * may see its instance, judged from the client and procedure stored with it (so after Temporal's
 * retention too). Every download is recorded in the audit chain (who read which file of which
 * client, when) before a byte is sent; a download refused for isolation is recorded as a refusal.
 * An uploaded file is bound to an event by sending `data.attachments: [{ sha256, kind? }]` with it
 * (`POST /api/instances/{id}/events`).
 */
import { attachmentBytes, readUploadBody, storeUpload } from '../../attachments/service.ts';
import { attachmentLimits } from '../../attachments/limits.ts';
import type { StoredAttachment } from '../../records/attachments.ts';
import { refusalRecord } from '../../records/security-audit.ts';
import { ApiProblem, sendJson } from '../http.ts';
import { ID, matching } from '../patterns.ts';
import { defineRoute, objectSchema } from '../route.ts';

const SHA256 = '^[0-9a-f]{64}$';

const ATTACHMENT_SCHEMA = {
  type: 'object',
  properties: {
    sha256: { type: 'string' },
    name: { type: 'string' },
    type: { type: 'string', description: 'the real type, judged from the content' },
    size: { type: 'integer' },
    uploadedBy: { type: 'string' },
    uploadedAt: { type: 'string', format: 'date-time' },
    auditPosition: { type: 'integer' },
  },
};

/** What the API tells of a stored file (its client and procedure are the instance's). */
function publicView(a: StoredAttachment) {
  return {
    sha256: a.sha256,
    name: a.name,
    type: a.type,
    size: a.size,
    uploadedBy: a.uploadedBy,
    uploadedAt: a.uploadedAt,
    auditPosition: a.auditPosition,
  };
}

const upload = defineRoute({
  method: 'POST',
  path: '/api/instances/:id/attachments',
  summary:
    'Attach a file to a running instance: the raw bytes as the body, the file name in ?name= (type judged from the content; size and type limits)',
  auth: 'user',
  params: { id: matching(ID) },
  query: objectSchema<{ name: string }>({ name: { type: 'string', minLength: 1, maxLength: 255 } }, ['name']),
  responses: {
    201: { description: 'Stored (and its upload audited)', schema: ATTACHMENT_SCHEMA },
    200: { description: 'This instance holds the same content already', schema: ATTACHMENT_SCHEMA },
  },
  problems: {
    400: 'BAD_FILE_NAME, EMPTY_FILE',
    404: 'NOT_FOUND',
    409: 'INSTANCE_FINISHED',
    413: 'ATTACHMENT_TOO_LARGE',
    415: 'ATTACHMENT_TYPE_REFUSED',
  },
  async handle({ ip, params, query, req, res, session }, app) {
    const workflowId = params.id ?? '';
    const inst = await app.accessibleInstance(session.user, workflowId);
    if (!inst.running)
      throw new ApiProblem(409, 'INSTANCE_FINISHED', 'this instance has finished; it takes no files');
    const limits = attachmentLimits();
    const content = await readUploadBody(req, limits);
    const ua = req.headers['user-agent'];
    const { attachment, created } = await storeUpload(app.store, limits, {
      workflowId,
      ...(inst.client ? { client: inst.client } : {}),
      procedure: inst.procedure ?? '',
      name: query.name,
      content,
      uploadedBy: session.user.id,
      origin: { ip, ...(ua ? { userAgent: ua } : {}) },
    });
    sendJson(res, created ? 201 : 200, publicView(attachment), {
      location: `/api/instances/${encodeURIComponent(workflowId)}/attachments/${attachment.sha256}`,
    });
  },
});

const list = defineRoute({
  method: 'GET',
  path: '/api/instances/:id/attachments',
  summary: 'The files an instance holds, in upload order',
  auth: 'user',
  params: { id: matching(ID) },
  responses: {
    200: {
      description: 'The files',
      schema: { type: 'object', properties: { attachments: { type: 'array', items: ATTACHMENT_SCHEMA } } },
    },
  },
  problems: { 404: 'NOT_FOUND' },
  async handle({ params, res, session }, app) {
    const workflowId = params.id ?? '';
    await app.accessibleInstance(session.user, workflowId);
    const files = await app.store.attachmentsOf(workflowId);
    sendJson(res, 200, { attachments: files.map(publicView) });
  },
});

const download = defineRoute({
  method: 'GET',
  path: '/api/instances/:id/attachments/:file',
  summary: 'Download a file of an instance (every download is recorded in the audit chain)',
  auth: 'user',
  params: { id: matching(ID), file: matching(SHA256, 'the file’s SHA-256') },
  responses: {
    200: {
      description: 'The file, as its real type',
      alsoAs: { 'application/octet-stream': { type: 'string', format: 'binary' } },
    },
  },
  problems: { 404: 'NOT_FOUND (also for another client’s file: recorded as a refusal)' },
  async handle({ ip, params, req, res, session }, app) {
    const workflowId = params.id ?? '';
    const sha256 = params.file ?? '';
    const notFound = new ApiProblem(404, 'NOT_FOUND', `no file ${sha256} on instance "${workflowId}"`);
    if (!new RegExp(SHA256).test(sha256) || !new RegExp(ID).test(workflowId)) throw notFound;
    const a = await app.store.attachmentOf(workflowId, sha256);
    if (!a) throw notFound;
    const ua = req.headers['user-agent'];
    const origin = { ip, ...(ua ? { userAgent: ua } : {}) };
    if (!app.mayAccess(session.user, { ...(a.client ? { client: a.client } : {}), procedure: a.procedure })) {
      await app.store.appendSecurityRecord(
        refusalRecord({
          actorId: session.user.id,
          actorRoles: [...session.user.roles],
          subject: workflowId,
          action: 'attachment.download',
          code: 'NOT_FOUND',
          reason: `${session.user.id} may not see the files of this instance (client isolation); file ${sha256}`,
          ...(a.client ? { client: a.client } : {}),
          origin,
        }),
      );
      throw notFound;
    }
    const content = await attachmentBytes(app.store, attachmentLimits(), a);
    // Recorded before a byte leaves: a read that cannot be recorded does not happen.
    await app.store.recordAttachmentRead(a, session.user.id, origin);
    res.writeHead(200, {
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; sandbox",
      'referrer-policy': 'no-referrer',
      'content-type': a.type,
      'content-length': String(content.length),
      'content-disposition': contentDisposition(a.name),
      'x-content-sha256': a.sha256,
    });
    res.end(content);
  },
});

/** `attachment` with an ASCII fallback name and the UTF-8 one (RFC 6266 / 8187). */
export function contentDisposition(name: string): string {
  const fallback = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export const attachmentRoutes = [upload, list, download];
