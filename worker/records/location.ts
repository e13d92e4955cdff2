/**
 * Where the records store lives, from the environment: `DATABASE_URL` (PostgreSQL, for several
 * processes) or else the embedded store's folder `CUSTODIA_RECORDS_DIR` (default `data/records`
 * under the repository root; `:memory:` for none). Kept free of Temporal imports so the CLI's
 * `user` and `audit` commands load quickly.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CHECKPOINT_EVERY, type CheckpointOptions } from './checkpoints.ts';
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
  const where: OpenStoreOptions = databaseUrl ? { databaseUrl } : { dataDir: recordsDir(env) };
  return { ...where, checkpoints: checkpointOptions(where, env) };
}

/**
 * Where the audit checkpoints' key and file live (outside the database): CUSTODIA_CHECKPOINT_KEY
 * and CUSTODIA_CHECKPOINT_FILE, else in CUSTODIA_CHECKPOINT_DIR, else in the embedded store's
 * folder or, for PostgreSQL, in `data/`. Every CUSTODIA_CHECKPOINT_EVERY appends (default 100).
 * None for an in-memory store.
 */
export function checkpointOptions(
  where: OpenStoreOptions,
  env: NodeJS.ProcessEnv = process.env,
): CheckpointOptions | null {
  if (!where.databaseUrl && !where.dataDir) return null;
  const dir = env.CUSTODIA_CHECKPOINT_DIR?.trim()
    ? path.resolve(REPO_ROOT, env.CUSTODIA_CHECKPOINT_DIR.trim())
    : (where.databaseUrl ? path.join(REPO_ROOT, 'data') : where.dataDir)!;
  const file = (name: string, override: string | undefined): string =>
    override?.trim() ? path.resolve(REPO_ROOT, override.trim()) : path.join(dir, name);
  const every = Number(env.CUSTODIA_CHECKPOINT_EVERY?.trim() || DEFAULT_CHECKPOINT_EVERY);
  if (!Number.isSafeInteger(every) || every < 0)
    throw new Error(
      `CUSTODIA_CHECKPOINT_EVERY must be a whole number ≥ 0 (got ${env.CUSTODIA_CHECKPOINT_EVERY})`,
    );
  return {
    keyFile: file('audit-checkpoint.key', env.CUSTODIA_CHECKPOINT_KEY),
    logFile: file('audit-checkpoints.jsonl', env.CUSTODIA_CHECKPOINT_FILE),
    every,
  };
}

/** Where the store is, for messages (the password left out). */
export function describeStore(opts: OpenStoreOptions): string {
  if (opts.databaseUrl) return `PostgreSQL ${redactUrl(opts.databaseUrl)}`;
  return opts.dataDir ? `embedded store ${opts.dataDir}` : 'in-memory embedded store';
}
