/**
 * Where `custodia validate` / `custodia verify` spend their time, per shipped definition: load +
 * check, the all-paths proof (configurations explored, ms), start-target checks — in one process,
 * after the CLI has started (the CLI's own start-up is measured with `time` in the README).
 *
 *   npx tsx test/bench/prove-profile.ts [definitions/] [--reps 3] [--json]
 *
 * Each figure is the median of `--reps` runs in this process (the first run includes the JIT's
 * warm-up and the module-level memos; it is printed apart as "cold").
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { definitionFiles } from '../../worker/definitions.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';
import { verifyProcedure } from '../../workflows/core/verify.ts';
import { assessDrafts } from '../../worker/drafts.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { reps: { type: 'string', default: '3' }, json: { type: 'boolean', default: false } },
});
const reps = Math.max(1, Number(values.reps));
const files = definitionFiles(positionals.length ? positionals : ['definitions']);
const drafts = files.map((file) => ({
  yaml: readFileSync(file, 'utf8'),
  file: path.relative(process.cwd(), file),
}));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const time = <T>(fn: () => T): [T, number] => {
  const t0 = performance.now();
  const out = fn();
  return [out, performance.now() - t0];
};

// The whole pipeline `custodia validate` runs, cold (first call in the process) then warm.
const [, coldAll] = time(() => assessDrafts(drafts));
const warmAll = median(Array.from({ length: reps }, () => time(() => assessDrafts(drafts))[1]));

interface Row {
  id: string;
  loadMs: number;
  proveMs: number;
  proveColdMs: number;
  configurations: number;
  invariants: number;
  holds: number;
}
const rows: Row[] = [];
for (const d of drafts) {
  const loads = Array.from({ length: reps }, () => time(() => validateProcedureText(d.yaml, d.file)));
  const ir = loads[0]?.[0].ir;
  if (!ir) {
    console.error(`${d.file}: does not load`);
    continue;
  }
  const proofs = Array.from({ length: reps }, () => time(() => verifyProcedure(ir)));
  const result = proofs[0]![0];
  rows.push({
    id: ir.id,
    loadMs: median(loads.map(([, ms]) => ms)),
    proveMs: median(proofs.map(([, ms]) => ms)),
    proveColdMs: proofs[0]![1],
    configurations: result.explored,
    invariants: result.invariants.length,
    holds: result.invariants.filter((r) => r.holds).length,
  });
}
if (values.json) {
  console.log(JSON.stringify({ coldAllMs: coldAll, warmAllMs: warmAll, rows }, null, 2));
} else {
  const f = (n: number): string => n.toFixed(1).padStart(8);
  console.log(`definition               configs  invariants  load+check ms  prove ms (cold)`);
  for (const r of rows)
    console.log(
      `${r.id.padEnd(24)} ${String(r.configurations).padStart(7)}  ${`${r.holds}/${r.invariants}`.padStart(10)}  ${f(r.loadMs)}       ${f(r.proveMs)} (${r.proveColdMs.toFixed(1)})`,
    );
  const total = rows.reduce((s, r) => s + r.configurations, 0);
  console.log(
    `total ${total} configurations; load+check ${rows.reduce((s, r) => s + r.loadMs, 0).toFixed(1)} ms, prove ${rows.reduce((s, r) => s + r.proveMs, 0).toFixed(1)} ms (warm medians)`,
  );
  console.log(
    `assessDrafts (what validate runs): cold ${coldAll.toFixed(0)} ms, warm ${warmAll.toFixed(0)} ms`,
  );
}
