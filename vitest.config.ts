// First: on a Node older than the pinned one, one line on how to get it, and exit.
import './bin/require-node.mjs';
import { defineConfig } from 'vitest/config';
import { SuiteSequencer } from './test/support/sequencer.ts';

/**
 * Test files running at once, in every project: two lanes. The integration, scenario and browser
 * files mostly wait (on the Temporal server's timers and tasks, child processes, the browser), so
 * a second lane nearly halves their time on a 2-core machine, and the CPU-bound unit files fill
 * the gaps; `SuiteSequencer` orders the files across both lanes. Each lane has its own Temporal
 * dev server (`test/integration/global-setup.ts`, `lane-env.ts`), so no two files running at once
 * share one, as when they ran one at a time; the PostgreSQL server is shared (each test on a
 * database of its own); the cluster project's files hold one lock. Every project has the same
 * value: vitest runs projects with different `maxWorkers` one after the other.
 */
const LANES = 2;

/**
 * The integration tests that also run on the real Temporal cluster (`cluster` project), and why:
 * - procedure: the engine's contract with the server — updates and refusals, durable timers,
 *   continue-as-new, linked instances, and search attributes / listing on SQL visibility
 *   (PostgreSQL, not the dev server's SQLite);
 * - schedules: Temporal Schedules (the server's worker service runs them);
 * - chaos: worker, API and Temporal server SIGKILLed under load.
 * The rest exercise the API, the records store, the CLI and the UI, which use Temporal through the
 * same client calls as these; they stay on the dev server to keep CI's added time to a few minutes
 * (the CLI file alone takes ~2 min of process starts; it passed on the cluster too when listed
 * here: 5 tests).
 */
const CLUSTER_SUBSET = [
  'test/integration/procedure.int.test.ts',
  'test/integration/schedules.int.test.ts',
  'test/cluster/**/*.int.test.ts',
];

/**
 * Four projects:
 * - `unit`: pure and fast, no server (`npm run test:unit`);
 * - `integration`: against a real Temporal server — one dev server per lane for the whole run,
 *   started by `test/integration/global-setup.ts` (or the cluster in TEMPORAL_ADDRESS).
 * - `browser`: the web UI in Debian's Chromium (playwright-core) against the real stack — the API
 *   serving the UI built once by `test/browser/global-setup.ts`, a worker, and Temporal (that setup
 *   reuses the integration project's dev servers when they already run, else starts the project's
 *   own) (`npm run test:browser`).
 * - `cluster`: a subset of the integration tests (`CLUSTER_SUBSET`) and the chaos test on the real
 *   Temporal server on PostgreSQL that `npm run cluster` runs (`test/cluster/global-setup.ts`; the
 *   first run on a machine builds the server with Go, a few minutes) (`npm run test:cluster`).
 * `npm test` runs them all, two files at a time (`LANES`).
 */
export default defineConfig({
  test: {
    sequence: { sequencer: SuiteSequencer },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          maxWorkers: LANES,
          // Several open a store, a worker thread or a PGlite of their own (~1–2 s alone); beside
          // the integration and browser lanes on two cores that can pass vitest's default 5 s.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: [
            'test/integration/**/*.int.test.ts',
            'test/scenarios/**/*.int.test.ts',
            // The chaos test (test/cluster/) runs once, on the cluster below.
          ],
          environment: 'node',
          globalSetup: ['test/integration/global-setup.ts', 'test/integration/postgres-setup.ts'],
          // Each file on its lane's Temporal server (one per lane, started by the global setup).
          setupFiles: ['test/integration/lane-env.ts'],
          maxWorkers: LANES,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'cluster',
          include: CLUSTER_SUBSET,
          environment: 'node',
          globalSetup: ['test/cluster/global-setup.ts'],
          // Its files run one at a time (one lock, taken in env-setup.ts), beside other projects' files.
          setupFiles: ['test/cluster/env-setup.ts'],
          maxWorkers: LANES,
          testTimeout: 60_000,
          // The first run builds the Temporal server (minutes), then every start is seconds.
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.browser.test.ts'],
          environment: 'node',
          globalSetup: ['test/browser/global-setup.ts'],
          // One stack + Chromium per file, on its lane's Temporal server.
          setupFiles: ['test/integration/lane-env.ts'],
          maxWorkers: LANES,
          testTimeout: 60_000,
          // expect.poll on what the page shows: up to 15 s (the UI's own waits are bounded alike).
          expect: { poll: { timeout: 15_000, interval: 100 } },
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
