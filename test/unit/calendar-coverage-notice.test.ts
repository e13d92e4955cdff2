import { describe, expect, it } from 'vitest';
import { coverageNotice, todayIn } from '../../ui/src/features/calendars/coverage.ts';

describe('the Calendars page warns before the holiday data runs out', () => {
  it('is quiet until 60 days ahead, then counts down, then says since when it ended', () => {
    expect(coverageNotice('2026-12-31', '2026-10-01')).toEqual({ kind: 'ok' });
    expect(coverageNotice('2026-12-31', '2026-12-07')).toEqual({
      kind: 'ends-soon',
      daysLeft: 24,
      to: '2026-12-31',
    });
    expect(coverageNotice('2026-12-31', '2026-12-31')).toEqual({
      kind: 'ends-soon',
      daysLeft: 0,
      to: '2026-12-31',
    });
    expect(coverageNotice('2026-12-31', '2027-01-02')).toEqual({
      kind: 'ended',
      daysAgo: 2,
      to: '2026-12-31',
    });
  });

  it("takes today's date in the calendar's time zone", () => {
    // 2026-12-31 17:00 UTC is already 1 January 2027 in Shanghai.
    expect(todayIn('Asia/Shanghai', new Date('2026-12-31T17:00:00Z'))).toBe('2027-01-01');
    expect(todayIn('UTC', new Date('2026-12-31T17:00:00Z'))).toBe('2026-12-31');
  });
});
