/**
 * A Temporal cluster on one machine, started by the project: PostgreSQL (Debian's binaries, data
 * in `<dataDir>/postgres`), the real Temporal server built at a pinned version (`binaries.ts`)
 * with PostgreSQL persistence and SQL visibility, the `default` namespace with Custodia's search
 * attributes, and — for `npm run cluster` — Custodia worker and API processes against it with the
 * PostgreSQL records store. Every process it starts is supervised (restarted when it dies).
 * Re-running on the same `dataDir` reuses the data. `npm run cluster` and the `cluster` test
 * project's global setup both use `startCluster`.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../atomic-write.ts';
import { REPO_ROOT } from '../settings.ts';
import { ClusterSetupError, ensureServerBinaries } from './binaries.ts';
import { startPostgres, type ClusterPostgres } from './postgres.ts';
import { supervise, type Supervised } from './supervise.ts';
import {
  busyPorts,
  portFree,
  portsFrom,
  prepareNamespace,
  prepareSchemas,
  serverArgs,
  waitForFrontend,
  writeServerConfig,
  type TemporalPorts,
} from './temporal-server.ts';

export interface ClusterOptions {
  /** Everything the cluster keeps: `postgres/`, `temporal/`, `logs/`, `checkpoints/`, `cluster.json`. */
  dataDir: string;
  /** gRPC frontend port; the other services' ports follow it (`portsFrom`). Default 7233. */
  temporalPort?: number;
  /** Default 5433. */
  pgPort?: number;
  namespace?: string;
  /** Custodia worker processes. Default 0. */
  workers?: number;
  /** One Custodia API process per port. Default none. */
  apiPorts?: number[];
  /** The records database on the cluster's PostgreSQL. Default `custodia`. */
  recordsDb?: string;
  /** Base environment of the worker and API processes (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** `tools/`, where `temporal-server-<v>` links to the cached build. */
  toolsDir?: string;
  /** Cluster notices (one line each). */
  log?: (line: string) => void;
  /** Each output line of a worker or API process. */
  processLine?: (name: string, line: string) => void;
}

export interface ClusterApi {
  url: string;
  process: Supervised;
}

export interface Cluster {
  /** host:port of the Temporal frontend. */
  address: string;
  namespace: string;
  ports: TemporalPorts;
  postgres: ClusterPostgres;
  /** PostgreSQL URL of the records database (DATABASE_URL of the workers and APIs). */
  databaseUrl: string;
  /** Where `npm run cluster`'s processes keep audit checkpoints (CUSTODIA_CHECKPOINT_DIR). */
  checkpointDir: string;
  temporal: Supervised;
  workers: Supervised[];
  apis: ClusterApi[];
  /** `<dataDir>/cluster.json`: addresses and current pids (rewritten on every (re)start). */
  stateFile: string;
  /** Stop the APIs, the workers, the Temporal server and PostgreSQL (the data stays). */
  stop(): Promise<void>;
}

/** What `cluster.json` holds. */
export interface ClusterState {
  address: string;
  namespace: string;
  databaseUrl: string;
  pgPort: number;
  temporalPid: number | null;
  workers: (number | null)[];
  apis: { url: string; pid: number | null }[];
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const log = opts.log ?? (() => {});
  const dataDir = path.resolve(opts.dataDir);
  const namespace = opts.namespace ?? 'default';
  const ports = portsFrom(opts.temporalPort ?? 7233);
  const address = `127.0.0.1:${ports.frontend}`;
  if (ports.workerMembership > 32_767 || ports.frontendMembership < 1_024) {
    // The server keeps membership ports in a smallint column.
    throw new ClusterSetupError(
      `--temporal-port ${ports.frontend} puts the membership ports at ${ports.frontendMembership}–${ports.workerMembership}: choose a port between 1324 and 32067`,
    );
  }
  const busy = await busyPorts(ports);
  if (busy.length) {
    throw new ClusterSetupError(
      `Temporal server ports ${busy.join(', ')} on 127.0.0.1 are in use (another Temporal server or cluster?): ` +
        `stop it, or move the cluster with --temporal-port (the other ports follow it)`,
    );
  }
  for (const port of opts.apiPorts ?? []) {
    if (!(await portFree(port)))
      throw new ClusterSetupError(
        `API port ${port} on 127.0.0.1 is in use: stop what listens there or choose another (--api-ports)`,
      );
  }

