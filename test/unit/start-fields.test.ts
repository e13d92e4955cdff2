/**
 * Who may start a procedure and with what (issue #11, item 3): `input`, `sensitive` and
 * `start.roles` in the checker, the verifier's initial configurations, the cross-definition check
 * of `start` actions, the start rule itself and the masking of sensitive texts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateProcedureText } from '../../workflows/core/validate.ts';
import { verifyProcedure } from '../../workflows/core/verify.ts';
import type { ProcedureIR } from '../../workflows/core/ir.ts';
import {
  maskSensitive,
  sensitiveValues,
  startInputSchema,
  startRefusal,
} from '../../workflows/core/start-fields.ts';
import { assessDrafts } from '../../worker/drafts.ts';
import { maskText, maskedCommit } from '../../worker/sensitive/mask.ts';
import type { TransitionCommit } from '../../workflows/api.ts';

const BASE = `
id: p
version: 1.0.0
title: { zh: 测试, en: Test }
description: { zh: 测试, en: Test }
roles: { staff: { zh: 员工, en: Staff }, boss: { zh: 主管, en: Boss } }
client_field: client
start: { roles: [staff] }
context:
  client: { type: string, required: true }
  note: { type: string, input: true }
  secret: { type: string, sensitive: true, input: true }
  approver: { type: string }
events:
  CLOSE: { title: { zh: 关闭, en: Close } }
initial: open
states:
  open:
    title: { zh: 处理中, en: Open }
    on:
      CLOSE: { target: closed, roles: boss }
  closed: { title: { zh: 已关闭, en: Closed }, type: final }
`;

function load(text: string): ProcedureIR {
  const r = validateProcedureText(text, 'p.yaml');
  if (!r.ir) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  return r.ir;
}

const staff = { id: 'sam', roles: ['staff'] };
const boss = { id: 'bo', roles: ['boss'] };

describe('the start rule', () => {
  const ir = load(BASE);

  it('a required or `input: true` field may be set; any other is refused by name', () => {
    expect(startRefusal(ir, { client: 'acme', note: 'n', secret: 's' }, staff)).toBeUndefined();
    expect(startRefusal(ir, { client: 'acme', approver: 'boss' }, staff)).toMatchObject({
      code: 'NOT_INPUT_FIELD',
      fields: ['approver'],
      message: expect.stringMatching(
        /"approver" is not an input field of p; a start may set only "client", "note", "secret"/,
      ),
    });
  });

  it('start.roles: by hand only those roles; a linked or scheduled start is not checked', () => {
    expect(startRefusal(ir, { client: 'acme' }, boss)).toMatchObject({
      code: 'START_ROLE_REQUIRED',
      roles: ['staff'],
    });
    expect(startRefusal(ir, { client: 'acme' }, boss, { linked: true })).toBeUndefined();
    expect(startRefusal(ir, { client: 'acme' }, { id: 'schedule', roles: [] })).toBeUndefined();
    // A linked start still sets input fields only.
    expect(startRefusal(ir, { client: 'acme', approver: 'x' }, boss, { linked: true })?.code).toBe(
      'NOT_INPUT_FIELD',
    );
  });

  it('the start form is the input fields only', () => {
    expect(Object.keys((startInputSchema(ir).properties ?? {}) as object)).toEqual([
      'client',
      'note',
      'secret',
    ]);
  });
});

describe('checker', () => {
  const codes = (text: string) =>
    validateProcedureText(text, 'p.yaml').diagnostics.map((d) => [d.code, d.pointer, d.line]);

  it('a sensitive client field is refused at client_field', () => {
    const text = BASE.replace(
      'client: { type: string, required: true }',
      'client: { type: string, required: true, sensitive: true }',
    );
    expect(codes(text)).toEqual([['PROC_SENSITIVE_IN_CLEAR', '/client_field', 7]]);
  });

  it('a schedule that sets a non-input field; an undeclared start role', () => {
    const text = BASE.replace(
      'start: { roles: [staff] }',
      'start: { roles: [staf] }\nschedule: { every: P1D, input: { client: x, approver: y } }',
    );
    expect(codes(text)).toEqual([
      ['PROC_UNKNOWN_ROLE', '/start/roles/0', 8],
      ['PROC_START_FIELD_NOT_INPUT', '/schedule/input/approver', 9],
    ]);
  });

  it('a `start` action that sets a non-input field of the procedure it starts', () => {
    const parent = BASE.replace('id: p', 'id: parent')
      .replace('start: { roles: [staff] }\n', '')
      .replace(
        'CLOSE: { target: closed, roles: boss }',
        'CLOSE: { target: closed, roles: boss, actions: [{ start: { procedure: p, input: { client: ctx.client, approver: "\'boss\'" } } }] }',
      );
    const set = assessDrafts(
      [
        { yaml: BASE, file: 'p.yaml' },
        { yaml: parent, file: 'parent.yaml' },
      ],
      new Map(),
      { prove: false },
    );
    expect(set.diagnostics).toEqual([
      expect.objectContaining({
        code: 'PROC_START_FIELD_NOT_INPUT',
        file: 'parent.yaml',
        pointer: '/states/open/on/CLOSE/0/actions/0/input/approver',
        message: expect.stringMatching(/"approver", which is not an input field of "p"/),
      }),
    ]);
  });
});

describe('verifier: initial configurations', () => {
  const text = readFileSync(new URL('../fixtures/verify/start-input-preset.yaml', import.meta.url), 'utf8');

  it('an input field takes any value its schema allows at start: the preset shortcut is a counterexample', () => {
    const [r] = verifyProcedure(load(text)).invariants;
    expect(r).toMatchObject({ id: 'release_needs_approval', holds: false });
    expect(r!.counterexample?.map((s) => s.event)).toEqual(['$start', 'RELEASE']);
  });

  it('a non-input field starts at its default: the same definition without `input: true` holds', () => {
    const [r] = verifyProcedure(load(text.replace(', input: true', ''))).invariants;
    expect(r).toMatchObject({ id: 'release_needs_approval', holds: true });
  });
});

describe('masking sensitive texts', () => {
  const ir = load(BASE);
  const key = Buffer.alloc(32, 7);

  it('every occurrence, in values and inside text, longest first; keys stay', () => {
    const secrets = sensitiveValues(ir, { client: 'acme', secret: 'Mr Wang', approver: 'x' });
    expect(secrets).toEqual(['Mr Wang']);
    const m = (t: string) => `<${t.length}>`;
    expect(
      maskSensitive({ secret: 'Mr Wang', text: 'told by Mr Wang today', n: [1, 'Mr Wang'] }, secrets, m),
    ).toEqual({
      secret: '<7>',
      text: 'told by <7> today',
      n: [1, '<7>'],
    });
  });

  it('a commit is masked with a keyed hash: equal values, equal tags; another key, another tag', () => {
    const commit = {
      workflowId: 'w',
      procedure: 'p',
      version: '1.0.0',
      hash: 'h',
      record: {
        seq: 0,
        at: '',
        event: '$start',
        actor: staff,
        from: [],
        to: ['open'],
        clauses: [],
        data: { secret: 'Mr Wang' },
      },
      effects: [{ kind: 'notify', to: ['boss'], text: { zh: 'Mr Wang', en: 'from Mr Wang' } }],
      sensitive: ['Mr Wang'],
    } as unknown as TransitionCommit;
    const out = maskedCommit(commit, key);
    const tag = maskText(key, 'Mr Wang');
    expect(tag).toMatch(/^\[masked:[0-9a-f]{16}\]$/);
    expect(out.record.data).toEqual({ secret: tag });
    expect(JSON.stringify(out.effects)).toBe(
      JSON.stringify([{ kind: 'notify', to: ['boss'], text: { zh: tag, en: `from ${tag}` } }]),
    );
    expect(out).not.toHaveProperty('sensitive');
    expect(maskText(Buffer.alloc(32, 8), 'Mr Wang')).not.toBe(tag);
  });
});
