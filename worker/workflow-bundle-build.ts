/**
 * Bundling the workflow code in a process of its own (workflow-bundle-main.mjs). Webpack takes a
 * few hundred MB to bundle, and a Node process does not give that back to the system once
 * collected: measured 64 → 397 MB RSS bundling in the worker's process, 341 MB in a worker thread
 * (README "Memory"). In a child process it is gone when the child exits.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./workflow-bundle-main.mjs', import.meta.url));

/** The workflow bundle with `actorKeys` compiled in, bundled by a child process. */
export function bundleInChildProcess(actorKeys: readonly string[]): Promise<{ code: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) {
        if (err) process.stderr.write(err); // the bundler's warnings
        resolve({ code: Buffer.concat(out).toString('utf8') });
      } else
        reject(new Error(`bundling the workflow code failed (${signal ?? `exit ${code}`}):\n${err.trim()}`));
    });
    child.stdin.end(JSON.stringify(actorKeys));
  });
}
