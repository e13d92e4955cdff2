/**
 * Where the records store lives, from the environment: `DATABASE_URL` (PostgreSQL, for several
 * processes) or else the embedded store's folder `CUSTODIA_RECORDS_DIR` (default `data/records`
 * under the repository root; `:memory:` for none). Kept free of Temporal imports so the CLI's
 * `user` and `audit` commands load quickly.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpenStoreOptions } from './store.ts';
import { redactUrl } from './sql.ts';

const REPO_ROOT = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Folder of the embedded records store. Env: CUSTODIA_RECORDS_DIR (`:memory:` for none). */
export function recordsDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const raw = env.CUSTODIA_RECORDS_DIR?.trim();
  if (raw === ':memory:') return null;
  return path.resolve(REPO_ROOT, raw || 'data/records');
}

/** The store `openStore` should open: PostgreSQL when DATABASE_URL is set, else the embedded one. */
export function recordsStoreOptions(env: NodeJS.ProcessEnv = process.env): OpenStoreOptions {
  const databaseUrl = env.DATABASE_URL?.trim();
  return databaseUrl ? { databaseUrl } : { dataDir: recordsDir(env) };
}

/** Where the store is, for messages (the password left out). */
export function describeStore(opts: OpenStoreOptions): string {
  if (opts.databaseUrl) return `PostgreSQL ${redactUrl(opts.databaseUrl)}`;
  return opts.dataDir ? `embedded store ${opts.dataDir}` : 'in-memory embedded store';
}
