/**
 * Group commit of transitions' audit records (`worker/records/group-commit.ts`), before and after in
 * the same run: the embedded records store (its PostgreSQL server), K instances committing at once,
 * each its transitions one after the other (as the commit sink does), through two stores of this
 * process on the same server — one with group commit off (before), one with it on (after) —
 * alternating, `--rounds` times each.
 *
 *   npx tsx test/bench/group-commit.ts [--instances 20,100] [--commits 2000] [--rounds 3] [--effects 0]
 *
 * Per phase: commits/s (wall time until the last commit resolved), p50/p99 latency of one
 * `store.commit`, the store server's CPU per commit (its postmaster and children, from /proc),
 * this process's CPU per commit (`process.cpuUsage`), and the transactions per commit (distinct
 * `audit_log.txid`, the database's own count). Medians over the rounds.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runningServerOf } from '../../worker/records/embedded-server.ts';
import { openStore, type RecordsStore } from '../../worker/records/store.ts';
import { tempDir } from '../temp-dir.ts';
import { benchCommit } from './commits.ts';
import { percentile, processTreeCpuMs } from './stats.ts';

const { values } = parseArgs({
  options: {
    instances: { type: 'string', default: '20,100' },
    commits: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    effects: { type: 'string', default: '0' },
  },
});
const instanceCounts = values.instances.split(',').map(Number);
const commitsPerPhase = Number(values.commits);
const rounds = Number(values.rounds);
const effectsPerCommit = Number(values.effects);

type Mode = 'before' | 'after';

interface Phase {
  commitsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  storeCpuMsPerCommit: number;
  processCpuMsPerCommit: number;
  transactionsPerCommit: number;
}

async function phase(store: RecordsStore, postmaster: number, tag: string, k: number): Promise<Phase> {
  const each = Math.max(1, Math.round(commitsPerPhase / k));
  const latencies: number[] = [];
  const store0 = processTreeCpuMs(postmaster)!;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: k }, async (_, i) => {
      for (let seq = 1; seq <= each; seq++) {
        const t = performance.now();
        await store.commit(benchCommit(`${tag}-${i}`, seq, effectsPerCommit), []);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const storeMs = processTreeCpuMs(postmaster)! - store0;
  const n = k * each;
  const [tx] = await store.readOnly((db) =>
    db.query<{ n: number }>(
      `SELECT count(DISTINCT txid)::int AS n FROM audit_log WHERE kind = 'transition' AND subject LIKE $1`,
      [`${tag}-%`],
    ),
  );
  latencies.sort((a, b) => a - b);
  return {
    commitsPerSecond: (n / wallMs) * 1000,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    storeCpuMsPerCommit: storeMs / n,
    processCpuMsPerCommit: (cpu.user + cpu.system) / 1000 / n,
    transactionsPerCommit: tx!.n / n,
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const work = tempDir('custodia-bench-group-commit-');
  const dataDir = path.join(work, 'store');
  const stores: Record<Mode, RecordsStore> = {
    before: await openStore({ dataDir, embeddedRole: 'service', groupCommit: { enabled: false } }),
    after: await openStore({ dataDir, embeddedRole: 'service' }),
  };
  try {
    const postmaster = runningServerOf(dataDir)!.pid;
    // Warm-up: connections opened, caches filled.
    for (const mode of ['before', 'after'] as const)
      await phase(stores[mode], postmaster, `warm-${mode}`, 20);
    const results = new Map<string, Phase[]>();
    for (let r = 1; r <= rounds; r++)
      for (const k of instanceCounts) {
        // Alternating, and which goes first alternates too.
        const order: Mode[] = r % 2 ? ['before', 'after'] : ['after', 'before'];
        for (const mode of order) {
          const p = await phase(stores[mode], postmaster, `r${r}-k${k}-${mode}`, k);
          const key = `${k}/${mode}`;
          results.set(key, [...(results.get(key) ?? []), p]);
          console.error(
            `round ${r}, ${k} instances, ${mode}: ${p.commitsPerSecond.toFixed(0)} commits/s, ` +
              `p50 ${p.p50Ms.toFixed(1)} ms, p99 ${p.p99Ms.toFixed(1)} ms, store CPU ${p.storeCpuMsPerCommit.toFixed(2)} ms, ` +
              `process CPU ${p.processCpuMsPerCommit.toFixed(2)} ms, ${p.transactionsPerCommit.toFixed(3)} tx/commit`,
          );
        }
      }
    const verify = await stores.after.verifyAudit();
    console.log(
      `\n${commitsPerPhase} commits per phase, ${effectsPerCommit} effect(s) each, medians of ${rounds} round(s); ` +
        `audit chain ${verify.ok ? 'verified' : 'NOT verified'} (${verify.checked} records)\n`,
    );
    console.log(
      '| Instances | Group commit | Commits/s | p50 latency (ms) | p99 latency (ms) | Store CPU / commit (ms) | This process CPU / commit (ms) | Transactions / commit |',
    );
    console.log('|---:|---|---:|---:|---:|---:|---:|---:|');
    for (const k of instanceCounts)
      for (const mode of ['before', 'after'] as const) {
        const ps = results.get(`${k}/${mode}`)!;
        const m = (f: (p: Phase) => number, digits: number): string => median(ps.map(f)).toFixed(digits);
        console.log(
          `| ${k} | ${mode === 'before' ? 'off (before)' : 'on (after)'} | ${m((p) => p.commitsPerSecond, 0)} | ` +
            `${m((p) => p.p50Ms, 1)} | ${m((p) => p.p99Ms, 1)} | ${m((p) => p.storeCpuMsPerCommit, 2)} | ` +
            `${m((p) => p.processCpuMsPerCommit, 2)} | ${m((p) => p.transactionsPerCommit, 3)} |`,
        );
      }
    if (!verify.ok) process.exitCode = 1;
  } finally {
    await stores.before.close();
    await stores.after.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
