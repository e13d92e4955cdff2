/**
 * Register lookups (`lookup` action): the checker's rules — the register and its fields declared,
 * validity bounded by date fields, outcome events declared and accepting what the lookup sends,
 * only the engine sending them — at their positions; the engine-only guard; which row a lookup
 * reports (validity on the transition's date, corrections applied, one client's rows only) over a
 * real in-memory records store; and the compiled effect.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TransitionCommit } from '../../workflows/api.ts';
import {
  awaitsEngineReport,
  isEngineOnlyGuard,
  lookup,
  type LookupEffect,
} from '../../workflows/core/actions/lookup.ts';
import type { Json, LookupAction } from '../../workflows/core/ir.ts';
import { loadProcedure } from '../../workflows/core/load.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';
import { assessDrafts } from '../../worker/drafts.ts';
import { registerCatalog } from '../../worker/records/register-catalog.ts';
import { chooseLookupRow, type LookupRow } from '../../worker/records/register-lookup.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import { REPO_ROOT } from '../../worker/settings.ts';
import { withMemoryStore } from '../support/records.ts';

const LOOKING = `id: look
version: 1.0.0
title: { zh: 查, en: Look }
description: { zh: 测试, en: Test }
roles:
  clerk: { zh: 文员, en: Clerk }
  registry: { zh: 引擎, en: Engine }
client_field: client
context:
  client: { type: string, required: true }
  ref: { type: string }
events:
  CHECK:
    title: { zh: 查, en: Check }
    data: { type: object, additionalProperties: false, properties: { ref: { type: string } } }
  FOUND:
    title: { zh: 有, en: Found }
    data: { type: object, additionalProperties: false, properties: { reference: { type: string }, valid_until: { type: string } } }
  MISSING:
    title: { zh: 无, en: Missing }
    data: { type: object, additionalProperties: false, properties: { reason: { type: string } } }
initial: a
states:
  a:
    title: { zh: 甲, en: A }
    on:
      CHECK:
        target: checking
        roles: clerk
        actions:
          - lookup:
              register: agreements
              match: { reference: data.ref }
              valid: { from: valid_from, until: valid_until }
              fields: [reference, valid_until]
              found: FOUND
              missing: MISSING
  checking:
    title: { zh: 查中, en: Checking }
    on:
      FOUND:
        target: b
        roles: [registry]
        guard: "actor.id == '$custodia'"
        actions: [{ assign: { ref: data.reference } }]
      MISSING:
        target: a
        roles: [registry]
        guard: "actor.id == '$custodia'"
  b: { title: { zh: 乙, en: B }, type: final }
records:
  agreements:
    title: { zh: 协议, en: Agreements }
    correctors: [clerk]
    fields:
      client: { type: string, title: { zh: 客户, en: Client } }
      reference: { type: string, title: { zh: 编号, en: Reference } }
      signed_by: { type: string, title: { zh: 签署人, en: Signed by } }
      valid_from: { type: date, title: { zh: 自, en: From } }
      valid_until: { type: date, title: { zh: 至, en: Until } }
`;

const codes = (text: string): [string, number, number][] =>
  validateProcedureText(text, 'look.yaml').diagnostics.map((d) => [d.code, d.line, d.column]);

describe('lookup: the checker', () => {
  it('accepts a lookup whose register, fields and outcomes are declared and only the engine sends the outcomes', () => {
    const { diagnostics, ir } = validateProcedureText(LOOKING, 'look.yaml');
    expect(diagnostics).toEqual([]);
    expect(ir?.root.states.a?.on.CHECK?.[0]?.actions[0]).toMatchObject({
      kind: 'lookup',
      register: 'agreements',
    });
  });

  it('refuses an undeclared register, an unknown field and a validity bound that is not a date, at their positions', () => {
    expect(codes(LOOKING.replace('register: agreements', 'register: agreement'))).toEqual([
      ['PROC_UNKNOWN_RECORD', 32, 25],
    ]);
    const fields = LOOKING.replace('match: { reference: data.ref }', 'match: { referance: data.ref }')
      .replace('fields: [reference, valid_until]', 'fields: [reference, valid_until, party]')
      .replace('until: valid_until }', 'until: signed_by }');
    const d = validateProcedureText(fields, 'look.yaml').diagnostics;
    expect(d.map((x) => [x.code, x.line, x.column])).toEqual([
      ['PROC_LOOKUP_FIELD', 33, 24],
      ['PROC_LOOKUP_FIELD', 34, 49],
      ['PROC_LOOKUP_FIELD', 35, 48],
      // The found event does not accept the extra field the lookup now sends.
      ['PROC_LOOKUP_OUTCOME', 36, 22],
    ]);
    expect(d[0]?.message).toMatch(/no field "referance" .*did you mean "reference"/);
    expect(d[1]?.message).toMatch(/"signed_by" .* declared string, not date/);
    expect(d[2]?.message).toMatch(/no field "party"/);
    expect(d[3]?.message).toMatch(/"FOUND" .* does not accept "party"/);
  });

  it('refuses undeclared outcome events, an outcome without "reason", and outcomes others than the engine may send', () => {
    expect(codes(LOOKING.replace('found: FOUND', 'found: FOUNDD'))).toEqual([
      ['PROC_LOOKUP_OUTCOME', 36, 22],
    ]);
    expect(
      codes(
        LOOKING.replace('properties: { reason: { type: string } }', 'properties: { why: { type: string } }'),
      ),
    ).toEqual([['PROC_LOOKUP_OUTCOME', 37, 24]]);
    // A person's role, a guard widened by `||`, or no guard: anyone could claim "found".
    for (const [from, to] of [
      [
        '        roles: [registry]\n        guard: "actor.id == \'$custodia\'"\n        actions',
        '        roles: [registry, clerk]\n        guard: "actor.id == \'$custodia\'"\n        actions',
      ],
      [
        'guard: "actor.id == \'$custodia\'"\n        actions',
        'guard: "actor.id == \'$custodia\' && (true) || true"\n        actions',
      ],
      ['guard: "actor.id == \'$custodia\'"\n        actions', 'guard: "true"\n        actions'],
    ] as const) {
      const d = validateProcedureText(LOOKING.replace(from, to), 'look.yaml').diagnostics;
      expect(d.map((x) => [x.code, x.line])).toEqual([['PROC_LOOKUP_OUTCOME', 41]]);
      expect(d[0]?.message).toMatch(
        /"FOUND" is the outcome of a register lookup, but .* may be sent by others than the engine/,
      );
    }
    // The engine role must be declared.
    expect(codes(LOOKING.replace('  registry: { zh: 引擎, en: Engine }\n', ''))).toContainEqual([
      'PROC_UNKNOWN_ROLE',
      31,
      15,
    ]);
  });

  it('an engine-only guard is the engine alone, or the engine and one parenthesised condition', () => {
    expect(isEngineOnlyGuard("actor.id == '$custodia'")).toBe(true);
    expect(isEngineOnlyGuard("actor.id == '$custodia' && (ctx.a.all(x, x in data.s))")).toBe(true);
    expect(isEngineOnlyGuard("actor.id == '$custodia' && (a) || (b)")).toBe(false);
    expect(isEngineOnlyGuard("actor.id == '$custodia' && (a || ')') || (b)")).toBe(false);
    expect(isEngineOnlyGuard("actor.id == '$custodia' || true")).toBe(false);
    expect(isEngineOnlyGuard('true')).toBe(false);
    expect(isEngineOnlyGuard(undefined)).toBe(false);
  });

  it('an instance awaits the engine in a state only the engine leaves by an event (a lookup, a deployment)', () => {
    const ir = validateProcedureText(LOOKING, 'look.yaml').ir!;
    expect(awaitsEngineReport(ir, ['checking'])).toBe(true);
    expect(awaitsEngineReport(ir, ['a'])).toBe(false);
    expect(awaitsEngineReport(ir, ['b'])).toBe(false);
    expect(awaitsEngineReport(ir, [])).toBe(false);
    // A guard that lets others send the event too is not the engine's alone.
    const widened = LOOKING.replace(
      `roles: [registry]\n        guard: "actor.id == '$custodia'"\n        actions: [{ assign`,
      `roles: [registry]\n        guard: "actor.id == '$custodia' || true"\n        actions: [{ assign`,
    );
    expect(widened).not.toBe(LOOKING);
    const loaded = loadProcedure(widened, 'look.yaml').ir!;
    expect(awaitsEngineReport(loaded, ['checking'])).toBe(true); // MISSING is still the engine's
    const none = loadProcedure(widened.replace(/guard: "actor.id == '\$custodia'"\n/, ''), 'look.yaml').ir!;
    expect(awaitsEngineReport(none, ['checking'])).toBe(false);
    // The shipped four-eyes deployment: "being deployed" awaits the engine; "awaiting a second administrator" does not.
    const change = loadProcedure(
      readFileSync(path.join(REPO_ROOT, 'definitions/definition_change.yaml'), 'utf8'),
      'definition_change.yaml',
    ).ir!;
    expect(awaitsEngineReport(change, ['deploying'])).toBe(true);
    expect(awaitsEngineReport(change, ['proposed'])).toBe(false);
  });
});

/** A definition that writes the register LOOKING reads (its `valid_until` of the given type). */
const writer = (untilType: string): string => `id: writer
version: 1.0.0
title: { zh: 写, en: Writer }
description: { zh: 测试, en: Test }
roles: { clerk: { zh: 文员, en: Clerk } }
context: { client: { type: string, required: true } }
events: { FILE: { title: { zh: 存, en: File } } }
initial: a
states:
  a:
    title: { zh: 甲, en: A }
    on: { FILE: { target: b, roles: clerk, actions: [{ record: { record: agreements, fields: { client: ctx.client } } }] } }
  b: { title: { zh: 乙, en: B }, type: final }
records:
  agreements:
    title: { zh: 协议, en: Agreements }
    correctors: [clerk]
    fields:
      client: { type: string, title: { zh: 客户, en: Client } }
      valid_until: { type: ${untilType}, title: { zh: 至, en: Until } }
`;

