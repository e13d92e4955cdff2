/**
 * `npm start`: the whole product in one process with its embedded defaults — the Temporal dev
 * server (SQLite under `data/`, started and registered by us unless TEMPORAL_ADDRESS is set),
 * the embedded records store, the worker, and the HTTP API (`CUSTODIA_HTTP_PORT`, default 8080).
 */
import { httpSettings, serveApi } from './api/listen.ts';
import { loadConfig } from './config.ts';
import { announceSetupLink } from './first-run.ts';
import { notificationSettings, startNotificationDelivery } from './notifications/index.ts';
import { runWorker } from './process.ts';
import { syncSchedules } from './schedules.ts';
import { startDevServer, type DevServer } from './temporal/dev-server.ts';
import { warnUnknownSettings } from './settings.ts';
import { ensureUiBuilt } from './ui-build.ts';

async function main(): Promise<void> {
  warnUnknownSettings();
  const config = loadConfig();
  const httpConf = httpSettings();
  const uiDir = await ensureUiBuilt();
  let server: DevServer | undefined;
  let address = config.address ?? undefined;
  if (!address) {
    console.log('custodia: starting the Temporal dev server …');
    server = await startDevServer(config);
    address = server.address;
    console.log(
      `custodia: Temporal dev server at ${address}${server.uiUrl ? `, web UI ${server.uiUrl}` : ''}`,
    );
  }
  const running = await runWorker(config, { address });
  console.log(
    `custodia: worker running on task queue "${config.taskQueue}" (namespace ${config.namespace}); ` +
      `${running.definitions.size} procedure(s): ${[...running.definitions.keys()].join(', ')}`,
  );
  const schedules = await syncSchedules(running.client, running.definitions.values(), config.taskQueue);
  for (const [what, ids] of Object.entries(schedules) as [string, string[]][])
    if (ids.length) console.log(`custodia: schedules ${what}: ${ids.join(', ')}`);
  let http: Awaited<ReturnType<typeof serveApi>>;
  try {
    http = await serveApi(running, config.taskQueue, httpConf, uiDir ? { uiDir } : {});
  } catch (err) {
    await running.shutdown();
    await server?.stop();
    throw err;
  }
  const stopDelivery = startNotificationDelivery(running.store, notificationSettings());
  if (uiDir) console.log(`custodia: web UI at ${http.url}/`);
  console.log(`custodia: HTTP API at ${http.url}/api (OpenAPI: ${http.url}/api/openapi.json)`);
  console.log('custodia: ready. Try `npx custodia start <procedure>`; Ctrl-C stops.');
  await announceSetupLink(running.store, http.url);
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log('custodia: stopping …');
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
  console.error(`custodia: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
