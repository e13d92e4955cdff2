import { describe, expect, it } from 'vitest';
import type { Json } from '../../workflows/core/ir.ts';
import {
  checkExpressionSyntax,
  evaluateExpression,
  evaluateGuard,
  ExpressionError,
  referencedPaths,
} from '../../workflows/core/expressions.ts';
import type { ExpressionScope } from '../../workflows/core/expressions.ts';

const scope = (): ExpressionScope => ({
  ctx: { days: 3, ratio: 1.5, medium: 'paper', tags: ['a', 'b'], nested: { x: 2 }, flag: true, empty: [] },
  data: { approved: true, n: 2, name: 'Li', reason: '' },
  actor: { id: 'u1', roles: ['auditor', 'manager'] },
  now: 1_700_000_000_000,
});

describe('evaluateExpression', () => {
  it.each<[string, Json]>([
    // integers cross into CEL as int, so int arithmetic works and comes back as a JS number
    ['ctx.days + 1', 4],
    ['ctx.days * data.n', 6],
    ['ctx.days / 2', 1], // CEL integer division
    ['ctx.days % 2', 1],
    ['ctx.ratio > 1.0', true],
    ['ctx.ratio + 0.5', 2],
    ['ctx.days == 3', true],
    ['ctx.days != 3', false],
    // strings, lists, maps
    ["ctx.medium == 'paper'", true],
    ["ctx.medium + '-' + data.name", 'paper-Li'],
    ["ctx.medium.startsWith('pa')", true],
    ['size(ctx.tags)', 2],
    ['size(ctx.empty) == 0', true],
    ["'b' in ctx.tags", true],
    ["'z' in ctx.tags", false],
    ['ctx.tags', ['a', 'b']],
    ['ctx.nested', { x: 2 }],
    ['ctx.nested.x', 2],
    ['{"k": ctx.days}', { k: 3 }],
    ['[ctx.days, data.n]', [3, 2]],
    ['null', null],
    // actor and clock
    ["'auditor' in actor.roles", true],
    ["'admin' in actor.roles", false],
    ["actor.id == 'u1'", true],
    ['now', 1_700_000_000_000],
    ['now + 1000', 1_700_000_001_000],
    // logic, conditionals, macros
    ['data.approved && ctx.flag', true],
    ['!data.approved || ctx.days > 5', false],
    ["ctx.days > 2 ? 'long' : 'short'", 'long'],
    ['has(ctx.missing)', false],
    ['has(ctx.nested.x)', true],
    ["ctx.tags.exists(t, t == 'a')", true],
    ["ctx.tags.all(t, t == 'a')", false],
    ["ctx.tags.map(t, t + '!')", ['a!', 'b!']],
    ['size(data.reason) == 0', true],
    ["timestamp('2024-01-01T00:00:00Z')", '2024-01-01T00:00:00.000Z'],
  ])('%s → %j', (source, expected) => {
    expect(evaluateExpression(source, scope())).toEqual(expected);
  });

  it.each([
    ['ctx.missing', /missing/],
    ['ctx.days + data.name', /overload/],
    ['1 / 0', /division by zero/],
    ['data.n.foo', /No such key: foo/],
  ])('%s throws an ExpressionError naming the expression', (source, why) => {
    let caught: unknown;
    try {
      evaluateExpression(source, scope());
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ExpressionError);
    expect((caught as Error).name).toBe('ExpressionError');
    expect((caught as Error).message.startsWith(`${source}: `)).toBe(true);
    expect((caught as Error).message).toMatch(why);
  });

  it('does not change the scope it reads', () => {
    const s = scope();
    const before = structuredClone(s);
    evaluateExpression('ctx.days + data.n', s);
    expect(s).toEqual(before);
    expect(typeof s.ctx.days).toBe('number');
  });

  it('gives the same answer for a cached expression with a different scope', () => {
    expect(evaluateExpression('ctx.days * 10', scope())).toBe(30);
    expect(evaluateExpression('ctx.days * 10', { ...scope(), ctx: { days: 7 } })).toBe(70);
  });

  it('leaves out undefined fields rather than failing on them', () => {
    const s = { ...scope(), ctx: { a: undefined, b: 1 } };
    expect(evaluateExpression('has(ctx.a)', s)).toBe(false);
    expect(evaluateExpression('ctx.b', s)).toBe(1);
  });
});

describe('evaluateGuard', () => {
  it.each<[string, boolean]>([
    ['ctx.flag', true],
    ['data.n > 1', true],
    ['data.n > 2', false],
    ["actor.id != 'u1'", false],
    // not a boolean → false
    ['ctx.days', false],
    ["'true'", false],
    ['ctx.tags', false],
    // evaluation errors → false
    ['ctx.missing == 1', false],
    ['ctx.days + data.name > 0', false],
    ['1 / 0 == 1', false],
  ])('%s → %s', (source, expected) => {
    expect(evaluateGuard(source, scope())).toBe(expected);
  });

  it('counts a syntax error as false too', () => {
    expect(evaluateGuard('ctx.days >', scope())).toBe(false);
  });
});

describe('checkExpressionSyntax', () => {
  it.each([
    'ctx.days > 2',
    "actor.id != ctx.requester && 'manager' in actor.roles",
    'has(data.reason) ? size(data.reason) > 0 : false',
    'a.b.c', // unknown roots are the checker's business, not a syntax error
    'ctx.tags.exists(t, t == "a")',
  ])('accepts %s', (source) => {
    expect(checkExpressionSyntax(source)).toBeUndefined();
  });

  it.each<[string, number]>([
    ['a &&& b', 4],
    ['ctx.x ==', 8],
    ['(a', 2],
    ["'unterminated", 0],
  ])('rejects %s at offset %d', (source, offset) => {
    const err = checkExpressionSyntax(source);
    expect(err).toBeDefined();
    expect(err?.message).toBeTruthy();
    expect(err?.message).not.toContain('\n');
    expect(err?.offset).toBe(offset);
  });
});

describe('referencedPaths', () => {
  it.each<[string, string[]]>([
    ['ctx.days > 2', ['ctx.days']],
    ['ctx.a.b > 1 && data.c == actor.id || now > ctx.a.b', ['actor.id', 'ctx.a.b', 'data.c', 'now']],
    ["size(ctx.tags) > 0 && ctx.m['k'] == 1", ['ctx.m', 'ctx.tags']],
    ['has(data.reason)', ['data.reason']],
    ['1 + 2 == 3', []],
  ])('%s reads %j (sorted, deduplicated)', (source, paths) => {
    expect(referencedPaths(source)).toEqual(paths);
  });
});
