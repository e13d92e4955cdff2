/**
 * The launcher of `npm start` / `npm run worker` (`bin/launch.mjs`) with the real builder
 * (`bin/build-cli.mjs`, Vite) in a scratch repository: without a bundle the sources run through
 * tsx; after a build the bundle runs; once a source any entry imports is edited, the sources run
 * again — with the edit: a stale bundle never runs old code — until the next build. A wrong entry
 * is refused with the usage. Each run is a real `node` child process.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../worker/settings.ts';
import { tempDir } from '../temp-dir.ts';

let root = '';

function write(rel: string, text: string): void {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

function node(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}

beforeAll(() => {
  root = tempDir('custodia-launch-');
  mkdirSync(path.join(root, 'bin'));
  for (const f of ['launch.mjs', 'cli-bundle.mjs', 'build-cli.mjs', 'require-node.mjs', 'process-memory.mjs'])
    copyFileSync(path.join(REPO_ROOT, 'bin', f), path.join(root, 'bin', f));
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'));
  write('package.json', JSON.stringify({ name: 'scratch', type: 'module', engines: { node: '>=24' } }));
  // TypeScript only tsx or the build can run; each entry says which it ran from.
  const from = "(import.meta.filename.endsWith('.mjs') ? 'bundle' : 'sources')";
  write('worker/version.ts', "export const version: string = 'v1';\n");
  write(
    'worker/main.ts',
    `import { version } from './version.ts';\nconst how: string = ${from};\nconsole.log(\`server \${version} from \${how} \${process.argv.slice(2).join(' ')}\`);\n`,
  );
  write('worker/worker-main.ts', `const how: string = ${from};\nconsole.log(\`worker from \${how}\`);\n`);
  write('worker/cli/main.ts', `const how: string = ${from};\nconsole.log(\`cli from \${how}\`);\n`);
}, 30_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('bin/launch.mjs', () => {
  it('runs the sources without a bundle, the bundle once built, the sources again (edited) once stale', () => {
    expect(node('bin/launch.mjs', 'worker/main.ts', '--x')).toEqual({
      status: 0,
      out: 'server v1 from sources --x',
    });
    const built = node('bin/build-cli.mjs');
    expect(built.status, built.out).toBe(0);
    expect(node('bin/launch.mjs', 'worker/main.ts')).toEqual({ status: 0, out: 'server v1 from bundle' });
    expect(node('bin/launch.mjs', 'worker/worker-main.ts')).toEqual({ status: 0, out: 'worker from bundle' });

    // A source of the server's edited (same size): the server runs its sources, with the edit;
    // the worker process, which does not import it, still runs its bundle.
    write('worker/version.ts', "export const version: string = 'v2';\n");
    expect(node('bin/launch.mjs', 'worker/main.ts')).toEqual({ status: 0, out: 'server v2 from sources' });
    expect(node('bin/launch.mjs', 'worker/worker-main.ts')).toEqual({ status: 0, out: 'worker from bundle' });

    expect(node('bin/build-cli.mjs').status).toBe(0);
    expect(node('bin/launch.mjs', 'worker/main.ts')).toEqual({ status: 0, out: 'server v2 from bundle' });
  }, 60_000);

  it('refuses what is not a server entry, with the usage', () => {
    for (const args of [[], ['worker/other.ts'], ['worker/cli/main.ts']]) {
      const r = node('bin/launch.mjs', ...args);
      expect(r.status).toBe(2);
      expect(r.out).toBe('usage: node bin/launch.mjs <worker/main.ts | worker/worker-main.ts>');
    }
  });
});
