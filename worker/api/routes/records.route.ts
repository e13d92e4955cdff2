/**
 * Registers: the named records procedures write (lending log, disclosure log, …) as tables people
 * browse, filter, export and correct. Rows are isolated like the instances that wrote them; every
 * export and every correction is an audit record. Logic: `records/registers.ts` (queries),
 * `records/register-catalog.ts` (declarations), `records/register-export.ts` (CSV, XLSX).
 */
import type { Json } from '../../../workflows/core/ir.ts';
import { mayAccessClient, recordScope } from '../../access.ts';
import { filterValue, registerCatalog, valueProblem, type Register } from '../../records/register-catalog.ts';
import { registerCsv, registerXlsx, type Language } from '../../records/register-export.ts';
import type { RecordCursor, RecordFilter } from '../../records/registers.ts';
import type { User } from '../../records/types.ts';
import { registerExportLimit } from '../../settings.ts';
import { auditRegisterExport } from '../audit-events.ts';
import type { ApiContext } from '../context.ts';
import { ApiProblem, sendDownload, sendJson } from '../http.ts';
import { ID, KEYWORD, LIMIT, matching } from '../patterns.ts';
import { defineRoute, objectSchema, type ObjectSchema } from '../route.ts';
import { originOf } from './session.route.ts';

/** A register name in a path or query. */
const NAME = '^[a-z][a-z0-9_]{0,99}$';
/** A date (YYYY-MM-DD, a whole UTC day) or an ISO-8601 time. */
const DAY_OR_TIME = '^\\d{4}-\\d{2}-\\d{2}(T[0-9:.]+(Z|[+-]\\d{2}:\\d{2}))?$';
/** Field filters: `field.<name>=value`. */
const FIELD_PARAM = '^field\\.[a-z][a-z0-9_]{0,99}$';

function catalogOf(app: ApiContext): Map<string, Register> {
  return registerCatalog([...app.definitions.values()].map((d) => d.ir));
}

function scopeOf(app: ApiContext, user: User) {
  const clientless = [...app.definitions.values()].filter((d) => !d.ir.clientField).map((d) => d.ir.id);
  return recordScope(user, clientless);
}

function registerOf(app: ApiContext, name: string): Register {
  const register = catalogOf(app).get(name);
  if (!register) throw new ApiProblem(404, 'UNKNOWN_REGISTER', `no register "${name}"`);
  return register;
}

const list = defineRoute({
  method: 'GET',
  path: '/api/records',
  summary:
    'The registers (declared by the definitions): name, title, columns, correctors, and the rows I may see',
  auth: 'user',
  responses: {
    200: {
      description:
        '{registers: [{name, title: {zh, en}, fields: [{name, title, type}], correctors, procedures, count}]}',
    },
  },
  async handle({ res, session }, app) {
    const counts = await app.store.registerCounts(scopeOf(app, session.user));
    const registers = [...catalogOf(app).values()].map((r) => ({ ...r, count: counts[r.name] ?? 0 }));
    sendJson(res, 200, { registers });
  },
});

interface RowsQuery {
  client?: string;
  procedure?: string;
  workflowId?: string;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
  format?: 'json' | 'csv' | 'xlsx';
  lang?: Language;
  [field: `field.${string}`]: string;
}

const ROWS_QUERY = objectSchema<RowsQuery>({
  client: matching(KEYWORD, 'rows of instances of this client'),
  procedure: matching(ID, 'rows written by this procedure'),
  workflowId: matching(ID, 'rows written by this instance'),
  from: matching(DAY_OR_TIME, 'rows written at or after (a date: from its start, UTC)'),
  to: matching(DAY_OR_TIME, 'rows written up to (a date: to its end, UTC)'),
  limit: LIMIT,
  cursor: matching('^[A-Za-z0-9_-]{1,400}$', 'the previous page’s `next`'),
  format: { enum: ['json', 'csv', 'xlsx'], description: 'json (a page), or the whole selection as a file' },
  lang: { enum: ['zh', 'en'], description: 'language of the file’s headers (default en)' },
});
// Any declared field filters too: `field.<name>=value` (checked against the register by the handler).
const ROWS_QUERY_WITH_FIELDS = {
  json: { ...ROWS_QUERY.json, patternProperties: { [FIELD_PARAM]: { type: 'string', maxLength: 200 } } },
} as unknown as ObjectSchema<RowsQuery>;

