import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  connectionOptions,
  ENV_OVERRIDES,
  loadConfig,
  localDevServerAddress,
  REPO_ROOT,
} from '../../worker/config.ts';
import type { CustodiaConfig } from '../../worker/config.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'custodia-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(yaml: string): string {
  const f = path.join(dir, `c${n++}.yaml`);
  writeFileSync(f, yaml);
  return f;
}

/** The shipped file with no environment. */
const base = (env: NodeJS.ProcessEnv = {}): CustodiaConfig => loadConfig({ env, root: REPO_ROOT });

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig: the shipped temporal.config.yaml', () => {
  it('has the contract defaults', () => {
    const c = base();
    expect(c.file).toBe(path.join(REPO_ROOT, 'temporal.config.yaml'));
    expect(c.address).toBeNull();
    expect(c.namespace).toBe('default');
    expect(c.taskQueue).toBe('custodia');
    expect(c.apiKey).toBeNull();
    expect(c.metadata).toEqual({});
    expect(c.tls).toEqual({
      enabled: null,
      clientCertPath: null,
      clientKeyPath: null,
      serverRootCACertPath: null,
      serverNameOverride: null,
    });
    expect(c.devServer).toEqual({
      binary: null,
      version: '1.9.1',
      toolsDir: path.join(REPO_ROOT, 'tools'),
      dbFile: path.join(REPO_ROOT, 'data', 'temporal.db'),
      ip: '127.0.0.1',
      port: 7233,
      uiPort: 8233,
      logLevel: 'warn',
    });
  });

  it('matches the built-in defaults used when there is no file', () => {
    const emptyRoot = mkdtempSync(path.join(dir, 'root-'));
    const builtIn = loadConfig({ env: {}, root: emptyRoot });
    expect(builtIn.file).toBeNull();
    const shipped = base();
    const relative = (c: CustodiaConfig, root: string): unknown => ({
      ...c,
      root: undefined,
      file: undefined,
      devServer: {
        ...c.devServer,
        toolsDir: path.relative(root, c.devServer.toolsDir),
        dbFile: c.devServer.dbFile && path.relative(root, c.devServer.dbFile),
      },
    });
    expect(relative(builtIn, emptyRoot)).toEqual(relative(shipped, REPO_ROOT));
  });

  it('does not read process.env when an env is given', () => {
    const saved = process.env.TEMPORAL_NAMESPACE;
    process.env.TEMPORAL_NAMESPACE = 'from-process-env';
    try {
      expect(base().namespace).toBe('default');
      expect(loadConfig().namespace).toBe('from-process-env');
    } finally {
      if (saved === undefined) delete process.env.TEMPORAL_NAMESPACE;
      else process.env.TEMPORAL_NAMESPACE = saved;
    }
  });
});

describe('loadConfig: environment overrides', () => {
  it.each<[string, string, (c: CustodiaConfig) => unknown, unknown]>([
    ['TEMPORAL_ADDRESS', 'temporal.example.com:7233', (c) => c.address, 'temporal.example.com:7233'],
    ['TEMPORAL_ADDRESS', 'localhost', (c) => c.address, 'localhost'],
    ['TEMPORAL_ADDRESS', '[::1]:7233', (c) => c.address, '[::1]:7233'],
    ['TEMPORAL_NAMESPACE', 'prod', (c) => c.namespace, 'prod'],
    ['CUSTODIA_TASK_QUEUE', 'custodia-2', (c) => c.taskQueue, 'custodia-2'],
    ['TEMPORAL_TLS', 'true', (c) => c.tls.enabled, true],
    ['TEMPORAL_TLS', 'off', (c) => c.tls.enabled, false],
    [
      'TEMPORAL_TLS_CA',
      'certs/ca.pem',
      (c) => c.tls.serverRootCACertPath,
      path.join(REPO_ROOT, 'certs/ca.pem'),
    ],
    ['TEMPORAL_TLS_CA', '/abs/ca.pem', (c) => c.tls.serverRootCACertPath, path.resolve('/abs/ca.pem')],
    ['TEMPORAL_TLS_SERVER_NAME', 'tmprl.example', (c) => c.tls.serverNameOverride, 'tmprl.example'],
    ['TEMPORAL_API_KEY', 'secret', (c) => c.apiKey, 'secret'],
    [
      'TEMPORAL_GRPC_META',
      'X-Team=audit, x-env = test',
      (c) => c.metadata,
      { 'x-team': 'audit', 'x-env': 'test' },
    ],
    ['TEMPORAL_BINARY', 'bin/temporal', (c) => c.devServer.binary, path.join(REPO_ROOT, 'bin/temporal')],
    ['TEMPORAL_DEV_DB_FILE', 'other/t.db', (c) => c.devServer.dbFile, path.join(REPO_ROOT, 'other/t.db')],
    ['TEMPORAL_DEV_DB_FILE', ':memory:', (c) => c.devServer.dbFile, null],
    ['TEMPORAL_DEV_IP', '0.0.0.0', (c) => c.devServer.ip, '0.0.0.0'],
    ['TEMPORAL_DEV_PORT', '7300', (c) => c.devServer.port, 7300],
    ['TEMPORAL_DEV_PORT', '0', (c) => c.devServer.port, 0],
    ['TEMPORAL_DEV_UI_PORT', '9000', (c) => c.devServer.uiPort, 9000],
    ['TEMPORAL_DEV_UI_PORT', 'off', (c) => c.devServer.uiPort, null],
    ['TEMPORAL_DEV_UI_PORT', 'none', (c) => c.devServer.uiPort, null],
    ['TEMPORAL_DEV_LOG_LEVEL', 'ERROR', (c) => c.devServer.logLevel, 'error'],
    // empty means unset
    ['TEMPORAL_ADDRESS', '', (c) => c.address, null],
    ['TEMPORAL_DEV_PORT', '', (c) => c.devServer.port, 7233],
  ])('%s=%j', (variable, value, pick, expected) => {
    expect(pick(base({ [variable]: value }))).toEqual(expected);
  });

  it('every variable in ENV_OVERRIDES is named in temporal.config.yaml', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(path.join(REPO_ROOT, 'temporal.config.yaml'), 'utf8');
    for (const variable of Object.keys(ENV_OVERRIDES)) expect(text).toContain(variable);
  });

  it('the environment wins over the file', () => {
    const f = file('namespace: from-file\ndevServer:\n  port: 7400\n');
    const c = loadConfig({ file: f, env: { TEMPORAL_NAMESPACE: 'from-env' } });
    expect(c.namespace).toBe('from-env');
    expect(c.devServer.port).toBe(7400);
    expect(c.devServer.uiPort).toBe(8233); // untouched keys keep their defaults
  });

  it('resolves relative paths in the file against the root', () => {
    const f = file('devServer:\n  toolsDir: ../t\n  dbFile: null\n  uiPort: null\n');
    const c = loadConfig({ file: f, env: {}, root: '/srv/custodia' });
    expect(c.devServer.toolsDir).toBe(path.resolve('/srv/t'));
    expect(c.devServer.dbFile).toBeNull();
    expect(c.devServer.uiPort).toBeNull();
  });
});

