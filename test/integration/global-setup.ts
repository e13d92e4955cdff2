/**
 * Vitest global setup of the `integration` project: one Temporal server for the whole run.
 *
 * - TEMPORAL_ADDRESS unset: start a dev server (in memory, free port, no UI) with
 *   `startDevServer`, stop it after the run.
 * - TEMPORAL_ADDRESS set: use that cluster (TLS / API key from the usual settings); only make
 *   sure Custodia's search attributes are registered.
 *
 * Tests read the values with `inject('temporalAddress')` etc. (typed below). The address and
 * namespace are also put in `process.env` (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE) so that
 * `loadConfig()` in tests and child processes they spawn (e.g. `npx custodia …`) use this server.
 * TEMPORAL_BINARY is set too when a binary was resolved, for `TestWorkflowEnvironment.createLocal`.
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

declare module 'vitest' {
  export interface ProvidedContext {
    /** host:port of the Temporal frontend the integration tests use. */
    temporalAddress: string;
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

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const config = loadConfig();
  const saved = {
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE: process.env.TEMPORAL_NAMESPACE,
    TEMPORAL_BINARY: process.env.TEMPORAL_BINARY,
    CUSTODIA_ACTOR_KEY: process.env.CUSTODIA_ACTOR_KEY,
    CUSTODIA_ACTOR_PUBLIC_KEYS: process.env.CUSTODIA_ACTOR_PUBLIC_KEYS,
  };
  let server: DevServer | undefined;
  let address: string;
  let binary: string | null = null;

  if (config.address !== null) {
    address = config.address;
    await ensureSearchAttributes(connectionOptions(config), config.namespace);
    binary = await resolveTemporalBinary(config, { noInstall: true }).catch(() => null);
  } else {
    binary = await resolveTemporalBinary(config, { log: (l) => console.error(`[temporal install] ${l}`) });
    server = await startDevServer(config, {
      binary,
      dbFile: null,
      port: 0,
      uiPort: null,
      // TEMPORAL_DEV_SERVER_LOG=1 shows the server's output (start errors include it anyway).
      log: (l) => {
        if (process.env.TEMPORAL_DEV_SERVER_LOG) console.error(`[temporal] ${l}`);
      },
    });
    address = server.address;
  }

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
  project.provide('temporalNamespace', config.namespace);
  project.provide('temporalBinary', binary);
  project.provide('temporalDevServer', server !== undefined);
  process.env.TEMPORAL_ADDRESS = address;
  process.env.TEMPORAL_NAMESPACE = config.namespace;
  if (binary) process.env.TEMPORAL_BINARY = binary;

  return async () => {
    rmSync(bundleDir, { recursive: true, force: true });
    await server?.stop();
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