function bound(text: string, end: boolean): Date {
  const dayOnly = text.length === 10;
  const d = new Date(dayOnly ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(d.getTime())) throw new ApiProblem(400, 'INVALID_QUERY', `"${text}" is not a date`);
  // `to` includes its whole day (a date) or its exact instant (a time): the bound is exclusive.
  if (end) d.setTime(dayOnly ? d.getTime() + 86_400_000 : d.getTime() + 1);
  return d;
}

function encodeCursor(c: RecordCursor): string {
  return Buffer.from(JSON.stringify([c.at, c.workflowId, c.seq, c.idx])).toString('base64url');
}

function decodeCursor(text: string): RecordCursor {
  const bad = new ApiProblem(
    400,
    'INVALID_CURSOR',
    'cursor is not one this register gave out; start from the first page',
  );
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw bad;
  }
  if (!Array.isArray(v) || v.length !== 4) throw bad;
  const [at, workflowId, seq, idx] = v as unknown[];
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at)) || typeof workflowId !== 'string') throw bad;
  if (!Number.isInteger(seq) || !Number.isInteger(idx)) throw bad;
  return { at, workflowId, seq: seq as number, idx: idx as number };
}

/** The filter a query asks for, checked against the register and the user's clients. */
function filterOf(app: ApiContext, user: User, register: Register, q: RowsQuery): RecordFilter {
  const f: RecordFilter = { scope: scopeOf(app, user) };
  if (q.client !== undefined) {
    if (!mayAccessClient(user, q.client)) throw new ApiProblem(404, 'NOT_FOUND', `no client "${q.client}"`);
    f.client = q.client;
  }
  if (q.procedure !== undefined) f.procedure = q.procedure;
  if (q.workflowId !== undefined) f.workflowId = q.workflowId;
  if (q.from !== undefined) f.from = bound(q.from, false);
  if (q.to !== undefined) f.before = bound(q.to, true);
  if (f.from && f.before && f.from >= f.before)
    throw new ApiProblem(400, 'INVALID_RANGE', `from (${q.from}) is after to (${q.to})`);
  const fields: Record<string, Json> = {};
  for (const [key, text] of Object.entries(q)) {
    if (!key.startsWith('field.')) continue;
    const name = key.slice('field.'.length);
    const spec = register.fields.find((x) => x.name === name);
    if (!spec)
      throw new ApiProblem(400, 'UNKNOWN_FIELD', `register "${register.name}" has no field "${name}"`, {
        fields: register.fields.map((x) => x.name),
      });
    const value = filterValue(spec.type, String(text));
    if (value === undefined)
      throw new ApiProblem(
        400,
        'INVALID_QUERY',
        `"${String(text)}" is not a value of field "${name}" (${spec.type})`,
      );
    fields[name] = value;
  }
  if (Object.keys(fields).length) f.fields = fields;
  return f;
}

/** The query as the audit record keeps it (what was asked, not the scope). */
function filterRecord(q: RowsQuery): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(q))
    if (k !== 'format' && k !== 'lang' && k !== 'cursor' && k !== 'limit' && v !== undefined)
      out[k] = String(v);
  return out;
}

