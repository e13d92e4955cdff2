/**
 * Loader and checker, table-driven: every `test/fixtures/invalid/*.yaml` lists the diagnostics it
 * must produce in its header (`# expect: CODE line:col [warning]`); codes and positions are
 * asserted exactly, messages are not. Valid fixtures and the shipped definitions must load with
 * no diagnostic at all.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateProcedureText } from '../../workflows/core/validate.ts';
import { loadProcedure } from '../../workflows/core/load.ts';
import { describeLocation } from '../../workflows/core/describe-location.ts';
import type { ProcedureIR, StateIR } from '../../workflows/core/ir.ts';

const fixtures = new URL('../fixtures/', import.meta.url);
const definitions = new URL('../../definitions/', import.meta.url);
const read = (dir: URL, name: string): string => readFileSync(new URL(name, dir), 'utf8');
const yamlFiles = (dir: URL): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();

/** `CODE line:col` (plus ` warning`) for each `# expect:` line of a fixture's header. */
function expectations(text: string): string[] {
  return [...text.matchAll(/^# expect: (\S+ \d+:\d+(?: warning)?)\s*$/gm)].map((m) => m[1] as string);
}

describe('invalid fixtures', () => {
  const dir = new URL('invalid/', fixtures);
  const files = yamlFiles(dir);

  it('exist, each with expectations', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const file of files) expect(expectations(read(dir, file)), file).not.toEqual([]);
  });

  it.each(files)('%s reports exactly the expected diagnostics', (file) => {
    const text = read(dir, file);
    const result = validateProcedureText(text, `invalid/${file}`);
    const got = result.diagnostics.map(
      (d) => `${d.code} ${d.line}:${d.column}${d.severity === 'warning' ? ' warning' : ''}`,
    );
    expect(got).toEqual(expectations(text));
    expect(result.ir).toBeUndefined();
    for (const d of result.diagnostics) {
      expect(d.file).toBe(`invalid/${file}`);
      expect(d.message.length).toBeGreaterThan(5);
      expect(d.pointer === '' || d.pointer.startsWith('/')).toBe(true);
    }
  });
});

describe('messages', () => {
  const diagnostics = (file: string) =>
    validateProcedureText(read(new URL('invalid/', fixtures), file), file).diagnostics;

  it('suggests the property that was meant', () => {
    const [typo] = diagnostics('schema-unknown-property.yaml');
    expect(typo?.message).toBe(
      'unknown property "tagret" in transition GO in state "a" (did you mean "target"?)',
    );
    expect(typo?.pointer).toBe('/states/a/on/GO/tagret');
  });

  it('names what is missing and where', () => {
    const messages = diagnostics('schema-missing-required.yaml').map((d) => d.message);
    expect(messages).toContain('missing required property "title" in state "a"');
    expect(messages).toContain('missing required property "description" in the procedure');
  });

  it('collapses a failed oneOf into one message', () => {
    const messages = diagnostics('schema-types.yaml').map((d) => d.message);
    expect(messages).toContain('transition GO in state "a" must be a mapping or a list, got the string "b"');
    expect(messages.filter((m) => m.includes('exactly one'))).toEqual([]);
  });

  it('suggests the nearest target, roles and events', () => {
    const messages = [...diagnostics('unknown-target.yaml'), ...diagnostics('unknown-references.yaml')].map(
      (d) => d.message,
    );
    expect(
      messages.some((m) => m.includes('target "aproved"') && m.includes('did you mean "approved"')),
    ).toBe(true);
    expect(messages.some((m) => m.includes('role "staf"') && m.includes('did you mean "staff"'))).toBe(true);
    expect(messages.some((m) => m.includes('event APROVE') && m.includes('did you mean "APPROVE"'))).toBe(
      true,
    );
  });
});

describe('valid fixtures and shipped definitions', () => {
  const valid = new URL('valid/', fixtures);
  const cases = [
    ...yamlFiles(valid).map((f) => [`fixtures/valid/${f}`, read(valid, f)] as const),
    ...yamlFiles(definitions).map((f) => [`definitions/${f}`, read(definitions, f)] as const),
  ];

  it('include minimal, rich and file_access', () => {
    const names = cases.map(([name]) => name);
    expect(names).toEqual(
      expect.arrayContaining([
        'fixtures/valid/minimal.yaml',
        'fixtures/valid/rich.yaml',
        'definitions/file_access.yaml',
      ]),
    );
  });

  it.each(cases)('%s validates with no diagnostics', (name, text) => {
    const result = validateProcedureText(text, name);
    expect(result.diagnostics).toEqual([]);
    expect(result.ir).toBeDefined();
  });
});

