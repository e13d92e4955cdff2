/**
 * What a transition's audit commit costs the records store as its log grows: the embedded store (its
 * PostgreSQL server, fresh folder), `--instances` instances committing at once (each its
 * transitions one after the other, as the commit sink does), `--phases` phases of `--commits`
 * commits each, one after another on the same log.
 *
 *   npx tsx test/bench/audit-log-growth.ts [--instances 20] [--commits 10000] [--phases 6]
 *
 * Per phase: the rows in the log after it, the store server's CPU per commit (its postmaster and
 * children, from /proc) and the phase's wall time. A commit's cost should not depend on how many
 * records came before it (README "Group commit of audit records").
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runningServerOf } from '../../worker/records/embedded-server.ts';
import { openStore } from '../../worker/records/store.ts';
import { tempDir } from '../temp-dir.ts';
import { benchCommit } from './commits.ts';
import { processTreeCpuMs } from './stats.ts';

const { values } = parseArgs({
  options: {
    instances: { type: 'string', default: '20' },
    commits: { type: 'string', default: '10000' },
    phases: { type: 'string', default: '6' },
  },
});
const instances = Number(values.instances);
const commits = Number(values.commits);
const phases = Number(values.phases);
if (![instances, commits, phases].every((n) => Number.isInteger(n) && n > 0))
  throw new Error('--instances, --commits and --phases must be whole numbers > 0');

const work = tempDir('custodia-bench-audit-growth-');
const dataDir = path.join(work, 'records');
const store = await openStore({ dataDir, embeddedRole: 'service' });
try {
  const postmaster = runningServerOf(dataDir)!.pid;
  const each = Math.max(1, Math.round(commits / instances));
  let rows = 0;
  console.log('| Phase | Transitions in the log after it | Store CPU / commit (ms) | Wall (s) |');
  console.log('|---:|---:|---:|---:|');
  for (let p = 1; p <= phases; p++) {
    const cpu0 = processTreeCpuMs(postmaster)!;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: instances }, async (_, i) => {
        for (let seq = 1; seq <= each; seq++) await store.commit(benchCommit(`p${p}-${i}`, seq), []);
      }),
    );
    const wall = (performance.now() - t0) / 1000;
    rows += each * instances;
    const cpu = (processTreeCpuMs(postmaster)! - cpu0) / (each * instances);
    console.log(`| ${p} | ${rows} | ${cpu.toFixed(3)} | ${wall.toFixed(1)} |`);
  }
} finally {
  await store.close();
  rmSync(work, { recursive: true, force: true });
}
