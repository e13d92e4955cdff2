/**
 * The runtime: the tests, and the processes they and the npm scripts start, run on the Node.js
 * that `npm ci` installs (the `node` package, node_modules/.bin/node) — not on the system's.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../worker/config.ts';

const json = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path.join(REPO_ROOT, file), 'utf8')) as Record<string, unknown>;
const major = (version: string): number => Number(/^v?(\d+)\./.exec(version)![1]);

const pinned = json('node_modules/node/package.json').version as string;
const required = Number(/\d+/.exec((json('package.json').engines as { node: string }).node)![0]);

describe('runtime', () => {
  it('is the pinned Node.js LTS line, which satisfies engines', () => {
    console.log(`test worker: ${process.version} (${process.execPath}); pinned: node@${pinned}`);
    expect(major(pinned)).toBeGreaterThanOrEqual(required);
    expect(major(process.version)).toBe(major(pinned));
    expect(process.version).toBe(`v${pinned}`);
  });

  it('is the `node` that npm scripts and npx find first on PATH (the shebang of tsx, vitest, custodia)', () => {
    const onPath = execFileSync('node', ['-p', 'process.version + " " + process.execPath'], {
      encoding: 'utf8',
    }).trim();
    console.log(`node on PATH: ${onPath}`);
    expect(onPath.split(' ')[0]).toBe(`v${pinned}`);
  });

  it('runs the child process tsx starts (npm start, npm run worker, npx tsx …)', () => {
    const tsx = path.join(REPO_ROOT, 'node_modules/.bin/tsx');
    const child = execFileSync(tsx, ['-e', 'console.log(process.version)'], {
      encoding: 'utf8',
    }).trim();
    console.log(`tsx child: ${child}`);
    expect(child).toBe(`v${pinned}`);
  });
});