describe('normalisation', () => {
  const load = (name: string): ProcedureIR => {
    const result = validateProcedureText(read(new URL('valid/', fixtures), name), name);
    if (!result.ir) throw new Error(JSON.stringify(result.diagnostics));
    return result.ir;
  };
  const state = (ir: ProcedureIR, path: string): StateIR => {
    let node = ir.root;
    for (const key of path.split('.')) node = node.states[key] ?? (undefined as never);
    expect(node, path).toBeDefined();
    return node;
  };

  it('gives the root an empty path and key, and fills every collection', () => {
    const ir = load('minimal.yaml');
    expect(ir.root).toMatchObject({
      path: '',
      key: '',
      type: 'compound',
      initial: 'open',
      pointer: '',
      after: [],
    });
    expect(ir.root.on).toEqual({});
    expect(ir.clauses).toEqual([]);
    expect(ir.duties).toEqual([]);
    expect(ir.invariants).toEqual([]);
    expect(ir.context).toEqual({});
    expect(state(ir, 'closed')).toEqual({
      path: 'closed',
      key: 'closed',
      type: 'final',
      title: { zh: '已关闭', en: 'Closed' },
      clauses: [],
      states: {},
      on: {},
      after: [],
      pointer: '/states/closed',
    });
    expect(state(ir, 'open').on.DONE).toEqual([
      {
        event: 'DONE',
        target: 'closed',
        roles: ['staff'],
        actions: [],
        clauses: [],
        pointer: '/states/open/on/DONE/0',
      },
    ]);
  });

  it('infers state types and builds nested paths and pointers', () => {
    const ir = load('rich.yaml');
    expect(state(ir, 'custody').type).toBe('compound');
    expect(state(ir, 'custody.handling').type).toBe('parallel');
    expect(state(ir, 'custody.handling.location.stored')).toMatchObject({
      key: 'stored',
      type: 'atomic',
      pointer: '/states/custody/states/handling/states/location/states/stored',
    });
    expect(state(ir, 'custody.handling').initial).toBeUndefined();
  });

  it('resolves targets to absolute paths: siblings first, then from the top', () => {
    const ir = load('rich.yaml');
    const [first, second] = state(ir, 'intake').on.RECEIVE ?? [];
    expect(first?.target).toBe('custody');
    expect(second?.target).toBe('custody.quarantine');
    expect(state(ir, 'custody.quarantine').on.NDA_SIGNED?.[0]?.target).toBe('custody.handling');
    expect(state(ir, 'custody.handling.location.stored').on.HAND_OVER?.[0]?.target).toBe(
      'custody.handling.location.with_staff',
    );
    expect(state(ir, 'custody.handling.paperwork.pending').on.RETURN?.[0]?.target).toBe(
      'custody.handling.paperwork.done',
    );
    expect(state(ir, 'custody.handling').on.RETURN?.[0]?.target).toBe('returned');
    expect(state(ir, 'custody.handling.location.with_staff').on.ACCEPT?.[0]?.target).toBeUndefined();
  });

  it('turns shorthands into lists and tagged actions', () => {
    const ir = load('rich.yaml');
    const [first, second] = state(ir, 'intake').on.RECEIVE ?? [];
    expect(first?.roles).toEqual(['application_reviewer']);
    expect(first?.actions).toEqual([
      { kind: 'assign', fields: { lot: 'data.lot', items: 'data.items', received_by: 'actor.id' } },
      { kind: 'record', record: 'intake_log' },
    ]);
    expect(second?.actions[1]).toEqual({
      kind: 'record',
      record: 'intake_log',
      fields: { lot: 'data.lot', large: 'true' },
    });
    expect(second?.data).toEqual({ type: 'object', properties: { items: { maxItems: 100 } } });
    expect(second?.pointer).toBe('/states/intake/on/RECEIVE/1');
    expect(ir.root.on.REPORT_LOSS?.[0]?.actions).toEqual([
      {
        kind: 'start',
        procedure: 'violation_case',
        input: { client: 'ctx.client', details: 'data.details' },
      },
      { kind: 'notify', to: 'quality_manager', message: { zh: '样品丢失', en: 'Samples lost' } },
    ]);
  });

  it('keeps delayed transitions, SLAs and top-level fields in camelCase', () => {
    const ir = load('rich.yaml');
    expect(state(ir, 'intake').sla).toBe('PT4H');
    expect(state(ir, 'custody').after).toEqual([
      {
        delay: 'P30D',
        clauses: ['4.1.2'],
        pointer: '/states/custody/after/0',
        actions: [
          { kind: 'notify', to: 'client', message: { zh: '请取回样品', en: 'Please collect your samples' } },
        ],
      },
    ]);
    expect(ir.clientField).toBe('client');
    expect(ir.duties[1]).toEqual({
      event: 'RETURN',
      distinctFrom: ['RECEIVE', 'HAND_OVER'],
      message: { zh: '归还人不得为接收人', en: 'The person returning may not be the one who received' },
    });
    expect(ir.invariants.map((i) => i.kind)).toEqual([
      'must_pass',
      'unreachable',
      'never_when',
      'distinct_actors',
      'roles_only',
      'ends_in',
    ]);
    expect(ir.invariants[3]).toMatchObject({ id: 'four_eyes', clauses: [] });
    expect(ir.context.handovers).toEqual({ type: 'integer', default: 0, schema: { minimum: 0 } });
  });

  it('produces plain JSON (survives a JSON round trip unchanged)', () => {
    const ir = load('rich.yaml');
    expect(JSON.parse(JSON.stringify(ir))).toEqual(ir);
  });
});