describe('lookup: across the definitions loaded together', () => {
  const assess = (...texts: string[]) =>
    assessDrafts(
      texts.map((yaml, i) => ({ yaml, file: `d${i}.yaml` })),
      new Map(),
      { prove: false },
    );

  it('warns when no definition loaded writes the register (every lookup would find nothing)', () => {
    const alone = assess(LOOKING);
    expect(alone.diagnostics.map((d) => [d.code, d.severity, d.line])).toEqual([
      ['PROC_LOOKUP_FIELD', 'warning', 32],
    ]);
    expect(alone.diagnostics[0]?.message).toMatch(/"agreements" .* written by no definition loaded/);
    expect(alone.definitions.has('look')).toBe(true);
    expect(assess(LOOKING, writer('date')).diagnostics).toEqual([]);
  });

  it('refuses a register whose field the lookup reads has another type where the register is written', () => {
    const set = assess(LOOKING, writer('string'));
    expect(set.diagnostics.map((d) => [d.code, d.severity, d.file])).toEqual([
      ['PROC_LOOKUP_FIELD', 'error', 'd0.yaml'],
    ]);
    expect(set.diagnostics[0]?.message).toMatch(
      /field "valid_until" is date in "look" but string in "writer"/,
    );
    expect(set.definitions.has('look')).toBe(false);
  });

  it('the register catalog names the writers, not the definitions that only look it up', () => {
    const set = assess(LOOKING, writer('date'));
    const catalog = registerCatalog([...set.definitions.values()].map((d) => d.ir));
    expect(catalog.get('agreements')?.procedures).toEqual(['writer']);
    expect(catalog.get('agreements')?.fields.map((f) => f.name)).toEqual([
      'client',
      'reference',
      'signed_by',
      'valid_from',
      'valid_until',
    ]);
  });
});

