/**
 * Where the records store lives (the settings `DATABASE_URL` and `CUSTODIA_RECORDS_DIR`, read in
 * `settings.ts`). Kept free of Temporal imports so the CLI's `user` and `audit` commands load quickly.
 */
import { recordsDir, recordsLocation } from '../settings.ts';
import type { OpenStoreOptions } from './store.ts';
import { redactUrl } from './sql.ts';

export { recordsDir };

/** The store `openStore` should open: PostgreSQL when DATABASE_URL is set, else the embedded one. */
export function recordsStoreOptions(env?: NodeJS.ProcessEnv): OpenStoreOptions {
  return recordsLocation(env);
}

/** Where the store is, for messages (the password left out). */
export function describeStore(opts: OpenStoreOptions): string {
  if (opts.databaseUrl) return `PostgreSQL ${redactUrl(opts.databaseUrl)}`;
  return opts.dataDir ? `embedded store ${opts.dataDir}` : 'in-memory embedded store';
}
