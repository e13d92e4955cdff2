/**
 * The real Temporal server (frontend, history, matching and worker services in one process) on
 * the cluster's PostgreSQL: its configuration (the module's `development-postgres12.yaml` with our
 * addresses and ports), the two schemas (persistence and SQL visibility, created and migrated with
 * the module's `temporal-sql-tool`), the `default` namespace and Custodia's search attributes.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import pg from 'pg';
import YAML from 'yaml';
import { ensureSearchAttributes } from '../temporal/dev-server.ts';
import { ClusterSetupError, type ServerBinaries } from './binaries.ts';
import type { ClusterPostgres } from './postgres.ts';

const run = promisify(execFile);

/** Every port the server listens on (all on 127.0.0.1). */
export interface TemporalPorts {
  frontend: number;
  frontendHttp: number;
  history: number;
  matching: number;
  worker: number;
  frontendMembership: number;
  historyMembership: number;
  matchingMembership: number;
  workerMembership: number;
  metrics: number;
}

/** The usual ports, moved by `frontend - 7233` (7233 → the stock layout). */
export function portsFrom(frontend: number): TemporalPorts {
  const d = frontend - 7233;
  return {
    frontend,
    frontendHttp: 7243 + d,
    history: 7234 + d,
    matching: 7235 + d,
    worker: 7239 + d,
    frontendMembership: 6933 + d,
    historyMembership: 6934 + d,
    matchingMembership: 6935 + d,
    workerMembership: 6939 + d,
    metrics: 8000 + d,
  };
}

/** Whether nothing listens on `host:port` (tries to bind it). */
export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** The ports of `ports` something already listens on. */
export async function busyPorts(ports: TemporalPorts, host = '127.0.0.1'): Promise<number[]> {
  const busy: number[] = [];
  for (const port of Object.values(ports)) if (!(await portFree(port, host))) busy.push(port);
  return busy;
}

export const PERSISTENCE_DB = 'temporal';
export const VISIBILITY_DB = 'temporal_visibility';

/**
 * Write `<root>/config/development.yaml` (and its dynamic config) for `ports` and the PostgreSQL
 * on `pgPort`. Rewritten on every start, so changing ports needs no manual edit.
 */
