/**
 * Drafts cannot stall a thread: regexes run in linear time (schemas) or are refused when they can
 * backtrack (CEL `matches`), CEL loops are bounded, diagnostics are capped, and the API's drafts
 * are assessed on a thread pool with a time budget (security issue, item 1).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { capDiagnostics, assessDraft, MAX_DIAGNOSTICS } from '../../worker/drafts.ts';
import { createDraftPool, DraftPoolBusy, DraftTooCostly } from '../../worker/draft-pool.ts';
import { compileSchemas } from '../../workflows/core/schemas.ts';
import { evaluateExpression, evaluateGuard, expressionCost } from '../../workflows/core/expressions.ts';
import { regexCostProblem } from '../../workflows/core/safe-regex.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';
import type { Diagnostic } from '../../workflows/core/diagnostics.ts';
import type { ProcedureIR } from '../../workflows/core/ir.ts';
import {
  CASE,
  MATCHES_DRAFT,
  NESTED_DRAFT,
  parallelDraft,
  PATTERN_DRAFT,
} from '../fixtures/costly-drafts.ts';

const EVIL = `${'a'.repeat(30)}!`;
const scope = { ctx: {}, data: {}, actor: { id: 'u', roles: [] }, now: 0 };

/** Milliseconds `fn` takes. */
function timed<T>(fn: () => T): [T, number] {
  const t = performance.now();
  const out = fn();
  return [out, performance.now() - t];
}