describe('loadConfig: bad values name the key', () => {
  it.each<[NodeJS.ProcessEnv, string, RegExp]>([
    [
      { TEMPORAL_DEV_PORT: 'abc' },
      'devServer.port',
      /devServer\.port must be an integer .*"abc" from TEMPORAL_DEV_PORT/,
    ],
    [{ TEMPORAL_DEV_PORT: '70000' }, 'devServer.port', /devServer\.port/],
    [{ TEMPORAL_DEV_PORT: '-1' }, 'devServer.port', /devServer\.port/],
    [{ TEMPORAL_DEV_PORT: '72.5' }, 'devServer.port', /devServer\.port/],
    [{ TEMPORAL_DEV_UI_PORT: 'maybe' }, 'devServer.uiPort', /devServer\.uiPort .*"off"/],
    [
      { TEMPORAL_TLS: 'perhaps' },
      'tls.enabled',
      /tls\.enabled must be true, false or null; got "perhaps" from TEMPORAL_TLS/,
    ],
    [{ TEMPORAL_DEV_LOG_LEVEL: 'loud' }, 'devServer.logLevel', /one of debug, info, warn, error, never/],
    [{ TEMPORAL_ADDRESS: 'http://temporal:7233' }, 'address', /without a scheme/],
    [{ TEMPORAL_ADDRESS: 'host:99999' }, 'address', /address/],
    [{ TEMPORAL_ADDRESS: 'two words' }, 'address', /address/],
    [{ TEMPORAL_NAMESPACE: 'has space' }, 'namespace', /namespace/],
    [{ TEMPORAL_GRPC_META: 'novalue' }, 'metadata', /key=value/],
    [
      { TEMPORAL_TLS_CERT: 'c.pem' },
      'tls.clientKeyPath',
      /tls\.clientKeyPath \(TEMPORAL_TLS_KEY\) is required/,
    ],
    [
      { TEMPORAL_TLS_KEY: 'k.pem' },
      'tls.clientCertPath',
      /tls\.clientCertPath \(TEMPORAL_TLS_CERT\) is required/,
    ],
  ])('%j → %s', (env, key, message) => {
    const err = configError(() => base(env));
    expect(err.key).toBe(key);
    expect(err.message).toMatch(message);
  });

  it.each<[string, string, RegExp]>([
    [
      'devServer:\n  port: seven\n',
      'devServer.port',
      /got "seven" in .*c\d+\.yaml \(or set TEMPORAL_DEV_PORT\)/,
    ],
    ['devServer:\n  version: 1.9\n', 'devServer.version', /quoted version/],
    ['taskQueue: 12\n', 'taskQueue', /taskQueue must be a string/],
    ['namespace: ""\n', 'namespace', /namespace must be a non-empty string/],
    ['devserver:\n  port: 1\n', 'devserver', /unknown setting "devserver"/],
    ['devServer:\n  prot: 1\n', 'devServer.prot', /unknown setting "devServer.prot" .*devServer\.port/],
    ['tls: yes\n', 'tls', /tls must be a mapping/],
    ['metadata:\n  x-a: [1]\n', 'metadata.x-a', /metadata\.x-a must be a string/],
  ])('file %j → %s', (yaml, key, message) => {
    const err = configError(() => loadConfig({ file: file(yaml), env: {} }));
    expect(err.key).toBe(key);
    expect(err.message).toMatch(message);
  });

  it('reports YAML syntax errors with file:line:col', () => {
    const f = file('namespace: default\ndevServer:\n  port: [1\n');
    const err = configError(() => loadConfig({ file: f, env: {} }));
    expect(err.message).toMatch(
      new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: invalid YAML`),
    );
  });

  it('reports a missing explicit file', () => {
    expect(() => loadConfig({ file: path.join(dir, 'nope.yaml'), env: {} })).toThrow(
      /settings file not found/,
    );
  });

  it('accepts an empty file (all defaults)', () => {
    expect(loadConfig({ file: file(''), env: {} }).namespace).toBe('default');
  });
});

describe('connectionOptions', () => {
  it('local dev server: configured ip and port, no TLS or API key even if set', () => {
    const c = base({ TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'true', TEMPORAL_DEV_PORT: '7301' });
    expect(connectionOptions(c)).toEqual({ address: '127.0.0.1:7301' });
    expect(connectionOptions(c, '127.0.0.1:40000')).toEqual({ address: '127.0.0.1:40000' });
  });

  it('local dev server on 0.0.0.0 / :: connects to loopback', () => {
    expect(localDevServerAddress(base({ TEMPORAL_DEV_IP: '0.0.0.0' }))).toBe('127.0.0.1:7233');
    expect(localDevServerAddress(base({ TEMPORAL_DEV_IP: '::' }))).toBe('[::1]:7233');
  });

  it('local dev server on port 0 needs the real address', () => {
    expect(() => connectionOptions(base({ TEMPORAL_DEV_PORT: '0' }))).toThrow(/devServer\.port is 0/);
  });

  it('external cluster, no TLS settings: plain', () => {
    expect(connectionOptions(base({ TEMPORAL_ADDRESS: 'temporal:7233' }))).toEqual({
      address: 'temporal:7233',
    });
  });

  it('API key turns TLS on; TEMPORAL_TLS=false turns it off again', () => {
    const env = { TEMPORAL_ADDRESS: 'ns.tmprl.cloud:7233', TEMPORAL_API_KEY: 'k' };
    expect(connectionOptions(base(env))).toEqual({ address: 'ns.tmprl.cloud:7233', apiKey: 'k', tls: true });
    expect(connectionOptions(base({ ...env, TEMPORAL_TLS: 'false' }))).toEqual({
      address: 'ns.tmprl.cloud:7233',
      apiKey: 'k',
      tls: false,
    });
  });

  it('mTLS: reads the certificate files; metadata passes through', () => {
    const crt = path.join(dir, 'client.pem');
    const key = path.join(dir, 'client.key');
    const ca = path.join(dir, 'ca.pem');
    writeFileSync(crt, 'CERT');
    writeFileSync(key, 'KEY');
    writeFileSync(ca, 'CA');
    const opts = connectionOptions(
      base({
        TEMPORAL_ADDRESS: 'temporal:7233',
        TEMPORAL_TLS_CERT: crt,
        TEMPORAL_TLS_KEY: key,
        TEMPORAL_TLS_CA: ca,
        TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
        TEMPORAL_GRPC_META: 'x-team=audit',
      }),
    );
    expect(opts.address).toBe('temporal:7233');
    expect(opts.metadata).toEqual({ 'x-team': 'audit' });
    const tls = opts.tls as { clientCertPair: { crt: Buffer; key: Buffer }; serverRootCACertificate: Buffer };
    expect(tls.clientCertPair.crt.toString()).toBe('CERT');
    expect(tls.clientCertPair.key.toString()).toBe('KEY');
    expect(tls.serverRootCACertificate.toString()).toBe('CA');
    expect(opts.tls).toMatchObject({ serverNameOverride: 'temporal.internal' });
  });

  it('an unreadable certificate names the key and variable', () => {
    const c = base({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_TLS_CA: path.join(dir, 'missing.pem') });
    const err = configError(() => connectionOptions(c));
    expect(err.key).toBe('tls.serverRootCACertPath');
    expect(err.message).toMatch(/tls\.serverRootCACertPath \(TEMPORAL_TLS_CA\): cannot read .*missing\.pem/);
  });

  it('TLS forced off while certificates are set is a contradiction', () => {
    const ca = path.join(dir, 'ca2.pem');
    writeFileSync(ca, 'CA');
    const c = base({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_TLS_CA: ca, TEMPORAL_TLS: 'false' });
    expect(() => connectionOptions(c)).toThrow(/tls\.enabled is false/);
  });
});