export function writeServerConfig(
  root: string,
  binaries: ServerBinaries,
  ports: TemporalPorts,
  pgPort: number,
): void {
  const config = YAML.parse(readFileSync(binaries.configTemplate, 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  config.log = { stdout: true, level: 'warn' };
  for (const store of Object.values(
    config.persistence.datastores as Record<string, { sql: Record<string, unknown> }>,
  )) {
    store.sql.connectAddr = `127.0.0.1:${pgPort}`;
    store.sql.user = 'postgres';
    store.sql.password = '';
  }
  config.persistence.datastores['postgres-default'].sql.databaseName = PERSISTENCE_DB;
  config.persistence.datastores['postgres-visibility'].sql.databaseName = VISIBILITY_DB;
  config.persistence.datastores['postgres-visibility'].sql.maxConns = 10;
  config.persistence.datastores['postgres-visibility'].sql.maxIdleConns = 10;
  delete config.global.pprof;
  config.global.metrics.prometheus.listenAddress = `127.0.0.1:${ports.metrics}`;
  const svc = config.services as Record<string, { rpc: Record<string, unknown> }>;
  Object.assign(svc.frontend!.rpc, {
    grpcPort: ports.frontend,
    membershipPort: ports.frontendMembership,
    httpPort: ports.frontendHttp,
  });
  Object.assign(svc.history!.rpc, { grpcPort: ports.history, membershipPort: ports.historyMembership });
  Object.assign(svc.matching!.rpc, { grpcPort: ports.matching, membershipPort: ports.matchingMembership });
  Object.assign(svc.worker!.rpc, { grpcPort: ports.worker, membershipPort: ports.workerMembership });
  config.clusterMetadata.clusterInformation.active.rpcAddress = `127.0.0.1:${ports.frontend}`;
  // Archival off: nothing to write under /tmp.
  config.archival = { history: { state: 'disabled' }, visibility: { state: 'disabled' } };
  config.namespaceDefaults = {
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
  };
  config.dynamicConfigClient = { filepath: 'config/dynamicconfig/custodia.yaml', pollInterval: '10s' };
  mkdirSync(path.join(root, 'config', 'dynamicconfig'), { recursive: true });
  writeFileSync(path.join(root, 'config', 'development.yaml'), YAML.stringify(config));
  const dynamic = {
    'limit.maxIDLength': [{ value: 255, constraints: {} }],
    // Search attributes registered a moment ago are usable at once (the dev server does the same).
    'system.forceSearchAttributesCacheRefreshOnRead': [{ value: true, constraints: {} }],
    'frontend.enableUpdateWorkflowExecution': [{ value: true, constraints: {} }],
  };
  writeFileSync(path.join(root, 'config', 'dynamicconfig', 'custodia.yaml'), YAML.stringify(dynamic));
}

/**
 * Create (when new) and migrate (always; a no-op when current) the persistence and visibility
 * schemas with the module's `temporal-sql-tool`.
 */
export async function prepareSchemas(
  binaries: ServerBinaries,
  postgres: ClusterPostgres,
  log: (line: string) => void,
): Promise<void> {
  for (const [db, dir] of [
    [PERSISTENCE_DB, 'temporal'],
    [VISIBILITY_DB, 'visibility'],
  ] as const) {
    await postgres.ensureDatabase(db);
    const common = [
      '--plugin',
      'postgres12',
      '--ep',
      '127.0.0.1',
      '-p',
      String(postgres.port),
      '-u',
      'postgres',
      '--db',
      db,
    ];
    const client = new pg.Client({ connectionString: postgres.url(db) });
    await client.connect();
    let fresh: boolean;
    try {
      const res = await client.query<{ t: string | null }>("SELECT to_regclass('schema_version')::text AS t");
      fresh = res.rows[0]?.t == null;
    } finally {
      await client.end();
    }
    try {
      if (fresh) {
        log(`creating the ${dir} schema in database ${db}`);
        await run(binaries.sqlTool, [...common, 'setup-schema', '-v', '0.0'], { timeout: 120_000 });
      }
      await run(
        binaries.sqlTool,
        [...common, 'update-schema', '-d', path.join(binaries.schemaDir, dir, 'versioned')],
        {
          timeout: 300_000,
        },
      );
    } catch (err) {
      const e = err as Error & { stdout?: string; stderr?: string };
      throw new Error(`temporal-sql-tool on ${db} failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`, {
        cause: err,
      });
    }
  }
}

/** Arguments of the server process for the config written by `writeServerConfig`. */
export function serverArgs(root: string): string[] {
  return ['--root', root, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'];
}

/** Resolve once the frontend at `address` answers (any namespace call); throw after `timeoutMs`. */
export async function waitForFrontend(address: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.workflowService.getSystemInfo({});
      await connection.workflowService.describeNamespace({ namespace: 'temporal-system' });
      return;
    } catch (err) {
      last = err;
    } finally {
      await connection?.close().catch(() => {});
    }
    await sleep(250);
  }
  throw new Error(
    `the Temporal server at ${address} did not answer within ${timeoutMs / 1000} s: ${String(last)}`,
  );
}

/**
 * Register `namespace` (when new) and Custodia's search attributes; wait until the namespace
 * serves (the frontend's namespace cache refreshes every few seconds).
 */
export async function prepareNamespace(
  address: string,
  namespace: string,
  log: (line: string) => void,
  retentionDays = 30,
): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    try {
      await connection.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs(retentionDays * 86_400_000),
      });
      log(`namespace "${namespace}" created (retention ${retentionDays} days)`);
    } catch (err) {
      if (!/already exists|AlreadyExists/i.test(String(err))) throw err;
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await connection.workflowService.describeNamespace({ namespace });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(500);
      }
    }
    const sa = await ensureSearchAttributes(connection, namespace);
    if (sa.created.length) log(`search attributes registered: ${sa.created.join(', ')}`);
    // The list answers from the frontend's cache: wait until visibility sees them all.
    for (;;) {
      try {
        await connection.workflowService.countWorkflowExecutions({
          namespace,
          query: 'CustodiaProcedure = "x" AND CustodiaState = "x" AND CustodiaDueAt > "2000-01-01T00:00:00Z"',
        });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(500);
      }
    }
  } finally {
    await connection.close();
  }
}

export { ClusterSetupError };
