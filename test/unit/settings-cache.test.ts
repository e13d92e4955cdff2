/** `CUSTODIA_MAX_CACHED_WORKFLOWS`: the worker's bounded workflow cache (README "Performance"). */
import { describe, expect, it } from 'vitest';
import { maxCachedWorkflows } from '../../worker/settings.ts';

describe('CUSTODIA_MAX_CACHED_WORKFLOWS', () => {
  it('defaults to 500; 0 disables the cache; any whole number ≥ 2 is taken', () => {
    expect(maxCachedWorkflows({})).toBe(500);
    expect(maxCachedWorkflows({ CUSTODIA_MAX_CACHED_WORKFLOWS: '0' })).toBe(0);
    expect(maxCachedWorkflows({ CUSTODIA_MAX_CACHED_WORKFLOWS: ' 2000 ' })).toBe(2000);
  });

  it('refuses 1 (the SDK needs two), negatives, fractions and words, naming the setting', () => {
    for (const bad of ['1', '-5', '2.5', 'lots', '99999999'])
      expect(() => maxCachedWorkflows({ CUSTODIA_MAX_CACHED_WORKFLOWS: bad })).toThrow(
        /CUSTODIA_MAX_CACHED_WORKFLOWS must be 0 or a whole number ≥ 2/,
      );
  });
});
