/**
 * The server processes' malloc setting (`bin/process-memory.mjs`, run by `bin/launch.mjs` before
 * anything else): the environment to relaunch with, and a real relaunch — a `node` child whose
 * process replaces itself (`process.execve`) with MALLOC_ARENA_MAX set: same pid, same arguments,
 * the operator's value kept, no second relaunch.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain JavaScript module without type declarations
import { MALLOC_ARENA_MAX, memoryEnv } from '../../bin/process-memory.mjs';
import { REPO_ROOT, SETTINGS } from '../../worker/settings.ts';
import { tempDir } from '../temp-dir.ts';

describe('memoryEnv', () => {
  it('sets MALLOC_ARENA_MAX on Linux when unset, keeping the rest of the environment', () => {
    expect(memoryEnv({ A: '1' }, 'linux', true)).toEqual({ A: '1', MALLOC_ARENA_MAX: '2' });
  });

  it("keeps the operator's value (and so never relaunches twice)", () => {
    expect(memoryEnv({ MALLOC_ARENA_MAX: '8' }, 'linux', true)).toBeNull();
    expect(memoryEnv({ MALLOC_ARENA_MAX: '' }, 'linux', true)).toBeNull();
  });

  it('leaves other systems, and a Node without process.execve, alone', () => {
    expect(memoryEnv({}, 'darwin', true)).toBeNull();
    expect(memoryEnv({}, 'win32', true)).toBeNull();
    expect(memoryEnv({}, 'linux', false)).toBeNull();
  });

  it('is the default the settings table documents', () => {
    expect(SETTINGS.MALLOC_ARENA_MAX.default).toBe(MALLOC_ARENA_MAX);
  });
});

describe.runIf(process.platform === 'linux')('relaunchWithMemorySettings (a real process)', () => {
  let dir = '';
  let script = '';
  beforeAll(() => {
    dir = tempDir('custodia-process-memory-');
    script = path.join(dir, 'entry.mjs');
    const module = pathToFileURL(path.join(REPO_ROOT, 'bin', 'process-memory.mjs')).href;
    writeFileSync(
      script,
      `const { relaunchWithMemorySettings } = await import(${JSON.stringify(module)});\n` +
        `relaunchWithMemorySettings();\n` +
        `console.log(JSON.stringify({ pid: process.pid, arena: process.env.MALLOC_ARENA_MAX ?? null, ` +
        `args: process.argv.slice(2), execArgv: process.execArgv, keep: process.env.KEEP ?? null }));\n`,
    );
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = (env: NodeJS.ProcessEnv) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'MALLOC_ARENA_MAX'));
    const r = spawnSync(process.execPath, ['--no-warnings', script, 'a', 'b c'], {
      encoding: 'utf8',
      env: { ...clean, KEEP: 'kept', ...env },
      timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    return { out: JSON.parse(lines[0] as string) as Record<string, unknown>, childPid: r.pid };
  };

  it('replaces the process with one that has MALLOC_ARENA_MAX: same pid, arguments, flags and environment', () => {
    const { out, childPid } = run({});
    expect(out).toMatchObject({ arena: '2', args: ['a', 'b c'], execArgv: ['--no-warnings'], keep: 'kept' });
    expect(out.pid).toBe(childPid); // replaced, not a process of its own
  });

  it("runs on as it is with the operator's value", () => {
    expect(run({ MALLOC_ARENA_MAX: '16' }).out).toMatchObject({ arena: '16', args: ['a', 'b c'] });
  });
});
