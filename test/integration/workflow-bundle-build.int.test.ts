/**
 * The workflow bundle is built in a child process (`worker/workflow-bundle-build.ts`): the code
 * comes back whole, with the actor keys compiled in, and webpack's memory is not added to the
 * calling process's (it was ~330 MB of RSS that a worker process kept for its life).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bundleInChildProcess } from '../../worker/workflow-bundle-build.ts';

const rssMb = (): number =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) / 1024;

describe('workflow bundle built in a child process', () => {
  it('returns the bundle with the keys compiled in, and the caller does not carry webpack', async () => {
    const key = `test-key-${process.pid}-${Date.now()}`;
    const before = rssMb();
    const { code } = await bundleInChildProcess([key, 'second-key']);
    const grown = rssMb() - before;
    expect(code).toContain(JSON.stringify(`${key},second-key`));
    expect(code).toContain('procedure');
    // The bundle's code itself is ~3 MB, ASCII (as a string, and as the bytes read from the pipe).
    expect(grown).toBeLessThan(100);
  }, 120_000);
});
