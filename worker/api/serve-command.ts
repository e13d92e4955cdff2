/**
 * `custodia serve`: the HTTP API alone, for deployments that run the API and the workers as
 * separate processes — against the configured Temporal cluster (TEMPORAL_ADDRESS, …) and the
 * records store in DATABASE_URL (PostgreSQL; the embedded store belongs to one process). Listens
 * on CUSTODIA_HTTP_HOST:CUSTODIA_HTTP_PORT (default 127.0.0.1:8080) until SIGINT / SIGTERM.
 */
import { connectClient, loadConfig } from '../config.ts';
import { loadDeployedDefinitions, recordDeployments, refreshIntervalMs } from '../process.ts';
import { describeStore, recordsStoreOptions } from '../records/location.ts';
import { openStore } from '../records/store.ts';
import { httpSettings, serveApi } from './listen.ts';
import { refreshFromStore } from '../deploy.ts';
import { ensureUiBuilt } from '../ui-build.ts';

/** Serve until stopped; the CLI has checked that no arguments were given. */
export async function serveCommand(): Promise<number> {
  const config = loadConfig();
  const settings = httpSettings();
  const definitions = loadDeployedDefinitions();
  const storeOptions = recordsStoreOptions();
  const store = await openStore({ ...storeOptions, embeddedRole: 'service' });
  try {
    await recordDeployments(store, definitions.values());
    await refreshFromStore(store, definitions);
    const uiDir = await ensureUiBuilt();
    const client = await connectClient(config);
    // Versions deployed by other API processes become current here too.
    const refresh = setInterval(() => {
      refreshFromStore(store, definitions).catch((err: unknown) =>
        console.error(`custodia: refreshing definitions: ${String(err)}`),
      );
    }, refreshIntervalMs());
    refresh.unref();
    try {
      const { api, url } = await serveApi(
        { client, store, definitions },
        config.taskQueue,
        settings,
        uiDir ? { uiDir } : {},
      );
      console.log(
        `custodia: HTTP API at ${url}/api (records: ${describeStore(storeOptions)}; ` +
          `task queue "${config.taskQueue}"; ${definitions.size} procedure(s))`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      console.log('custodia: stopping …');
      await api.close();
    } finally {
      clearInterval(refresh);
      await client.connection.close();
    }
  } finally {
    await store.close();
  }
  return 0;
}
