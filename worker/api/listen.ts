/**
 * Serving the API from a process: where it listens and whether the session cookie is `Secure`
 * (the settings `CUSTODIA_HTTP_PORT`, `CUSTODIA_HTTP_HOST`, `CUSTODIA_SECURE_COOKIES`, read in
 * `worker/settings.ts`).
 */
import type { Client } from '@temporalio/client';
import { loadProcedureClauses, type LoadedDefinition } from '../definitions.ts';
import { definitionDirs } from '../process.ts';
import { syncSchedules } from '../schedules.ts';
import type { RecordsStore } from '../records/types.ts';
import { createApi, type Api } from './server.ts';
import { oidcSettings } from './oidc.ts';

import { httpSettings, type HttpSettings } from '../settings.ts';

export { httpSettings, type HttpSettings };

/**
 * Create the API on a running worker's client and store and listen; resolves with the API and its
 * URL. `uiDir`: the built web UI to serve at `/`. A version deployed through the API has its
 * Temporal Schedule (if any) synced at once.
 */
export async function serveApi(
  running: { client: Client; store: RecordsStore; definitions: Map<string, LoadedDefinition> },
  taskQueue: string,
  settings: HttpSettings = httpSettings(),
  extra: { uiDir?: string } = {},
): Promise<{ api: Api; url: string }> {
  const oidc = oidcSettings();
  const api = createApi({
    client: running.client,
    store: running.store,
    definitions: running.definitions,
    taskQueue,
    secureCookies: settings.secureCookies,
    clauses: loadProcedureClauses(definitionDirs()),
    ...(extra.uiDir ? { uiDir: extra.uiDir } : {}),
    ...(oidc ? { oidc } : {}),
    onDeployed: async () => {
      await syncSchedules(running.client, running.definitions.values(), taskQueue);
    },
  });
  const url = await api.listen(settings.port, settings.host);
  return { api, url };
}
