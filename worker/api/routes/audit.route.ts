/** The hash-chained audit trail: one instance's or one client's records, and verifying the whole chain. */
import { mayAccessClient } from '../../access.ts';
import { auditToCsv } from '../../records/export.ts';
import type { AuditEntry } from '../../records/types.ts';
import { ApiProblem, sendJson, sendText } from '../http.ts';
import { ID, KEYWORD, matching } from '../patterns.ts';
import { defineRoute, objectSchema } from '../route.ts';

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
  async handle({ query, res, session }, app) {
    const { user } = session;
    if ((query.workflowId === undefined) === (query.client === undefined))
      throw new ApiProblem(400, 'INVALID_QUERY', 'give exactly one of workflowId and client');
    let entries: AuditEntry[];
    if (query.workflowId) {
      entries = await app.store.auditOf(query.workflowId);
      const clients = new Set(entries.map((e) => e.client).filter((c): c is string => c !== undefined));
      const hidden = [...clients].some((c) => !mayAccessClient(user, c));
      if (hidden) throw new ApiProblem(404, 'NOT_FOUND', `no instance "${query.workflowId}"`);
      if (!entries.length) await app.accessibleInstance(user, query.workflowId);
    } else {
      const c = query.client ?? '';
      if (!mayAccessClient(user, c)) throw new ApiProblem(404, 'NOT_FOUND', `no client "${c}"`);
      entries = await app.store.auditOfClient(c);
    }
    if (query.format === 'csv') sendText(res, 200, 'text/csv; charset=utf-8', auditToCsv(entries));
    else sendJson(res, 200, { entries });
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
