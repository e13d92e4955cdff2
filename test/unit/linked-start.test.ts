/**
 * A `start` action's input is checked against the started procedure's start schema before any
 * parent event is accepted: where the input's form gives a bound (`data.x`, `ctx.x`, literals,
 * `+`, `?:`), a value the child would refuse is a positioned `PROC_START_INPUT_MISMATCH`.
 */
import { describe, expect, it } from 'vitest';
import { assessDrafts } from '../../worker/drafts.ts';
import { beforeCommit, startInputRefusal, type ActivityDeps } from '../../worker/activities/effects.ts';
import type { TransitionCommit } from '../../workflows/api.ts';
import type { RecordsStore } from '../../worker/records/types.ts';
import { withMemoryStore } from '../support/records.ts';

const CHILD = `
id: linked_child
version: 1.0.0
title: { zh: 子流程, en: Child }
description: { zh: 子流程。, en: A child. }
clauses: ['4.6.3']
roles:
  quality_manager: { zh: 质量负责人, en: Quality Manager }
client_field: client
context:
  client: { type: string, required: true }
  description: { type: string, schema: { maxLength: 4000 }, input: true }
  severity: { type: string, schema: { enum: [general, serious] }, input: true }
  count: { type: integer, input: true }
events:
  CLOSE:
    title: { zh: 关闭, en: Close }
initial: open
states:
  open:
    title: { zh: 处理中, en: Open }
    clauses: ['4.6.3']
    on:
      CLOSE: { target: closed, roles: quality_manager, clauses: ['4.6.3'] }
  closed: { title: { zh: 已关闭, en: Closed }, type: final, clauses: ['4.6.3'] }
`;

const PARENT = `
id: linked_parent
version: 1.0.0
title: { zh: 父流程, en: Parent }
description: { zh: 父流程。, en: A parent. }
clauses: ['4.6.3']
roles:
  quality_manager: { zh: 质量负责人, en: Quality Manager }
client_field: client
context:
  client: { type: string, required: true }
events:
  REPORT:
    title: { zh: 报告, en: Report }
    data:
      type: object
      additionalProperties: false
      required: [text]
      properties:
        text: { type: string, maxLength: 8000 }
initial: open
states:
  open:
    title: { zh: 处理中, en: Open }
    clauses: ['4.6.3']
    on:
      REPORT:
        target: closed
        roles: quality_manager
        clauses: ['4.6.3']
        actions:
          - start:
              procedure: linked_child
              input:
                client: ctx.client
                description: data.text
  closed: { title: { zh: 已关闭, en: Closed }, type: final, clauses: ['4.6.3'] }
`;

function assess(parent: string) {
  return assessDrafts(
    [
      { yaml: CHILD, file: 'child.yaml' },
      { yaml: parent, file: 'parent.yaml' },
    ],
    new Map(),
    { prove: false },
  );
}

const START_LINE = PARENT.split('\n').findIndex((l) => l.includes('- start:')) + 1;

