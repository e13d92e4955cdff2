/**
 * `npm start` to "ready", phase by phase: runs what `npm start` runs (`node bin/launch.mjs
 * worker/main.ts`: the bundle when fresh, else the sources through tsx; `--sources`: always the
 * sources) with its own ports and an in-memory dev server database, and prints when each line of
 * its output arrived (ms since the process was spawned) until the `ready` line, then stops it.
 * The runs share one records folder (a new one unless `--records`), so the first run creates the
 * embedded store and the others start warm. The `started in` line is the process's own account
 * of when each step was done (s since it started): imports, the dev server, definitions, records
 * store, deployments recorded, connected, worker created (workflow bundle), UI check, API.
 *
 *   npx tsx test/bench/startup.ts [--runs 3] [--records DIR] [--sources]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../../worker/config.ts';
import { freePort } from '../../worker/temporal/dev-server.ts';
import { tempDir } from '../temp-dir.ts';
// @ts-expect-error -- plain JavaScript module without type declarations
import { freshBundle } from '../../bin/cli-bundle.mjs';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    records: { type: 'string' },
    sources: { type: 'boolean', default: false },
  },
});
const records = values.records ?? tempDir('custodia-startup-');
const how = values.sources ? 'the sources through tsx' : freshBundle(REPO_ROOT, 'worker/main.ts');
console.log(
  typeof how === 'string'
    ? `running ${how}`
    : how.entry
      ? 'running the bundle (fresh)'
      : `running the sources through tsx (${how.reason})`,
);

async function once(run: number): Promise<number> {
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
  const args = values.sources ? ['--import', 'tsx', 'worker/main.ts'] : ['bin/launch.mjs', 'worker/main.ts'];
  const child = spawn(process.execPath, args, {
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
          `  ${ms.toFixed(0).padStart(6)} ms (+${(ms - last).toFixed(0).padStart(5)})  ${/started in/.test(line) ? line : line.slice(0, 140)}`,
        );
        last = ms;
        if (/\bready\./.test(line)) {
          const cpu = cpuSeconds(child.pid!);
          child.kill('SIGTERM');
          console.log(
            `run ${run}: ready after ${(ms / 1000).toFixed(1)} s; CPU of the process ${cpu.toFixed(1)} s`,
          );
          cpus.push(cpu);
          resolve(ms);
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`worker/main.ts exited ${code} before ready`)));
  });
}

/** User + system CPU seconds of a process so far, all its threads (Linux `/proc`; NaN elsewhere). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15 of stat, i.e. 12 and 13 after "pid (comm) ".
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

const times: number[] = [];
const cpus: number[] = [];
for (let r = 1; r <= Number(values.runs); r++) {
  times.push(await once(r));
  await new Promise((r) => setTimeout(r, 3000));
}
console.log(`ready after: ${times.map((t) => (t / 1000).toFixed(1)).join(', ')} s`);
console.log(`CPU of the process to ready: ${cpus.map((c) => c.toFixed(1)).join(', ')} s`);
process.exit(0);