const effect: LookupEffect = {
  kind: 'lookup',
  register: 'agreements',
  match: {},
  valid: { from: 'valid_from', until: 'valid_until' },
  fields: ['reference', 'valid_until'],
  found: 'FOUND',
  missing: 'MISSING',
};
const row = (reference: string, valid_from: string, valid_until: string): LookupRow => ({
  at: '2026-01-01T00:00:00.000Z',
  fields: { reference, valid_from, valid_until, signed_by: 'Li Wei' },
});

describe('lookup: which row is reported', () => {
  it('the row valid on the date (inclusive), the one valid longest of several; else expired / not yet valid / none', () => {
    const rows = [
      row('A', '2025-01-01', '2026-06-30'),
      row('B', '2026-01-01', '2027-12-31'),
      row('C', '2028-01-01', '2030-01-01'),
    ];
    expect(chooseLookupRow(rows, effect, '2026-06-30')).toEqual({
      found: true,
      fields: { reference: 'B', valid_until: '2027-12-31' },
    });
    expect(chooseLookupRow(rows.slice(0, 1), effect, '2026-06-30')).toMatchObject({
      found: true,
      fields: { reference: 'A' },
    });
    expect(chooseLookupRow(rows.slice(0, 1), effect, '2026-07-01')).toEqual({
      found: false,
      reason: 'expired',
    });
    expect(chooseLookupRow(rows.slice(2), effect, '2026-07-01')).toEqual({
      found: false,
      reason: 'not_yet_valid',
    });
    expect(chooseLookupRow([], effect, '2026-07-01')).toEqual({ found: false, reason: 'none' });
    expect(chooseLookupRow(rows, { ...effect, match: { reference: 'C' } }, '2026-07-01')).toEqual({
      found: false,
      reason: 'not_yet_valid',
    });
    // Without validity bounds, any matching row counts.
    const { valid: _valid, ...open } = effect;
    expect(chooseLookupRow(rows, { ...open, match: { reference: 'A' } }, '2040-01-01')).toMatchObject({
      found: true,
    });
  });

  it('compiles to an effect with the match evaluated against the event', () => {
    const action: LookupAction = {
      kind: 'lookup',
      register: 'agreements',
      match: { reference: 'data.ref' },
      fields: ['reference'],
      found: 'FOUND',
      missing: 'MISSING',
    };
    const params = lookup.compile(action).params as (a: unknown) => LookupEffect;
    expect(
      params({
        context: { client: 'acme' },
        event: { type: 'CHECK', data: { ref: 'NDA-1' }, actor: { id: 'x', roles: [] } },
      }),
    ).toEqual({
      kind: 'lookup',
      register: 'agreements',
      match: { reference: 'NDA-1' },
      fields: ['reference'],
      found: 'FOUND',
      missing: 'MISSING',
    });
  });
});

