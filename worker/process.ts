/**
 * Wiring shared by the process entry points (`npm start`, `npm run worker`, tests, benchmark):
 * where definitions and records live, and bringing up a worker against a Temporal address.
 */
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import path from 'node:path';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  type LogLevel,
  type Worker,
  type WorkflowBundle,
} from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { connectClient, connectionOptions, REPO_ROOT, type CustodiaConfig } from './config.ts';
import { loadDefinitions, type LoadedDefinition } from './definitions.ts';
import { formatDiagnostic } from '../workflows/core/diagnostics.ts';
import { recordsDir, recordsStoreOptions } from './records/location.ts';
import { definitionDirs, definitionsRefreshMs, sdkLogLevel, sdkMetricsAddress } from './settings.ts';
import { openStore, type OpenStoreOptions, type RecordsStore } from './records/store.ts';
import { isRecordsError } from './records/errors.ts';
import { createCustodiaWorker, workflowBundle } from './worker.ts';
import { syncSchedules } from './schedules.ts';
import { refreshFromStore } from './deploy.ts';
import { log } from './log.ts';
import { workerRestarts } from './metrics.ts';

/**
 * How often a process re-reads the deployed versions from the records store, so one deployed
 * through another process's API becomes current here (linked-instance starts use it).
 */
export const refreshIntervalMs = definitionsRefreshMs;

export { definitionDirs };

export { recordsDir };

/** Load the deployed definitions; refuse to run with a broken one (every problem printed). */
export function loadDeployedDefinitions(dirs = definitionDirs()): Map<string, LoadedDefinition> {
  const set = loadDefinitions(dirs, REPO_ROOT);
  const errors = set.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length)
    throw new Error(
      `definitions have ${errors.length} problem(s):\n${errors.map((d) => '  ' + formatDiagnostic(d)).join('\n')}`,
    );
  return set.definitions;
}

let runtimeInstalled = false;

/** Temporal SDK log level (`CUSTODIA_LOG_LEVEL`), once per process. */
export function installRuntime(env?: NodeJS.ProcessEnv): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level: LogLevel = sdkLogLevel(env);
  // The SDK's worker metrics (task slots, poll latencies, …) in Prometheus text on their own
  // port when configured; the API's GET /metrics appends them.
  const bindAddress = sdkMetricsAddress(env);
  Runtime.install({
    logger: new DefaultLogger(level),
    ...(bindAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress } } } } : {}),
  });
}

/**
 * Record each definition this process runs as an immutable deployed version (procedure@version,
 * its hash, YAML and IR; an audit record the first time). The same content again is a no-op;
 * changed content under an existing version is refused: bump `version:` in the YAML.
 */
export async function recordDeployments(
  store: RecordsStore,
  definitions: Iterable<LoadedDefinition>,
  by = `${os.userInfo().username}@${os.hostname()}`,
): Promise<void> {
  for (const def of definitions) {
    const file = path.resolve(REPO_ROOT, def.file);
    const yaml = existsSync(file) ? readFileSync(file, 'utf8') : '';
    try {
      await store.deployDefinition({
        procedure: def.ir.id,
        version: def.ir.version,
        hash: def.hash,
        yaml,
        ir: def.ir,
        deployedBy: by,
      });
    } catch (err) {
      if (isRecordsError(err, 'DEFINITION_CONFLICT'))
        throw new Error(`${def.file}: ${err.message}`, { cause: err });
      throw err;
    }
  }
}

