/** The IR toolkit (`ir-walk.ts`) and the taken path (`taken-path.ts`): document order, one definition each. */
import { describe, expect, it } from 'vitest';
import {
  allTransitions,
  contextSchema,
  initialContext,
  leafStatePaths,
  stateAt,
  statesAlong,
  valuePaths,
  walkStates,
} from '../../workflows/core/ir-walk.ts';
import { loadProcedure } from '../../workflows/core/load.ts';
import type { TransitionRecord } from '../../workflows/core/runtime.ts';
import { takenPath } from '../../workflows/core/taken-path.ts';

const T = '{ zh: 甲, en: A }';
const { ir } = loadProcedure(
  `id: t
version: 1.0.0
title: ${T}
description: ${T}
roles: { staff: ${T} }
context: { days: { type: integer, default: 3, required: true }, note: { type: string } }
events: { GO: { title: ${T} } }
initial: a
states:
  a: { title: ${T}, on: { GO: { target: work, roles: staff } }, after: [{ delay: P1D, target: done }] }
  work:
    title: ${T}
    type: parallel
    states:
      left: { title: ${T}, initial: x, states: { x: { title: ${T} } } }
      right: { title: ${T}, initial: y, states: { y: { title: ${T}, on: { GO: { target: done, roles: staff } } } } }
  done: { title: ${T}, type: final }
`,
  't.yaml',
);

describe('ir-walk', () => {
  it('walks states and transitions in document order', () => {
    expect([...walkStates(ir!.root)].map((s) => s.path)).toEqual([
      '',
      'a',
      'work',
      'work.left',
      'work.left.x',
      'work.right',
      'work.right.y',
      'done',
    ]);
    expect([...allTransitions(ir!.root)].map((t) => `${t.kind} ${t.transition.pointer}`)).toEqual([
      'event /states/a/on/GO/0',
      'delayed /states/a/after/0',
      'event /states/work/states/right/states/y/on/GO/0',
    ]);
    expect(leafStatePaths(ir!)).toEqual(['a', 'work.left.x', 'work.right.y', 'done']);
  });

  it('finds states by path and along a path', () => {
    expect(stateAt(ir, 'work.right.y')?.key).toBe('y');
    expect(stateAt(ir, '')).toBe(ir!.root);
    expect(stateAt(ir, 'work.nope')).toBeUndefined();
    expect(statesAlong(ir, 'work.left.x').map((s) => s.path)).toEqual(['work', 'work.left', 'work.left.x']);
  });

  it('names every node path of a state value, the root first', () => {
    expect(valuePaths({ work: { left: 'x', right: 'y' } })).toEqual([
      '',
      'work',
      'work.left',
      'work.left.x',
      'work.right',
      'work.right.y',
    ]);
    expect(valuePaths('a')).toEqual(['', 'a']);
  });

  it('gives the start input schema, with defaults only when asked, and the initial context', () => {
    const schema = contextSchema(ir!);
    expect(schema).toEqual({
      type: 'object',
      properties: { days: { type: 'integer' }, note: { type: 'string' } },
      required: ['days'],
      additionalProperties: false,
    });
    expect(contextSchema(ir!, { defaults: true }).properties).toEqual({
      days: { type: 'integer', default: 3 },
      note: { type: 'string' },
    });
    expect(initialContext(ir!)).toEqual({ days: 3 });
  });
});

describe('takenPath', () => {
  const record = (from: string[], to: string[], event: string): TransitionRecord => ({
    seq: 0,
    at: '',
    event,
    actor: { id: 'a', roles: [] },
    from,
    to,
    clauses: [],
  });

  it('draws only the regions that moved, a loop for a re-entry, nothing for the start', () => {
    const path = takenPath([
      record([], ['a'], '$start'),
      record(['a'], ['work.left.x', 'work.right.y'], 'GO'),
      record(['work.left.x', 'work.right.y'], ['work.left.x', 'done'], 'GO'),
      record(['done'], ['done'], 'after P1D'),
    ]);
    expect(path.visited).toEqual(['a', 'work.left.x', 'work.right.y', 'done']);
    expect(path.taken).toEqual([
      { from: 'a', to: 'work.left.x', event: 'GO' },
      { from: 'a', to: 'work.right.y', event: 'GO' },
      { from: 'work.right.y', to: 'done', event: 'GO' },
      { from: 'done', to: 'done', event: 'after P1D' },
    ]);
  });
});
