/**
 * The local Temporal dev server (`temporal server start-dev`), and registration of Custodia's
 * search attributes on any server.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import type { CustodiaConfig, TemporalConnectionOptions } from '../config.ts';
import { resolveTemporalBinary } from './binary.ts';
import {
  INDEXED_VALUE_TYPES,
  SEARCH_ATTRIBUTES,
  indexedValueTypeName,
  searchAttributeArgs,
} from './search-attributes.ts';
import type { CustodiaSearchAttribute } from './search-attributes.ts';

export interface DevServerOptions {
  /** SQLite file (its folder is created); `null` = in memory. Default: `config.devServer.dbFile`. */
  dbFile?: string | null;
  /** gRPC port; `0` = pick a free port. Default: `config.devServer.port`. */
  port?: number;
  /** Web UI port; `0` = pick a free port; `null` = no UI. Default: `config.devServer.uiPort`. */
  uiPort?: number | null;
  /** Bind address. Default: `config.devServer.ip`. */
  ip?: string;
  /** Receives every line the server prints. Default: none (lines are still kept for errors). */
  log?: (line: string) => void;
  /** How long to wait for the server to accept connections. Default 60 s. */
  startTimeoutMs?: number;
  /** The `temporal` binary. Default: `resolveTemporalBinary(config)`. */
  binary?: string;
  /** SQLite pragmas for a file-backed server (`--sqlite-pragma NAME=VALUE`), e.g. `journal_mode=wal`. */
  sqlitePragmas?: string[];
  /** Picks the port when `0` was asked for. Default: `freePort` (the kernel's choice). */
  pickPort?: (host: string) => Promise<number>;
}

/**
 * How many starts the dev server gets when a port picked for it (`0` asked for), or one it picked
 * for itself, is taken between the pick and the bind: the kernel may hand that port to anyone
 * meanwhile. Each start picks again. A port asked for by number is never retried: it is refused,
 * named.
 */
const PICKED_PORT_ATTEMPTS = 3;

/**
 * The server cannot bind `port`: something else listens on it. `ownPick`: a port the server chose
 * for itself (its internal services' ports: it takes free ones as it starts, the same race), which
 * a new start chooses again.
 */
class PortTakenError extends Error {
  override name = 'PortTakenError';
  constructor(
    message: string,
    readonly port: number,
    readonly ownPick = false,
  ) {
    super(message);
  }
}

/** The port a dev server's output says it could not bind, if it says so. */
export function portTakenIn(lines: readonly string[]): number | undefined {
  for (const line of lines) {
    const m = /:(\d+): bind: address already in use/i.exec(line);
    if (m) return Number(m[1]);
  }
  return undefined;
}

export interface DevServer {
  /** `host:port` of the gRPC frontend. */
  address: string;
  /** The gRPC port (resolved when `0` was asked for). */
  port: number;
  /** The web UI port, or `null` when the UI is disabled. */
  uiPort: number | null;
  /** Resolves when the server process has exited (for whatever reason). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  namespace: string;
  /** Web UI URL, or `null` when the UI is disabled. */
  uiUrl: string | null;
  process: ChildProcess;
  /** What `ensureSearchAttributes` found and registered at start. */
  searchAttributes: EnsureSearchAttributesResult;
  /** SIGTERM, then SIGKILL after `timeoutMs` (default 10 s). Safe to call more than once. */
  stop(timeoutMs?: number): Promise<void>;
}

/** A TCP port that is free on `host` right now. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const addr = server.address();
      server.close(() => {
        if (addr && typeof addr === 'object') resolve(addr.port);
        else reject(new Error(`could not get a free port on ${host}`));
      });
    });
  });
}

/** Whether something already listens on `host:port` (tries to bind it). */
function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(true);
      else reject(err);
    });
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(false)));
  });
}

function portInUseError(host: string, port: number, what: 'gRPC' | 'Web UI'): PortTakenError {
  const reuse =
    what === 'gRPC'
      ? `, or — if it is a Temporal server you want to use — set TEMPORAL_ADDRESS=${hostPort(host, port)}`
      : '';
  return new PortTakenError(
    `Cannot start the Temporal dev server: ${what} port ${port} on ${host} is already in use ` +
      `(another dev server, or another program). Stop it, or choose another port ` +
      `(TEMPORAL_DEV_PORT / TEMPORAL_DEV_UI_PORT; 0 = any free port; TEMPORAL_DEV_UI_PORT=off disables the UI)${reuse}.`,
    port,
  );
}