describe('lookup: rows of one client, corrections applied (records store)', () => {
  let store: RecordsStore;
  withMemoryStore((s) => ({ store } = s));
  let seq = 0;
  const commit = (workflowId: string, client: string, fields: Record<string, Json>): TransitionCommit => ({
    workflowId,
    procedure: 'client_agreement',
    version: '1.0.0',
    hash: 'a'.repeat(64),
    client,
    record: {
      seq: ++seq,
      at: '2026-01-05T10:00:00.000Z',
      event: 'CONFIRM',
      actor: { id: 'ada', roles: ['quality_administrator'] },
      from: ['checking'],
      to: ['registered'],
      clauses: ['4.1.4'],
    },
    effects: [{ kind: 'record', record: 'agreements', fields }],
  });

  it('sees only its client’s rows, each as corrected (the original row unchanged)', async () => {
    await store.commit(
      commit('nda-acme', 'acme', {
        client: 'acme',
        reference: 'N-1',
        valid_from: '2026-01-01',
        valid_until: '2027-12-31',
      }),
      [],
    );
    await store.commit(
      commit('nda-globex', 'globex', {
        client: 'globex',
        reference: 'N-2',
        valid_from: '2026-01-01',
        valid_until: '2027-12-31',
      }),
      [],
    );
    const [written] = await store.recordsOf('nda-acme');
    await store.correctRecord({
      name: 'agreements',
      workflowId: 'nda-acme',
      seq: written!.seq,
      idx: written!.idx,
      fields: { valid_until: '2026-03-31' },
      reason: 'terminated early',
      by: 'quinn',
    });
    const acme = await store.lookupRows('agreements', 'acme');
    expect(acme.map((r) => r.fields)).toEqual([
      { client: 'acme', reference: 'N-1', valid_from: '2026-01-01', valid_until: '2026-03-31' },
    ]);
    expect(chooseLookupRow(acme, effect, '2026-04-01')).toEqual({ found: false, reason: 'expired' });
    expect(chooseLookupRow(acme, effect, '2026-03-31')).toMatchObject({ found: true });
    expect((await store.recordsOf('nda-acme'))[0]?.fields.valid_until).toBe('2027-12-31');
    expect(await store.lookupRows('agreements', 'initech')).toEqual([]);
  });
});
