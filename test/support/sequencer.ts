/**
 * The order `npm test` starts its test files in (`sequence.sequencer` in `vitest.config.ts`). Every
 * project's files share one pool of two worker processes, so the order decides what runs beside
 * what and how early the long files start:
 *
 * 1. the integration, scenario, browser and cluster files, longest first (longest-processing-time
 *    order: the last long file does not start when the other lane is nearly done), with the
 *    cluster files spread out — they hold one lock (`test/cluster/env-setup.ts`), and one waiting
 *    for another would keep its lane idle;
 * 2. then the unit files, largest first: many short files that fill both lanes to the end.
 *
 * Durations are estimates, the same on every machine: vitest's cache of the last run's durations
 * (shared by every checkout of a machine, absent on a fresh clone) is not used, so a run's order
 * does not depend on what ran before. A file not in `MEASURED_S` is estimated from its project.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Seconds per file measured with `nice -n 10 npx vitest run --reporter=json` (a whole run, two lanes,
 * on the 2-core machine): only the files far from their project's estimate below. Rounded; an
 * outdated figure changes the order, never a result.
 */
const MEASURED_S: Record<string, number> = {};

/** Estimated seconds of a file of each project not listed in MEASURED_S. */
const PROJECT_S: Record<string, number> = { browser: 50, cluster: 30, integration: 30, unit: 2 };

function estimate(spec: TestSpecification): number {
  const root = spec.project.config.root;
  const file = path.relative(root, spec.moduleId).split(path.sep).join('/');
  const measured = MEASURED_S[`${spec.project.name}:${file}`] ?? MEASURED_S[file];
  if (measured !== undefined) return measured;
  // Within a project, a larger file is usually a longer one: a few lines add a fraction of a second.
  let bytes = 0;
  try {
    bytes = statSync(spec.moduleId).size;
  } catch {
    // deleted since collected: vitest reports it
  }
  return (PROJECT_S[spec.project.name] ?? 30) + bytes / 10_000;
}

export class SuiteSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const byWeight = (list: TestSpecification[]): TestSpecification[] =>
      list
        .map((spec) => ({ spec, s: estimate(spec) }))
        .sort((a, b) => b.s - a.s || a.spec.moduleId.localeCompare(b.spec.moduleId))
        .map((x) => x.spec);
    const unit = files.filter((f) => f.project.name === 'unit');
    const cluster = byWeight(files.filter((f) => f.project.name === 'cluster'));
    const rest = byWeight(files.filter((f) => f.project.name !== 'unit' && f.project.name !== 'cluster'));
    // Cluster files at even intervals of the long list (the longest first).
    const long: TestSpecification[] = [];
    const every = Math.max(1, Math.floor(rest.length / Math.max(cluster.length, 1)));
    rest.forEach((spec, i) => {
      if (i % every === 0 && cluster.length > 0) long.push(cluster.shift()!);
      long.push(spec);
    });
    long.push(...cluster);
    return [...long, ...byWeight(unit)];
  }
}
