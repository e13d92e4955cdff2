/** `BoundedMap` (worker/bounded-map.ts): at most `limit` entries, the least recently used dropped. */
import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../worker/bounded-map.ts';

describe('BoundedMap', () => {
  it('keeps the most recently used entries up to its limit', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1).set('b', 2);
    expect(m.get('a')).toBe(1); // a is now the most recently used
    m.set('c', 3);
    expect([...m.keys()]).toEqual(['a', 'c']);
    expect(m.get('b')).toBeUndefined();
    m.set('a', 10); // setting counts as a use
    m.set('d', 4);
    expect([...m.entries()]).toEqual([
      ['a', 10],
      ['d', 4],
    ]);
    expect(m.size).toBe(2);
  });

  it('refuses a limit below 1', () => {
    expect(() => new BoundedMap(0)).toThrow(/at least 1/);
  });
});
