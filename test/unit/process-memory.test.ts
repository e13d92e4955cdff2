/**
 * The server processes' memory settings (`bin/process-memory.mjs`, run by `bin/launch.mjs` before
 * anything else): how to relaunch, and a real relaunch — a `node` child whose process replaces
 * itself (`process.execve`) with MALLOC_ARENA_MAX set and the V8 flags first: same pid, same
 * arguments, the operator's value kept, no second relaunch.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain JavaScript module without type declarations
import { DEFAULT_FLAGS, MALLOC_ARENA_MAX, memoryRelaunch } from '../../bin/process-memory.mjs';
import { REPO_ROOT, SETTINGS } from '../../worker/settings.ts';
import { tempDir } from '../temp-dir.ts';

describe('memoryRelaunch', () => {
  const SEMI = '--max-semi-space-size=4';
  const GROW = '--heap-growing-percent=50';

  it('on Linux: MALLOC_ARENA_MAX when unset and the default V8 flag, keeping the rest of the environment and the flags', () => {
    expect(DEFAULT_FLAGS).toEqual([SEMI, GROW]);
    expect(memoryRelaunch({ A: '1' }, ['--import', 'x.mjs'], 'linux', true)).toEqual({
      env: { A: '1', MALLOC_ARENA_MAX: '2' },
      execArgv: [SEMI, GROW, '--import', 'x.mjs'],
    });
  });

  it("keeps the operator's value of each flag, on the command line or in NODE_OPTIONS", () => {
    const env = { MALLOC_ARENA_MAX: '2' };
    expect(memoryRelaunch(env, ['--max-semi-space-size=16'], 'linux', true)?.execArgv).toEqual([
      GROW,
      '--max-semi-space-size=16',
    ]);
    expect(
      memoryRelaunch(env, ['--max_semi_space_size=1', '--heap-growing-percent=100'], 'linux', true),
    ).toBeNull();
    const both = '--max-semi-space-size=8 --trace-gc --heap_growing_percent=20';
    expect(memoryRelaunch({ ...env, NODE_OPTIONS: both }, [], 'linux', true)).toBeNull();
    expect(memoryRelaunch({ ...env, NODE_OPTIONS: '--trace-gc' }, [], 'linux', true)).toEqual({
      env: { ...env, NODE_OPTIONS: '--trace-gc' },
      execArgv: [SEMI, GROW],
    });
  });

  it('CUSTODIA_OPTIMIZE_FOR_SIZE=true: the V8 flag first, unless the command line has it either way', () => {
    const env = { MALLOC_ARENA_MAX: '2', CUSTODIA_OPTIMIZE_FOR_SIZE: 'true' };
    expect(memoryRelaunch(env, ['--import', 'x.mjs'], 'linux', true)).toEqual({
      env,
      execArgv: ['--optimize-for-size', '--import', 'x.mjs'],
    });
    expect(memoryRelaunch(env, ['--optimize-for-size'], 'linux', true)).toBeNull();
    expect(memoryRelaunch(env, ['--optimize_for_size'], 'linux', true)).toBeNull();
    expect(memoryRelaunch(env, ['--no-optimize-for-size'], 'linux', true)).toBeNull();
    // Off: the default flags instead.
    expect(
      memoryRelaunch({ ...env, CUSTODIA_OPTIMIZE_FOR_SIZE: 'false' }, [], 'linux', true)?.execArgv,
    ).toEqual([SEMI, GROW]);
    expect(() => memoryRelaunch({ CUSTODIA_OPTIMIZE_FOR_SIZE: 'yes' }, [], 'linux', true)).toThrow(
      'CUSTODIA_OPTIMIZE_FOR_SIZE must be true or false (got "yes")',
    );
  });

  it("keeps the operator's MALLOC_ARENA_MAX, and so never relaunches twice", () => {
    expect(memoryRelaunch({ MALLOC_ARENA_MAX: '8' }, [SEMI, GROW], 'linux', true)).toBeNull();
    expect(memoryRelaunch({ MALLOC_ARENA_MAX: '' }, [SEMI, GROW], 'linux', true)).toBeNull();
    // A relaunch that added both finds them and runs.
    const once = memoryRelaunch({}, [], 'linux', true);
    expect(memoryRelaunch(once.env, once.execArgv, 'linux', true)).toBeNull();
  });

  it('other systems get the V8 flags only; a Node without process.execve runs as it is', () => {
    expect(memoryRelaunch({}, [SEMI, GROW], 'darwin', true)).toBeNull();
    expect(memoryRelaunch({}, [], 'darwin', true)).toEqual({ env: {}, execArgv: [SEMI, GROW] });
    expect(memoryRelaunch({ CUSTODIA_OPTIMIZE_FOR_SIZE: 'true' }, [], 'darwin', true)).toEqual({
      env: { CUSTODIA_OPTIMIZE_FOR_SIZE: 'true' },
      execArgv: ['--optimize-for-size'],
    });
    expect(memoryRelaunch({}, [], 'linux', false)).toBeNull();
  });

  it('are the defaults the settings table documents', () => {
    expect(SETTINGS.MALLOC_ARENA_MAX.default).toBe(MALLOC_ARENA_MAX);
    expect(SETTINGS.CUSTODIA_OPTIMIZE_FOR_SIZE.default).toBe('false');
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

  const DEFAULTS = ['--max-semi-space-size=4', '--heap-growing-percent=50'];
  const run = (env: NodeJS.ProcessEnv) => {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => k !== 'MALLOC_ARENA_MAX' && k !== 'NODE_OPTIONS'),
    );
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
    expect(out).toMatchObject({
      arena: '2',
      args: ['a', 'b c'],
      execArgv: [...DEFAULTS, '--no-warnings'],
      keep: 'kept',
    });
    expect(out.pid).toBe(childPid); // replaced, not a process of its own
  });

  it("keeps the operator's value; CUSTODIA_OPTIMIZE_FOR_SIZE=true adds the V8 flag", () => {
    expect(run({ MALLOC_ARENA_MAX: '16', CUSTODIA_OPTIMIZE_FOR_SIZE: 'true' }).out).toMatchObject({
      arena: '16',
      args: ['a', 'b c'],
      execArgv: ['--optimize-for-size', '--no-warnings'],
    });
  });
});
