/**
 * The workflow bundle remembered on disk (`worker/workflow-bundle-cache.ts`): built once, then
 * read back byte for byte; other actor keys or other sources are another entry (built again);
 * the folder keeps the few most recent; the sources' identity covers the workflow code. Real files
 * in a temporary folder.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bundleSourcesId, cachedBundle } from '../../worker/workflow-bundle-cache.ts';

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('workflow bundle cache', () => {
  it('builds once per sources and keys, then reads the same code back', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'custodia-bundle-'));
    let builds = 0;
    const build = (label: string) => async () => ({ code: `/* ${label} ${++builds} */\nexport {};\n` });
    const first = await cachedBundle('key-a', build('a'), dir, 'sources-1');
    expect(first.code).toBe('/* a 1 */\nexport {};\n');
    expect(await cachedBundle('key-a', build('a'), dir, 'sources-1')).toEqual(first);
    expect(builds).toBe(1);
    expect((await cachedBundle('key-b', build('b'), dir, 'sources-1')).code).toContain('b 2');
    expect((await cachedBundle('key-a', build('a'), dir, 'sources-2')).code).toContain('a 3');
    expect(builds).toBe(3);
    // An entry that does not start with its own header is rebuilt.
    for (const f of readdirSync(dir)) writeFileSync(path.join(dir, f), 'garbage');
    expect((await cachedBundle('key-a', build('a'), dir, 'sources-2')).code).toContain('a 4');
    for (let i = 0; i < 6; i++) await cachedBundle(`key-${i}`, build('x'), dir, 'sources-3');
    expect(readdirSync(dir)).toHaveLength(4);
  });

  it('identifies the sources by content (stable, a hash)', () => {
    expect(bundleSourcesId()).toMatch(/^[0-9a-f]{64}$/);
    expect(bundleSourcesId()).toBe(bundleSourcesId());
  });
});
