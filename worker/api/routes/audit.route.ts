/** The hash-chained audit trail: one instance's or one client's records, and verifying the whole chain. */
import { mayAccessClient } from '../../access.ts';
import { auditToCsv } from '../../records/export.ts';
import type { AuditEntry } from '../../records/types.ts';
import { auditExport } from '../audit-events.ts';
import { ApiProblem, sendJson, sendText } from '../http.ts';
import { ID, KEYWORD, matching } from '../patterns.ts';
import { defineRoute, objectSchema } from '../route.ts';
import { originOf } from './session.route.ts';

const trail = defineRoute({
  method: 'GET',
  path: '/api/audit',
  summary: 'Audit records of one instance or one client (exactly one of workflowId, client)',
  auth: 'user',
  query: objectSchema<{ workflowId?: string; client?: string; format?: 'json' | 'csv' }>({
    workflowId: matching(ID),
    client: matching(KEYWORD),
    format: { enum: ['json', 'csv'] },
  }),
  responses: {
    200: {
      description: 'The records in chain order',
      schema: { type: 'object', properties: { entries: { type: 'array', items: { type: 'object' } } } },
      alsoAs: { 'text/csv': { type: 'string' } },
    },
  },
  problems: { 404: 'NOT_FOUND' },
  async handle({ ip, query, req, res, session }, app) {
    const { user } = session;
    if ((query.workflowId === undefined) === (query.client === undefined))
      throw new ApiProblem(400, 'INVALID_QUERY', 'give exactly one of workflowId and client');
    let entries: AuditEntry[];
    if (query.workflowId) {
      entries = await app.store.auditOf(query.workflowId);
      // Every record must be one the user may see: with its client, or without one (access.ts).
      const hidden = entries.some((e) => {
        const procedure = e.body.procedure;
        return !app.mayAccess(user, {
          ...(e.client ? { client: e.client } : {}),
          ...(typeof procedure === 'string' ? { procedure } : {}),
        });
      });
      if (hidden) throw new ApiProblem(404, 'NOT_FOUND', `no instance "${query.workflowId}"`);
      if (!entries.length) await app.accessibleInstance(user, query.workflowId);
    } else {
      const c = query.client ?? '';
      if (!mayAccessClient(user, c)) throw new ApiProblem(404, 'NOT_FOUND', `no client "${c}"`);
      entries = await app.store.auditOfClient(c);
    }
    if (query.format === 'csv') {
      // An export leaves the system: recorded (who, what, how many), before it is sent.
      await auditExport(originOf(app, req, ip), user.id, {
        subject: query.workflowId ?? `client:${query.client ?? ''}`,
        filter: query.workflowId ? { workflowId: query.workflowId } : { client: query.client ?? '' },
        format: 'csv',
        count: entries.length,
        ...(query.client ? { client: query.client } : {}),
      });
      sendText(res, 200, 'text/csv; charset=utf-8', auditToCsv(entries));
    } else sendJson(res, 200, { entries });
  },
});

const verify = defineRoute({
  method: 'GET',
  path: '/api/audit/verify',
  summary: 'Recompute the hash chain: ok, records checked, head, problems',
  auth: 'verifyAuditChain',
  action: 'verifying the whole audit chain',
  responses: { 200: { description: '{backend, ok, checked, head, problems, truncated}' } },
  async handle({ res }, app) {
    const v = await app.store.verifyAudit();
    sendJson(res, 200, { backend: app.store.backend, ...v });
  },
});

export const auditRoutes = [trail, verify];
