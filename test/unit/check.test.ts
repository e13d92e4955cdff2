import { describe, expect, it } from 'vitest';
import { checkProcedure } from '../../workflows/core/check.ts';
import { reachableStates } from '../../workflows/core/check-graph.ts';
import { loadProcedure } from '../../workflows/core/load.ts';
import type { ProcedureIR } from '../../workflows/core/ir.ts';

const HEAD = `
id: graph
version: 1.0.0
title: { zh: 图, en: Graph }
description: { zh: 图, en: Graph }
roles: { staff: { zh: 员工, en: Staff } }
events: { GO: { title: { zh: 走, en: Go } }, BACK: { title: { zh: 回, en: Back } } }
`;

function load(body: string): ProcedureIR {
  const result = loadProcedure(HEAD + body, 'graph.yaml');
  if (!result.ir) throw new Error(JSON.stringify(result.diagnostics));
  return result.ir;
}

describe('reachability', () => {
  it('entering a state inside a parallel state enters the other regions at their initial states', () => {
    const ir = load(`
initial: start
states:
  start:
    title: { zh: 始, en: Start }
    on: { GO: { target: work.left.deep, roles: staff } }
  work:
    title: { zh: 工作, en: Work }
    type: parallel
    states:
      left:
        title: { zh: 左, en: Left }
        initial: shallow
        states:
          shallow: { title: { zh: 浅, en: Shallow }, on: { BACK: { target: start, roles: staff } } }
          deep: { title: { zh: 深, en: Deep }, on: { BACK: { target: start, roles: staff } } }
      right:
        title: { zh: 右, en: Right }
        initial: one
        states:
          one: { title: { zh: 一, en: One }, on: { BACK: { target: two, roles: staff } } }
          two: { title: { zh: 二, en: Two }, type: final }
`);
    const reached = reachableStates(ir.root);
    expect([...reached].sort()).toEqual([
      '',
      'start',
      'work',
      'work.left',
      'work.left.deep',
      'work.right',
      'work.right.one',
      'work.right.two',
    ]);
    expect(checkProcedure(ir).map((d) => `${d.code} ${d.pointer}`)).toEqual([
      'PROC_UNREACHABLE_STATE /states/work/states/left/states/shallow',
    ]);
  });

  it('lets events declared on an ancestor count as a way out', () => {
    const ir = load(`
initial: outer
states:
  outer:
    title: { zh: 外, en: Outer }
    initial: inner
    on: { GO: { target: done, roles: staff } }
    states:
      inner: { title: { zh: 内, en: Inner } }
  done: { title: { zh: 完, en: Done }, type: final }
`);
    expect(checkProcedure(ir)).toEqual([]);
  });
});

describe('checkProcedure without a source', () => {
  it('labels diagnostics with the procedure id at 1:1', () => {
    const ir = load(`
initial: a
states:
  a: { title: { zh: 甲, en: A }, on: { GO: { target: nowhere, roles: staff } } }
`);
    const [d, ...rest] = checkProcedure(ir);
    expect(rest).toEqual([]);
    expect(d).toMatchObject({
      code: 'PROC_UNKNOWN_TARGET',
      file: 'graph',
      line: 1,
      column: 1,
      pointer: '/states/a/on/GO/0/target',
      severity: 'error',
    });
  });
});
