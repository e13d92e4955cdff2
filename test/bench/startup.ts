/**
 * `npm start` to "ready", phase by phase: runs worker/main.ts (what `npm start` runs) with its own
 * ports, an in-memory dev server database and a fresh records folder, and prints when each line
 * of its output arrived (ms since the process was spawned) until the `ready` line, then stops it.
 * The phases are what the lines announce: the UI build check (before the first line), the dev
 * server, the worker (definitions loaded and proved, records store opened, workflow code
 * bundled), schedules and the HTTP API.
 *
 *   npx tsx test/bench/startup.ts [--runs 3] [--records DIR]
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../../worker/config.ts';
import { freePort } from '../../worker/temporal/dev-server.ts';
import { tempDir } from '../temp-dir.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, records: { type: 'string' } },
});

async function once(run: number): Promise<number> {
  const records = values.records ?? tempDir('custodia-startup-');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_DEV_DB_FILE: ':memory:',
    TEMPORAL_DEV_PORT: String(await freePort()),
    TEMPORAL_DEV_UI_PORT: String(await freePort()),
    CUSTODIA_HTTP_PORT: String(await freePort()),
    CUSTODIA_RECORDS_DIR: records,
    CUSTODIA_CHECKPOINT_DIR: path.join(records, 'checkpoints'),
  };
  const t0 = performance.now();
  const child = spawn(path.join(REPO_ROOT, 'node_modules/.bin/tsx'), ['worker/main.ts'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let buffer = '';
    let last = 0;
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const ms = performance.now() - t0;
        console.log(
          `  ${ms.toFixed(0).padStart(6)} ms (+${(ms - last).toFixed(0).padStart(5)})  ${line.slice(0, 140)}`,
        );
        last = ms;
        if (/\bready\b/.test(line)) {
          child.kill('SIGTERM');
          console.log(`run ${run}: ready after ${(ms / 1000).toFixed(1)} s`);
          resolve(ms);
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`worker/main.ts exited ${code} before ready`)));
  });
}

const times: number[] = [];
for (let r = 1; r <= Number(values.runs); r++) {
  times.push(await once(r));
  await new Promise((r) => setTimeout(r, 3000));
}
console.log(`ready after: ${times.map((t) => (t / 1000).toFixed(1)).join(', ')} s`);
process.exit(0);
