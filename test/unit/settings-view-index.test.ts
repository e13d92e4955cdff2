import { describe, expect, it } from 'vitest';
import { viewIndexSettings } from '../../worker/settings.ts';

describe('CUSTODIA_VIEW_INDEX_FROM / _MAX_AGE_MS / _FULL_EVERY_MS', () => {
  it('defaults to 20,000 instances, 30 s and 10 min, and takes whole numbers', () => {
    expect(viewIndexSettings({})).toEqual({ from: 20_000, maxAgeMs: 30_000, fullEveryMs: 600_000 });
    expect(
      viewIndexSettings({
        CUSTODIA_VIEW_INDEX_FROM: '500',
        CUSTODIA_VIEW_INDEX_MAX_AGE_MS: '5000',
        CUSTODIA_VIEW_INDEX_FULL_EVERY_MS: '60000',
      }),
    ).toEqual({ from: 500, maxAgeMs: 5000, fullEveryMs: 60_000 });
  });

  it('refuses what is not a count or a delay of at least 1 s, naming the setting', () => {
    expect(() => viewIndexSettings({ CUSTODIA_VIEW_INDEX_FROM: '-1' })).toThrow(/CUSTODIA_VIEW_INDEX_FROM/);
    expect(() => viewIndexSettings({ CUSTODIA_VIEW_INDEX_FROM: 'lots' })).toThrow(/CUSTODIA_VIEW_INDEX_FROM/);
    expect(() => viewIndexSettings({ CUSTODIA_VIEW_INDEX_MAX_AGE_MS: '10' })).toThrow(
      /CUSTODIA_VIEW_INDEX_MAX_AGE_MS/,
    );
    expect(() => viewIndexSettings({ CUSTODIA_VIEW_INDEX_FULL_EVERY_MS: '1 h' })).toThrow(
      /CUSTODIA_VIEW_INDEX_FULL_EVERY_MS/,
    );
  });
});
