/**
 * The action-kind registry: each kind normalises, checks, lists its expressions and compiles in
 * its own module; a kind the registry does not know is a positioned diagnostic, never another kind.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  ACTION_KINDS,
  ACTION_KIND_NAMES,
  compileAction,
  isActionKind,
  normalizeAction,
} from '../../workflows/core/actions/index.ts';
import { checkProcedure } from '../../workflows/core/check.ts';
import type { ActionIR } from '../../workflows/core/ir.ts';
import { loadProcedure } from '../../workflows/core/load.ts';
import { normalizeProcedure, type RawProcedure, type UnknownAction } from '../../workflows/core/normalize.ts';

const T = '{ zh: 甲, en: A }';
const TEXT = { zh: '甲', en: 'A' };

const YAML = `id: t
version: 1.0.0
title: ${T}
description: ${T}
roles: { staff: ${T} }
context: { note: { type: string } }
events: { GO: { title: ${T} } }
initial: a
states:
  a:
    title: ${T}
    on:
      GO:
        target: b
        roles: staff
        actions:
          - assign: { note: "'x'" }
          - notify: { to: staff, message: ${T} }
  b: { title: ${T}, type: final }
`;

describe('action kinds', () => {
  it('the registry names exactly the IR kinds', () => {
    expect(ACTION_KIND_NAMES).toEqual(['assign', 'record', 'notify', 'start', 'deploy_definition', 'lookup']);
    expect(isActionKind('record')).toBe(true);
    expect(isActionKind('email')).toBe(false);
    expect(isActionKind('toString')).toBe(false);
  });

  it('each kind normalises its YAML form into the IR form', () => {
    expect(normalizeAction({ assign: { a: 'ctx.b' } })).toEqual({ kind: 'assign', fields: { a: 'ctx.b' } });
    expect(normalizeAction({ record: 'log' })).toEqual({ kind: 'record', record: 'log' });
    expect(normalizeAction({ record: { record: 'log', fields: { x: '1' } } })).toEqual({
      kind: 'record',
      record: 'log',
      fields: { x: '1' },
    });
    expect(normalizeAction({ notify: { to: 'staff', message: TEXT } })).toEqual({
      kind: 'notify',
      to: 'staff',
      message: TEXT,
    });
    expect(normalizeAction({ start: { procedure: 'p' } })).toEqual({ kind: 'start', procedure: 'p' });
  });

  it('an unknown key is reported, never normalised into a record', () => {
    expect(normalizeAction({ email: { to: 'x' } })).toEqual({ unknown: 'email' });
    expect(normalizeAction({})).toEqual({ unknown: '' });
  });

  it('normalisation lists an unknown action with the pointer of its key and leaves it out of the IR', () => {
    // The schema refuses the key; a raw document that got past it is still never guessed at.
    const raw = parse(YAML) as RawProcedure;
    const go = (raw.states.a!.on!.GO as { actions: unknown[] }).actions;
    go.splice(1, 0, { email: { to: 'staff' } });
    const unknown: UnknownAction[] = [];
    const ir = normalizeProcedure(raw, unknown);
    expect(unknown).toEqual([{ pointer: '/states/a/on/GO/0/actions/1/email', key: 'email' }]);
    expect(ir.root.states.a!.on.GO![0]!.actions.map((a) => a.kind)).toEqual(['assign', 'notify']);
  });

  it('an IR action of an unknown kind is PROC_UNKNOWN_ACTION at the action, with its line and column', () => {
    const { ir, positions } = loadProcedure(YAML, 't.yaml');
    const actions = ir!.root.states.a!.on.GO![0]!.actions;
    actions[1] = { kind: 'email', to: 'staff' } as unknown as ActionIR;
    const diagnostics = checkProcedure(ir!, { file: 't.yaml', positions });
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({
      code: 'PROC_UNKNOWN_ACTION',
      severity: 'error',
      pointer: '/states/a/on/GO/0/actions/1',
      line: 18,
      column: 13,
    });
    expect(diagnostics[0]!.message).toContain('"email"');
    expect(() => compileAction(actions[1]!)).toThrow(/unknown action kind "email"/);
  });

  it('each kind runs its own checks (notify: the role; assign: the context field)', () => {
    const yaml = YAML.replace('assign: { note:', 'assign: { nope:').replace('to: staff', 'to: stuff');
    const { ir, positions } = loadProcedure(yaml, 't.yaml');
    const found = checkProcedure(ir!, { file: 't.yaml', positions }).map((d) => [d.code, d.pointer]);
    expect(found).toEqual([
      ['PROC_UNKNOWN_FIELD', '/states/a/on/GO/0/actions/0/assign/nope'],
      ['PROC_UNKNOWN_ROLE', '/states/a/on/GO/0/actions/1/notify/to'],
    ]);
  });

  it('each kind lists its value expressions with their pointers', () => {
    expect(ACTION_KINDS.assign.expressions({ kind: 'assign', fields: { a: 'ctx.b' } }, '/p/assign')).toEqual([
      { source: 'ctx.b', pointer: '/p/assign/a' },
    ]);
    expect(
      ACTION_KINDS.record.expressions({ kind: 'record', record: 'r', fields: { x: 'now' } }, '/p/record'),
    ).toEqual([{ source: 'now', pointer: '/p/record/fields/x' }]);
    expect(
      ACTION_KINDS.start.expressions({ kind: 'start', procedure: 'p', input: { c: 'ctx.c' } }, '/p/start'),
    ).toEqual([{ source: 'ctx.c', pointer: '/p/start/input/c' }]);
    expect(ACTION_KINDS.notify.expressions({ kind: 'notify', to: 'staff', message: TEXT }, '/p')).toEqual([]);
  });

  it('each kind compiles to its machine action', () => {
    expect(compileAction({ kind: 'assign', fields: { a: '1' } })).toEqual({
      type: 'assignFields',
      params: { fields: { a: '1' } },
    });
    expect(compileAction({ kind: 'notify', to: 'staff', message: TEXT })).toEqual({
      type: '$effect',
      params: { kind: 'notify', to: 'staff', message: TEXT },
    });
    const record = compileAction({ kind: 'record', record: 'log', fields: { n: 'ctx.n + 1' } });
    expect(record.type).toBe('$effect');
    const params = record.params as (a: { context: unknown; event: unknown }) => unknown;
    expect(params({ context: { n: 1, _actors: {} }, event: { type: 'GO' } })).toEqual({
      kind: 'record',
      record: 'log',
      fields: { n: 2 },
    });
  });
});
