/**
 * `npm start`: the whole product in one process with its embedded defaults — the Temporal dev
 * server (SQLite under `data/`, started and registered by us unless TEMPORAL_ADDRESS is set, and
 * restarted with back-off when it exits), the embedded records store, the worker (recreated when
 * it fails), and the HTTP API (`CUSTODIA_HTTP_PORT`, default 8080) with `/healthz`, `/readyz` and
 * `/metrics`. Lines go through `log.ts` (`CUSTODIA_LOG_FORMAT=json` for JSON lines).
 */
// Only what starting the dev server needs is imported before it starts: the rest (the Temporal
// worker, the records store, the API — most of the start-up's module loading) is imported while
// the dev server and the embedded PostgreSQL server boot in their own processes.
import { flushCompileCache } from 'node:module';
import { loadConfig } from './config.ts';
import { log } from './log.ts';
import { httpSettings, warnUnknownSettings } from './settings.ts';
import { startIdleMemoryRelease } from './memory-release.ts';
import { superviseDevServer, type SupervisedDevServer } from './temporal/supervisor.ts';
// Types only (erased): the modules themselves are imported below, once the dev server starts.
import type { serveApi as serveApiType } from './api/listen.ts';
import type { announceSetupLink as announceSetupLinkType } from './first-run.ts';
import type {
  notificationSettings as notificationSettingsType,
  startNotificationDelivery as startDeliveryType,
} from './notifications/index.ts';
import type { RunningWorker } from './process.ts';

/** Milliseconds since the process started, for the phase times on the `ready` line. */
const since = (): number => Math.round(performance.now());

async function main(): Promise<void> {
  warnUnknownSettings();
  // Heap pages grown in a busy period go back to the system once idle (README "Memory").
  startIdleMemoryRelease();
  const config = loadConfig();
  const httpConf = httpSettings();
  const logger = log();
  const phases: Record<string, number> = { imports: since() };
  let server: SupervisedDevServer | undefined;
  // Started first, awaited only when the worker connects (`runWorker`); settled here too so a
  // failure elsewhere first never leaves it unhandled.
  const devServer: Promise<SupervisedDevServer | undefined> = config.address
    ? Promise.resolve(undefined)
    : (logger.info('starting the Temporal dev server …'),
      superviseDevServer(config).then((s) => {
        server = s;
        phases.devServer = since();
        logger.info(
          `Temporal dev server at ${s.address}${s.uiUrl ? `, web UI ${s.uiUrl}` : ''} (pid ${String(s.pid)})`,
          { event: 'dev_server_started', pid: s.pid },
        );
        return s;
      }));
  devServer.catch(() => {});
  const stopServer = async (): Promise<void> => {
    await (await devServer.catch(() => undefined))?.stop();
  };
  let running: RunningWorker;
  let http: Awaited<ReturnType<typeof serveApiType>>;
  let startNotificationDelivery: typeof startDeliveryType;
  let notificationSettings: typeof notificationSettingsType;
  let announceSetupLink: typeof announceSetupLinkType;
  let uiDir: string | undefined;
  try {
    const [{ runWorker }, { serveApi }, notifications, firstRun, { syncSchedules }, { ensureUiBuilt }] =
      await Promise.all([
        import('./process.ts'),
        import('./api/listen.ts'),
        import('./notifications/index.ts'),
        import('./first-run.ts'),
        import('./schedules.ts'),
        import('./ui-build.ts'),
      ]);
    ({ startNotificationDelivery, notificationSettings } = notifications);
    ({ announceSetupLink } = firstRun);
    phases.imports = since();
    // The UI build check (a build only when ui/ changed) alongside the worker's start.
    const ui = ensureUiBuilt().then((dir) => {
      phases.ui = since();
      return dir;
    });
    ui.catch(() => {});
    // The schedules and the HTTP API need the client, the store and the definitions, not the
    // worker: they start as soon as those are there, while the worker is created (it loads the
    // workflow code into its sandbox threads); `ready` waits for all three.
    let serving: Promise<[Awaited<ReturnType<typeof syncSchedules>>, typeof http]> | undefined;
    try {
      running = await runWorker(config, {
        address: devServer.then((s) => s?.address ?? config.address ?? undefined),
        restartOnFailure: true,
        onPhase: (phase) => (phases[phase] = since()),
        onConnected: (parts) => {
          serving = Promise.all([
            syncSchedules(parts.client, parts.definitions.values(), config.taskQueue),
            ui.then((dir) => {
              uiDir = dir;
              return serveApi(parts, config.taskQueue, httpConf, dir ? { uiDir: dir } : {});
            }),
          ]);
          serving.catch(() => {});
        },
      });
    } catch (err) {
      await serving?.then(([, h]) => h.api.close()).catch(() => {});
      throw err;
    }
    logger.info(
      `worker running on task queue "${config.taskQueue}" (namespace ${config.namespace}); ` +
        `${running.definitions.size} procedure(s): ${[...running.definitions.keys()].join(', ')}`,
    );
    try {
      if (!serving) throw new Error('the worker started without connecting'); // runWorker always connects first
      const [schedules, served] = await serving;
      http = served;
      for (const [what, ids] of Object.entries(schedules) as [string, string[]][])
        if (ids.length) logger.info(`schedules ${what}: ${ids.join(', ')}`);
    } catch (err) {
      await serving?.then(([, h]) => h.api.close()).catch(() => {});
      await running.shutdown();
      throw err;
    }
  } catch (err) {
    await stopServer();
    throw err;
  }
  phases.api = since();
  const stopDelivery = startNotificationDelivery(running.store, notificationSettings());
  if (uiDir) logger.info(`web UI at ${http.url}/`);
  logger.info(`HTTP API at ${http.url}/api (OpenAPI: ${http.url}/api/openapi.json)`);
  logger.info(`health at ${http.url}/healthz, ${http.url}/readyz; metrics at ${http.url}/metrics`);
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping …');
    await http.api.close();
    await stopDelivery();
    await running.shutdown();
    await server?.stop();
    process.exit(0);
  };
  // Before `ready`: a stop asked for as soon as it is ready is ours to do, not only the SDK's.
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  const took = Object.entries(phases)
    .sort((a, b) => a[1] - b[1])
    .map(([phase, ms]) => `${phase} ${(ms / 1000).toFixed(2)}`)
    .join(', ');
  logger.info(`started in ${(since() / 1000).toFixed(1)} s (each step done at, s: ${took})`, {
    event: 'startup',
    ms: since(),
  });
  logger.info('ready. Try `npx custodia start <procedure>`; Ctrl-C stops.', {
    event: 'ready',
    url: http.url,
  });
  // The modules' compiled code for the next start (bin/launch.mjs turned Node's cache on), now
  // rather than at exit, which a killed process never reaches.
  flushCompileCache();
  await announceSetupLink(running.store, http.url);
  await running.done;
  await http.api.close();
  await server?.stop();
}

main().catch((err: unknown) => {
  // Plain, not through log(): a malformed CUSTODIA_LOG_FORMAT is one of the errors.
  console.error(`custodia: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
