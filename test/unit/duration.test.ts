import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../workflows/core/duration.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('parseDuration', () => {
  it.each([
    ['P2D', 2 * D],
    ['PT4H', 4 * H],
    ['PT1M', M],
    ['PT30S', 30 * S],
    ['P1DT12H30M', D + 12 * H + 30 * M],
    ['P1W', 7 * D],
    ['P2W', 14 * D],
    ['P1W2D', 9 * D],
    ['PT36H', 36 * H],
    ['PT1H1S', H + S],
    ['P0D', 0],
    ['PT0S', 0],
    ['PT0.5S', 500],
    ['PT1.25S', 1250],
    ['PT1.0005S', 1001], // rounded to whole milliseconds
    ['P1DT2H3M4S', D + 2 * H + 3 * M + 4 * S],
  ])('%s = %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['', 'empty'],
    ['P', 'no components'],
    ['PT', 'T without time components'],
    ['P1DT', 'trailing T'],
    ['P1Y', 'years depend on the calendar'],
    ['P1M', 'months depend on the calendar (M before T)'],
    ['P1Y2M3D', 'years and months'],
    ['p1d', 'lower case'],
    ['P1D ', 'trailing space'],
    [' P1D', 'leading space'],
    ['-P1D', 'negative'],
    ['P1.5D', 'fractional days'],
    ['PT1.5H', 'fractional hours'],
    ['PT1.S', 'dot without fraction digits'],
    ['P2D1W', 'weeks after days (wrong order)'],
    ['PT4M3H', 'hours after minutes (wrong order)'],
    ['2D', 'no P'],
    ['P2DT4', 'number without unit'],
    ['1000', 'plain number'],
  ])('rejects %j (%s)', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('rejects values too large to be finite', () => {
    expect(parseDuration(`PT${'9'.repeat(400)}S`)).toBeUndefined();
  });
});