const rows = defineRoute({
  method: 'GET',
  path: '/api/records/:name',
  summary:
    'A register’s rows I may see, newest first (keyset paging: `cursor` = the previous page’s `next`), filtered by client, from/to, procedure, workflowId and `field.<name>=value`; `format=csv|xlsx` exports the whole selection (audited)',
  auth: 'user',
  params: { name: matching(NAME) },
  query: ROWS_QUERY_WITH_FIELDS,
  responses: {
    200: {
      description:
        '{register, rows: [{workflowId, seq, idx, at, client?, procedure?, version?, event?, actor?, fields, corrections}], total (first page only), next?}',
      alsoAs: {
        'text/csv': { type: 'string' },
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
          type: 'string',
          format: 'binary',
        },
      },
    },
  },
  problems: {
    400: 'INVALID_RANGE, UNKNOWN_FIELD, INVALID_CURSOR',
    404: 'UNKNOWN_REGISTER, NOT_FOUND',
    422: 'EXPORT_TOO_LARGE',
  },
  async handle({ ip, params, query, req, res, session }, app) {
    const register = registerOf(app, params.name ?? '');
    const filter = filterOf(app, session.user, register, query);
    const format = query.format ?? 'json';
    if (format === 'json') {
      const after = query.cursor !== undefined ? decodeCursor(query.cursor) : undefined;
      // The exact total on the first page only: counting is what costs at 100,000 rows, and the
      // following pages (keyset: as cheap as the first) have the same total.
      const [page, total] = await Promise.all([
        app.store.registerRows(register.name, filter, {
          limit: query.limit ?? 50,
          ...(after ? { after } : {}),
        }),
        after ? undefined : app.store.registerTotal(register.name, filter),
      ]);
      sendJson(res, 200, {
        register,
        rows: page.rows,
        ...(total !== undefined ? { total } : {}),
        ...(page.next ? { next: encodeCursor(page.next) } : {}),
      });
      return;
    }
    const limit = registerExportLimit();
    const total = await app.store.registerTotal(register.name, filter);
    if (total > limit)
      throw new ApiProblem(
        422,
        'EXPORT_TOO_LARGE',
        `the selection has ${total} rows; an export holds at most ${limit}: narrow the filter (e.g. from/to)`,
        { total, limit },
      );
    const { rows: all } = await app.store.registerRows(register.name, filter, { limit });
    const lang = query.lang ?? 'en';
    const body =
      format === 'csv' ? registerCsv(register, all, lang) : await registerXlsx(register, all, lang);
    // An export leaves the system: recorded (who, which register, which filter, how many) before it is sent.
    await auditRegisterExport(originOf(app, req, ip), session.user.id, {
      register: register.name,
      filter: filterRecord(query),
      format,
      count: all.length,
      ...(query.client ? { client: query.client } : {}),
    });
    const day = new Date().toISOString().slice(0, 10);
    if (format === 'csv')
      sendDownload(res, 'text/csv; charset=utf-8', `\ufeff${body as string}`, `${register.name}-${day}.csv`);
    else
      sendDownload(
        res,
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        body as Buffer,
        `${register.name}-${day}.xlsx`,
      );
  },
});

interface CorrectionBody {
  workflowId: string;
  seq: number;
  idx: number;
  fields: Record<string, Json>;
  reason: string;
}

const correct = defineRoute({
  method: 'POST',
  path: '/api/records/:name/corrections',
  summary:
    'Correct a row without changing it: a new row referencing it with the corrected values, the reason and who (the register’s correctors only; audited)',
  auth: 'user',
  params: { name: matching(NAME) },
  body: objectSchema<CorrectionBody>(
    {
      workflowId: matching(ID),
      seq: { type: 'integer', minimum: 1 },
      idx: { type: 'integer', minimum: 1 },
      fields: { type: 'object', minProperties: 1, maxProperties: 100 },
      reason: { type: 'string', minLength: 1, maxLength: 2000 },
    },
    ['workflowId', 'seq', 'idx', 'fields', 'reason'],
  ),
  responses: { 201: { description: '{correction: {id, at, by, reason, fields}}' } },
  problems: { 400: 'INVALID_CORRECTION', 403: 'NOT_CORRECTOR', 404: 'UNKNOWN_REGISTER, NOT_FOUND' },
  async handle({ body, params, res, session }, app) {
    const { user } = session;
    const register = registerOf(app, params.name ?? '');
    const notFound = new ApiProblem(
      404,
      'NOT_FOUND',
      `register "${register.name}" has no row ${body.workflowId}#${body.seq}.${body.idx}`,
    );
    const row = await app.store.registerRow(body);
    if (!row || row.name !== register.name) throw notFound;
    if (
      !app.mayAccess(user, {
        ...(row.client ? { client: row.client } : {}),
        ...(row.procedure ? { procedure: row.procedure } : {}),
      })
    )
      throw notFound;
    if (!user.roles.some((r) => register.correctors.includes(r)))
      throw new ApiProblem(
        403,
        'NOT_CORRECTOR',
        `rows of "${register.name}" are corrected by ${register.correctors.join(', ') || 'nobody'}`,
      );
    const problems: string[] = [];
    if (!body.reason.trim()) problems.push('give the reason for the correction');
    for (const [name, value] of Object.entries(body.fields)) {
      const spec = register.fields.find((f) => f.name === name);
      const why = spec ? valueProblem(spec.type, value) : `"${register.name}" has no field "${name}"`;
      if (why) problems.push(spec ? `${name}: ${why}` : why);
    }
    if (problems.length)
      throw new ApiProblem(400, 'INVALID_CORRECTION', `correction refused: ${problems.join('; ')}`, {
        errors: problems,
      });
    const correction = await app.store.correctRecord({
      name: register.name,
      workflowId: body.workflowId,
      seq: body.seq,
      idx: body.idx,
      fields: body.fields,
      reason: body.reason.trim(),
      by: user.id,
    });
    sendJson(res, 201, { correction });
  },
});

export const recordRoutes = [list, rows, correct];
