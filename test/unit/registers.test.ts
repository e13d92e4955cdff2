/**
 * Registers (issue #18): the definition checker's rule for `record` actions against declared
 * registers, and the API over a real records store (in-memory PGlite) with the shipped
 * definitions — filters, keyset paging, client isolation, bad input, CSV and XLSX read back (XLSX
 * with exceljs), audited exports and corrections. Temporal is not involved: these routes only read
 * and write the records store.
 */
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import type { TransitionCommit } from '../../workflows/api.ts';
import type { Json } from '../../workflows/core/ir.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';
import { createApi, type Api } from '../../worker/api/server.ts';
import { CSRF_HEADER, SESSION_COOKIE } from '../../worker/api/sessions.ts';
import { loadDefinitions } from '../../worker/definitions.ts';
import { registerCatalog } from '../../worker/records/register-catalog.ts';
import { registerHeaders } from '../../worker/records/register-export.ts';
import type { SqlClient } from '../../worker/records/sql.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import { withMemoryStore } from '../support/records.ts';

const REGISTERED = `id: reg
version: 1.0.0
title: { zh: 登记, en: Registered }
description: { zh: 测试, en: Test }
roles: { clerk: { zh: 文员, en: Clerk } }
context: { n: { type: integer, default: 1 } }
events:
  GO:
    title: { zh: 走, en: Go }
    data: { type: object, properties: { note: { type: string }, count: { type: integer } } }
initial: a
states:
  a:
    title: { zh: 甲, en: A }
    on:
      GO:
        target: b
        roles: clerk
        actions:
          - record: { record: log, fields: { who: actor.id, n: ctx.n, count: data.count } }
          - record: { record: lgo, fields: { who: actor.id } }
          - record: { record: log, fields: { whom: actor.id } }
          - record: { record: log, fields: { n: data.note, who: 'true' } }
  b: { title: { zh: 乙, en: B }, type: final }
records:
  log:
    title: { zh: 日志, en: Log }
    correctors: [clerk, nobody]
    fields:
      who: { type: string, title: { zh: 谁, en: Who } }
      n: { type: integer, title: { zh: 数, en: N } }
      count: { type: number, title: { zh: 计数, en: Count } }
`;

