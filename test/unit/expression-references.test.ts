import { describe, expect, it } from 'vitest';
import {
  checkExpressionSyntax,
  expressionReferences,
  referencedPaths,
} from '../../workflows/core/expressions.ts';

describe('expressionReferences', () => {
  it('lists variable paths with their offsets', () => {
    expect(expressionReferences('actor.id != ctx.requester && data.days <= 30')).toEqual([
      { path: 'actor.id', offset: 0 },
      { path: 'ctx.requester', offset: 12 },
      { path: 'data.days', offset: 29 },
    ]);
  });

  it('leaves out variables bound by macros', () => {
    expect(referencedPaths('ctx.items.exists(x, x > ctx.min) && [1].map(y, y * 2).size() > 0')).toEqual([
      'ctx.items',
      'ctx.min',
    ]);
    expect(referencedPaths('ctx.m.all(k, v, v > 0)')).toEqual(['ctx.m']);
    expect(referencedPaths('cel.bind(z, data.n, z + z) > 1')).toEqual(['data.n']);
    expect(referencedPaths('has(ctx.a.b) && size(data.list) > 0')).toEqual(['ctx.a.b', 'data.list']);
  });
});

describe('checkExpressionSyntax', () => {
  it('gives the offset of the offending token', () => {
    expect(checkExpressionSyntax('a &&& b')?.offset).toBe(4);
    expect(checkExpressionSyntax('data.days <= ')?.offset).toBe(13);
    expect(checkExpressionSyntax('1 +\n 2 +')?.offset).toBe(8);
    expect(checkExpressionSyntax('data.days <= 30')).toBeUndefined();
  });
});
