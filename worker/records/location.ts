/**
 * Where the records store lives (the settings `DATABASE_URL` and `CUSTODIA_RECORDS_DIR`, read in
 * `settings.ts`). Kept free of Temporal imports so the CLI's `user` and `audit` commands load quickly.
 */
import path from 'node:path';
import { DEFAULT_CHECKPOINT_EVERY, type CheckpointOptions } from './checkpoints.ts';
import { recordsDir, recordsLocation, REPO_ROOT, setting } from '../settings.ts';
import type { OpenStoreOptions } from './store.ts';
import { redactUrl } from './sql.ts';

export { recordsDir };

/** The store `openStore` should open: PostgreSQL when DATABASE_URL is set, else the embedded one. */
export function recordsStoreOptions(env: NodeJS.ProcessEnv = process.env): OpenStoreOptions {
  const where: OpenStoreOptions = recordsLocation(env);
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
  const dirSetting = setting('CUSTODIA_CHECKPOINT_DIR', env);
  const dir = dirSetting
    ? path.resolve(REPO_ROOT, dirSetting)
    : (where.databaseUrl ? path.join(REPO_ROOT, 'data') : where.dataDir)!;
  const file = (name: string, override: string | undefined): string =>
    override ? path.resolve(REPO_ROOT, override) : path.join(dir, name);
  const everySetting = setting('CUSTODIA_CHECKPOINT_EVERY', env);
  const every = Number(everySetting ?? DEFAULT_CHECKPOINT_EVERY);
  if (!Number.isSafeInteger(every) || every < 0)
    throw new Error(`CUSTODIA_CHECKPOINT_EVERY must be a whole number ≥ 0 (got ${everySetting})`);
  return {
    keyFile: file('audit-checkpoint.key', setting('CUSTODIA_CHECKPOINT_KEY', env)),
    logFile: file('audit-checkpoints.jsonl', setting('CUSTODIA_CHECKPOINT_FILE', env)),
    every,
  };
}

/** Where the store is, for messages (the password left out). */
export function describeStore(opts: OpenStoreOptions): string {
  if (opts.databaseUrl) return `PostgreSQL ${redactUrl(opts.databaseUrl)}`;
  return opts.dataDir ? `embedded store ${opts.dataDir}` : 'in-memory embedded store';
}