describe('loadProcedure', () => {
  it('returns no IR, only diagnostics, for an empty text', () => {
    const result = loadProcedure('', 'empty.yaml');
    expect(result.ir).toBeUndefined();
    expect(result.diagnostics.map((d) => `${d.code} ${d.line}:${d.column}`)).toEqual(['PROC_SCHEMA 1:1']);
  });

  it('resolves anchors and aliases (positions point at the anchored node)', () => {
    const text = read(definitions, 'file_access.yaml').replace(
      'target: revoked\n        clauses',
      'target: revokd\n        clauses',
    );
    const result = validateProcedureText(text, 'file_access.yaml');
    expect(result.diagnostics.map((d) => d.code)).toEqual(['PROC_UNKNOWN_TARGET']);
  });

  it('accepts a parallel root without initial', () => {
    const text = read(new URL('invalid/', fixtures), 'parallel-root.yaml').replace('initial: left\n', '');
    const result = validateProcedureText(text, 'parallel.yaml');
    expect(result.diagnostics).toEqual([]);
    expect(result.ir?.root.type).toBe('parallel');
    expect(result.ir?.root.initial).toBeUndefined();
  });
});

describe('describeLocation', () => {
  it.each([
    ['', 'the procedure'],
    ['/version', '"version" of the procedure'],
    ['/states/a/states/b', 'state "a.b"'],
    ['/states/a/on/GO/0', 'transition GO in state "a"'],
    ['/states/a/on/GO/1/roles/0', '"roles[0]" of transition GO #2 in state "a"'],
    ['/states/a/after/0/actions/1/notify/message', '"message" of notify action #2 of timer #1 in state "a"'],
    ['/on/LOSS', 'transition LOSS in the procedure'],
    ['/events/SUBMIT/title/zh', '"title.zh" of event SUBMIT'],
    ['/context/client', 'context field "client"'],
    ['/invariants/2/via/0', '"via[0]" of invariant #3'],
  ])('%s → %s', (pointer, words) => {
    expect(describeLocation(pointer)).toBe(words);
  });
});

describe('non-JSON numbers', () => {
  it('rejects .nan and .inf (the IR must hash as JSON)', () => {
    const text = read(new URL('valid/', fixtures), 'minimal.yaml').replace(
      'roles:',
      'context:\n  x: { type: number, default: .inf }\nroles:',
    );
    const result = validateProcedureText(text, 'm.yaml');
    expect(result.ir).toBeUndefined();
    expect(result.diagnostics.map((d) => `${d.code} ${d.pointer}`)).toEqual([
      'PROC_SCHEMA /context/x/default',
    ]);
  });
});
