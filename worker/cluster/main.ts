/**
 * `npm run cluster`: Custodia on a real Temporal cluster on this machine — PostgreSQL, the Temporal
 * server (built once with Go at the pinned version, cached per user), two worker processes and two
 * API processes with the PostgreSQL records store, all supervised. Data under `data/cluster/`
 * (kept; running it again reuses it). Ctrl-C stops everything cleanly.
 *
 *   npm run cluster -- [--data DIR] [--temporal-port 7233] [--pg-port 5433]
 *                      [--workers 2] [--api-ports 8081,8082]
 *   npm run cluster -- --build-only     only build (or find) the Temporal server binaries
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { REPO_ROOT } from '../settings.ts';
import { ensureUiBuilt } from '../ui-build.ts';
import { ClusterSetupError, ensureServerBinaries, TEMPORAL_SERVER_VERSION } from './binaries.ts';
import { startCluster } from './cluster.ts';

const USAGE =
  'usage: npm run cluster -- [--data DIR] [--temporal-port N] [--pg-port N] [--workers N] [--api-ports N,N] | --build-only';

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new ClusterSetupError(`--${name} must be a number, got "${text}"`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string', default: 'data/cluster' },
      'temporal-port': { type: 'string', default: '7233' },
      'pg-port': { type: 'string', default: '5433' },
      workers: { type: 'string', default: '2' },
      'api-ports': { type: 'string', default: '8081,8082' },
      'build-only': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const config = loadConfig();
  if (values['build-only']) {
    const b = await ensureServerBinaries({ toolsDir: config.devServer.toolsDir, log: console.log });
    console.log(`Temporal server ${TEMPORAL_SERVER_VERSION}: ${b.server}`);
    return;
  }
  const stamp = (): string => new Date().toISOString().slice(11, 19);
  const say = (line: string): void => console.log(`${stamp()} cluster: ${line}`);
  const apiPorts = values['api-ports']
    .split(',')
    .filter((p) => p.trim())
    .map((p) => positiveInt('api-ports', p.trim()));
  const uiDir = apiPorts.length ? await ensureUiBuilt(process.env, say) : undefined;
  const t0 = Date.now();
  const cluster = await startCluster({
    dataDir: path.resolve(REPO_ROOT, values.data),
    temporalPort: positiveInt('temporal-port', values['temporal-port']),
    pgPort: positiveInt('pg-port', values['pg-port']),
    namespace: config.namespace,
    workers: positiveInt('workers', values.workers),
    apiPorts,
    toolsDir: config.devServer.toolsDir,
    env: { ...process.env, CUSTODIA_UI_DIR: uiDir ?? 'off' },
    log: say,
    processLine: (name, line) => console.log(`${stamp()} ${name}: ${line}`),
  });
  say(
    `ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: Temporal ${cluster.address} (namespace ${cluster.namespace}), ` +
      `${cluster.workers.length} worker(s), API ${cluster.apis.map((a) => a.url).join(' ') || 'none'}`,
  );
  say('in another terminal, for `npx custodia` and the `temporal` CLI:');
  console.log(
    `  export TEMPORAL_ADDRESS=${cluster.address} DATABASE_URL=${cluster.databaseUrl} CUSTODIA_CHECKPOINT_DIR=${cluster.checkpointDir}`,
  );
  say('Ctrl-C stops everything (the data stays for the next run)');

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    say('stopping …');
    cluster.stop().then(
      () => {
        say('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        console.error(`custodia cluster: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  if (
    err instanceof ClusterSetupError ||
    (err instanceof Error && err.name === 'TypeError' && /parseArgs|option/i.test(err.message))
  ) {
    console.error(`custodia cluster: ${err.message}`);
  } else {
    console.error(`custodia cluster: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  process.exit(1);
});
