/**
 * Vitest global setup of the `cluster` project: the cluster `npm run cluster` starts (same code,
 * `worker/cluster/cluster.ts`) — PostgreSQL and the real Temporal server on it, supervised — in a
 * temporary folder on free ports, without the worker and API processes (tests start their own).
 * Then the integration project's setup (`test/integration/global-setup.ts`) against it: search
 * attributes, the shared workflow bundle, the test actor key, `inject('temporalAddress')` …; the
 * records-store tests get the cluster's PostgreSQL as `inject('postgresUrl')`.
 *
 * Vitest runs every project's global setup in its main process, in no fixed order, so this puts
 * `process.env` back as it found it: the `integration` and `browser` projects still start (and
 * see) their dev server. The project's test files read their values back into `process.env`
 * in `env-setup.ts`.
 *
 * The first run on a machine builds the Temporal server with Go (a few minutes; cached after,
 * see `worker/cluster/binaries.ts`). No Go, no PostgreSQL binaries: the run fails at once with
 * what to install.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../worker/config.ts';
import { startCluster } from '../../worker/cluster/cluster.ts';
import { busyPorts, portsFrom } from '../../worker/cluster/temporal-server.ts';
import { testPort } from '../support/ports.ts';
import integrationSetup from '../integration/global-setup.ts';

const ENV = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_BINARY',
  'CUSTODIA_ACTOR_KEY',
  'CUSTODIA_ACTOR_PUBLIC_KEYS',
] as const;

/** A frontend port whose whole layout (`portsFrom`) is free. */
async function freeLayout(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    // Below 32768: the server stores membership ports as smallint. Below 19,000 too, so the whole
    // layout (base − 300 … base + 767) stays under the test ports' bands (`testPort`, from 20,000):
    // a port of the layout is free while the chaos test has the server down.
    const base = 10_000 + Math.floor(Math.random() * 9_000);
    if (portsFrom(base).metrics > 65_000 || portsFrom(base).frontendMembership < 1_024) continue;
    if ((await busyPorts(portsFrom(base))).length === 0) return base;
  }
  throw new Error('no free port layout for the Temporal server');
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'custodia-cluster-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as `postgres` when we are root
  const t0 = Date.now();
  const say = (line: string): void => console.error(`[cluster] ${line}`);
  const cluster = await startCluster({
    dataDir: dir,
    temporalPort: await freeLayout(),
    pgPort: await testPort(),
    namespace: loadConfig().namespace,
    toolsDir: loadConfig().devServer.toolsDir,
    log: say,
  }).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  say(
    `Temporal ${cluster.address} on PostgreSQL :${cluster.postgres.port}, up in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );

  const before = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
  const restore = (): void => {
    for (const k of ENV) {
      if (before[k] === undefined) delete process.env[k];
      else process.env[k] = before[k];
    }
  };
  let stopIntegration: () => Promise<void>;
  try {
    process.env.TEMPORAL_ADDRESS = cluster.address;
    process.env.TEMPORAL_NAMESPACE = cluster.namespace;
    stopIntegration = await integrationSetup(project);
  } catch (err) {
    restore();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  // The key file the integration setup wrote (same fixed test key as every project's).
  project.provide('clusterActorKey', process.env.CUSTODIA_ACTOR_KEY ?? '');
  restore();
  project.provide('clusterStateFile', cluster.stateFile);
  project.provide('clusterLockDir', path.join(dir, 'test-file-lock'));
  project.provide('postgresUrl', cluster.postgres.url('postgres'));
  project.provide('postgresSkipReason', '');

  return async () => {
    await stopIntegration();
    restore();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** CUSTODIA_ACTOR_KEY for the cluster project's tests (its global setup's key file). */
    clusterActorKey?: string;
    /** The lock every cluster test file holds while it runs (`test/support/file-lock.ts`). */
    clusterLockDir: string;
  }
}