export interface RunningWorker {
  /** The current worker (a new one after a restart, with `restartOnFailure`). */
  readonly worker: Worker;
  client: Client;
  store: RecordsStore;
  definitions: Map<string, LoadedDefinition>;
  /** Resolves when the worker has stopped. */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Connect to `address` (default: the configured one) and run a worker with the records store:
 * `opts.records` when given (an embedded store's folder, or null for in memory), else
 * DATABASE_URL (PostgreSQL), else the embedded store in `recordsDir()`.
 */
export async function runWorker(
  config: CustodiaConfig,
  opts: {
    /**
     * The Temporal address; a promise of it (`npm start`: the dev server still starting) is
     * awaited only to connect, after the definitions and the records store are ready.
     */
    address?: string | Promise<string | undefined>;
    /** An embedded store's folder, null for one in memory, or the store's full options. */
    records?: string | null | OpenStoreOptions;
    definitions?: Map<string, LoadedDefinition>;
    /** Who the definition files' versions are recorded as deployed by (default: OS user@host). */
    deployedBy?: string;
    /** A prebuilt workflow bundle (the test setup builds one per run); else bundled here. */
    bundle?: WorkflowBundle;
    /**
     * When the worker fails (it stopped without `shutdown()`), create a new one on the same
     * connection after a back-off (1 s … 30 s) instead of ending `done` (`npm start`).
     */
    restartOnFailure?: boolean;
    /** Called as each start-up step completes (`npm start` reports when each was done). */
    onPhase?: (phase: 'definitions' | 'store' | 'deployments' | 'connected' | 'worker') => void;
    /**
     * Called once connected, before the worker is created (which takes a while: the workflow code
     * is loaded into its sandbox): what needs the client, store and definitions but not the
     * worker may start meanwhile (`npm start`: the schedules and the HTTP API).
     */
    onConnected?: (parts: {
      client: Client;
      store: RecordsStore;
      definitions: Map<string, LoadedDefinition>;
    }) => void;
  } = {},
): Promise<RunningWorker> {
  installRuntime();
  const phase = opts.onPhase ?? (() => {});
  // A long-lived process: CLI commands share the embedded server it starts. Opening it (the
  // embedded server boots in its own process) runs while the definitions load.
  const opening = openStore({
    embeddedRole: 'service',
    ...(opts.records === undefined
      ? recordsStoreOptions()
      : typeof opts.records === 'object' && opts.records !== null
        ? opts.records
        : { dataDir: opts.records }),
  });
  // The workflow code (remembered on disk, `workflow-bundle-cache.ts`) is looked up meanwhile
  // too: creating the worker below finds it in memory. Its failure is the worker's to report.
  if (!opts.bundle) workflowBundle().catch(() => {});
  let definitions: Map<string, LoadedDefinition>;
  try {
    definitions = opts.definitions ?? loadDeployedDefinitions();
    phase('definitions');
  } catch (err) {
    await opening.then((s) => s.close()).catch(() => {});
    throw err;
  }
  const store = await opening;
  phase('store');
  let client: Client;
  let connection: NativeConnection;
  try {
    await recordDeployments(store, definitions.values(), opts.deployedBy);
    // Versions deployed through the API (possibly since the files were written) are current.
    const newer = await refreshFromStore(store, definitions);
    if (newer.length) console.log(`custodia: deployed versions current for ${newer.join(', ')}`);
    phase('deployments');
    const address = (await opts.address) ?? undefined;
    client = await connectClient(config, address);
    connection = await NativeConnection.connect(connectionOptions(config, address));
    phase('connected');
    opts.onConnected?.({ client, store, definitions });
  } catch (err) {
    await store.close();
    throw err;
  }
  const create = (): Promise<Worker> =>
    createCustodiaWorker({
      connection,
      client,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      store,
      definition: (id) => definitions.get(id),
      // Approved definition changes deploy here: current in this process at once, schedules synced.
      deployments: {
        definitions,
        onDeployed: async () => {
          await syncSchedules(client, definitions.values(), config.taskQueue);
        },
      },
      ...(opts.bundle ? { bundle: opts.bundle } : {}),
    });
  let worker: Worker;
  try {
    worker = await create();
  } catch (err) {
    await connection.close().catch(() => {});
    await client.connection.close().catch(() => {});
    await store.close();
    throw err;
  }
  phase('worker');
  let stopping = false;
  const wake = new AbortController();
  /** Run the worker; with `restartOnFailure`, recreate it whenever it fails until shutdown. */
  const runLoop = async (): Promise<void> => {
    let failures = 0;
    for (;;) {
      const since = Date.now();
      let failure: unknown;
      try {
        await worker.run();
      } catch (err) {
        failure = err;
      }
      if (stopping || !opts.restartOnFailure) {
        if (failure !== undefined) throw failure;
        return;
      }
      if (Date.now() - since > 60_000) failures = 0;
      for (;;) {
        const delay = Math.min(30_000, 1_000 * 2 ** failures++);
        const why = failure instanceof Error ? failure.message : 'it stopped';
        log().error(`worker failed (${why}); recreating it in ${delay / 1000} s`, {
          event: 'worker_restart',
        });
        try {
          await sleep(delay, undefined, { signal: wake.signal });
        } catch {
          return; // shutdown() during the back-off
        }
        try {
          worker = await create();
          workerRestarts.inc();
          break;
        } catch (err) {
          failure = err;
        }
      }
    }
  };
  const refresh = setInterval(() => {
    refreshFromStore(store, definitions).catch((err: unknown) =>
      console.error(`custodia: refreshing definitions: ${String(err)}`),
    );
  }, refreshIntervalMs());
  refresh.unref();
  const done = runLoop().finally(async () => {
    clearInterval(refresh);
    await connection.close();
    await client.connection.close();
    await store.close();
  });
  return {
    get worker() {
      return worker;
    },
    client,
    store,
    definitions,
    done,
    async shutdown() {
      stopping = true;
      wake.abort();
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
