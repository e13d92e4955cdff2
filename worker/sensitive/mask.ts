/**
 * Masking of `sensitive: true` context fields (issue #11, item 3) at the one place where an
 * instance's data leaves the workflow for the records store: the `commitTransition` activity
 * (audit record data, register rows, notifications, link rows, and what it logs). The workflow
 * sends the texts to mask with each commit (`TransitionCommit.sensitive`, from
 * `core/start-fields.ts` `sensitiveValues`); every occurrence becomes `[masked:<tag>]`, where the
 * tag is the first 16 hex digits (64 bits) of HMAC-SHA-256 under the deployment's mask key. Equal
 * values give equal tags, so whoever holds the key can tell whether a record names a given source
 * (compute the tag of the candidate); without the key a short name cannot be guessed by hashing
 * candidates, as a plain SHA-256 of it could.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TransitionCommit } from '../../workflows/api.ts';
import { maskSensitive } from '../../workflows/core/start-fields.ts';
import { setting } from '../settings.ts';

const REPO_ROOT = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The mask key file. Env: CUSTODIA_MASK_KEY (default `data/mask-key`). */
export function maskKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(REPO_ROOT, setting('CUSTODIA_MASK_KEY', env) || 'data/mask-key');
}

/** The key in `file` (created, mode 0600, when it does not exist). */
export function loadMaskKey(file = maskKeyFile()): Buffer {
  let text: string;
  try {
    if (statSync(file).mode & 0o077)
      throw new Error(`the mask key ${file} may be read by others: chmod 600 it (or make a new one)`);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    text = readFileSync(file, 'utf8');
  }
  const key = Buffer.from(text.trim(), 'hex');
  if (key.length < 16) throw new Error(`the mask key ${file} is not at least 16 bytes of hex`);
  return key;
}

let processKey: Buffer | undefined;

/** This process's mask key, loaded once. */
export function maskKey(): Buffer {
  processKey ??= loadMaskKey();
  return processKey;
}

/** The mask of one sensitive text under `key`. */
export function maskText(key: Buffer, text: string): string {
  return `[masked:${createHmac('sha256', key).update(text, 'utf8').digest('hex').slice(0, 16)}]`;
}

/**
 * `commit` as it may be written and logged: its sensitive texts masked in the event data and the
 * effects (registers, notices, links), the list itself dropped. The workflow id, client, actor and
 * states are the engine's own and stay as they are (a sensitive value that equals one is not
 * hidden by masking it there, and the client field is never sensitive — `PROC_SENSITIVE_IN_CLEAR`).
 */
export function maskedCommit(commit: TransitionCommit, key: Buffer = maskKey()): TransitionCommit {
  const { sensitive, ...rest } = commit;
  if (!sensitive?.length) return rest;
  const mask = (text: string): string => maskText(key, text);
  const { data, ...record } = rest.record;
  return {
    ...rest,
    record: data === undefined ? rest.record : { ...record, data: maskSensitive(data, sensitive, mask) },
    effects: maskSensitive(rest.effects, sensitive, mask),
  };
}

/** Any value (a child link, a log entry) with the commit's sensitive texts masked. */
export function masked<T>(commit: TransitionCommit, value: T, key: Buffer = maskKey()): T {
  return commit.sensitive?.length ? maskSensitive(value, commit.sensitive, (t) => maskText(key, t)) : value;
}