describe('start input against the started procedure', () => {
  it('a data field longer than the child field is a mismatch at the start action', () => {
    const set = assess(PARENT);
    const parent = set.drafts.find((d) => d.file === 'parent.yaml')!;
    expect(parent.valid).toBe(false);
    expect(parent.diagnostics).toEqual([
      expect.objectContaining({
        code: 'PROC_START_INPUT_MISMATCH',
        severity: 'error',
        file: 'parent.yaml',
        line: START_LINE,
        message: expect.stringMatching(/input "description".*8000 characters.*at most 4000/),
      }),
    ]);
    // The child itself is fine.
    expect(set.drafts.find((d) => d.file === 'child.yaml')!.valid).toBe(true);
  });

  it('tightening the parent event schema to the child limit makes it valid', () => {
    const set = assess(PARENT.replace('maxLength: 8000', 'maxLength: 4000'));
    expect(set.diagnostics).toEqual([]);
  });

  it('concatenation adds up: literal and both parts must fit together', () => {
    const concat = PARENT.replace('maxLength: 8000', 'maxLength: 3999').replace(
      'description: data.text',
      'description: "\'>> \' + data.text"',
    );
    expect(assess(concat).diagnostics).toEqual([
      expect.objectContaining({ code: 'PROC_START_INPUT_MISMATCH', message: expect.stringMatching(/4002/) }),
    ]);
  });

  it('an unbounded context field, an enum not a subset, a type mismatch, an optional into a required', () => {
    const p = PARENT.replace('required: [text]', 'required: [text, level]')
      .replace(
        'text: { type: string, maxLength: 8000 }',
        'text: { type: string, maxLength: 100 }\n        level: { enum: [general, minor] }\n        who: { type: string, maxLength: 10 }\n        n: { type: string, maxLength: 3 }',
      )
      .replace(
        'description: data.text',
        'description: "ctx.client + data.text"\n                severity: data.level\n                count: data.n',
      )
      .replace('client: ctx.client', 'client: data.who');
    const messages = assess(p).diagnostics.map((d) => `${d.code} ${d.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/PROC_START_INPUT_MISMATCH .*"client".*can be absent/),
        expect.stringMatching(/PROC_START_INPUT_MISMATCH .*"description".*no length limit/),
        expect.stringMatching(/PROC_START_INPUT_MISMATCH .*"severity".*"minor"/),
        expect.stringMatching(/PROC_START_INPUT_MISMATCH .*"count".*type string.*integer/),
      ]),
    );
    expect(messages).toHaveLength(4);
  });

  it('has(x) ? x : literal is not absent; an expression of another form is not judged', () => {
    const p = PARENT.replace(
      'text: { type: string, maxLength: 8000 }',
      'text: { type: string, maxLength: 100 }\n        who: { type: string, maxLength: 10 }',
    )
      .replace('client: ctx.client', 'client: "has(data.who) ? data.who : \'none\'"')
      .replace('description: data.text', 'description: string(size(data.text))');
    expect(assess(p).diagnostics).toEqual([]);
  });
});

describe('a linked start the child would refuse (not provable at deploy)', () => {
  const child = assessDrafts([{ yaml: CHILD, file: 'child.yaml' }], new Map(), {
    prove: false,
  }).definitions.get('linked_child')!;

  it('starts nothing and comes back as a failed link with the reason', async () => {
    const started: unknown[] = [];
    const deps = {
      definition: (id: string) => (id === 'linked_child' ? child : undefined),
      taskQueue: 'q',
      client: { workflow: { start: (...args: unknown[]) => Promise.resolve(started.push(args)) } },
    } as unknown as ActivityDeps;
    const commit = {
      workflowId: 'linked_parent-1',
      procedure: 'linked_parent',
      record: { seq: 3, actor: { id: 'qm', roles: ['quality_manager'] } },
    } as unknown as TransitionCommit;
    const long = 'x'.repeat(4001);
    const link = await beforeCommit(
      { kind: 'start', procedure: 'linked_child', input: { client: 'c', description: long } },
      { commit, index: 1, deps },
    );
    expect(started).toEqual([]);
    expect(link).toMatchObject({
      procedure: 'linked_child',
      seq: 3,
      failed: expect.stringMatching(/start input rejected: .*description/),
    });
    // A fitting input is started.
    const ok = await beforeCommit(
      { kind: 'start', procedure: 'linked_child', input: { client: 'c', description: 'short' } },
      { commit, index: 2, deps },
    );
    expect(started).toHaveLength(1);
    expect(ok).not.toHaveProperty('failed');
  });

  it('startInputRefusal: the checks the child makes at start', () => {
    expect(startInputRefusal(child.ir, { client: 'c' })).toBeUndefined();
    expect(startInputRefusal(child.ir, {})).toMatch(/client/);
    expect(startInputRefusal(child.ir, { client: 'c', severity: 'minor' })).toMatch(/severity/);
  });
});

describe('a failed link in the records store', () => {
  let store: RecordsStore;
  withMemoryStore((s) => ({ store } = s));

  it('is in the transition audit record and has a refusal record of its own; no instance link row', async () => {
    const commit: TransitionCommit = {
      workflowId: 'wf-parent',
      procedure: 'linked_parent',
      version: '1.0.0',
      hash: 'a'.repeat(64),
      client: 'acme',
      record: {
        seq: 1,
        at: '2025-01-01T00:00:00.000Z',
        event: 'REPORT',
        actor: { id: 'quinn', roles: ['quality_manager'] },
        from: ['open'],
        to: ['closed'],
        clauses: ['4.6.3'],
      },
      effects: [{ kind: 'start', procedure: 'linked_child', input: { client: 'acme' } }],
    };
    const failed = { workflowId: 'linked_child-from-wf-parent-1-1', procedure: 'linked_child', seq: 1 };
    const reason = 'start input rejected: /description: must NOT have more than 4000 characters';
    await store.commit(commit, [{ ...failed, failed: reason }]);
    await store.commit(commit, [{ ...failed, failed: reason }]); // a retry adds nothing
    const all = await store.audit({ limit: 100 });
    const mine = all.filter((e) => e.subject === 'wf-parent');
    expect(mine.map((e) => e.kind)).toEqual(['transition', 'refusal']);
    expect(mine[0]!.body['children']).toEqual([
      { workflowId: failed.workflowId, procedure: 'linked_child', failed: reason },
    ]);
    expect(mine[1]).toMatchObject({
      seq: 1,
      client: 'acme',
      body: { code: 'LINKED_START_REFUSED', reason, procedure: 'linked_child', action: 'start' },
    });
    expect((await store.verifyAudit()).ok).toBe(true);
  });
});
