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
 * Seconds per file, its process start and imports included, of the long files: measured in a whole
 * run one file at a time (`nice -n 10 npx vitest run --reporter=json`, 2026-12-07, on a loaded
 * machine: about 3× an idle one's; only the ratios matter). An outdated figure changes the order,
 * never a result.
 */
const MEASURED_S: Record<string, number> = {
  'integration:test/integration/records-cli.int.test.ts': 165,
  'integration:test/integration/api.int.test.ts': 135,
  'cluster:test/cluster/chaos.int.test.ts': 120,
  'integration:test/integration/identity.int.test.ts': 115,
  'integration:test/integration/api-security.int.test.ts': 95,
  'integration:test/integration/cli.int.test.ts': 95,
  'integration:test/integration/records.int.test.ts': 85,
  'integration:test/integration/durability.int.test.ts': 75,
  'integration:test/integration/assignment.int.test.ts': 70,
  'integration:test/integration/procedure.int.test.ts': 60,
  'integration:test/integration/embedded-server.int.test.ts': 55,
  'browser:test/browser/notifications.browser.test.ts': 55,
  'browser:test/browser/file-access.browser.test.ts': 50,
  'browser:test/browser/assignment.browser.test.ts': 50,
};

/** Estimated seconds of a file not in MEASURED_S, by project (the same run's medians). */
const PROJECT_S: Record<string, number> = { browser: 25, cluster: 40, integration: 35, unit: 2 };

function estimate(spec: TestSpecification): number {
  const file = path.relative(spec.project.config.root, spec.moduleId).split(path.sep).join('/');
  const measured = MEASURED_S[`${spec.project.name}:${file}`];
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