describe('regexes', () => {
  it('a deployed schema pattern runs in linear time (start input, event data)', () => {
    const ir = validateProcedureText(CASE, 'case.yaml').ir!;
    const evil: ProcedureIR = {
      ...ir,
      context: { ...ir.context, code: { type: 'string', schema: { pattern: '^(a+)+$' } } },
    };
    const schemas = compileSchemas(evil);
    const [problems, ms] = timed(() => schemas.startInputProblems({ client: 'acme', code: EVIL }));
    expect(problems).toEqual([expect.objectContaining({ path: '/code' })]);
    expect(ms).toBeLessThan(200);
    expect(schemas.startInputProblems({ client: 'acme', code: 'aaa' })).toEqual([]);
  });

  it('keeps ordinary patterns as they were, and each pattern its own', () => {
    const ir = validateProcedureText(CASE, 'case.yaml').ir!;
    const schemas = compileSchemas({
      ...ir,
      context: {
        ...ir.context,
        date: { type: 'string', schema: { pattern: '^\\d{4}-\\d{2}-\\d{2}$' } },
        time: { type: 'string', schema: { pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' } },
      },
    });
    expect(schemas.startInputProblems({ client: 'a', date: '2026-12-06', time: '23:59' })).toEqual([]);
    expect(schemas.startInputProblems({ client: 'a', date: '2026-1-06', time: '24:00' })).toHaveLength(2);
  });

  it('checks a schema default against a catastrophic pattern at once', () => {
    const [result, ms] = timed(() => validateProcedureText(PATTERN_DRAFT, 'p.yaml'));
    expect(result.diagnostics).toEqual([expect.objectContaining({ code: 'PROC_BAD_FIELD_SCHEMA' })]);
    expect(ms).toBeLessThan(1500);
  });

  it('refuses patterns RE2 cannot run (backreferences, lookaround)', () => {
    const draft = PATTERN_DRAFT.replace("'^(a+)+$'", () => "'^(a)\\1$'").replace(/, default: '[a!]+'/, '');
    const codes = validateProcedureText(draft, 'p.yaml').diagnostics.map((d) => d.code);
    expect(codes).toContain('PROC_BAD_FIELD_SCHEMA');
  });

  it('tells catastrophic CEL regexes from safe ones', () => {
    for (const bad of ['^(a+)+$', '(a|aa)*', '(\\w+\\s?)*$', '(?:a{2,3})+', '(?=a)'])
      expect(regexCostProblem(bad), bad).toBeDefined();
    for (const ok of [
      '^\\d{4}-\\d{2}-\\d{2}$',
      '^([01]\\d|2[0-3]):[0-5]\\d$',
      '(ab)+',
      '[a-z]+(x)?',
      '^[(+]+$',
    ])
      expect(regexCostProblem(ok), ok).toBeUndefined();
  });
});

describe('CEL cost', () => {
  it('refuses a guard whose matches() regex can backtrack, at check time and when evaluated', () => {
    const codes = validateProcedureText(MATCHES_DRAFT, 'm.yaml').diagnostics.map((d) => d.code);
    expect(codes).toEqual(['PROC_EXPRESSION_COST']);
    const [value, ms] = timed(() => evaluateGuard(`'${EVIL}'.matches('^(a+)+$')`, scope));
    expect(value).toBe(false);
    expect(ms).toBeLessThan(100);
    expect(evaluateGuard("'abc'.matches('^a[b-c]+$')", scope)).toBe(true);
    expect(expressionCost("'a'.matches(ctx.re)").problem).toMatch(/string literal/);
  });

  it('refuses loops nested too deep, at check time and when evaluated', () => {
    const codes = validateProcedureText(NESTED_DRAFT, 'n.yaml').diagnostics.map((d) => d.code);
    expect(codes).toEqual(['PROC_EXPRESSION_COST']);
    const guard = /guard: "(.*)" \}/.exec(NESTED_DRAFT)![1]!;
    const [value, ms] = timed(() => evaluateGuard(guard, scope));
    expect(value).toBe(false);
    expect(ms).toBeLessThan(100);
  });

  it('bounds nested loops by the size of the data they run over', () => {
    const guard = 'data.items.all(i, ctx.items.exists(x, x == i))';
    expect(expressionCost(guard)).toMatchObject({ loopDepth: 2, comprehensions: 2 });
    const small = { ...scope, ctx: { items: [1, 2, 3] }, data: { items: [1, 2] } };
    expect(evaluateGuard(guard, small)).toBe(true);
    const many = Array.from({ length: 2000 }, (_, i) => i);
    const big = { ...scope, ctx: { items: many }, data: { items: many } };
    expect(() => evaluateExpression(guard, big)).toThrow(/too costly/);
    // One loop is linear in its data: no limit.
    expect(evaluateGuard('data.items.all(i, i >= 0)', big)).toBe(true);
  });

  it('the shipped guards stay within the limits (x in list counts as a loop)', () => {
    expect(
      expressionCost('ctx.items.all(x, x.item_id in ctx.lost_items || x.item_id in data.items)'),
    ).toMatchObject({
      loopDepth: 2,
    });
    expect(expressionCost('ctx.items.all(x, x.item_id in ctx.lost_items)').problem).toBeUndefined();
  });
});

describe('diagnostics', () => {
  it('are capped, errors first, with one saying how many more', () => {
    const d = (i: number, severity: 'error' | 'warning'): Diagnostic => ({
      code: 'PROC_SCHEMA',
      severity,
      message: `m${i}`,
      file: 'f.yaml',
      line: i,
      column: 1,
      pointer: '',
    });
    const many = [
      ...Array.from({ length: 10 }, (_, i) => d(i, 'warning')),
      ...Array.from({ length: 500 }, (_, i) => d(i, 'error')),
    ];
    const capped = capDiagnostics(many);
    expect(capped).toHaveLength(MAX_DIAGNOSTICS + 1);
    expect(capped.slice(0, MAX_DIAGNOSTICS).every((x) => x.severity === 'error')).toBe(true);
    expect(capped.at(-1)).toMatchObject({
      code: 'PROC_MORE_DIAGNOSTICS',
      message: expect.stringMatching(/^310 more/),
    });
    expect(capDiagnostics(many.slice(0, 5))).toEqual(many.slice(0, 5));
  });

  it('a draft with thousands of problems reports at most the cap', () => {
    const states = Array.from(
      { length: 400 },
      (_, i) =>
        `  s${i}: { title: { zh: 状态, en: S }, on: { CLOSE: { target: nowhere${i}, roles: quality_manager } } }`,
    ).join('\n');
    const draft = `${CASE.trimEnd()}\n${states}\n`;
    const a = assessDraft(draft, 'many.yaml');
    expect(a.valid).toBe(false);
    expect(a.diagnostics.length).toBeLessThanOrEqual(MAX_DIAGNOSTICS + 1);
    expect(a.diagnostics.at(-1)?.code).toBe('PROC_MORE_DIAGNOSTICS');
  });
});

describe('draft pool', () => {
  const pool = createDraftPool({ threads: 1, maxQueue: 1, timeoutMs: 1500 });
  afterAll(() => pool.close());

  it('assesses a draft on a thread as assessDraft does in-process', async () => {
    const off = await pool.assess(CASE, 'case.yaml', new Map());
    const here = assessDraft(CASE, 'case.yaml', new Map());
    expect(off.valid).toBe(true);
    expect(off.definition).toMatchObject({ ir: here.definition!.ir, hash: here.definition!.hash });
    expect(off.diagnostics).toEqual(here.diagnostics);
    expect(off.proof).toEqual(here.proof);
  }, 30_000);

  it('ends a draft that outlives its budget (a proof over 2^17 configurations), then goes on', async () => {
    await pool.assess(CASE, 'warm.yaml', new Map()); // the thread is up
    const t = performance.now();
    const costly = pool.assess(parallelDraft(17), 'parallel.yaml', new Map());
    // One runs, one waits, the third is refused at once.
    const waiting = pool.assess(CASE, 'case.yaml', new Map());
    await expect(pool.assess(CASE, 'case.yaml', new Map())).rejects.toBeInstanceOf(DraftPoolBusy);
    const err = await costly.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DraftTooCostly);
    expect(err).toMatchObject({
      resource: 'time',
      message: expect.stringMatching(/^the proof of its invariants exceeded 1.5 s/),
    });
    expect(performance.now() - t).toBeLessThan(4000);
    expect((await waiting).valid).toBe(true);
  }, 30_000);

  it('ends a draft that runs out of memory', async () => {
    const small = createDraftPool({ timeoutMs: 20_000, maxMemoryMb: 16 });
    try {
      const err = await small.assess(parallelDraft(17), 'parallel.yaml', new Map()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DraftTooCostly);
      expect((err as DraftTooCostly).resource).toBe('memory');
    } finally {
      await small.close();
    }
  }, 60_000);
});
