/**
 * `npm start`: the whole product in one process with its embedded defaults — the Temporal dev
 * server (SQLite under `data/`, started and registered by us unless TEMPORAL_ADDRESS is set, and
 * restarted with back-off when it exits), the embedded records store, the worker (recreated when
 * it fails), and the HTTP API (`CUSTODIA_HTTP_PORT`, default 8080) with `/healthz`, `/readyz` and
 * `/metrics`. Lines go through `log.ts` (`CUSTODIA_LOG_FORMAT=json` for JSON lines).
 */
import { httpSettings, serveApi } from './api/listen.ts';
import { loadConfig } from './config.ts';
import { announceSetupLink } from './first-run.ts';
import { notificationSettings, startNotificationDelivery } from './notifications/index.ts';
import { runWorker } from './process.ts';
import { syncSchedules } from './schedules.ts';
import { log } from './log.ts';
import { superviseDevServer, type SupervisedDevServer } from './temporal/supervisor.ts';
import { warnUnknownSettings } from './settings.ts';
import { ensureUiBuilt } from './ui-build.ts';

async function main(): Promise<void> {
  warnUnknownSettings();
  const config = loadConfig();
  const httpConf = httpSettings();
  const uiDir = await ensureUiBuilt();
  const logger = log();
  let server: SupervisedDevServer | undefined;
  let address = config.address ?? undefined;
  if (!address) {
    logger.info('starting the Temporal dev server …');
    server = await superviseDevServer(config);
    address = server.address;
    logger.info(
      `Temporal dev server at ${address}${server.uiUrl ? `, web UI ${server.uiUrl}` : ''} (pid ${String(server.pid)})`,
      { event: 'dev_server_started', pid: server.pid },
    );
  }
  const running = await runWorker(config, { address, restartOnFailure: true });
  logger.info(
    `worker running on task queue "${config.taskQueue}" (namespace ${config.namespace}); ` +
      `${running.definitions.size} procedure(s): ${[...running.definitions.keys()].join(', ')}`,
  );
  const schedules = await syncSchedules(running.client, running.definitions.values(), config.taskQueue);
  for (const [what, ids] of Object.entries(schedules) as [string, string[]][])
    if (ids.length) logger.info(`schedules ${what}: ${ids.join(', ')}`);
  let http: Awaited<ReturnType<typeof serveApi>>;
  try {
    http = await serveApi(running, config.taskQueue, httpConf, uiDir ? { uiDir } : {});
  } catch (err) {
    await running.shutdown();
    await server?.stop();
    throw err;
  }
  const stopDelivery = startNotificationDelivery(running.store, notificationSettings());
  if (uiDir) logger.info(`web UI at ${http.url}/`);
  logger.info(`HTTP API at ${http.url}/api (OpenAPI: ${http.url}/api/openapi.json)`);
  logger.info(`health at ${http.url}/healthz, ${http.url}/readyz; metrics at ${http.url}/metrics`);
  logger.info('ready. Try `npx custodia start <procedure>`; Ctrl-C stops.', {
    event: 'ready',
    url: http.url,
  });
  await announceSetupLink(running.store, http.url);
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
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  await running.done;
  await http.api.close();
  await server?.stop();
}

main().catch((err: unknown) => {
  // Plain, not through log(): a malformed CUSTODIA_LOG_FORMAT is one of the errors.
  console.error(`custodia: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