function hostPort(ip: string, port: number): string {
  const host = ip === '0.0.0.0' ? '127.0.0.1' : ip === '::' ? '::1' : ip;
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Start `temporal server start-dev`, wait until it serves the namespace, register any missing
 * search attributes (the `--search-attribute` flags only apply when the namespace is created,
 * so they are skipped on an existing SQLite file), and return a handle to stop it.
 */
export async function startDevServer(
  config: CustodiaConfig,
  opts: DevServerOptions = {},
): Promise<DevServer> {
  const ds = config.devServer;
  const ip = opts.ip ?? ds.ip;
  const log = opts.log ?? (() => {});
  const binary = opts.binary ?? (await resolveTemporalBinary(config, { log }));
  const askedPort = opts.port ?? ds.port;
  const askedUiPort = opts.uiPort !== undefined ? opts.uiPort : ds.uiPort;
  const pick = opts.pickPort ?? freePort;
  for (let attempt = 1; ; attempt++) {
    const port = askedPort === 0 ? await pick(ip) : askedPort;
    const uiPort = askedUiPort === 0 ? await pick(ip) : askedUiPort;
    try {
      return await startOnce(config, { ...opts, ip, log, binary }, port, uiPort);
    } catch (err) {
      const picked =
        err instanceof PortTakenError &&
        (err.ownPick || (askedPort === 0 && err.port === port) || (askedUiPort === 0 && err.port === uiPort));
      if (!picked || attempt >= PICKED_PORT_ATTEMPTS) throw err;
      log(
        `Port ${err.port} was taken between picking it and starting the server; ` +
          `picking another (start ${attempt + 1} of ${PICKED_PORT_ATTEMPTS}).`,
      );
    }
  }
}

/** One start of the dev server on `port` and `uiPort` (no `0`: picked already). */
async function startOnce(
  config: CustodiaConfig,
  opts: DevServerOptions & { ip: string; log: (line: string) => void; binary: string },
  port: number,
  uiPort: number | null,
): Promise<DevServer> {
  const { ip, log, binary } = opts;
  const namespace = config.namespace;
  const dbFile = opts.dbFile !== undefined ? opts.dbFile : config.devServer.dbFile;
  if (await portInUse(ip, port)) throw portInUseError(ip, port, 'gRPC');
  if (uiPort !== null && (await portInUse(ip, uiPort))) throw portInUseError(ip, uiPort, 'Web UI');

  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(port),
    '--log-level',
    config.devServer.logLevel,
  ];
  args.push(...(uiPort === null ? ['--headless'] : ['--ui-port', String(uiPort)]));
  if (dbFile !== null) {
    try {
      mkdirSync(path.dirname(dbFile), { recursive: true });
    } catch (err) {
      throw new Error(
        `Cannot create the folder of the dev server database ${dbFile} (devServer.dbFile / TEMPORAL_DEV_DB_FILE): ` +
          (err instanceof Error ? err.message : String(err)),
        { cause: err },
      );
    }
    args.push('--db-filename', dbFile);
    for (const pragma of opts.sqlitePragmas ?? []) args.push('--sqlite-pragma', pragma);
  }
  args.push('--namespace', namespace, ...searchAttributeArgs());

  const address = hostPort(ip, port);
  const output: string[] = [];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const onLine = (line: string): void => {
    if (!line.trim()) return;
    output.push(line);
    if (output.length > 60) output.shift();
    log(line);
  };
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (pending + chunk).split(/\r?\n/);
      pending = lines.pop() ?? '';
      lines.forEach(onLine);
    });
    stream.on('end', () => onLine(pending));
  }

  let exit: { code: number | null; signal: NodeJS.Signals | null; error?: Error } | undefined;
  // Never leave an orphan server behind when this process exits without calling stop().
  const killOnExit = (): void => {
    if (!exit) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => {
    child.once('error', (error) => {
      exit = { code: null, signal: null, error };
      process.removeListener('exit', killOnExit);
      resolve();
    });
    child.once('exit', (code, signal) => {
      exit ??= { code, signal };
      process.removeListener('exit', killOnExit);
      resolve();
    });
  });

  const stop = async (timeoutMs = 10_000): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (exit) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (!exit) child.kill('SIGKILL');
    }, timeoutMs);
    await exited;
    clearTimeout(timer);
  };

  const lastOutput = (): string =>
    output.length
      ? `\nLast server output:\n  ${output.slice(-20).join('\n  ')}`
      : '\n(the server printed nothing)';
  const describeExit = (): string =>
    exit?.error
      ? `could not run ${binary}: ${exit.error.message}`
      : `the server exited (code ${String(exit?.code)}, signal ${String(exit?.signal)})`;

  const failure = (): Error | undefined => {
    if (!exit) return undefined;
    const taken = portTakenIn(output);
    if (taken === port) return portInUseError(ip, port, 'gRPC');
    if (taken === uiPort) return portInUseError(ip, taken, 'Web UI');
    const failed = `Temporal dev server failed to start: ${describeExit()}.${lastOutput()}`;
    return taken === undefined ? new Error(failed) : new PortTakenError(failed, taken, true);
  };
  let searchAttributes: EnsureSearchAttributesResult;
  try {
    const connection = await waitUntilServing(address, namespace, opts.startTimeoutMs ?? 60_000, failure);
    try {
      searchAttributes = await ensureSearchAttributes(connection, namespace);
      if (searchAttributes.created.length) {
        log(`Registered search attributes on "${namespace}": ${searchAttributes.created.join(', ')}`);
      }
    } finally {
      await connection.close();
    }
  } catch (err) {
    await stop(2_000);
    if (err instanceof TimeoutError) throw new Error(`${err.message}${lastOutput()}`, { cause: err });
    throw err;
  }

  const uiUrl = uiPort === null ? null : `http://${hostPort(ip, uiPort)}`;
  return {
    address,
    port,
    uiPort,
    exited: exited.then(() => ({ code: exit?.code ?? null, signal: exit?.signal ?? null })),
    namespace,
    uiUrl,
    process: child,
    searchAttributes,
    stop,
  };
}

