/**
 * What the Inbox and Stalled pages say about an answer from the server's index
 * (ui/src/features/view-index/index-age.ts): the snapshot's time and age; when assignees and
 * escalations were last read only when that is older (the change feed did not answer).
 */
import { describe, expect, it } from 'vitest';
import { indexAgeTexts } from '../../ui/src/features/view-index/index-age.ts';

const at = (iso: string): string => `<${iso.slice(11, 19)}>`;

describe('indexAgeTexts', () => {
  it('says nothing for a live answer', () => {
    expect(indexAgeTexts(undefined, at)).toEqual([]);
    expect(indexAgeTexts({ indexedAt: '2026-12-07T06:00:00.000Z' }, at)).toEqual([]);
  });

  it('gives the snapshot’s time and age; nothing more while every change is as recent', () => {
    const texts = indexAgeTexts(
      {
        method: 'index',
        indexedAt: '2026-12-07T06:00:00.000Z',
        ageMs: 12_400,
        fullyIndexedAt: '2026-12-07T06:00:00.000Z',
      },
      at,
    );
    expect(texts).toEqual([
      {
        zh: ' 计数来自 <06:00:00> 的运行实例快照（12 秒前）。',
        en: ' Counts from a snapshot of the running instances taken <06:00:00> (12 s ago).',
      },
    ]);
  });

  it('says as of when assignees and escalation levels are when that is older', () => {
    const texts = indexAgeTexts(
      {
        method: 'index',
        indexedAt: '2026-12-07T06:00:00.000Z',
        ageMs: 3000,
        fullyIndexedAt: '2026-12-07T05:52:10.000Z',
      },
      at,
    );
    expect(texts).toHaveLength(2);
    expect(texts[1]).toEqual({
      zh: ' 指派人和升级级别为 <05:52:10> 时的情况。',
      en: ' Assignees and escalation levels as of <05:52:10>.',
    });
  });
});
