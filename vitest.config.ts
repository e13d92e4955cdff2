// First: on a Node older than the pinned one, one line on how to get it, and exit.
import './bin/require-node.mjs';
import { defineConfig } from 'vitest/config';

/**
 * Two projects:
 * - `unit`: pure and fast, no server (`npm run test:unit`);
 * - `integration`: against a real Temporal server — one dev server for the whole run, started by
 *   `test/integration/global-setup.ts` (or the cluster in TEMPORAL_ADDRESS).
 * - `browser`: the web UI in Debian's Chromium (playwright-core) against the real stack — the API
 *   serving the UI built once by `test/browser/global-setup.ts`, a worker, and Temporal (that setup
 *   reuses the integration project's dev server when it already runs, else starts one for the
 *   project) (`npm run test:browser`).
 * `npm test` runs them all.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.int.test.ts', 'test/scenarios/**/*.int.test.ts'],
          environment: 'node',
          globalSetup: ['test/integration/global-setup.ts', 'test/integration/postgres-setup.ts'],
          // Test files share one server; run them one at a time so workers and timings don't fight.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.browser.test.ts'],
          environment: 'node',
          globalSetup: ['test/browser/global-setup.ts'],
          // One stack + Chromium per file, one file at a time.
          fileParallelism: false,
          testTimeout: 60_000,
          // expect.poll on what the page shows: up to 15 s (the UI's own waits are bounded alike).
          expect: { poll: { timeout: 15_000, interval: 100 } },
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