class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/** Poll until `namespace` answers `describeNamespace`; `failed()` reports an early exit. */
async function waitUntilServing(
  address: string,
  namespace: string,
  timeoutMs: number,
  failed: () => Error | undefined,
): Promise<Connection> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const early = failed();
    if (early) {
      await sleep(100); // the last lines of stderr may still be in flight
      throw failed() ?? early;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new TimeoutError(
        `Temporal dev server at ${address} did not become ready within ${timeoutMs / 1000} s${why}.`,
      );
    }
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.workflowService.describeNamespace({ namespace });
      return connection;
    } catch (err) {
      lastError = err;
      await connection?.close().catch(() => {});
      await sleep(200);
    }
  }
}

export interface EnsureSearchAttributesResult {
  /** Attributes this call registered. */
  created: CustodiaSearchAttribute[];
  /** Attributes that were already registered with the right type. */
  existing: CustodiaSearchAttribute[];
}

/**
 * Register Custodia's search attributes on `namespace` where missing (idempotent). Throws when
 * one is registered with another type. `target`: an address, connection options (TLS, API key)
 * or an open `Connection` (left open).
 *
 * Uses the OperatorService, which self-hosted clusters allow; on Temporal Cloud register them
 * with `tcld` or the Cloud UI instead.
 */
export async function ensureSearchAttributes(
  target: string | TemporalConnectionOptions | Connection,
  namespace: string,
): Promise<EnsureSearchAttributesResult> {
  const own = !(target instanceof Connection);
  const connection =
    target instanceof Connection
      ? target
      : await Connection.connect(typeof target === 'string' ? { address: target } : target);
  try {
    const list = async (): Promise<Record<string, unknown>> => {
      const res = await connection.operatorService.listSearchAttributes({ namespace });
      return { ...(res.systemAttributes ?? {}), ...(res.customAttributes ?? {}) };
    };
    const registered = await list();
    const result: EnsureSearchAttributesResult = { created: [], existing: [] };
    const wrong: string[] = [];
    const missing: Record<string, number> = {};
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES) as [CustodiaSearchAttribute, string][]) {
      if (!(name in registered)) {
        missing[name] = INDEXED_VALUE_TYPES[type as keyof typeof INDEXED_VALUE_TYPES];
        result.created.push(name);
      } else if (indexedValueTypeName(registered[name]) === type) {
        result.existing.push(name);
      } else {
        wrong.push(
          `${name} is ${indexedValueTypeName(registered[name]) ?? String(registered[name])}, expected ${type}`,
        );
      }
    }
    if (wrong.length) {
      throw new Error(
        `Search attributes on namespace "${namespace}" have the wrong type: ${wrong.join('; ')}. ` +
          'Remove them (temporal operator search-attribute remove) or use another namespace.',
      );
    }
    if (result.created.length === 0) return result;
    try {
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
    } catch (err) {
      const names = result.created.map((n) => `${n}=${SEARCH_ATTRIBUTES[n]}`).join(' ');
      throw new Error(
        `Could not register search attributes ${result.created.join(', ')} on namespace "${namespace}": ` +
          `${err instanceof Error ? err.message : String(err)}. Register them with ` +
          `\`temporal operator search-attribute create --namespace ${namespace} ${result.created
            .map((n) => `--name ${n} --type ${SEARCH_ATTRIBUTES[n]}`)
            .join(' ')}\` (self-hosted) or tcld / the Cloud UI (Temporal Cloud) [${names}].`,
        { cause: err },
      );
    }
    // Registration is asynchronous on some servers: wait until the listing shows them all.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const now = await list();
      if (result.created.every((n) => n in now)) break;
      if (Date.now() > deadline) {
        throw new Error(
          `Search attributes ${result.created.join(', ')} did not appear on "${namespace}" within 15 s`,
        );
      }
      await sleep(250);
    }
    return result;
  } finally {
    if (own) await connection.close();
  }
}
