/**
 * Vitest global setup of the `integration` project: one Temporal server for the whole run.
 *
 * - TEMPORAL_ADDRESS unset: start dev servers (in memory, free port, no UI) with
 *   `startDevServer`, one per lane — per test file running at once (the project's `maxWorkers`,
 *   see `vitest.config.ts`) — and stop them after the run. A test file uses its lane's server
 *   (`test/integration/lane-env.ts`), so no two files running at once share a server: listings
 *   and counts over the namespace see one file's instances, as when files ran one at a time.
 * - TEMPORAL_ADDRESS set: use that cluster (TLS / API key from the usual settings) for every lane;
 *   only make sure Custodia's search attributes are registered.
 *
 * Tests read the values with `inject('temporalAddress')` etc. (typed below). The first lane's
 * address and the namespace are also put in `process.env` (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE)
 * so that `loadConfig()` in tests and child processes they spawn (e.g. `npx custodia …`) use this
 * server; the project's setup file `lane-env.ts` puts the file's lane server there. TEMPORAL_BINARY
 * is set too when a binary was resolved, for `TestWorkflowEnvironment.createLocal`.
 */
import { createHash, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { workflowBundle } from '../../worker/worker.ts';
import { trustedActorKeys } from '../../worker/actor-keys.ts';
import { connectionOptions, loadConfig } from '../../worker/config.ts';
import { resolveTemporalBinary } from '../../worker/temporal/binary.ts';
import { ensureSearchAttributes, startDevServer } from '../../worker/temporal/dev-server.ts';
import type { DevServer } from '../../worker/temporal/dev-server.ts';
import { testPort } from '../support/ports.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** host:port of the Temporal frontend of the first lane (`temporalAddresses[0]`). */
    temporalAddress: string;
    /** host:port of the Temporal frontend of each lane; test files use `laneTemporalAddress()`. */
    temporalAddresses: string[];
    /** Namespace the integration tests use. */
    temporalNamespace: string;
    /** Path of the `temporal` binary, or `null` when running against an external cluster without one. */
    temporalBinary: string | null;
    /** Whether global setup started the server itself (false: external TEMPORAL_ADDRESS). */
    temporalDevServer: boolean;
    /** The workflow code bundled once for the run (a file); `sharedBundle()` in harness.ts reads it. */
    workflowBundleFile: string;
  }
}

/**
 * The lanes' addresses, comma-separated, in the main process's environment while the run's servers
 * are up (test-only: for the browser project's setup, which reuses them; see its global setup).
 */
const LANES_ENV = 'TEST_TEMPORAL_LANES';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const config = loadConfig();
  const saved = {
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE: process.env.TEMPORAL_NAMESPACE,
    TEMPORAL_BINARY: process.env.TEMPORAL_BINARY,
    CUSTODIA_ACTOR_KEY: process.env.CUSTODIA_ACTOR_KEY,
    CUSTODIA_ACTOR_PUBLIC_KEYS: process.env.CUSTODIA_ACTOR_PUBLIC_KEYS,
    [LANES_ENV]: process.env[LANES_ENV],
  };
  const servers: DevServer[] = [];
  let addresses: string[];
  let binary: string | null = null;

  if (config.address !== null) {
    // The lanes of this run's integration setup when it started them (the browser project's
    // setup reuses them), else the one server for every lane.
    const lanes = process.env[LANES_ENV]?.split(',') ?? [];
    addresses = lanes[0] === config.address ? lanes : [config.address];
    await ensureSearchAttributes(connectionOptions(config), config.namespace);
    binary = await resolveTemporalBinary(config, { noInstall: true }).catch(() => null);
  } else {
    binary = await resolveTemporalBinary(config, { log: (l) => console.error(`[temporal install] ${l}`) });
    const lanes = Math.max(1, project.config.maxWorkers);
    try {
      // One after the other, each on a port below the kernel's ephemeral range (`testPort`).
      for (let i = 0; i < lanes; i++)
        servers.push(
          await startDevServer(config, {
            binary,
            dbFile: null,
            port: await testPort(),
            uiPort: null,
            // TEMPORAL_DEV_SERVER_LOG=1 shows the server's output (start errors include it anyway).
            log: (l) => {
              if (process.env.TEMPORAL_DEV_SERVER_LOG) console.error(`[temporal ${i + 1}] ${l}`);
            },
          }),
        );
    } catch (err) {
      for (const s of servers) await s.stop();
      throw err;
    }
    addresses = servers.map((s) => s.address);
  }
  const address = addresses[0]!;

  // The test actor key: every test worker's bundle trusts it; test helpers, the API and the CLI
  // (child processes inherit the environment) sign with it.
  const bundleDir = mkdtempSync(path.join(os.tmpdir(), 'custodia-bundle-'));
  const keyFile = writeTestActorKey(bundleDir);
  process.env.CUSTODIA_ACTOR_KEY = keyFile;
  delete process.env.CUSTODIA_ACTOR_PUBLIC_KEYS;

  // Bundle the workflow code once for the run: each test file's worker reuses it (saves seconds per file).
  const bundleFile = path.join(bundleDir, 'workflows.js');
  writeFileSync(bundleFile, (await workflowBundle(trustedActorKeys())).code);
  project.provide('workflowBundleFile', bundleFile);

  project.provide('temporalAddress', address);
  project.provide('temporalAddresses', addresses);
  project.provide('temporalNamespace', config.namespace);
  project.provide('temporalBinary', binary);
  project.provide('temporalDevServer', servers.length > 0);
  process.env.TEMPORAL_ADDRESS = address;
  process.env[LANES_ENV] = addresses.join(',');
  process.env.TEMPORAL_NAMESPACE = config.namespace;
  if (binary) process.env.TEMPORAL_BINARY = binary;

  return async () => {
    rmSync(bundleDir, { recursive: true, force: true });
    for (const s of servers) await s.stop();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/**
 * Write the test actor key (PKCS#8 PEM, mode 0600) into `dir`. The same fixed key in every setup of
 * a run (the browser project's reruns this one), so no project signs with a key another's bundle
 * does not trust. Never a key to use outside tests.
 */
function writeTestActorKey(dir: string): string {
  const seed = createHash('sha256').update('custodia test actor key').digest();
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const pem = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({
    type: 'pkcs8',
    format: 'pem',
  });
  const file = path.join(dir, 'actor-key.pem');
  writeFileSync(file, pem, { mode: 0o600 });
  return file;
}
