/**
 * Serving the API from a process: where it listens (env `CUSTODIA_HTTP_PORT`, default 8080;
 * `CUSTODIA_HTTP_HOST`, default 127.0.0.1) and whether the session cookie is `Secure`
 * (`CUSTODIA_SECURE_COOKIES=1`, for HTTPS behind a proxy).
 */
import type { Client } from '@temporalio/client';
import { loadProcedureClauses, type LoadedDefinition } from '../definitions.ts';
import { definitionDirs } from '../process.ts';
import { syncSchedules } from '../schedules.ts';
import type { RecordsStore } from '../records/types.ts';
import { createApi, type Api } from './server.ts';
import { oidcSettings } from './oidc.ts';

export interface HttpSettings {
  port: number;
  host: string;
  secureCookies: boolean;
}

export function httpSettings(env: NodeJS.ProcessEnv = process.env): HttpSettings {
  const rawPort = env.CUSTODIA_HTTP_PORT?.trim() || '8080';
  if (!/^\d{1,5}$/.test(rawPort) || Number(rawPort) > 65535)
    throw new Error(`CUSTODIA_HTTP_PORT must be a port number 0–65535 (got "${rawPort}")`);
  const secure = env.CUSTODIA_SECURE_COOKIES?.trim().toLowerCase() ?? '';
  if (secure && !['1', '0', 'true', 'false'].includes(secure))
    throw new Error(`CUSTODIA_SECURE_COOKIES must be 1 or 0 (got "${secure}")`);
  return {
    port: Number(rawPort),
    host: env.CUSTODIA_HTTP_HOST?.trim() || '127.0.0.1',
    secureCookies: secure === '1' || secure === 'true',
  };
}

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