  const binaries = await ensureServerBinaries({ toolsDir: opts.toolsDir, log });
  mkdirSync(dataDir, { recursive: true });
  const postgres = await startPostgres(path.join(dataDir, 'postgres'), opts.pgPort ?? 5433, { log });
  const stopped: (() => Promise<void>)[] = [() => postgres.stop()];
  const stopAll = async (): Promise<void> => {
    for (const fn of stopped.reverse()) await fn();
    stopped.length = 0;
  };
  try {
    await prepareSchemas(binaries, postgres, log);
    const root = path.join(dataDir, 'temporal');
    writeServerConfig(root, binaries, ports, postgres.port);
    const stateFile = path.join(dataDir, 'cluster.json');
    const recordsDb = opts.recordsDb ?? 'custodia';
    const databaseUrl = postgres.url(recordsDb);
    const checkpointDir = path.join(dataDir, 'checkpoints');
    const state: ClusterState = {
      address,
      namespace,
      databaseUrl,
      pgPort: postgres.port,
      temporalPid: null,
      workers: [],
      apis: [],
    };
    // Replaced whole (others read it while processes restart: the chaos test, operators' tools).
    const save = (): void => writeFileAtomic(stateFile, `${JSON.stringify(state, null, 2)}\n`);

    const t0 = Date.now();
    const temporal = await supervise({
      name: 'temporal-server',
      command: binaries.server,
      args: serverArgs(root),
      cwd: root,
      logFile: path.join(dataDir, 'logs', 'temporal-server.log'),
      notice: log,
      ready: () => waitForFrontend(address),
      onStart: (pid) => {
        state.temporalPid = pid;
        save();
      },
    });
    stopped.push(() => temporal.stop());
    log(
      `Temporal server ${path.basename(binaries.dir)} at ${address} (pid ${String(temporal.pid())}, up in ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
    await prepareNamespace(address, namespace, log);
    await postgres.ensureDatabase(recordsDb);

    const env: NodeJS.ProcessEnv = {
      ...(opts.env ?? process.env),
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: namespace,
      DATABASE_URL: databaseUrl,
      CUSTODIA_CHECKPOINT_DIR: checkpointDir,
    };
    const node = (
      name: string,
      kind: 'worker' | 'api',
      extra: NodeJS.ProcessEnv,
      onStart: (pid: number) => void,
    ): Promise<Supervised> =>
      superviseCustodia({
        name,
        kind,
        env: { ...env, ...extra },
        logDir: path.join(dataDir, 'logs'),
        notice: log,
        onLine: (line) => opts.processLine?.(name, line),
        onStart: (pid) => {
          onStart(pid);
          save();
        },
      });

    // The first worker alone (it records the deployed definitions), then the others and the
    // APIs at once. A process that fails to start stops the whole cluster.
    const startWorker = async (i: number): Promise<Supervised> => {
      const w = await node(`worker-${i + 1}`, 'worker', {}, (pid) => {
        state.workers[i] = pid;
      });
      stopped.push(() => w.stop());
      return w;
    };
    const startApi = async (port: number, i: number): Promise<ClusterApi> => {
      const url = `http://127.0.0.1:${port}`;
      const p = await node(
        'api-' + String(i + 1),
        'api',
        { CUSTODIA_HTTP_PORT: String(port), CUSTODIA_HTTP_HOST: '127.0.0.1' },
        (pid) => {
          state.apis[i] = { url, pid };
        },
      );
      stopped.push(() => p.stop());
      return { url, process: p };
    };
    const workerCount = opts.workers ?? 0;
    const workers: Supervised[] = workerCount > 0 ? [await startWorker(0)] : [];
    const rest = await Promise.allSettled([
      ...Array.from({ length: Math.max(0, workerCount - 1) }, (_, i) => startWorker(i + 1)),
      ...(opts.apiPorts ?? []).map(startApi),
    ]);
    const failed = rest.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const values = rest.map((r) => (r as PromiseFulfilledResult<Supervised | ClusterApi>).value);
    workers.push(...(values.slice(0, workerCount - 1) as Supervised[]));
    const apis = values.slice(Math.max(0, workerCount - 1)) as ClusterApi[];
    save();
    return {
      address,
      namespace,
      ports,
      postgres,
      databaseUrl,
      checkpointDir,
      temporal,
      workers,
      apis,
      stateFile,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export interface CustodiaProcessOptions {
  name: string;
  /** `worker`: `worker/worker-main.ts`; `api`: `custodia serve` (CUSTODIA_HTTP_PORT in `env`). */
  kind: 'worker' | 'api';
  env: NodeJS.ProcessEnv;
  /** `<logDir>/<name>.log` gets its output. */
  logDir: string;
  notice: (line: string) => void;
  onLine?: (line: string) => void;
  onStart?: (pid: number) => void;
}

/** A supervised Custodia worker or API process; ready once it printed its start line. */
export function superviseCustodia(o: CustodiaProcessOptions): Promise<Supervised> {
  const [args, readyText] =
    o.kind === 'worker'
      ? [['worker/worker-main.ts'], /custodia worker: task queue/]
      : [['bin/custodia.mjs', 'serve'], /custodia: HTTP API at/];
  return supervise({
    name: o.name,
    command: process.execPath,
    args: ['--import', 'tsx', ...args],
    cwd: REPO_ROOT,
    env: o.env,
    logFile: path.join(o.logDir, `${o.name}.log`),
    notice: o.notice,
    onLine: o.onLine,
    onStart: o.onStart,
    ready: (child, output) =>
      new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (readyText.test(output())) {
            clearInterval(timer);
            resolve();
          }
        }, 100);
        child.once('exit', () => clearInterval(timer));
      }),
  });
}