describe('definitions declare their registers: the checker', () => {
  it('refuses an undeclared register, an undeclared field, a wrongly typed value and an unknown corrector, at their positions', () => {
    const { diagnostics, ir } = validateProcedureText(REGISTERED, 'reg.yaml');
    expect(ir).toBeUndefined();
    expect(diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([
      ['PROC_UNKNOWN_RECORD', 21, 31],
      ['PROC_UNKNOWN_FIELD', 22, 46],
      ['PROC_RECORD_TYPE_MISMATCH', 23, 49],
      ['PROC_RECORD_TYPE_MISMATCH', 23, 65],
      ['PROC_UNKNOWN_ROLE', 28, 25],
    ]);
    expect(diagnostics[0]?.message).toMatch(/register "lgo" .* not declared .*did you mean "log"/);
    expect(diagnostics[2]?.message).toMatch(
      /"n" of register "log" is declared integer, but `data.note` is of type string/,
    );
    expect(diagnostics[3]?.message).toMatch(
      /"who" of register "log" is declared string, but `true` is of type boolean/,
    );
  });

  it('accepts the same actions once they match the declaration; without `records:` records stay free-form', () => {
    const fixed = REGISTERED.replace(/ {10}- record: \{ record: lgo.*\n/, '')
      .replace(/ {10}- record: \{ record: log, fields: \{ whom.*\n/, '')
      .replace(/ {10}- record: \{ record: log, fields: \{ n: data.note.*\n/, '')
      .replace('[clerk, nobody]', '[clerk]');
    expect(validateProcedureText(fixed, 'reg.yaml').diagnostics).toEqual([]);
    const undeclared = REGISTERED.slice(0, REGISTERED.indexOf('records:'));
    expect(validateProcedureText(undeclared, 'reg.yaml').diagnostics).toEqual([]);
  });
});

// --- the API over a real store ---------------------------------------------------------------------

let sql: SqlClient;
let store: RecordsStore;
let api: Api;
let base: string;
withMemoryStore((s) => ({ sql, store } = s));

interface Caller {
  cookie: string;
  csrf: string;
}
const callers: Record<'qm' | 'alice' | 'gus', Caller> = {} as never;

let seq = 0;
/** A transition of `workflowId` that wrote one row of `record`. */
function commitOf(
  workflowId: string,
  procedure: string,
  client: string | undefined,
  at: string,
  record: string,
  fields: Record<string, Json>,
): TransitionCommit {
  return {
    workflowId,
    procedure,
    version: '9.9.9',
    hash: 'a'.repeat(64),
    ...(client ? { client } : {}),
    record: {
      seq: ++seq,
      at,
      event: 'RELEASE',
      actor: { id: 'rita', roles: ['quality_manager'] },
      from: ['approved'],
      to: ['released'],
      clauses: ['4.2.3'],
    },
    effects: [{ kind: 'record', record, fields }],
  };
}

const release = (client: string, recipient: string, items: string[]): Record<string, Json> => ({
  client,
  recipient,
  basis: 'legal',
  items,
  released: true,
  client_notified: true,
});

beforeAll(async () => {
  const { definitions, diagnostics } = loadDefinitions(['definitions'], process.cwd(), { verify: false });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  api = createApi({ client: {} as Client, store, definitions, taskQueue: 'none' });
  base = await api.listen(0);
  const people = [
    ['qm', ['quality_manager'], []],
    ['alice', ['project_staff'], ['acme']],
    ['gus', ['project_staff'], ['globex']],
  ] as const;
  for (const [id, roles, clients] of people) {
    await store.createUser(
      { id, displayName: id, roles: [...roles], clients: [...clients], password: 'correct horse battery' },
      'test',
    );
    const s = await store.createSession(id, 3600_000);
    callers[id] = { cookie: `${SESSION_COOKIE}=${s.id}`, csrf: s.csrfToken };
  }
  const rows: TransitionCommit[] = [
    commitOf(
      'disc-a1',
      'disclosure',
      'acme',
      '2026-03-02T10:00:00.000Z',
      'disclosure_log',
      release('acme', 'SAMR', ['audit report']),
    ),
    commitOf(
      'disc-a2',
      'disclosure',
      'acme',
      '2026-03-15T10:00:00.000Z',
      'disclosure_log',
      release('acme', '=HYPERLINK("http://x")', ['file 7', 'file 8']),
    ),
    commitOf(
      'disc-a3',
      'disclosure',
      'acme',
      '2026-03-31T23:30:00.000Z',
      'disclosure_log',
      release('acme', 'CNAS', ['file 9']),
    ),
    commitOf(
      'disc-a4',
      'disclosure',
      'acme',
      '2026-04-01T08:00:00.000Z',
      'disclosure_log',
      release('acme', 'SAMR', ['later']),
    ),
    commitOf(
      'disc-g1',
      'disclosure',
      'globex',
      '2026-03-10T10:00:00.000Z',
      'disclosure_log',
      release('globex', 'SAMR', ['g']),
    ),
    commitOf('sup-1', 'supervision', undefined, '2026-03-05T10:00:00.000Z', 'supervision_log', {
      event: 'finding',
    }),
  ];
  for (const c of rows) await store.commit(c, []);
}, 120_000);

afterAll(async () => {
  await api?.close();
});

async function get(who: Caller, path: string): Promise<Response> {
  return fetch(base + path, { headers: { cookie: who.cookie } });
}
async function json(who: Caller, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await get(who, path);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
async function post(
  who: Caller,
  path: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { cookie: who.cookie, [CSRF_HEADER]: who.csrf, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

type Row = {
  workflowId: string;
  seq: number;
  idx: number;
  client?: string;
  fields: Record<string, Json>;
  corrections: unknown[];
};
const ids = (body: Record<string, unknown>): string[] => (body.rows as Row[]).map((r) => r.workflowId);
const exportsOf = async (): Promise<number> => (await store.audit({ kind: 'export' })).length;

describe('GET /api/records', () => {
  it('lists every declared register with titles and the counts the user may see', async () => {
    const { status, body } = await json(callers.alice, '/api/records');
    expect(status).toBe(200);
    const registers = body.registers as { name: string; title: { zh: string; en: string }; count: number }[];
    const names = registers.map((r) => r.name);
    for (const n of [
      'lending_log',
      'disclosure_log',
      'disclosure_notice_log',
      'consent_log',
      'custody_log',
      'visitor_log',
      'supervision_log',
      'violation_register',
      'corrective_action_log',
      'undertaking_register',
    ])
      expect(names).toContain(n);
    const count = (b: Record<string, unknown>, n: string): number | undefined =>
      (b.registers as { name: string; count: number }[]).find((r) => r.name === n)?.count;
    expect(registers.find((r) => r.name === 'disclosure_log')?.title).toEqual({
      zh: '信息透露登记',
      en: 'Disclosure log',
    });
    expect(count(body, 'disclosure_log')).toBe(4); // acme only
    expect(count(body, 'supervision_log')).toBe(0); // client-less: managers only
    const qm = (await json(callers.qm, '/api/records')).body;
    expect([count(qm, 'disclosure_log'), count(qm, 'supervision_log')]).toEqual([5, 1]);
  });
});

describe('GET /api/records/{name}', () => {
  it('filters by client and month, newest first, with the transition that wrote each row', async () => {
    const { status, body } = await json(
      callers.qm,
      '/api/records/disclosure_log?client=acme&from=2026-03-01&to=2026-03-31',
    );
    expect(status).toBe(200);
    expect(ids(body)).toEqual(['disc-a3', 'disc-a2', 'disc-a1']);
    expect(body.total).toBe(3);
    expect((body.rows as Row[])[0]).toMatchObject({
      client: 'acme',
      procedure: 'disclosure',
      version: '9.9.9',
      event: 'RELEASE',
      actor: 'rita',
    });
    expect(body.next).toBeUndefined();
  });

  it('pages by cursor without repeating or skipping a row', async () => {
    const seen: string[] = [];
    let next: string | undefined;
    do {
      const { body } = await json(
        callers.qm,
        `/api/records/disclosure_log?limit=2${next ? `&cursor=${next}` : ''}`,
      );
      seen.push(...ids(body));
      next = body.next as string | undefined;
    } while (next);
    expect(seen).toEqual(['disc-a4', 'disc-a3', 'disc-a2', 'disc-g1', 'disc-a1']);
  });

  it('filters by any declared field (a list holding a value), procedure and instance', async () => {
    expect(ids((await json(callers.qm, '/api/records/disclosure_log?field.recipient=SAMR')).body)).toEqual([
      'disc-a4',
      'disc-g1',
      'disc-a1',
    ]);
    expect(ids((await json(callers.qm, '/api/records/disclosure_log?field.items=file%208')).body)).toEqual([
      'disc-a2',
    ]);
    expect(
      ids(
        (await json(callers.qm, '/api/records/disclosure_log?field.released=true&workflowId=disc-a1')).body,
      ),
    ).toEqual(['disc-a1']);
    expect((await json(callers.qm, '/api/records/disclosure_log?procedure=file_access')).body.total).toBe(0);
  });

  it('isolates clients as for instances: staff see their clients’ rows only', async () => {
    expect(ids((await json(callers.gus, '/api/records/disclosure_log')).body)).toEqual(['disc-g1']);
    expect(ids((await json(callers.alice, '/api/records/disclosure_log?field.recipient=SAMR')).body)).toEqual(
      ['disc-a4', 'disc-a1'],
    );
    expect((await json(callers.gus, '/api/records/disclosure_log?client=acme')).status).toBe(404);
    expect(ids((await json(callers.gus, '/api/records/disclosure_log?workflowId=disc-a1')).body)).toEqual([]);
    expect((await json(callers.alice, '/api/records/supervision_log')).body.total).toBe(0);
  });

  it('refuses bad input with a clear 4xx and writes nothing', async () => {
    const before = await exportsOf();
    const cases: [string, number, string][] = [
      ['/api/records/nope_log', 404, 'UNKNOWN_REGISTER'],
      ['/api/records/disclosure_log?field.colour=red', 400, 'UNKNOWN_FIELD'],
      ['/api/records/disclosure_log?from=2026-04-01&to=2026-03-01', 400, 'INVALID_RANGE'],
      ['/api/records/disclosure_log?field.released=maybe', 400, 'INVALID_QUERY'],
      ['/api/records/disclosure_log?cursor=bm9wZQ', 400, 'INVALID_CURSOR'],
      ['/api/records/disclosure_log?colour=red', 400, 'UNKNOWN_PARAMETER'],
      ['/api/records/disclosure_log?format=pdf', 400, 'INVALID_QUERY'],
      ['/api/records/disclosure_log?format=csv&field.colour=red', 400, 'UNKNOWN_FIELD'],
    ];
    for (const [path, status, code] of cases) {
      const r = await json(callers.qm, path);
      expect([path, r.status, r.body.code]).toEqual([path, status, code]);
    }
    expect(await exportsOf()).toBe(before);
  });
});

describe('exports', () => {
  it('CSV: declared headers, formulas kept as text, one audit record naming who, which register and which filter', async () => {
    const before = await store.audit({ kind: 'export' });
    const res = await get(
      callers.qm,
      '/api/records/disclosure_log?format=csv&client=acme&from=2026-03-01&to=2026-03-31&lang=en',
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(
      /attachment; filename="disclosure_log-\d{4}-\d{2}-\d{2}\.csv"/,
    );
    const text = (await res.text()).replace(/^\ufeff/, '');
    const [header, ...lines] = text.trimEnd().split('\r\n');
    expect(header).toBe(registerHeaders(disclosureLog(), 'en').join(','));
    expect(header).toContain('Recipient,Basis,Released');
    expect(lines).toHaveLength(3);
    expect(text).toContain(`"'=HYPERLINK(""http://x"")"`);
    const after = await store.audit({ kind: 'export' });
    expect(after).toHaveLength(before.length + 1);
    expect(after.at(-1)).toMatchObject({
      actorId: 'qm',
      subject: 'records:disclosure_log',
      client: 'acme',
      body: {
        what: 'records',
        format: 'csv',
        count: 3,
        query: { client: 'acme', from: '2026-03-01', to: '2026-03-31' },
      },
    });
  });

  it('XLSX: read back with exceljs — the declared headers in Chinese, typed cells, no formulas', async () => {
    const res = await get(
      callers.alice,
      '/api/records/disclosure_log?format=xlsx&lang=zh&from=2026-03-01&to=2026-03-31',
    );
    expect(res.status).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await res.arrayBuffer()) as unknown as ArrayBuffer);
    const ws = wb.worksheets[0]!;
    expect(ws.name).toBe('信息透露登记');
    const header = (ws.getRow(1).values as unknown[]).slice(1);
    expect(header).toEqual(registerHeaders(disclosureLog(), 'zh'));
    expect(header).toEqual(expect.arrayContaining(['接收方', '依据', '已透露', '物品/资料']));
    expect(ws.rowCount).toBe(4); // alice: acme's three March rows
    const col = (title: string): number => header.indexOf(title) + 1;
    const cells = [2, 3, 4].map((r) => ws.getRow(r).getCell(col('接收方')));
    expect(cells.map((c) => c.value)).toEqual(['CNAS', '=HYPERLINK("http://x")', 'SAMR']);
    expect(cells.every((c) => c.type === ExcelJS.ValueType.String)).toBe(true);
    expect(ws.getRow(2).getCell(col('已透露')).value).toBe(true);
    expect(ws.getRow(3).getCell(col('物品/资料')).value).toBe('file 7; file 8');
    let formulas = 0;
    ws.eachRow((row) => row.eachCell((c) => (formulas += c.type === ExcelJS.ValueType.Formula ? 1 : 0)));
    expect(formulas).toBe(0);
  });

  it('refuses an export over the row limit (422) and records nothing', async () => {
    const before = await exportsOf();
    process.env.CUSTODIA_REGISTER_EXPORT_LIMIT = '2';
    try {
      const r = await json(callers.qm, '/api/records/disclosure_log?format=xlsx');
      expect([r.status, r.body.code, r.body.total, r.body.limit]).toEqual([422, 'EXPORT_TOO_LARGE', 5, 2]);
    } finally {
      delete process.env.CUSTODIA_REGISTER_EXPORT_LIMIT;
    }
    expect(await exportsOf()).toBe(before);
  });
});

describe('corrections without rewriting', () => {
  const key = async (): Promise<Row> =>
    (await json(callers.qm, '/api/records/disclosure_log?workflowId=disc-a1')).body.rows as never as Row;

  it('only the declared correctors correct; bad values are refused; nothing is written on a refusal', async () => {
    const [row] = (await key()) as unknown as Row[];
    const target = { workflowId: row!.workflowId, seq: row!.seq, idx: row!.idx };
    const audits = (await store.audit()).length;
    const refused = [
      [
        callers.alice,
        { ...target, fields: { recipient: 'SAMR Beijing' }, reason: 'typo' },
        403,
        'NOT_CORRECTOR',
      ],
      [callers.qm, { ...target, fields: { colour: 'red' }, reason: 'typo' }, 400, 'INVALID_CORRECTION'],
      [callers.qm, { ...target, fields: { released: 'yes' }, reason: 'typo' }, 400, 'INVALID_CORRECTION'],
      [callers.qm, { ...target, fields: { recipient: 'x' }, reason: '   ' }, 400, 'INVALID_CORRECTION'],
      [callers.qm, { ...target, idx: 9, fields: { recipient: 'x' }, reason: 'r' }, 404, 'NOT_FOUND'],
      [callers.gus, { ...target, fields: { recipient: 'x' }, reason: 'r' }, 404, 'NOT_FOUND'],
    ] as const;
    for (const [who, body, status, code] of refused) {
      const r = await post(who, '/api/records/disclosure_log/corrections', body);
      expect([r.status, r.body.code]).toEqual([status, code]);
    }
    expect((await store.audit()).length).toBe(audits);
  });

  it('a correction is a new row beside the original, audited; the original is unchanged and cannot be edited', async () => {
    const [row] = (await key()) as unknown as Row[];
    const r = await post(callers.qm, '/api/records/disclosure_log/corrections', {
      workflowId: row!.workflowId,
      seq: row!.seq,
      idx: row!.idx,
      fields: { recipient: 'SAMR (Beijing bureau)', items: ['audit report', 'annex A'] },
      reason: 'recipient office and annex omitted',
    });
    expect(r.status).toBe(201);
    const [shown] = (await key()) as unknown as Row[];
    expect(shown!.fields.recipient).toBe('SAMR');
    expect(shown!.corrections).toEqual([
      expect.objectContaining({
        by: 'qm',
        reason: 'recipient office and annex omitted',
        fields: { recipient: 'SAMR (Beijing bureau)', items: ['audit report', 'annex A'] },
      }),
    ]);
    const [audit] = (await store.audit({ kind: 'admin' })).filter((e) => e.body.act === 'record.correct');
    expect(audit).toMatchObject({
      actorId: 'qm',
      client: 'acme',
      subject: 'records:disclosure_log',
      body: { workflowId: 'disc-a1', reason: 'recipient office and annex omitted' },
    });
    await expect(sql.exec(`UPDATE record_corrections SET reason = 'x'`)).rejects.toThrow(/append-only/);
    await expect(sql.exec(`UPDATE procedure_records SET fields = '{}'`)).rejects.toThrow(/append-only/);
    const csv = await (
      await get(callers.qm, '/api/records/disclosure_log?format=csv&workflowId=disc-a1')
    ).text();
    const lines = csv.trimEnd().split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(
      /SAMR \(Beijing bureau\).*audit report; annex A.*disc-a1#\d+\.1,recipient office and annex omitted,qm$/,
    );
  });
});

function disclosureLog() {
  const { definitions } = loadDefinitions(['definitions/disclosure.yaml'], process.cwd(), { verify: false });
  return registerCatalog([...definitions.values()].map((d) => d.ir)).get('disclosure_log')!;
}
